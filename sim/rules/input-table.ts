// Every tuple of one input relation, active datapath or not, grouped by datapath so that activating or
// deactivating one datapath finds its tuples without a scan. Owns the stored inputs of one relation; what
// rules see (the active part) is the relation's RelationStore, which the engine keeps in step.
//
// Inputs are sets: adding a tuple that is present, or removing one that is absent, changes nothing and
// reports false.

import type { DatapathKey, Relation, Tuple } from './schema.ts';

/** The bucket of a global relation. */
const GLOBAL = null;

export class InputTable {
  private readonly byDatapath = new Map<DatapathKey | null, Map<string, Tuple>>();
  size = 0;

  constructor(readonly relation: Relation<unknown>) {}

  /** The tuple's datapath, or null for a global relation. */
  datapathOf(tuple: Tuple): DatapathKey | null {
    const { datapath } = this.relation;
    return datapath === null ? GLOBAL : (tuple[datapath] as DatapathKey);
  }

  has(datapath: DatapathKey | null, key: string): boolean {
    return this.byDatapath.get(datapath)?.has(key) ?? false;
  }

  /** Adds the tuple with this key; false (and no change) if it was present. */
  add(datapath: DatapathKey | null, key: string, tuple: Tuple): boolean {
    let bucket = this.byDatapath.get(datapath);
    if (bucket === undefined) this.byDatapath.set(datapath, (bucket = new Map()));
    else if (bucket.has(key)) return false;
    bucket.set(key, tuple);
    this.size++;
    return true;
  }

  /** Removes the tuple with this key; returns the stored tuple, or undefined if it was absent. */
  remove(datapath: DatapathKey | null, key: string): Tuple | undefined {
    const bucket = this.byDatapath.get(datapath);
    const tuple = bucket?.get(key);
    if (tuple === undefined) return undefined;
    bucket!.delete(key);
    if (bucket!.size === 0) this.byDatapath.delete(datapath);
    this.size--;
    return tuple;
  }

  /** The tuples of one datapath (key → tuple), or undefined if it has none. */
  inDatapath(datapath: DatapathKey): ReadonlyMap<string, Tuple> | undefined {
    return this.byDatapath.get(datapath);
  }

  /** Datapaths with at least one tuple, in first-insertion order. */
  datapaths(): DatapathKey[] {
    const out: DatapathKey[] = [];
    for (const datapath of this.byDatapath.keys()) if (datapath !== GLOBAL) out.push(datapath);
    return out;
  }

  *tuples(): IterableIterator<Tuple> {
    for (const bucket of this.byDatapath.values()) yield* bucket.values();
  }
}
