// A managed software switch: numbered ports, multi-table flow tables, and packet forwarding — the
// pipeline's outputs turned into deliveries to VIFs or the physical port, tunnel frames to remote
// switches (encapsulation with tunKey/tunMeta), and packet-ins; the host-local middlebox element's
// reject responses (back to the sending VM) and held packets (retried when the element says so); and the
// element's view of the host database (HOST_DB_TABLE's note texts). Also the `ofproto/trace`-like
// what-if call. Owns forwarding on one switch; the node around it (switch-node.ts) owns the fabric, the
// controller channel, persistence and what lies behind VIF and physical ports; the element is built by
// the node and only reached through MiddleboxHook.
//
// Packet identity: the first output of a packet continues it (same id); each further output is a copy
// with a new id that names the packet as its parent. Every output carries the originId of the first send.
// A reject response is a new packet whose parent is the rejected one; a held packet keeps its id.

import type { NodeContext } from '../net/node.ts';
import type { NodeId } from '../net/message.ts';
import type { Action } from './flow.ts';
import type { Headers, Packet } from './headers.ts';
import { initialFieldValues, fieldValues, type PipelineFieldValues } from './field-values.ts';
import { FlowTable } from './flow-table.ts';
import { packetBytes, tunnelFrame } from './frames.ts';
import type { PacketIds } from './packet-ids.ts';
import { HOST_DB_TABLE, type MiddleboxHook } from './middlebox-hook.ts';
import {
  flowHits,
  runActions,
  runPipeline,
  type FlowHit,
  type PipelineBuffered,
  type PipelineMiddleboxCall,
  type PipelineOutput,
  type PipelinePunt,
  type PipelineResult,
} from './pipeline.ts';
import { PortTable, type PhysicalPort, type VifPort } from './ports.ts';
import type { DropReason } from './trace-events.ts';
import './trace-events.ts';

/** What the switch needs from the node it runs on. */
export interface SwitchEnv {
  readonly ctx: NodeContext;
  readonly packetIds: PacketIds;
  /** A packet leaving by a VIF port or the physical port. */
  deliver(port: VifPort | PhysicalPort, packet: Packet): void;
  /** A packet a flow punted to the controller (the packet as it was at that point). */
  packetIn(punt: PipelinePunt, packet: Packet): void;
  /** The host-local middlebox element; null on a node without one (middlebox actions then drop). */
  readonly middlebox: MiddleboxHook | null;
}

export interface TracedOutput {
  readonly port: number;
  /** Where the port leads: a VM name, a remote switch node, an external segment, or nothing. */
  readonly kind: 'vif' | 'tunnel' | 'physical' | 'no-port';
  readonly to: string;
  readonly headers: Headers;
  readonly tunKey: number;
  readonly tunMeta: number;
}

/** What one switch would do with a packet, without doing it. */
export interface SwitchTrace {
  readonly node: NodeId;
  readonly inPort: number;
  readonly hits: FlowHit[];
  readonly outputs: TracedOutput[];
  readonly punts: { readonly reason: string; readonly table: number; readonly cookie: string }[];
  readonly drop: { readonly reason: DropReason; readonly table: number } | null;
  /** The middlebox actions run and the element's what-if verdicts. */
  readonly middlebox: readonly PipelineMiddleboxCall[];
  /** A reject's response: the VM it would be delivered to (by the in_port), or '' when it would not be sent. */
  readonly response: { readonly headers: Headers; readonly vm: string } | null;
}

export class SoftwareSwitch {
  readonly flows = new FlowTable();
  readonly ports = new PortTable();
  /** HOST_DB_TABLE's revision and records when the element was last configured. */
  private hostDbRevision: number;
  private hostDbRecords: readonly string[] = [];

  constructor(private readonly env: SwitchEnv) {
    // A (re)started switch has an empty table: its element starts from no records.
    this.hostDbRevision = this.flows.revision(HOST_DB_TABLE);
    env.middlebox?.configure(this.hostDbRecords);
  }

  get id(): NodeId {
    return this.env.ctx.id;
  }

  /** A packet arrives on `inPort` (from a VM, a decapsulated tunnel frame, or the physical port). */
  receive(inPort: number, packet: Packet, tunKey = 0, tunMeta = 0): void {
    const values = fieldValues(packet.headers, inPort, tunKey, tunMeta);
    const result = runPipeline(this.flows, values, packetBytes(packet), true, 0, this.env.middlebox);
    this.dispatch(inPort, packet, result);
  }

  /**
   * Gives the element the host database's records (the note texts of HOST_DB_TABLE's flows, in flow-key
   * order) if that table changed since it was last told and the records differ. The OpenFlow agent calls
   * this after each flow-mod or bundle it applies; anyone else changing `flows` directly calls it too.
   */
  syncHostDatabase(): void {
    const hook = this.env.middlebox;
    const revision = this.flows.revision(HOST_DB_TABLE);
    if (hook === null || revision === this.hostDbRevision) return;
    this.hostDbRevision = revision;
    const records: string[] = [];
    const entries = this.flows.dump({ table: HOST_DB_TABLE }).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const e of entries) for (const a of e.flow.actions) if (a.type === 'note') records.push(a.text);
    if (records.length === this.hostDbRecords.length && records.every((r, i) => r === this.hostDbRecords[i])) return;
    this.hostDbRecords = records;
    hook.configure(records);
  }

  /** Runs `actions` on a packet made from the headers, as if it entered on `inPort` (packet-out). */
  inject(inPort: number, headers: Headers, payloadBytes: number, actions: readonly Action[]): Packet {
    const packet: Packet = { id: this.env.packetIds.next(), headers, payloadBytes };
    const values = fieldValues(headers, inPort, 0, 0);
    this.dispatch(inPort, packet, runActions(this.flows, values, actions, packetBytes(packet), true, this.env.middlebox));
    return packet;
  }

  /**
   * What the pipeline would do with the packet on `inPort` (ovs-appctl ofproto/trace): the flows hit and
   * where it would go. No counters change, nothing is sent, no packet id is used, and the middlebox
   * element is asked for what-if verdicts only. `fields` presets pipeline fields, e.g. the tunKey/tunMeta
   * a tunnel frame would carry.
   */
  trace(inPort: number, packet: Packet, fields: Partial<PipelineFieldValues> = {}): SwitchTrace {
    const result = runPipeline(this.flows, initialFieldValues(packet, inPort, fields), packetBytes(packet), false, 0, this.env.middlebox);
    const outputs = result.outputs.map((o) => this.describe(o));
    let drop: SwitchTrace['drop'] = result.drop === null ? null : { reason: result.drop, table: result.dropTable };
    if (drop === null && result.punts.length === 0 && outputs.every((o) => o.kind === 'no-port')) drop = { reason: 'no-port', table: -1 };
    return {
      node: this.id,
      inPort,
      hits: flowHits(result.hits),
      outputs,
      punts: result.punts.map((p) => ({ reason: p.reason, table: p.table, cookie: p.cookie })),
      drop,
      middlebox: result.middleboxCalls,
      response: result.response === null ? null : { headers: result.response, vm: this.senderVif(inPort)?.vm ?? '' },
    };
  }

  /** The VIF port a packet that entered on `inPort` came from, if it came from a local VM. */
  private senderVif(inPort: number): VifPort | undefined {
    const port = this.ports.get(inPort);
    return port?.kind === 'vif' ? port : undefined;
  }

  private describe(o: PipelineOutput): TracedOutput {
    const port = this.ports.get(o.port);
    const base = { port: o.port, headers: o.headers, tunKey: o.tunKey, tunMeta: o.tunMeta };
    if (port === undefined) return { ...base, kind: 'no-port', to: '' };
    if (port.kind === 'vif') return { ...base, kind: 'vif', to: port.vm };
    if (port.kind === 'tunnel') return { ...base, kind: 'tunnel', to: port.remote };
    return { ...base, kind: 'physical', to: port.segment };
  }

  private dispatch(inPort: number, packet: Packet, result: PipelineResult): void {
    const { ctx, packetIds } = this.env;
    const trace = ctx.trace;
    if (trace.active) {
      trace.detail('dp.pipeline', {
        node: ctx.id,
        packetId: packet.id,
        inPort,
        hits: flowHits(result.hits),
        outputs: result.outputs.map((o) => o.port),
        punts: result.punts.length,
        drop: result.drop,
      });
      for (const c of result.middleboxCalls) trace.detail('dp.middlebox', { node: ctx.id, packetId: packet.id, tag: c.tag, vmKey: c.vmKey, mode: c.mode, verdict: c.verdict });
      if (result.drop !== null) trace.detail('dp.drop', { node: ctx.id, packetId: packet.id, reason: result.drop, table: result.dropTable, port: -1 });
    }
    const originId = packet.originId ?? packet.id;
    const outputs = result.outputs;
    for (let i = 0; i < outputs.length; i++) {
      const o = outputs[i];
      const out: Packet =
        i === 0
          ? { id: packet.id, parentId: packet.parentId, originId, headers: o.headers, payloadBytes: packet.payloadBytes }
          : { id: packetIds.next(), parentId: packet.id, originId, headers: o.headers, payloadBytes: packet.payloadBytes };
      const port = this.ports.get(o.port);
      if (port === undefined) {
        if (trace.active) trace.detail('dp.drop', { node: ctx.id, packetId: out.id, reason: 'no-port', table: -1, port: o.port });
      } else if (port.kind === 'tunnel') {
        const frame = tunnelFrame(out, o.tunKey, o.tunMeta);
        if (trace.active) trace.detail('dp.tunnel.send', { src: ctx.id, dst: port.remote, packetId: out.id, tunKey: o.tunKey, tunMeta: o.tunMeta, bytes: frame.sizeBytes });
        ctx.send(port.remote, frame);
      } else {
        this.env.deliver(port, out);
      }
    }
    for (const punt of result.punts) {
      this.env.packetIn(punt, { id: packet.id, parentId: packet.parentId, originId, headers: punt.headers, payloadBytes: packet.payloadBytes });
    }
    if (result.response !== null) this.sendResponse(inPort, packet, originId, result.response);
    if (result.buffered !== null) this.hold(inPort, packet, result.buffered);
  }

  /** A reject's response goes back out of the in_port when the rejected packet came from a local VM. */
  private sendResponse(inPort: number, packet: Packet, originId: number, headers: Headers): void {
    const { ctx } = this.env;
    const vif = this.senderVif(inPort);
    const id = vif === undefined ? -1 : this.env.packetIds.next();
    if (ctx.trace.active) ctx.trace.detail('dp.middlebox.response', { node: ctx.id, packetId: packet.id, responseId: id, port: inPort, sent: vif !== undefined });
    if (vif !== undefined) this.env.deliver(vif, { id, parentId: packet.id, originId, headers, payloadBytes: 0 });
  }

  /**
   * Leaves a held packet with the element. Its retry re-runs the middlebox action on the saved values and
   * dispatches the outcome as the same packet; a second call, or one after this switch's node went down,
   * does nothing (the packet must not be delivered twice, nor by a dead incarnation).
   */
  private hold(inPort: number, packet: Packet, held: PipelineBuffered): void {
    const { ctx, middlebox } = this.env;
    if (middlebox === null) return;
    let retried = false;
    middlebox.hold(held.tag, held.vmKey, () => {
      if (retried || !ctx.isAlive()) return;
      retried = true;
      const action = { type: 'middlebox', tag: held.tag, mode: held.mode, table: held.table } as const;
      this.dispatch(inPort, packet, runActions(this.flows, held.values, [action], packetBytes(packet), true, middlebox));
    });
  }
}
