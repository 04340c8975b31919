// The data plane's journal entries. Per-packet events (`dp.vm.*`, `dp.ext.*`, `dp.pipeline`, `dp.drop`,
// `dp.middlebox*`, `dp.tunnel.send`, `dp.phys.send`, `dp.packet-in`, `switch.flowmod`) are recorded at level full through
// trace.detail; configuration and fencing events (`dp.vif.*`, `dp.tunnel.add|remove`, `switch.hello`,
// `switch.role*`, `switch.flowmod.reject-*`) at level summary through trace.emit. Declared here, emitted
// by the data-plane modules only.
//
// Headers are journaled as their integer fields (MACs and IPv4 addresses are numbers, see headers.ts).

import type { NodeId } from '../net/message.ts';
import type { Headers } from './headers.ts';
import type { ControllerRole } from './openflow.ts';
import type { MiddleboxMode } from './middlebox-hook.ts';
import type { FlowHit, PipelineDropReason, PipelineMiddleboxCall } from './pipeline.ts';

/** Why a packet went no further. Pipeline reasons, plus those the switch, VM stacks and segments add. */
export type DropReason =
  | PipelineDropReason
  /** An output named a port the switch does not have. */
  | 'no-port'
  /** A tunnel frame came from a node the switch has no tunnel port toward. */
  | 'no-tunnel-port'
  /** A VM's IP send gave up: nobody answered its ARP request in time. */
  | 'arp-unresolved'
  /** A flow's output to a VIF whose VM has gone (detached between output and delivery). */
  | 'no-vm';

declare module '../kernel/trace.ts' {
  interface TraceEventMap {
    'dp.vm.send': { node: NodeId; vm: string; packetId: number; headers: Headers; bytes: number };
    'dp.vm.receive': { node: NodeId; vm: string; packetId: number; originId: number; port: number; headers: Headers; bytes: number };
    'dp.ext.send': { segment: NodeId; endpoint: string; packetId: number; headers: Headers; bytes: number };
    'dp.ext.receive': { segment: NodeId; endpoint: string; packetId: number; originId: number; headers: Headers; bytes: number };
    /** One packet through one switch's pipeline: the flows it hit in order and the ports it left by. */
    'dp.pipeline': { node: NodeId; packetId: number; inPort: number; hits: FlowHit[]; outputs: number[]; punts: number; drop: PipelineDropReason | null };
    /** `table` is the table that missed or stopped, `port` the port involved; -1 when not applicable. */
    'dp.drop': { node: NodeId; packetId: number; reason: DropReason; table: number; port: number };
    /** A middlebox action ran on the packet: the element's verdict ('no-middlebox': the node has none). */
    'dp.middlebox': { node: NodeId; packetId: number; tag: number; vmKey: number; mode: MiddleboxMode; verdict: PipelineMiddleboxCall['verdict'] };
    /**
     * A reject's response to the rejected packet `packetId`: sent back out of its in_port `port` as packet
     * `responseId` when that port is a local VM's VIF; otherwise not sent (`responseId` -1).
     */
    'dp.middlebox.response': { node: NodeId; packetId: number; responseId: number; port: number; sent: boolean };
    'dp.tunnel.send': { src: NodeId; dst: NodeId; packetId: number; tunKey: number; tunMeta: number; bytes: number };
    /** A frame between a gateway's physical port and an external segment (either direction). */
    'dp.phys.send': { src: NodeId; dst: NodeId; packetId: number; bytes: number };
    'dp.packet-in': { node: NodeId; packetId: number; reason: string; table: number; controllers: NodeId[] };
    'dp.vif.attach': { node: NodeId; vm: string; vifId: string; port: number };
    'dp.vif.detach': { node: NodeId; vm: string; vifId: string; port: number };
    'dp.tunnel.add': { node: NodeId; remote: NodeId; port: number };
    'dp.tunnel.remove': { node: NodeId; remote: NodeId; port: number };
    'switch.hello': { node: NodeId; controller: NodeId; incarnation: number; ports: number };
    /** An accepted flow-mod op. `flowKey` is '' for a delete by cookie; `cookie` is '' for a strict delete. */
    'switch.flowmod': { node: NodeId; from: NodeId; command: string; flowKey: string; cookie: string; generationId: number | null };
    'switch.flowmod.reject-stale': { node: NodeId; from: NodeId; xid: number; generationId: number; highest: number; ops: number };
    'switch.flowmod.reject-slave': { node: NodeId; from: NodeId; xid: number; ops: number };
    'switch.flowmod.reject-bad': { node: NodeId; from: NodeId; xid: number; detail: string };
    'switch.role': { node: NodeId; controller: NodeId; role: ControllerRole; generationId: number };
    'switch.role.reject-stale': { node: NodeId; controller: NodeId; role: ControllerRole; generationId: number; highest: number };
  }
}

export {};
