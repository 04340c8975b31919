// What goes into a transaction (input changes and datapath activation, as data for engine.apply) and what
// comes out of a commit (per output relation, the tuples that disappeared and the ones that appeared).
// Owns these shapes only; the engine fills them.

import type { DatapathKey, Relation, Tuple } from './schema.ts';

export type Change =
  | { readonly op: 'insert' | 'delete'; readonly relation: Relation<any>; readonly tuple: Tuple }
  | { readonly op: 'activate'; readonly datapaths: Iterable<DatapathKey> | 'all' };

export function insertTuple<T>(relation: Relation<T>, tuple: T): Change {
  return { op: 'insert', relation, tuple: tuple as Tuple };
}

export function deleteTuple<T>(relation: Relation<T>, tuple: T): Change {
  return { op: 'delete', relation, tuple: tuple as Tuple };
}

/** Makes exactly these datapaths active ('all': every datapath, the default). */
export function activateDatapaths(datapaths: Iterable<DatapathKey> | 'all'): Change {
  return { op: 'activate', datapaths };
}

/**
 * One relation's net change in one commit. A tuple is in at most one list (a tuple that went and came
 * back within the commit is in neither), each list sorted by the relation's tuple order. Applying
 * `deleted` then `inserted` to the relation's contents before the commit gives its contents after it.
 */
export interface RelationChange<T = Tuple> {
  readonly relation: Relation<T>;
  readonly deleted: readonly T[];
  readonly inserted: readonly T[];
}

/** The outcome of one commit: the output relations that changed, in evaluation order. */
export class CommitResult {
  private readonly byId = new Map<number, RelationChange>();

  constructor(
    readonly changes: readonly RelationChange[],
    /** Input tuples that net appeared to or disappeared from what rules see (activation included). */
    readonly inputChanges: number,
    /** Derivations added or removed across all derived relations. */
    readonly derivationChanges: number,
  ) {
    for (const change of changes) this.byId.set(change.relation.id, change);
  }

  /** The change of one output relation (empty lists if it did not change). */
  of<T>(relation: Relation<T>): RelationChange<T> {
    return (this.byId.get(relation.id) as RelationChange<T> | undefined) ?? { relation, deleted: [], inserted: [] };
  }

  /** Tuples inserted plus tuples deleted, over all output relations. */
  get size(): number {
    let n = 0;
    for (const change of this.changes) n += change.deleted.length + change.inserted.length;
    return n;
  }
}
