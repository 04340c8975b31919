// A network-wide what-if packet trace, in the spirit of `ovs-appctl ofproto/trace` and `ovn-trace`: start
// a packet at a VM (or an external endpoint, or any switch port), run it through the first switch's
// pipeline, follow every output through tunnels to the next switches (and through external segments),
// and report, for every switch crossed, the flows hit in order, and where every copy ends: delivered to
// which VMs or endpoints, dropped where and why, punted to the controller, or lost in the network as it
// is now (remote down or partitioned away). Middlebox actions are followed with the elements' what-if
// verdicts (a pass continues at its resume table; a reject's response is a delivery to the sending VM).
// Nothing changes: no counters, no packet ids, no learning, no middlebox state.
// Owns the walk; each switch's part is SoftwareSwitch.trace.
//
// Copies are followed breadth-first; the walk stops after MAX_TRACE_HOPS switch passes (a forwarding
// loop) and says so. Link loss and duplication are not predicted: a trace is what happens on a clean path.

import type { Fabric } from '../net/fabric.ts';
import type { NodeId } from '../net/message.ts';
import type { Headers, Packet } from './headers.ts';
import type { PipelineFieldValues } from './field-values.ts';
import { ExternalSegment, type Attachment } from './external-segment.ts';
import { HostNode } from './host-node.ts';
import { PHYSICAL_PORT } from './ports.ts';
import { SwitchNode } from './switch-node.ts';
import type { SwitchTrace } from './switch.ts';
import type { DropReason } from './trace-events.ts';

export const MAX_TRACE_HOPS = 256;

export interface TracedDelivery {
  /** The host (for a VM) or segment (for an endpoint) it reached. */
  readonly node: NodeId;
  readonly kind: 'vm' | 'endpoint';
  readonly name: string;
  readonly headers: Headers;
}

export interface NetworkTrace {
  /** Every switch pass, in the order visited. */
  readonly switches: SwitchTrace[];
  readonly delivered: TracedDelivery[];
  readonly drops: { readonly node: NodeId; readonly reason: DropReason; readonly table: number; readonly port: number }[];
  readonly punts: { readonly node: NodeId; readonly reason: string; readonly table: number; readonly cookie: string }[];
  /** Copies the network would not carry now. */
  readonly lost: { readonly from: NodeId; readonly to: NodeId; readonly why: 'down' | 'partitioned' | 'not-a-dataplane-node' }[];
  /** True when the walk hit MAX_TRACE_HOPS. */
  readonly truncated: boolean;
}

type Step =
  | { readonly kind: 'switch'; readonly node: NodeId; readonly inPort: number; readonly packet: Packet; readonly fields: Partial<PipelineFieldValues> }
  | { readonly kind: 'segment'; readonly node: NodeId; readonly packet: Packet; readonly ingress: Attachment };

export interface TraceStart {
  readonly node: NodeId;
  readonly inPort: number;
  readonly headers: Headers;
  readonly payloadBytes?: number;
  /** Pipeline fields preset on the first switch (e.g. tunKey/tunMeta of a tunnel frame). */
  readonly fields?: Partial<PipelineFieldValues>;
}

/** Traces a packet entering switch `start.node` on `start.inPort`. */
export function tracePacket(fabric: Fabric, start: TraceStart): NetworkTrace {
  const packet: Packet = { id: 0, headers: start.headers, payloadBytes: start.payloadBytes ?? 0 };
  return walk(fabric, { kind: 'switch', node: start.node, inPort: start.inPort, packet, fields: start.fields ?? {} });
}

/** Traces a packet sent by a VM (the headers exactly as given). */
export function traceFromVm(fabric: Fabric, host: NodeId, vmName: string, headers: Headers, payloadBytes = 0): NetworkTrace {
  const node = fabric.process(host);
  if (!(node instanceof HostNode)) throw new Error(`'${host}' is not a running host`);
  return tracePacket(fabric, { node: host, inPort: node.vm(vmName).port, headers, payloadBytes });
}

/** Traces a packet sent by an endpoint of an external segment. */
export function traceFromEndpoint(fabric: Fabric, segment: NodeId, endpoint: string, headers: Headers, payloadBytes = 0): NetworkTrace {
  const node = fabric.process(segment);
  if (!(node instanceof ExternalSegment)) throw new Error(`'${segment}' is not a running external segment`);
  node.endpoint(endpoint);
  return walk(fabric, { kind: 'segment', node: segment, packet: { id: 0, headers, payloadBytes }, ingress: { kind: 'endpoint', name: endpoint } });
}

function walk(fabric: Fabric, first: Step): NetworkTrace {
  const out: NetworkTrace = { switches: [], delivered: [], drops: [], punts: [], lost: [], truncated: false };
  const queue: Step[] = [first];
  let passes = 0;
  for (let i = 0; i < queue.length; i++) {
    const step = queue[i];
    if (step.kind === 'segment') {
      segmentStep(fabric, step.node, step.packet, step.ingress, queue, out);
      continue;
    }
    if (passes++ >= MAX_TRACE_HOPS) {
      (out as { truncated: boolean }).truncated = true;
      break;
    }
    const node = fabric.process(step.node);
    if (!(node instanceof SwitchNode)) {
      out.lost.push({ from: step.node, to: step.node, why: 'not-a-dataplane-node' });
      continue;
    }
    const st = node.switch.trace(step.inPort, step.packet, step.fields);
    out.switches.push(st);
    for (const p of st.punts) out.punts.push({ node: step.node, ...p });
    if (st.drop !== null) out.drops.push({ node: step.node, reason: st.drop.reason, table: st.drop.table, port: -1 });
    if (st.response !== null && st.response.vm !== '' && node instanceof HostNode && node.hasVm(st.response.vm)) {
      out.delivered.push({ node: step.node, kind: 'vm', name: st.response.vm, headers: st.response.headers });
    }
    for (const o of st.outputs) {
      const copy: Packet = { id: 0, headers: o.headers, payloadBytes: step.packet.payloadBytes };
      if (o.kind === 'no-port') {
        if (st.drop === null) out.drops.push({ node: step.node, reason: 'no-port', table: -1, port: o.port });
      } else if (o.kind === 'vif') {
        if (node instanceof HostNode && node.hasVm(o.to)) out.delivered.push({ node: step.node, kind: 'vm', name: o.to, headers: o.headers });
        else out.drops.push({ node: step.node, reason: 'no-vm', table: -1, port: o.port });
      } else if (o.kind === 'tunnel') {
        if (!reachable(fabric, step.node, o.to, out)) continue;
        const remote = fabric.process(o.to);
        if (!(remote instanceof SwitchNode)) {
          out.lost.push({ from: step.node, to: o.to, why: 'not-a-dataplane-node' });
          continue;
        }
        const inPort = remote.switch.ports.tunnelTo(step.node);
        if (inPort === undefined) out.drops.push({ node: o.to, reason: 'no-tunnel-port', table: -1, port: -1 });
        else queue.push({ kind: 'switch', node: o.to, inPort: inPort.number, packet: copy, fields: { tunKey: o.tunKey, tunMeta: o.tunMeta } });
      } else {
        if (!reachable(fabric, step.node, o.to, out)) continue;
        queue.push({ kind: 'segment', node: o.to, packet: copy, ingress: { kind: 'uplink', node: step.node } });
      }
    }
  }
  return out;
}

function segmentStep(fabric: Fabric, id: NodeId, packet: Packet, ingress: Attachment, queue: Step[], out: NetworkTrace): void {
  const segment = fabric.process(id);
  if (!(segment instanceof ExternalSegment)) {
    out.lost.push({ from: ingress.kind === 'uplink' ? ingress.node : id, to: id, why: 'not-a-dataplane-node' });
    return;
  }
  if (ingress.kind === 'uplink' && !segment.uplinkNodes.includes(ingress.node)) return;
  for (const target of segment.whatIf(packet, ingress)) {
    if (target.kind === 'endpoint') {
      out.delivered.push({ node: id, kind: 'endpoint', name: target.name, headers: packet.headers });
      continue;
    }
    if (!reachable(fabric, id, target.node, out)) continue;
    const gw = fabric.process(target.node);
    const port = gw instanceof SwitchNode ? gw.switch.ports.get(PHYSICAL_PORT) : undefined;
    if (port?.kind !== 'physical' || port.segment !== id) out.drops.push({ node: target.node, reason: 'no-port', table: -1, port: PHYSICAL_PORT });
    else queue.push({ kind: 'switch', node: target.node, inPort: PHYSICAL_PORT, packet, fields: {} });
  }
}

function reachable(fabric: Fabric, from: NodeId, to: NodeId, out: NetworkTrace): boolean {
  if (fabric.canReach(from, to)) return true;
  out.lost.push({ from, to, why: fabric.isUp(to) ? 'partitioned' : 'down' });
  return false;
}
