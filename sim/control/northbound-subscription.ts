// A controller's subscription to the northbound database (northbound-node.ts): the snapshot, then every
// change set in order, turned into changes of the control program's LCP inputs. Owns the sequence
// bookkeeping and the recovery from loss (subscribe again on a gap, a lost snapshot or silence); not what
// the changes are used for.

import type { Nanos } from '../kernel/time.ts';
import { RELATION_ORDER, type Delta, type RelationName, type Snapshot } from '../logical/relations.ts';
import type { NodeContext, NodeId } from '../net/index.ts';
import { deleteTuple, insertTuple, type Change } from '../rules/index.ts';
import type { ControlProgram } from './control-program.ts';
import { NB_DEFAULT_HEARTBEAT_NS, type NorthboundMessage } from './northbound-node.ts';

declare module '../kernel/trace.ts' {
  interface TraceEventMap {
    'ctl.nb.resubscribe': { controller: NodeId; reason: string };
  }
}

export class NorthboundSubscription {
  private nbSeq = -1;
  private lastNbHeard: Nanos = 0;
  private subscribedAt: Nanos = 0;

  constructor(
    private readonly ctx: NodeContext,
    private readonly northbound: NodeId,
    private readonly program: ControlProgram,
    /** Receives the LCP changes of a snapshot (as a diff against the stored inputs) or a change set. */
    private readonly onChanges: (cause: string, changes: Change[]) => void,
  ) {
    this.subscribe('start');
    this.watch();
  }

  onMessage(m: NorthboundMessage): void {
    // While a snapshot is awaited, only the snapshot counts as hearing from the northbound: heartbeats
    // alone must not hide a lost subscribe or a lost snapshot.
    if (this.nbSeq >= 0 || m.type === 'nb.snapshot') this.lastNbHeard = this.ctx.now();
    switch (m.type) {
      case 'nb.snapshot':
        this.nbSeq = m.seq;
        return this.onChanges(`nb snapshot ${m.seq}`, this.snapshotChanges(m.snapshot));
      case 'nb.changes':
        if (this.nbSeq < 0 || m.seq <= this.nbSeq) return; // before our snapshot, or a duplicate
        if (m.seq !== this.nbSeq + 1) return this.subscribe(`gap: have ${this.nbSeq}, got ${m.seq}`);
        this.nbSeq = m.seq;
        return this.onChanges(`nb changes ${m.seq}`, m.deltas.flatMap((d) => this.lcpChange(d)));
      case 'nb.heartbeat':
        if (this.nbSeq >= 0 && m.seq > this.nbSeq) this.subscribe(`heartbeat at ${m.seq}, have ${this.nbSeq}`);
        return;
    }
  }

  /** Turns the stored LCP into the snapshot's, as insert/delete changes (an incremental resync). */
  private snapshotChanges(snapshot: Snapshot): Change[] {
    const changes: Change[] = [];
    for (const name of RELATION_ORDER) {
      const rel = this.lcpRelation(name);
      const key = (t: object) => JSON.stringify(t);
      const want = new Map((snapshot[name] as object[]).map((t) => [key(t), t]));
      const have = new Map((this.program.engine.storedInputs(rel) as object[]).map((t) => [key(t), t]));
      for (const [k, t] of have) if (!want.has(k)) changes.push(deleteTuple(rel, t as any));
      for (const [k, t] of want) if (!have.has(k)) changes.push(insertTuple(rel, t as any));
    }
    return changes;
  }

  private lcpChange(d: Delta): Change[] {
    const rel = this.lcpRelation(d.relation);
    return [d.op === 'insert' ? insertTuple(rel, d.tuple as any) : deleteTuple(rel, d.tuple as any)];
  }

  private lcpRelation(name: RelationName) {
    return this.program.lcp[name] as any;
  }

  private subscribe(reason: string): void {
    const trace = this.ctx.trace;
    if (trace.active) trace.emit('ctl.nb.resubscribe', { controller: this.ctx.id, reason });
    this.nbSeq = -1;
    this.subscribedAt = this.ctx.now();
    this.ctx.send(this.northbound, { type: 'nb.subscribe' });
  }

  /**
   * Subscribes again when the northbound has been silent for three heartbeats (crashed, restarted, cut
   * off), or when a snapshot asked for has not come within that time (the subscribe or the snapshot was
   * lost).
   */
  private watch(): void {
    this.ctx.setTimer(NB_DEFAULT_HEARTBEAT_NS, () => {
      const limit = 3 * NB_DEFAULT_HEARTBEAT_NS;
      const now = this.ctx.now();
      if (this.nbSeq < 0 && now - this.subscribedAt > limit) this.subscribe('no snapshot');
      else if (this.nbSeq >= 0 && now - this.lastNbHeard > limit) {
        this.lastNbHeard = now;
        this.subscribe('northbound silent');
      }
      this.watch();
    });
  }
}
