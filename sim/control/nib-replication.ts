// The replicated portion of an instance's NIB (seed 000 §4.1, FIG. 10: every instance holds all of it):
// records this instance exports as the master of their entity, and every record any instance exported,
// imported back. Records go through the PTD (strongly consistent, durable, ordered by the master PTD) or
// the DHT (weakly consistent, volatile, one owner per key), chosen per key prefix. Owns the export side
// (one write in flight per key, the latest value wins, retried until it lands or is fenced) and the
// wiring of the import side; not what the records mean (cluster-instance.ts).
//
// Fencing: every exported value carries the epoch under which its writer masters the record's entity.
// Through the PTD the write is a guarded transaction that aborts when the stored record has a newer epoch
// (an ex-master's late write cannot overwrite its successor's); through the DHT, which has no guards,
// importers keep the newest epoch they have seen per key (cluster-instance.ts).

import type { Nanos } from '../kernel/time.ts';
import type { NodeContext, NodeId } from '../net/index.ts';
import type { DhtInstance } from '../store/dht.ts';
import type { PtdNode, Transaction } from '../store/ptd.ts';

declare module '../kernel/trace.ts' {
  interface TraceEventMap {
    /** An export was refused because the record holds a newer epoch: the writer is no longer its master. */
    'nib.export.fenced': { node: NodeId; key: string; epoch: number };
    /** An export failed (timeout, no master PTD, no DHT owner) and will be retried. */
    'nib.export.retry': { node: NodeId; key: string; error: string };
  }
}

export type NibTransport = 'ptd' | 'dht';

export interface FencedValue {
  readonly epoch: number;
}

export interface NibReplicationOptions {
  ptd: PtdNode;
  dht: DhtInstance | null;
  /** Which store a key goes to. */
  transportOf: (key: string) => NibTransport;
  /** How long after a failed export to try again. */
  retryNs: Nanos;
}

interface Outgoing {
  inFlight: boolean;
  /** The value to write once the one in flight is answered (null: nothing newer). */
  next: FencedValue | null;
}

export class NibReplication {
  private readonly outgoing = new Map<string, Outgoing>();

  constructor(
    private readonly ctx: NodeContext,
    private readonly options: NibReplicationOptions,
  ) {}

  /**
   * Exports a record; a write for a key replaces any not yet sent. Records are never deleted (an emptied
   * one is written empty), so every change of a record stays fenced.
   */
  write<V extends FencedValue>(key: string, value: V): void {
    let o = this.outgoing.get(key);
    if (o === undefined) this.outgoing.set(key, (o = { inFlight: false, next: null }));
    o.next = value;
    if (!o.inFlight) this.sendNext(key, o);
  }

  /** Whether every export has been answered (for tests and checkers). */
  idle(): boolean {
    return this.outgoing.size === 0;
  }

  private sendNext(key: string, o: Outgoing): void {
    if (o.next === null) {
      this.outgoing.delete(key);
      return;
    }
    const value = o.next;
    o.next = null;
    o.inFlight = true;
    const settle = (error: string | null, fenced: boolean) => {
      o.inFlight = false;
      const trace = this.ctx.trace;
      if (fenced) {
        if (trace.active) trace.emit('nib.export.fenced', { node: this.ctx.id, key, epoch: value.epoch });
      } else if (error !== null) {
        if (trace.active) trace.emit('nib.export.retry', { node: this.ctx.id, key, error });
        if (o.next === null) o.next = value;
        this.ctx.setTimer(this.options.retryNs, () => {
          if (!o.inFlight) this.sendNext(key, o);
        });
        return;
      }
      this.sendNext(key, o);
    };
    if (this.options.transportOf(key) === 'dht' && this.options.dht !== null) {
      const dht = this.options.dht;
      dht.put(key, value, (r) => settle(r.ok ? null : r.message, false), { triggers: 'all' });
      return;
    }
    this.options.ptd.submit(fencedWrite(key, value), (r) => {
      if (!r.ok) return settle(r.message, false);
      settle(null, !r.outcome.ok);
    });
  }
}

/** Put `key` unless the stored record carries a newer epoch than the value's. */
function fencedWrite(key: string, value: FencedValue): Transaction {
  return {
    statements: [
      { op: 'require', when: { kind: 'field-at-most', key, field: 'epoch', value: value.epoch }, error: 'stale epoch' },
      { op: 'put', key, value },
    ],
  };
}
