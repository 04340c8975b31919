// Which datapaths (LDPSs) an engine computes for: all of them, or a given set — in a controller cluster,
// the LDPSs this instance is master of. Owns the set and works out which datapaths a replacement turns on
// or off; moving their tuples in or out of the computation is the engine's job.

import type { DatapathKey } from './schema.ts';

export class ActiveDatapaths {
  /** null: every datapath is active. */
  private active: Set<DatapathKey> | null = null;
  private saved: Set<DatapathKey> | null = null;

  /** Whether tuples of `datapath` are visible to rules (a global tuple, datapath null, always is). */
  has(datapath: DatapathKey | null): boolean {
    return datapath === null || this.active === null || this.active.has(datapath);
  }

  /** The active datapaths, numbers before strings, each in ascending order; or 'all'. */
  list(): 'all' | DatapathKey[] {
    if (this.active === null) return 'all';
    return [...this.active].sort((a, b) =>
      typeof a !== typeof b ? (typeof a === 'number' ? -1 : 1) : a < b ? -1 : a > b ? 1 : 0,
    );
  }

  get size(): 'all' | number {
    return this.active === null ? 'all' : this.active.size;
  }

  /** Remembers the current set (at the start of a transaction), for restore(). */
  save(): void {
    this.saved = this.active;
  }

  restore(): void {
    this.active = this.saved;
  }

  /**
   * Makes exactly `next` active. Returns each datapath whose activity changed, with +1 if it became active
   * and -1 if it became inactive; `known` lists every datapath that has tuples, and is only consulted when
   * 'all' is on either side of the change (otherwise the two sets' difference is enough).
   */
  replace(next: Iterable<DatapathKey> | 'all', known: () => Iterable<DatapathKey>): [DatapathKey, 1 | -1][] {
    const after = next === 'all' ? null : new Set(next);
    for (const datapath of after ?? []) {
      if (typeof datapath !== 'number' && typeof datapath !== 'string') {
        throw new Error(`rules: a datapath is a number or a string, got ${String(datapath)}`);
      }
    }
    const before = this.active;
    const candidates =
      before === null || after === null
        ? known()
        : [...[...before].filter((d) => !after.has(d)), ...[...after].filter((d) => !before.has(d))];
    this.active = after;
    const changed: [DatapathKey, 1 | -1][] = [];
    for (const datapath of candidates) {
      const was = before === null || before.has(datapath);
      const is = after === null || after.has(datapath);
      if (was !== is) changed.push([datapath, is ? 1 : -1]);
    }
    return changed;
  }
}
