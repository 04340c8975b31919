// One flow table's lookup structure: tuple-space search, as in OVS's classifier. Flows are grouped into
// subtables by the shape of their match (which fields are exact, which prefix lengths, whether the
// Ethernet group bit is matched); within a subtable, a trie of hash maps, one level per matched field,
// leads to a bucket of flows sorted by priority. A lookup probes each subtable once, highest maximum
// priority first, and stops as soon as no remaining subtable can beat the best flow found. L4 ranges do
// not hash, so they are checked on the bucket's flows. (One map keyed by a hash of all the values, as OVS
// has, measured half as fast here: the trie usually gives up after the first field or two.)
// Owns that structure only: keys, counters and tables are flow-table.ts.
//
// Tie-break between equal-priority flows that both match: the one installed first (lower seq) wins,
// across subtables too, so a lookup is a pure function of the table's contents and install order.

import { isMulticastMac, prefixMask } from './headers.ts';
import type { Field, Match } from './flow.ts';
import type { FieldValues } from './field-values.ts';
import type { FlowEntry } from './flow-entry.ts';

const EXACT = 0;
const PREFIX = 1;
const GROUP_BIT = 2;

interface KeyPart {
  readonly kind: typeof EXACT | typeof PREFIX | typeof GROUP_BIT;
  readonly field: Field;
  /** For PREFIX: the netmask. */
  readonly mask: number;
}

/** Exact-match fields in trie order (pipeline fields first: they split most, so misses end early). */
const EXACT_ORDER: readonly Field[] = [
  'metadata', 'inPort', 'tunKey', 'tunMeta', 'reg0', 'reg1', 'reg2', 'reg3', 'reg4', 'reg5', 'reg6', 'reg7', 'ctState',
  'ethType', 'ethDst', 'ethSrc', 'ipProto', 'ipTtl', 'l4Src', 'l4Dst', 'tcpFlags',
];

/** The subtable signature of a match and the values its flows hash on, in part order. */
function shapeOf(match: Match): { signature: string; parts: KeyPart[]; values: number[] } {
  const parts: KeyPart[] = [];
  const values: number[] = [];
  let signature = '';
  for (const field of EXACT_ORDER) {
    const v = (match as Record<string, unknown>)[field];
    if (v === undefined) continue;
    parts.push({ kind: EXACT, field, mask: 0 });
    values.push(v as number);
    signature += `${field},`;
  }
  for (const field of ['ipSrc', 'ipDst'] as const) {
    const p = match[field];
    // A /0 prefix matches everything: it is a wildcard and belongs with the flows that omit the field.
    if (p === undefined || p.len === 0) continue;
    parts.push({ kind: PREFIX, field, mask: prefixMask(p.len) });
    values.push(p.addr);
    signature += `${field}/${p.len},`;
  }
  if (match.ethDstGroup !== undefined) {
    parts.push({ kind: GROUP_BIT, field: 'ethDst', mask: 0 });
    values.push(match.ethDstGroup ? 1 : 0);
    signature += 'group,';
  }
  return { signature, parts, values };
}

/** Bucket order: priority descending, then install order. */
function before(a: FlowEntry, b: FlowEntry): boolean {
  return a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq);
}

/** One level of a subtable's trie: a part's value → the next level, or the bucket after the last part. */
type Level = Map<number, Level | FlowEntry[]>;

class Subtable {
  /** For flows with no hashed part, the root is the bucket itself. */
  private readonly root: Level | FlowEntry[];
  private readonly priorityCounts = new Map<number, number>();
  maxPriority = -1;
  size = 0;

  constructor(
    readonly signature: string,
    private readonly parts: readonly KeyPart[],
  ) {
    this.root = parts.length === 0 ? [] : new Map();
  }

  /** The best flow of this subtable matching the values, or null. */
  find(v: FieldValues): FlowEntry | null {
    const parts = this.parts;
    let node: Level | FlowEntry[] | undefined = this.root;
    // One map per part, in part order, so a miss usually ends at the first or second part (metadata
    // first), without computing the rest — the effect OVS gets from staged lookup.
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      const x = p.kind === EXACT ? v[p.field] : p.kind === PREFIX ? (v[p.field] & p.mask) >>> 0 : isMulticastMac(v.ethDst) ? 1 : 0;
      node = (node as Level).get(x);
      if (node === undefined) return null;
    }
    const bucket = node as FlowEntry[];
    for (let i = 0; i < bucket.length; i++) {
      const e = bucket[i];
      if (!e.hasRange || e.rangesMatch(v)) return e;
    }
    return null;
  }

  /** Adds the entry; returns whether the subtable's maximum priority changed. */
  insert(entry: FlowEntry, values: readonly number[]): boolean {
    const bucket = this.bucket(values, true)!;
    let i = bucket.length;
    while (i > 0 && before(entry, bucket[i - 1])) i--;
    bucket.splice(i, 0, entry);
    this.size++;
    this.priorityCounts.set(entry.priority, (this.priorityCounts.get(entry.priority) ?? 0) + 1);
    if (entry.priority <= this.maxPriority) return false;
    this.maxPriority = entry.priority;
    return true;
  }

  /** Removes the entry; returns whether the subtable's maximum priority changed. */
  remove(entry: FlowEntry, values: readonly number[]): boolean {
    const bucket = this.bucket(values, false);
    const i = bucket === null ? -1 : bucket.indexOf(entry);
    if (i < 0) throw new Error(`classifier: flow ${entry.key} is not in subtable ${this.signature}`);
    bucket!.splice(i, 1);
    if (bucket!.length === 0) this.prune(values);
    this.size--;
    const left = this.priorityCounts.get(entry.priority)! - 1;
    if (left > 0) {
      this.priorityCounts.set(entry.priority, left);
      return false;
    }
    this.priorityCounts.delete(entry.priority);
    if (entry.priority !== this.maxPriority) return false;
    let max = -1;
    for (const p of this.priorityCounts.keys()) if (p > max) max = p;
    this.maxPriority = max;
    return true;
  }

  private bucket(values: readonly number[], create: boolean): FlowEntry[] | null {
    let node = this.root;
    for (let i = 0; i < values.length; i++) {
      const level = node as Level;
      let next = level.get(values[i]);
      if (next === undefined) {
        if (!create) return null;
        next = i === values.length - 1 ? [] : new Map();
        level.set(values[i], next);
      }
      node = next;
    }
    return node as FlowEntry[];
  }

  /** Deletes the emptied bucket and any maps it leaves empty, so churn does not leak memory. */
  private prune(values: readonly number[]): void {
    if (values.length === 0) return;
    const path: Level[] = [];
    let node = this.root as Level;
    for (let i = 0; i < values.length - 1; i++) {
      path.push(node);
      node = node.get(values[i]) as Level;
    }
    node.delete(values[values.length - 1]);
    for (let i = path.length - 1; i >= 0 && node.size === 0; i--) {
      path[i].delete(values[i]);
      node = path[i];
    }
  }
}

interface Placement {
  readonly subtable: Subtable;
  readonly values: readonly number[];
}

export class Classifier {
  private readonly subtables = new Map<string, Subtable>();
  /** Subtables by maximum priority, descending; re-sorted lazily when a maximum changes. */
  private ordered: Subtable[] = [];
  private orderStale = false;
  private readonly placements = new Map<FlowEntry, Placement>();

  get size(): number {
    return this.placements.size;
  }

  /** How many distinct match shapes the table holds (the lookup probes at most this many hashes). */
  get subtableCount(): number {
    return this.subtables.size;
  }

  insert(entry: FlowEntry): void {
    if (this.placements.has(entry)) throw new Error(`classifier: flow ${entry.key} inserted twice`);
    const { signature, parts, values } = shapeOf(entry.flow.match);
    let st = this.subtables.get(signature);
    if (st === undefined) {
      st = new Subtable(signature, parts);
      this.subtables.set(signature, st);
      this.ordered.push(st);
      this.orderStale = true;
    }
    if (st.insert(entry, values)) this.orderStale = true;
    this.placements.set(entry, { subtable: st, values });
  }

  remove(entry: FlowEntry): void {
    const placement = this.placements.get(entry);
    if (placement === undefined) throw new Error(`classifier: flow ${entry.key} is not installed`);
    this.placements.delete(entry);
    const st = placement.subtable;
    if (st.remove(entry, placement.values)) this.orderStale = true;
    if (st.size === 0) {
      this.subtables.delete(st.signature);
      this.ordered.splice(this.ordered.indexOf(st), 1);
    }
  }

  /** The highest-priority flow matching the values (first installed among equals), or null. */
  lookup(v: FieldValues): FlowEntry | null {
    if (this.orderStale) this.sortSubtables();
    const ordered = this.ordered;
    let best: FlowEntry | null = null;
    for (let i = 0; i < ordered.length; i++) {
      const st = ordered[i];
      // Strictly lower: an equal-priority subtable may still hold an earlier-installed match.
      if (best !== null && st.maxPriority < best.priority) break;
      const e = st.find(v);
      if (e !== null && (best === null || before(e, best))) best = e;
    }
    return best;
  }

  private sortSubtables(): void {
    // Array.prototype.sort is stable, so equal maxima keep creation order: the same on every run.
    this.ordered.sort((a, b) => b.maxPriority - a.maxPriority);
    this.orderStale = false;
  }
}
