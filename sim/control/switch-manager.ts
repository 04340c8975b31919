// The controller's side of the switch channel: for every switch this instance masters, keep the switch's
// flow table equal to the desired flows. Owns the per-switch connection state (role and generation, the
// desired table, sync status) and the OpenFlow-like messages it sends; not what the desired flows are
// (the virtualization app computes them) nor the physical facts hello and port-status carry (the NIB).
//
// How a switch is brought in line, after it says hello (start or restart: its table may be empty or stale)
// or after this controller restarts (its picture of the table is gone):
//   1. role-request master with this controller's generation (epoch): the switch fences older masters;
//   2. dump-flows-request, and on the reply, a bundle with exactly the difference — delete-strict what the
//      switch has and should not, add what it lacks or has with other actions — never a wipe;
//   3. then every change to the desired table goes out as a bundle, followed by a barrier.
// The channel runs over the simulated fabric, so messages can be lost: a barrier not answered within the
// deadline (or an error from the switch) marks the switch out of sync, and it is dumped and diffed again.

import type { NodeId } from '../net/message.ts';
import type { NodeContext, TimerHandle } from '../net/node.ts';
import type { Nanos } from '../kernel/time.ts';
import { flowKey, formatFlow, type Flow } from '../dataplane/flow.ts';
import type { ControllerToSwitch, FlowModOp, SwitchToController } from '../dataplane/openflow.ts';

declare module '../kernel/trace.ts' {
  interface TraceEventMap {
    /** A switch was compared with its desired table: how many flows the bundle deletes and adds. */
    'ctl.resync': { controller: NodeId; switch: NodeId; deleted: number; added: number; unchanged: number };
    'ctl.sync.timeout': { controller: NodeId; switch: NodeId };
  }
}

export interface SwitchManagerOptions {
  /** This controller's mastership epoch; sent with role requests and flow-mods for fencing. */
  generationId: number;
  /** How long to wait for a barrier or dump reply before dumping and diffing again. */
  replyDeadlineNs: Nanos;
}

type SyncState = 'syncing' | 'in-sync';

interface SwitchConnection {
  readonly id: NodeId;
  /** The flows this switch should hold, by flowKey. */
  readonly desired: Map<string, Flow>;
  state: SyncState;
  /** The xid of the dump or barrier whose reply we are waiting for, and its deadline timer. */
  awaitingXid: number;
  deadline: TimerHandle | null;
}

export class SwitchManager {
  private readonly switches = new Map<NodeId, SwitchConnection>();
  private nextXid = 1;

  constructor(
    private readonly ctx: NodeContext,
    private readonly options: SwitchManagerOptions,
  ) {}

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

  /** Starts managing a switch (on its hello, or on this controller's restart): claim it, then sync it. */
  connect(id: NodeId): void {
    let c = this.switches.get(id);
    if (c === undefined) {
      c = { id, desired: new Map(), state: 'syncing', awaitingXid: 0, deadline: null };
      this.switches.set(id, c);
    }
    this.send(c, { type: 'of.role-request', xid: this.xid(), role: 'master', generationId: this.options.generationId });
    this.resync(c);
  }

  /**
   * Applies changes to a switch's desired table, and sends them at once when the switch is in sync.
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
    if (ops.length === 0 || c.state !== 'in-sync') return; // a sync in progress diffs against the latest desired table
    this.send(c, { type: 'of.bundle', xid: this.xid(), generationId: this.options.generationId, ops });
    this.awaitBarrier(c);
  }

  /** Handles a switch's reply; returns false when the message is not for the switch manager. */
  onMessage(from: NodeId, body: SwitchToController): boolean {
    const c = this.switches.get(from);
    if (c === undefined) return false;
    switch (body.type) {
      case 'of.dump-flows-reply':
        if (body.xid === c.awaitingXid) this.applyDiff(c, body.flows.map((s) => s.flow));
        return true;
      case 'of.barrier-reply':
        if (body.xid === c.awaitingXid && c.state === 'in-sync') this.clearDeadline(c);
        return true;
      case 'of.error':
        // A refused bundle (stale generation, slave, bad request) leaves the table unknown: look again.
        this.resync(c);
        return true;
      default:
        return false;
    }
  }

  private resync(c: SwitchConnection): void {
    c.state = 'syncing';
    const xid = this.xid();
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
    c.state = 'in-sync';
    if (ops.length > 0) this.send(c, { type: 'of.bundle', xid: this.xid(), generationId: this.options.generationId, ops });
    this.awaitBarrier(c);
  }

  private awaitBarrier(c: SwitchConnection): void {
    const xid = this.xid();
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

  private send(c: SwitchConnection, message: ControllerToSwitch): void {
    this.ctx.send(c.id, message);
  }

  private xid(): number {
    return this.nextXid++;
  }
}
