// A switch's flow tables 0..MAX_TABLE: the flows by key and by cookie, one classifier per table, and the
// per-flow packet and byte counters. Owns what OpenFlow's flow-mod commands do to a table (add replaces
// the same key and resets its counters; modify keeps them; strict delete by key; delete by cookie) and
// the dump order, and a per-table revision that tells watchers (the switch's host database) cheaply
// whether a table changed. Does not execute actions (pipeline.ts) or speak the controller protocol.

import type { Nanos } from '../kernel/time.ts';
import { flowKey, type Flow } from './flow.ts';
import { Classifier } from './classifier.ts';
import type { FieldValues } from './field-values.ts';
import { FlowEntry, validateFlow } from './flow-entry.ts';

export class FlowTable {
  private readonly tables = new Map<number, Classifier>();
  private readonly byKey = new Map<string, FlowEntry>();
  private readonly byCookie = new Map<string, Set<FlowEntry>>();
  /** Per table, how many times a flow was installed, changed or removed there. */
  private readonly revisions = new Map<number, number>();
  private nextSeq = 1;

  get size(): number {
    return this.byKey.size;
  }

  /**
   * Installs a flow. A flow with the same key (table, priority, match) is replaced: the new one counts from
   * zero and takes a new install order, as an OpenFlow add of an identical match does.
   */
  add(flow: Flow, now: Nanos = 0): FlowEntry {
    validateFlow(flow);
    const key = flowKey(flow);
    const old = this.byKey.get(key);
    if (old !== undefined) this.remove(old);
    const entry = new FlowEntry(flow, this.nextSeq++, now, key);
    this.byKey.set(key, entry);
    this.classifier(flow.table).insert(entry);
    this.cookieSet(flow.cookie).add(entry);
    this.touch(flow.table);
    return entry;
  }

  /**
   * Changes the actions and cookie of the flow with the same key, keeping its counters and install order
   * (OpenFlow modify-strict); installs it when there is none.
   */
  modify(flow: Flow, now: Nanos = 0): FlowEntry {
    validateFlow(flow);
    const key = flowKey(flow);
    const entry = this.byKey.get(key);
    if (entry === undefined) return this.add(flow, now);
    if (entry.flow.cookie !== flow.cookie) {
      this.uncookie(entry);
      this.cookieSet(flow.cookie).add(entry);
    }
    entry.flow = flow;
    this.touch(flow.table);
    return entry;
  }

  /** Deletes the flow with exactly this key. Returns whether there was one. */
  deleteStrict(key: string): boolean {
    const entry = this.byKey.get(key);
    if (entry === undefined) return false;
    this.remove(entry);
    return true;
  }

  /** Deletes every flow with this cookie. Returns how many. */
  deleteByCookie(cookie: string): number {
    const set = this.byCookie.get(cookie);
    if (set === undefined) return 0;
    const entries = [...set];
    for (const e of entries) this.remove(e);
    return entries.length;
  }

  clear(): void {
    for (const table of this.tables.keys()) this.touch(table);
    this.tables.clear();
    this.byKey.clear();
    this.byCookie.clear();
  }

  /** Changes whenever a flow of `table` is installed, modified or removed (0 for a table never touched). */
  revision(table: number): number {
    return this.revisions.get(table) ?? 0;
  }

  get(key: string): FlowEntry | undefined {
    return this.byKey.get(key);
  }

  /** The flow the packet hits in `table`, or null (a table miss). */
  lookup(table: number, values: FieldValues): FlowEntry | null {
    const c = this.tables.get(table);
    return c === undefined ? null : c.lookup(values);
  }

  /** Installed flows as ovs-ofctl dump-flows lists them: by table, priority descending, then key. */
  dump(filter: { table?: number; cookie?: string } = {}): FlowEntry[] {
    let entries: FlowEntry[];
    if (filter.cookie !== undefined) entries = [...(this.byCookie.get(filter.cookie) ?? [])];
    else entries = [...this.byKey.values()];
    if (filter.table !== undefined) entries = entries.filter((e) => e.table === filter.table);
    return entries.sort((a, b) => a.table - b.table || b.priority - a.priority || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** The installed flows alone, in dump order (what convergence checks compare). */
  flows(): Flow[] {
    return this.dump().map((e) => e.flow);
  }

  /** Distinct match shapes per table, for benchmarks and diagnostics. */
  subtableCounts(): Record<number, number> {
    const out: Record<number, number> = {};
    for (const [t, c] of [...this.tables].sort((a, b) => a[0] - b[0])) out[t] = c.subtableCount;
    return out;
  }

  private remove(entry: FlowEntry): void {
    this.byKey.delete(entry.key);
    this.tables.get(entry.table)!.remove(entry);
    this.uncookie(entry);
    this.touch(entry.table);
  }

  private touch(table: number): void {
    this.revisions.set(table, this.revision(table) + 1);
  }

  private uncookie(entry: FlowEntry): void {
    const set = this.byCookie.get(entry.flow.cookie)!;
    set.delete(entry);
    if (set.size === 0) this.byCookie.delete(entry.flow.cookie);
  }

  private classifier(table: number): Classifier {
    let c = this.tables.get(table);
    if (c === undefined) {
      c = new Classifier();
      this.tables.set(table, c);
    }
    return c;
  }

  private cookieSet(cookie: string): Set<FlowEntry> {
    let set = this.byCookie.get(cookie);
    if (set === undefined) {
      set = new Set();
      this.byCookie.set(cookie, set);
    }
    return set;
  }
}
