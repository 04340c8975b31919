// The stored contents of one relation as rules see it: a counted set of tuples (how many derivations each
// has), hash indexes on the column sets that rule plans probe, and the per-transaction bookkeeping that
// lets a plan read the relation as it was before the transaction ("old") or after it ("new"). Owns the
// records and indexes of one relation; knows nothing of rules, datapaths or inactive input tuples.
//
// Why old and new views instead of copies: the counting algorithm evaluates ΔA ⋈ B_old + A_new ⋈ ΔB. A
// record remembers its count at the first touch of the transaction (`oldCount`, tagged with `stamp`), and
// a record that loses its last derivation stays in the indexes until `finish`, so both states can be read
// from one structure at the cost of O(changed records) bookkeeping.

import type { Relation, Tuple } from './schema.ts';
import { encodeValue } from './tuple-key.ts';

export interface StoredRecord {
  readonly tuple: Tuple;
  readonly key: string;
  /** Derivations now (an input tuple has one while it is visible). Present means count > 0. */
  count: number;
  /** Derivations when the transaction `stamp` first touched this record. */
  oldCount: number;
  stamp: number;
  /** Position in each secondary index's bucket, by index slot, for O(1) removal. */
  readonly pos: number[];
}

/** In the state after the transaction's changes to this relation. */
export function inNew(record: StoredRecord): boolean {
  return record.count > 0;
}

/** In the state before the current transaction `stamp`. */
export function inOld(record: StoredRecord, stamp: number): boolean {
  return (record.stamp === stamp ? record.oldCount : record.count) > 0;
}

/** A hash index on some columns: key → the records (present before or after this transaction). */
export class HashIndex {
  readonly buckets = new Map<unknown, StoredRecord[]>();

  constructor(
    readonly slot: number,
    readonly columns: readonly string[],
    /** A single scalar column: the value itself is the Map key (Map equality is SameValueZero too). */
    readonly raw: boolean,
  ) {}

  keyOf(tuple: Tuple): unknown {
    const { columns } = this;
    if (this.raw) return tuple[columns[0]];
    let key = '';
    for (let i = 0; i < columns.length; i++) key += encodeValue(tuple[columns[i]]);
    return key;
  }

  add(record: StoredRecord): void {
    const key = this.keyOf(record.tuple);
    let bucket = this.buckets.get(key);
    if (bucket === undefined) this.buckets.set(key, (bucket = []));
    record.pos[this.slot] = bucket.length;
    bucket.push(record);
  }

  remove(record: StoredRecord): void {
    const key = this.keyOf(record.tuple);
    const bucket = this.buckets.get(key)!;
    const at = record.pos[this.slot];
    const last = bucket.pop()!;
    if (last !== record) {
      bucket[at] = last;
      last.pos[this.slot] = at;
    }
    if (bucket.length === 0) this.buckets.delete(key);
  }
}

// Shared by the records of a store without indexes; frozen, since such records never write a position.
const NO_POSITIONS = Object.freeze([]) as unknown as number[];

/** A fresh tuple with exactly these columns of `tuple`. */
export function copyTuple(columns: readonly string[], tuple: Tuple): Tuple {
  const out: Record<string, Tuple[string]> = {};
  for (let i = 0; i < columns.length; i++) out[columns[i]] = tuple[columns[i]];
  return out;
}

export class RelationStore {
  readonly byKey = new Map<string, StoredRecord>();
  readonly indexes: HashIndex[] = [];
  /** Records whose count changed in the open transaction, in first-touch order. */
  private touched: StoredRecord[] = [];
  /** The transaction's set-level change, filled by settle(): tuples that appeared and disappeared. */
  inserted: StoredRecord[] = [];
  deleted: StoredRecord[] = [];
  /** Present tuples (after settle, in the new state). */
  size = 0;
  /** Sum of the counts of present tuples. */
  derivations = 0;

  constructor(readonly relation: Relation<unknown>) {}

  /** The index on these columns (in the relation's column order), created on first request. */
  index(columns: readonly string[]): HashIndex {
    const found = this.indexes.find(
      (index) => index.columns.length === columns.length && index.columns.every((c, i) => c === columns[i]),
    );
    if (found !== undefined) return found;
    if (this.byKey.size > 0) throw new Error(`rules: internal: index added to non-empty '${this.relation.name}'`);
    const raw = columns.length === 1 && !this.relation.typeOf(columns[0]).endsWith('[]');
    const index = new HashIndex(this.indexes.length, columns, raw);
    this.indexes.push(index);
    return index;
  }

  /** Size of the state before the transaction (valid after settle). */
  get oldSize(): number {
    return this.size - this.inserted.length + this.deleted.length;
  }

  get changed(): boolean {
    return this.inserted.length > 0 || this.deleted.length > 0;
  }

  /**
   * Adds `delta` derivations of `tuple` (whose key is `key`) within transaction `stamp`. A new record keeps
   * a copy holding exactly the relation's columns, never the caller's object: a rule head may hand over
   * its reused bindings object, an input may be mutated later by its owner. `owned` says the caller
   * already made such a copy.
   */
  add(tuple: Tuple, key: string, delta: number, stamp: number, owned = false): void {
    let record = this.byKey.get(key);
    if (record === undefined) {
      record = {
        tuple: owned ? tuple : copyTuple(this.relation.columns, tuple),
        key,
        count: 0,
        oldCount: 0,
        stamp,
        pos: this.indexes.length === 0 ? NO_POSITIONS : new Array<number>(this.indexes.length).fill(-1),
      };
      this.byKey.set(key, record);
      this.touched.push(record);
    } else if (record.stamp !== stamp) {
      record.stamp = stamp;
      record.oldCount = record.count;
      this.touched.push(record);
    }
    record.count += delta;
  }

  /**
   * Ends this relation's part of the transaction: works out which tuples appeared and disappeared and
   * indexes the new ones. Disappeared ones stay indexed (for old-state reads) until finish().
   */
  settle(): void {
    const { touched, inserted, deleted } = this;
    for (let i = 0; i < touched.length; i++) {
      const record = touched[i];
      if (record.count < 0) {
        throw new Error(
          `rules: derivation count of a '${this.relation.name}' tuple went negative — a rule function that is ` +
            'not pure (the same bindings gave different tuples), or an engine bug',
        );
      }
      this.derivations += record.count - record.oldCount;
      const was = record.oldCount > 0;
      const is = record.count > 0;
      if (was === is) continue;
      if (is) {
        inserted.push(record);
        for (let j = 0; j < this.indexes.length; j++) this.indexes[j].add(record);
      } else {
        deleted.push(record);
      }
    }
    this.size += inserted.length - deleted.length;
  }

  /** Forgets the transaction: drops disappeared records and records that came and went within it. */
  finish(): void {
    const { deleted, touched } = this;
    for (let i = 0; i < deleted.length; i++) {
      const record = deleted[i];
      for (let j = 0; j < this.indexes.length; j++) this.indexes[j].remove(record);
    }
    for (let i = 0; i < touched.length; i++) {
      if (touched[i].count === 0) this.byKey.delete(touched[i].key);
    }
    this.touched = [];
    this.inserted = [];
    this.deleted = [];
  }

  /** Undoes the open transaction's changes (before settle), as if it had not begun. */
  rollback(): void {
    const { touched } = this;
    for (let i = 0; i < touched.length; i++) {
      const record = touched[i];
      record.count = record.oldCount;
      if (record.count === 0) this.byKey.delete(record.key);
    }
    this.touched = [];
  }

  /** Whether the transaction touched anything here (so settle/finish have work). */
  get touchedAny(): boolean {
    return this.touched.length > 0;
  }
}
