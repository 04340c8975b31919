// Names in the order the trace first mentions them, each with that time, answering "which were known by
// time t" as a sorted list. Owns only that; the caller decides what counts as a mention. Because the set
// known by t is always a prefix of the first-seen order, each sorted answer is computed once per prefix.

import { countAtOrBefore } from './keyed-history.ts';

export class FirstSeen {
  private readonly times: number[] = [];
  private readonly names: string[] = [];
  private readonly seen = new Set<string>();
  private readonly sortedByCount = new Map<number, readonly string[]>();

  /** Notes `name` at time `t` unless it was seen before; times arrive in order. */
  add(t: number, name: string): void {
    if (this.seen.has(name)) return;
    this.seen.add(name);
    this.times.push(t);
    this.names.push(name);
  }

  /** Every name first seen at or before `t`, sorted by UTF-16 code units (a locale-free, total order). */
  knownAt(t: number): readonly string[] {
    const count = countAtOrBefore(this.times, t);
    let sorted = this.sortedByCount.get(count);
    if (sorted === undefined) {
      sorted = Object.freeze(this.names.slice(0, count).sort());
      this.sortedByCount.set(count, sorted);
    }
    return sorted;
  }
}
