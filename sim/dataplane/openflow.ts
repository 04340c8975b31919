// The controller channel's messages: an OpenFlow-like protocol carried as fabric messages between a
// switch's node and its controller nodes. Owns the message shapes and the channel's sequence discipline;
// the switch side is openflow-agent.ts, the controller side lives in sim/control. Every message is plain
// data (it is journaled as JSON in full traces) with a `type` beginning 'of.'.
//
// Conventions:
//   - datapathId is the switch's fabric node id.
//   - xid is chosen by the controller and echoed in the reply or error; the switch's own messages
//     (hello, port-status, packet-in) carry none.
//   - Fencing: a flow-mod or bundle carrying a generationId lower than the highest the switch has seen
//     (from role requests or flow-mods) is rejected whole with an 'of.error' code 'stale-generation'.
//     Flow-mods without a generationId are not fenced by generation (but a slave's are still refused).
//
// Sequence discipline. Real OpenFlow runs over TCP, so a barrier-reply proves that every earlier message
// was applied in order. The fabric can lose, duplicate and reorder messages, so the channel carries its
// own TCP-like sequence instead, in the xids:
//   - A controller numbers the messages it sends to one switch consecutively (xid, xid+1, ...), and a
//     restarted controller numbers above everything its previous life sent (switch-manager.ts).
//   - The switch expects the next xid from each controller. The one expected is handled; an older one
//     already handled (a duplicate) is dropped silently; any other — a gap (something was lost or is
//     late) or one older than the last resync — leaves the switch "out of sequence" for that controller
//     (or keeps it there), and while it is, flow-mods, bundles, tunnel-config, packet-out and barriers
//     are refused with 'of.error' code 'out-of-sequence'. Requests that change no flow (echo, role,
//     ports, dump) are always answered. A switch starts every incarnation out of sequence: its table
//     was just wiped, so nothing may be applied before the controller has looked at it.
//   - A dump-flows-request newer than every xid seen from that controller is the resync point: it puts
//     the switch back in sequence, expecting xid+1 next. An older dump is answered but does not reset,
//     because messages after it may already have been handled (a duplicate of a bundle would be
//     applied twice) or refused (so the controller's diff would be applied on top of a gap).
// So a barrier-reply means every message from the controller's latest resync dump up to the barrier
// was handled in order with none missing; anything else ends in an error or a missing reply, and the
// controller resyncs (dump, diff, bundle, barrier). Late messages only ever meet "older than expected"
// and cannot knock a synchronised switch out of sequence, so once the network is quiet the next resync
// succeeds.

import type { NodeId } from '../net/message.ts';
import type { Action, Flow } from './flow.ts';
import type { Headers, Packet } from './headers.ts';
import type { PipelineFieldValues } from './field-values.ts';
import type { Port } from './ports.ts';

export type ControllerRole = 'master' | 'slave' | 'equal';

export type FlowModOp =
  /** Install; a flow with the same key (table, priority, match) is replaced and its counters reset. */
  | { readonly command: 'add'; readonly flow: Flow }
  /** Change actions/cookie of the flow with the same key, keeping counters; installs it if absent. */
  | { readonly command: 'modify'; readonly flow: Flow }
  /** Delete the flow whose flowKey() is exactly this. */
  | { readonly command: 'delete-strict'; readonly flowKey: string }
  /** Delete every flow with this cookie. */
  | { readonly command: 'delete-cookie'; readonly cookie: string };

export interface FlowStats {
  readonly flow: Flow;
  readonly packets: number;
  readonly bytes: number;
  readonly installedAtNs: number;
}

// ---- controller → switch ---------------------------------------------------------------------------------

export type OfFlowMod = { readonly type: 'of.flow-mod'; readonly xid: number; readonly generationId?: number } & FlowModOp;
/** Several flow-mods applied together, in order, under one fencing decision (an OpenFlow bundle). */
export type OfBundle = { readonly type: 'of.bundle'; readonly xid: number; readonly generationId?: number; readonly ops: readonly FlowModOp[] };
export type OfBarrierRequest = { readonly type: 'of.barrier-request'; readonly xid: number };
export type OfDumpFlowsRequest = { readonly type: 'of.dump-flows-request'; readonly xid: number; readonly table?: number; readonly cookie?: string };
/**
 * Become master/slave/equal. Master and slave requests carry a generation that must not be lower than
 * the highest seen; a new master turns every other master controller into a slave.
 */
export type OfRoleRequest = { readonly type: 'of.role-request'; readonly xid: number; readonly role: ControllerRole; readonly generationId: number };
export type OfEchoRequest = { readonly type: 'of.echo-request'; readonly xid: number };
/** Asks for the switch's current port list (the controller's periodic audit of its port facts). */
export type OfPortsRequest = { readonly type: 'of.ports-request'; readonly xid: number };
/** Adds or removes tunnel ports (by remote node); each change is answered with a port-status. */
export type OfTunnelConfig = { readonly type: 'of.tunnel-config'; readonly xid: number; readonly add?: readonly NodeId[]; readonly remove?: readonly NodeId[] };
/**
 * Injects a packet: the switch makes a packet (with a new id) from the headers and runs `actions` on it
 * as if it had entered on `inPort` (use [{type:'resubmit', table: 0}] to run the whole pipeline).
 */
export type OfPacketOut = {
  readonly type: 'of.packet-out';
  readonly xid: number;
  readonly inPort: number;
  readonly headers: Headers;
  readonly payloadBytes: number;
  readonly actions: readonly Action[];
};

export type ControllerToSwitch =
  | OfFlowMod
  | OfBundle
  | OfBarrierRequest
  | OfDumpFlowsRequest
  | OfRoleRequest
  | OfEchoRequest
  | OfPortsRequest
  | OfTunnelConfig
  | OfPacketOut;

// ---- switch → controller ---------------------------------------------------------------------------------

/**
 * Sent to every configured controller when the switch starts or restarts (its flow table is then empty),
 * and again every helloIntervalNs to a controller that has not sent anything yet.
 */
export type OfHello = { readonly type: 'of.hello'; readonly datapathId: NodeId; readonly incarnation: number; readonly ports: readonly Port[] };
export type OfPortStatus = { readonly type: 'of.port-status'; readonly datapathId: NodeId; readonly reason: 'add' | 'delete'; readonly port: Port };
export type OfDumpFlowsReply = { readonly type: 'of.dump-flows-reply'; readonly datapathId: NodeId; readonly xid: number; readonly flows: readonly FlowStats[] };
export type OfBarrierReply = { readonly type: 'of.barrier-reply'; readonly datapathId: NodeId; readonly xid: number };
export type OfRoleReply = { readonly type: 'of.role-reply'; readonly datapathId: NodeId; readonly xid: number; readonly role: ControllerRole; readonly generationId: number };
export type OfEchoReply = { readonly type: 'of.echo-reply'; readonly datapathId: NodeId; readonly xid: number };
/** Every port the switch has now, in port-number order (as in hello). */
export type OfPortsReply = { readonly type: 'of.ports-reply'; readonly datapathId: NodeId; readonly xid: number; readonly ports: readonly Port[] };
/** A packet a flow's controller action punted: the packet as it was at that point, and its pipeline fields. */
export type OfPacketIn = {
  readonly type: 'of.packet-in';
  readonly datapathId: NodeId;
  readonly reason: string;
  readonly table: number;
  readonly cookie: string;
  readonly packet: Packet;
  readonly fields: PipelineFieldValues;
};
export type OfErrorCode = 'stale-generation' | 'is-slave' | 'bad-request' | 'out-of-sequence';
export type OfError = {
  readonly type: 'of.error';
  readonly datapathId: NodeId;
  readonly xid: number;
  readonly code: OfErrorCode;
  /** The type of the message refused. */
  readonly request: string;
  readonly detail: string;
};

export type SwitchToController =
  | OfHello
  | OfPortStatus
  | OfDumpFlowsReply
  | OfBarrierReply
  | OfRoleReply
  | OfEchoReply
  | OfPortsReply
  | OfPacketIn
  | OfError;

export function isOpenflowMessage(body: { readonly type: string }): boolean {
  return body.type.startsWith('of.');
}
