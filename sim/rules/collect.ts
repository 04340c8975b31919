// Group-by "collect" aggregation, maintained incrementally: for each group of a source relation (say each
// (datapath, chassis) of a port-location relation) one output tuple holding the group columns and the
// sorted list of the distinct values of one column (the flood list of ports). Owns the per-group value
// counts and the one tuple each group currently contributes; writes only into its output's store.
//
// Semantics: values are distinct (a value shared by several source tuples of a group appears once, and
// stays until the last of them goes) and sorted by compareValues, so the list never depends on arrival
// order. A change to one member replaces its group's single tuple (the old one loses its derivation, the
// new one gains one); a group whose list did not change emits nothing, and an emptied group disappears.

import type { RelationStore, StoredRecord } from './relation-store.ts';
import type { Relation, Scalar, Tuple, Value } from './schema.ts';
import { compareValues, encodeValue, tupleKey, valuesEqual } from './tuple-key.ts';

export interface CollectSpec {
  readonly source: Relation<any>;
  readonly groupBy: readonly string[];
  /** The collected column (a scalar column of the source). */
  readonly value: string;
  /** The output column holding the sorted list. */
  readonly as: string;
  readonly output: Relation<any>;
}

interface Group {
  readonly key: string;
  /** A source tuple of the group, for its group-column values. */
  readonly sample: Tuple;
  /** Distinct value → how many present source tuples carry it. */
  readonly values: Map<Scalar, number>;
  /** The output tuple this group currently contributes, or null. */
  tuple: Tuple | null;
  /** The tuple before the current transaction, saved at its first touch. */
  before: Tuple | null;
  stamp: number;
}

export class CompiledCollect {
  private readonly groups = new Map<string, Group>();
  private touched: Group[] = [];
  private stamp = 0;
  derivationChanges = 0;
  readonly bodyStores: readonly RelationStore[];

  constructor(
    readonly spec: CollectSpec,
    private readonly source: RelationStore,
    private readonly out: RelationStore,
  ) {
    this.bodyStores = [source];
  }

  run(stamp: number): void {
    this.stamp = stamp;
    // Insertions first, so no value count dips below zero on the way.
    this.fold(this.source.inserted, 1);
    this.fold(this.source.deleted, -1);
    const { output, groupBy, as } = this.spec;
    for (const group of this.touched) {
      let next: Tuple | null = null;
      if (group.values.size === 0) this.groups.delete(group.key);
      else {
        const list = Object.freeze([...group.values.keys()].sort(compareValues)) as Value;
        const tuple: Record<string, Value> = {};
        for (const column of groupBy) tuple[column] = group.sample[column];
        tuple[as] = list;
        next = tuple;
      }
      const before = group.before;
      group.before = null;
      if (before !== null && next !== null && valuesEqual(before[as], next[as])) continue;
      if (before !== null) this.out.add(before, tupleKey(output, before), -1, stamp);
      if (next !== null) this.out.add(next, tupleKey(output, next), 1, stamp);
      group.tuple = next;
      this.derivationChanges += (before !== null ? 1 : 0) + (next !== null ? 1 : 0);
    }
    this.touched = [];
  }

  private fold(records: readonly StoredRecord[], delta: number): void {
    const { groupBy, value } = this.spec;
    for (let r = 0; r < records.length; r++) {
      const tuple = records[r].tuple;
      let key = '';
      for (let c = 0; c < groupBy.length; c++) key += encodeValue(tuple[groupBy[c]]);
      let group = this.groups.get(key);
      if (group === undefined) {
        group = { key, sample: tuple, values: new Map(), tuple: null, before: null, stamp: -1 };
        this.groups.set(key, group);
      }
      if (group.stamp !== this.stamp) {
        group.stamp = this.stamp;
        group.before = group.tuple;
        this.touched.push(group);
      }
      const v = tuple[value] as Scalar;
      const count = (group.values.get(v) ?? 0) + delta;
      if (count === 0) group.values.delete(v);
      else group.values.set(v, count);
    }
  }
}
