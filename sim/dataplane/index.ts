// The data plane's public surface. Re-exports only.
export * from './headers.ts';
export * from './flow.ts';
export { ARP_OP_REPLY, ARP_OP_REQUEST, arpReply, arpRequest, isArpReply, isArpRequest } from './arp.ts';
export { headersWith, ipv4Headers, tcpHeaders, udpHeaders } from './header-builder.ts';
export { fieldValues, headersOf, initialFieldValues, isField, type FieldValues, type PipelineFieldValues } from './field-values.ts';
export * from './middlebox-hook.ts';
export { FlowEntry, MAX_NOTE_LENGTH, MAX_PRIORITY, MAX_TABLE, matchesValues, validateFlow } from './flow-entry.ts';
export { Classifier } from './classifier.ts';
export { FlowTable } from './flow-table.ts';
export {
  MAX_RESUBMIT_DEPTH,
  flowHits,
  runActions,
  runPipeline,
  type FlowHit,
  type PipelineBuffered,
  type PipelineDropReason,
  type PipelineMiddleboxCall,
  type PipelineOutput,
  type PipelinePunt,
  type PipelineResult,
} from './pipeline.ts';
export { PHYSICAL_PORT, TUNNEL_PORT_BASE, PortTable, type PhysicalPort, type Port, type TunnelPort, type VifPort } from './ports.ts';
export { PacketIds } from './packet-ids.ts';
export type * from './openflow.ts';
export { isOpenflowMessage } from './openflow.ts';
export { packetBytes, physicalFrame, tunnelFrame, type PhysicalFrame, type TunnelFrame } from './frames.ts';
export { SoftwareSwitch, type SwitchEnv, type SwitchTrace, type TracedOutput } from './switch.ts';
export { OpenflowAgent } from './openflow-agent.ts';
export { DEFAULT_DATAPLANE_OPTIONS, SwitchNode, type DataplaneOptions, type DataplaneShared } from './switch-node.ts';
export { IpStack, type IpSend, type NicSpec, type ReceivedPacket } from './ip-stack.ts';
export { Vm, type VmSpec } from './vm.ts';
export { HostNode } from './host-node.ts';
export { PoolNode } from './pool-node.ts';
export { GatewayNode } from './gateway-node.ts';
export { ExternalSegment, type Attachment, type EndpointSpec } from './external-segment.ts';
export { MAX_TRACE_HOPS, traceFromEndpoint, traceFromVm, tracePacket, type NetworkTrace, type TraceStart, type TracedDelivery } from './packet-trace.ts';
export { DataplaneBuilder, NODE_KIND, type DataplaneWorld } from './topology-builder.ts';
export type { DropReason } from './trace-events.ts';
