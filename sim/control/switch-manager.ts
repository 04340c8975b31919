// The controller's side of the switch channel: for every switch this instance masters, keep the switch's
// flow table equal to the desired flows. Owns the per-switch connection state (role and generation, the
// desired table, the xid sequence, sync status), the OpenFlow-like messages it sends and the periodic
// audit; not what the desired flows are (the virtualization app computes them) nor the physical facts
// hello, port-status and the audit's port lists carry (the NIB: port lists are handed to `onPorts`).
//
// How a switch is brought in line, after it says hello (start or restart: its table may be empty or stale)
// or after this controller restarts (its picture of the table is gone):
//   1. role-request master with this controller's generation (epoch): the switch fences older masters;
//   2. dump-flows-request, and on the reply, a bundle with exactly the difference — delete-strict what the
//      switch has and should not, add what it lacks or has with other actions — never a wipe;
//   3. then every change to the desired table goes out as a bundle, followed by a barrier.
//
// The channel runs over the simulated fabric, which loses, duplicates and reorders, so it keeps the
// TCP-like sequence discipline described in openflow.ts: every message to one switch gets the next xid of
// that switch's sequence, and the switch refuses changes and barriers after a gap until the next dump.
// Hence a switch is 'in-sync' only when the reply to the latest barrier arrives: that reply proves every
// message since the latest dump was applied in order. Anything else resyncs (dump → diff → bundle →
// barrier): an error whose xid is at or after the latest dump (older errors belong to a stream already
// abandoned and are ignored, so one loss does not set off a storm of resyncs), or a dump or barrier reply
// missing at the deadline. A restarted controller must not reuse xids its previous life sent (the switch
// would take them for old ones), so each incarnation numbers from incarnation × XID_INCARNATION_SPAN.
//
// The audit, every auditIntervalNs, per switch: a ports-request, whose reply goes to `onPorts` so the
// controller can replace the switch's port facts (this repairs a lost or reordered port-status); and,
// when the switch is in sync with nothing outstanding, a barrier. The barrier is all the flow audit the
// sequence discipline needs: while only this channel writes the table, the table can drift from the
// desired one only through a lost or reordered message or a switch restart whose hello was lost — and the
// barrier exposes each (a gap, or a fresh switch still out of sequence) as an error or a missing reply.
// That is two small messages each way per switch per interval, so it scales to a thousand switches; a
// full dump-and-diff, which catches writes outside the channel, is a knob (auditDumpEvery, off by
// default) and staggered across switches when on.

import type { NodeId } from '../net/message.ts';
import type { NodeContext, TimerHandle } from '../net/node.ts';
import type { Nanos } from '../kernel/time.ts';
import { flowKey, formatFlow, type Flow } from '../dataplane/flow.ts';
import type { ControllerToSwitch, FlowModOp, SwitchToController } from '../dataplane/openflow.ts';
import type { Port } from '../dataplane/ports.ts';

declare module '../kernel/trace.ts' {
  interface TraceEventMap {
    /** A switch was compared with its desired table: how many flows the bundle deletes and adds. */
    'ctl.resync': { controller: NodeId; switch: NodeId; deleted: number; added: number; unchanged: number };
    'ctl.sync.timeout': { controller: NodeId; switch: NodeId };
    /** An error for a message of the current stream: the switch's table is unknown, so it is resynced. */
    'ctl.sync.error': { controller: NodeId; switch: NodeId; xid: number; code: string; request: string };
  }
}

/** xids of one controller incarnation start at incarnation × this, above all of the previous one's. */
export const XID_INCARNATION_SPAN = 1_000_000_000;

export const DEFAULT_AUDIT_INTERVAL_NS: Nanos = 1_000_000_000;

export interface SwitchManagerOptions {
  /** The mastership epoch for switches connected without one; sent with role requests and flow-mods for fencing. */
  generationId: number;
  /** How long to wait for a barrier or dump reply before dumping and diffing again. */
  replyDeadlineNs: Nanos;
  /** How often every switch is audited (ports-request, and a barrier when idle); 0 turns it off. Default 1 s. */
  auditIntervalNs?: Nanos;
  /** Make every Nth audit of a switch a full dump-and-diff (staggered across switches); 0, the default, never. */
  auditDumpEvery?: number;
  /** Receives a switch's complete port list from each audit, to replace that switch's port facts. */
  onPorts?: (switchId: NodeId, ports: readonly Port[]) => void;
}

/**
 * 'syncing': a dump is outstanding (changes only accumulate in the desired table, to be diffed);
 * 'pending': the diff or later changes are sent and the latest barrier is not answered yet;
 * 'in-sync': the latest barrier was answered, so the table is the desired one.
 */
type SyncState = 'syncing' | 'pending' | 'in-sync';

interface SwitchConnection {
  readonly id: NodeId;
  /** Position among the switches, to stagger dump audits. */
  readonly index: number;
  /** The mastership epoch this controller claims the switch under (the switch fences older ones). */
  generationId: number;
  /** The flows this switch should hold, by flowKey. */
  readonly desired: Map<string, Flow>;
  state: SyncState;
  /** The xid the next message to this switch gets. */
  nextXid: number;
  /** The xid of the latest dump (the start of the current stream); errors for older xids are ignored. */
  resyncXid: number;
  /** The xid of the dump or barrier whose reply we are waiting for, and its deadline timer. */
  awaitingXid: number;
  deadline: TimerHandle | null;
  /** The xid of the latest ports-request: only its reply is used (an older one may predate a change). */
  portsXid: number;
  audits: number;
}

export class SwitchManager {
  private readonly switches = new Map<NodeId, SwitchConnection>();
  /** The next xid of switches disconnected in this incarnation: a reconnection must not reuse xids the switch saw. */
  private readonly resumeXid = new Map<NodeId, number>();
  private readonly auditIntervalNs: Nanos;
  private readonly auditDumpEvery: number;

  constructor(
    private readonly ctx: NodeContext,
    private readonly options: SwitchManagerOptions,
  ) {
    this.auditIntervalNs = options.auditIntervalNs ?? DEFAULT_AUDIT_INTERVAL_NS;
    this.auditDumpEvery = options.auditDumpEvery ?? 0;
    if (this.auditIntervalNs > 0) this.armAudit();
  }

  /** Switches this manager masters. */
  get switchIds(): NodeId[] {
    return [...this.switches.keys()];
  }

  /** Whether every managed switch has acknowledged its desired table. */
  allInSync(): boolean {
    for (const c of this.switches.values()) if (c.state !== 'in-sync') return false;
    return true;
  }

  isInSync(id: NodeId): boolean {
    return this.switches.get(id)?.state === 'in-sync';
  }

  /** The desired table of a switch, sorted by key (for checkers). */
  desiredFlows(id: NodeId): Flow[] {
    const c = this.switches.get(id);
    return c === undefined ? [] : [...c.desired.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, f]) => f);
  }

  /**
   * Starts managing a switch (on its hello, on this controller's restart, or on becoming its master):
   * claim it under `generationId`, then sync it. The desired table is kept across reconnections.
   */
  connect(id: NodeId, generationId = this.options.generationId): void {
    let c = this.switches.get(id);
    if (c === undefined) {
      const firstXid = this.resumeXid.get(id) ?? this.ctx.incarnation * XID_INCARNATION_SPAN + 1;
      c = { id, index: this.switches.size, generationId, desired: new Map(), state: 'syncing', nextXid: firstXid, resyncXid: firstXid, awaitingXid: 0, deadline: null, portsXid: 0, audits: 0 };
      this.switches.set(id, c);
    }
    c.generationId = generationId;
    this.send(c, { type: 'of.role-request', xid: this.xid(c), role: 'master', generationId });
    this.resync(c);
  }

  /** Stops managing a switch (mastership lost): no more messages to it, its replies ignored. */
  disconnect(id: NodeId): void {
    const c = this.switches.get(id);
    if (c === undefined) return;
    this.clearDeadline(c);
    this.resumeXid.set(id, c.nextXid);
    this.switches.delete(id);
  }

  isConnected(id: NodeId): boolean {
    return this.switches.has(id);
  }

  /**
   * Applies changes to a switch's desired table, and sends them at once unless a dump is outstanding.
   * Removing a flow only removes that exact flow: if the program ever holds two flows with one key (it
   * should not), removing one must not take the other with it.
   */
  update(id: NodeId, removed: readonly Flow[], added: readonly Flow[]): void {
    const c = this.switches.get(id);
    if (c === undefined) throw new Error(`switch manager: '${id}' is not connected`);
    const ops: FlowModOp[] = [];
    for (const flow of removed) {
      const key = flowKey(flow);
      const held = c.desired.get(key);
      if (held === undefined || formatFlow(held) !== formatFlow(flow)) continue;
      c.desired.delete(key);
      ops.push({ command: 'delete-strict', flowKey: key });
    }
    for (const flow of added) {
      c.desired.set(flowKey(flow), flow);
      ops.push({ command: 'add', flow });
    }
    if (ops.length === 0 || c.state === 'syncing') return; // the dump's diff will use the latest desired table
    // Pipelined behind the diff or earlier changes: the sequence keeps them in order at the switch.
    this.send(c, { type: 'of.bundle', xid: this.xid(c), generationId: c.generationId, ops });
    this.awaitBarrier(c);
  }

  /** Handles a switch's reply; returns false when the message is not for the switch manager. */
  onMessage(from: NodeId, body: SwitchToController): boolean {
    const c = this.switches.get(from);
    if (c === undefined) return false;
    switch (body.type) {
      case 'of.dump-flows-reply':
        if (c.state === 'syncing' && body.xid === c.awaitingXid) this.applyDiff(c, body.flows.map((s) => s.flow));
        return true;
      case 'of.barrier-reply':
        // Only the latest barrier vouches for everything sent; an earlier one's reply proves less.
        if (c.state !== 'syncing' && body.xid === c.awaitingXid) {
          this.clearDeadline(c);
          c.state = 'in-sync';
        }
        return true;
      case 'of.ports-reply':
        if (body.xid === c.portsXid) this.options.onPorts?.(c.id, body.ports);
        return true;
      case 'of.error': {
        // An error from before the latest dump belongs to a stream already abandoned (its resync is under
        // way); any other means the table is unknown — a change refused, or the stream broken — so look again.
        if (body.xid < c.resyncXid) return true;
        const trace = this.ctx.trace;
        if (trace.active) trace.emit('ctl.sync.error', { controller: this.ctx.id, switch: c.id, xid: body.xid, code: body.code, request: body.request });
        this.resync(c);
        return true;
      }
      default:
        return false;
    }
  }

  private resync(c: SwitchConnection): void {
    c.state = 'syncing';
    const xid = this.xid(c);
    c.resyncXid = xid;
    this.send(c, { type: 'of.dump-flows-request', xid });
    this.expectReply(c, xid);
  }

  private applyDiff(c: SwitchConnection, actual: readonly Flow[]): void {
    const ops: FlowModOp[] = [];
    const actualByKey = new Map(actual.map((f) => [flowKey(f), f]));
    let unchanged = 0;
    for (const key of actualByKey.keys()) {
      if (!c.desired.has(key)) ops.push({ command: 'delete-strict', flowKey: key });
    }
    for (const [key, flow] of c.desired) {
      const have = actualByKey.get(key);
      if (have !== undefined && formatFlow(have) === formatFlow(flow)) unchanged++;
      else ops.push({ command: 'add', flow });
    }
    const deleted = ops.filter((o) => o.command === 'delete-strict').length;
    const trace = this.ctx.trace;
    if (trace.active) trace.emit('ctl.resync', { controller: this.ctx.id, switch: c.id, deleted, added: ops.length - deleted, unchanged });
    if (ops.length > 0) this.send(c, { type: 'of.bundle', xid: this.xid(c), generationId: c.generationId, ops });
    // The barrier is needed even with nothing to change: its reply is what proves the dump reset the
    // switch's sequence (a dump older than something the switch saw is answered but resets nothing).
    this.awaitBarrier(c);
  }

  private awaitBarrier(c: SwitchConnection): void {
    c.state = 'pending';
    const xid = this.xid(c);
    this.send(c, { type: 'of.barrier-request', xid });
    this.expectReply(c, xid);
  }

  private expectReply(c: SwitchConnection, xid: number): void {
    this.clearDeadline(c);
    c.awaitingXid = xid;
    c.deadline = this.ctx.setTimer(this.options.replyDeadlineNs, () => {
      c.deadline = null;
      const trace = this.ctx.trace;
      if (trace.active) trace.emit('ctl.sync.timeout', { controller: this.ctx.id, switch: c.id });
      this.resync(c);
    });
  }

  private clearDeadline(c: SwitchConnection): void {
    if (c.deadline !== null) this.ctx.cancelTimer(c.deadline);
    c.deadline = null;
  }

  // ---- audit ---------------------------------------------------------------------------------------------

  private armAudit(): void {
    this.ctx.setTimer(this.auditIntervalNs, () => {
      for (const c of this.switches.values()) this.audit(c);
      this.armAudit();
    });
  }

  /** Asks a switch for its ports now (its reply goes to `onPorts`), as the audit does. */
  requestPorts(id: NodeId): void {
    const c = this.switches.get(id);
    if (c === undefined) return;
    c.portsXid = this.xid(c);
    this.send(c, { type: 'of.ports-request', xid: c.portsXid });
  }

  private audit(c: SwitchConnection): void {
    c.audits++;
    this.requestPorts(c.id);
    // A switch that is syncing or pending has a deadline running already; audit only the idle ones.
    if (c.state !== 'in-sync' || c.deadline !== null) return;
    if (this.auditDumpEvery > 0 && (c.audits + c.index) % this.auditDumpEvery === 0) return this.resync(c);
    // Stays 'in-sync' while the barrier is out: the table was confirmed; an error or the deadline says otherwise.
    const xid = this.xid(c);
    this.send(c, { type: 'of.barrier-request', xid });
    this.expectReply(c, xid);
  }

  private send(c: SwitchConnection, message: ControllerToSwitch): void {
    this.ctx.send(c.id, message);
  }

  private xid(c: SwitchConnection): number {
    return c.nextXid++;
  }
}
