// Value identity and order for the rules engine: the string key that makes a tuple (or a set of join
// values) a hash key, type checking of tuples against their relation, equality as joins see it, and the
// deterministic total order every sorted output uses. Owns no state.
//
// Why string keys: a JavaScript Map compares objects by identity, so a tuple or a multi-column join key
// needs a canonical primitive. Each value encodes self-delimitingly (numbers end with '|', strings carry
// their length, lists are bracketed), so concatenations are injective without escaping. Equality is
// SameValueZero (0 equals -0, NaN equals NaN), the same as a Map's, so a single-column index can use the
// raw value as its key and agree with the encoded form.

import type { ColumnType, Relation, Tuple, Value } from './schema.ts';

/** The self-delimiting encoding of one value. */
export function encodeValue(value: Value): string {
  switch (typeof value) {
    case 'number':
      // String(-0) is "0": -0 and 0 are one value, as in a Map.
      return value + '|';
    case 'string':
      return value.length + ':' + value;
    case 'boolean':
      return value ? 't' : 'f';
    default: {
      let key = '[';
      for (let i = 0; i < value.length; i++) key += encodeValue(value[i]);
      return key + ']';
    }
  }
}

/** Encodes values in order: the key of a multi-column index bucket (and of a whole tuple). */
export function encodeValues(values: readonly Value[]): string {
  let key = '';
  for (let i = 0; i < values.length; i++) key += encodeValue(values[i]);
  return key;
}

/**
 * The key of a tuple of `relation`, checking every column against its declared type on the way, so a
 * malformed input or a rule head that builds a wrong tuple fails loudly instead of joining on garbage.
 */
export function tupleKey(relation: Relation<unknown>, tuple: Tuple): string {
  if (tuple === null || typeof tuple !== 'object') {
    throw new Error(`rules: a tuple of '${relation.name}' must be an object, got ${String(tuple)}`);
  }
  const { columns, types } = relation;
  let key = '';
  for (let i = 0; i < columns.length; i++) {
    const value = tuple[columns[i]];
    if (!hasType(value, types[i])) {
      throw new Error(
        `rules: tuple of '${relation.name}' has ${describe(value)} in column '${columns[i]}', expected ${types[i]}`,
      );
    }
    key += encodeValue(value);
  }
  return key;
}

/** Whether a value fits a column type. */
export function hasType(value: unknown, type: ColumnType): boolean {
  switch (type) {
    case 'number':
    case 'string':
    case 'boolean':
      return typeof value === type;
    default: {
      if (!Array.isArray(value)) return false;
      const element = type.slice(0, -2);
      for (let i = 0; i < value.length; i++) if (typeof value[i] !== element) return false;
      return true;
    }
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `a list [${value.map(String).join(', ')}]`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** Equality as joins see it: SameValueZero on scalars, element-wise on lists. */
export function valuesEqual(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return a !== a && b !== b; // both NaN
  if (typeof a !== 'object' || typeof b !== 'object' || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!valuesEqual(a[i], b[i])) return false;
  return true;
}

/**
 * A total order on values of one column type: numbers numerically (NaN last), strings by UTF-16 code
 * units (never locale-dependent), false before true, lists lexicographically then by length.
 */
export function compareValues(a: Value, b: Value): number {
  if (typeof a === 'number' && typeof b === 'number') {
    if (a < b) return -1;
    if (a > b) return 1;
    if (a === b) return 0;
    return a !== a ? (b !== b ? 0 : 1) : -1;
  }
  if (typeof a === 'object' && typeof b === 'object') {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const c = compareValues(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  if (a === b) return 0;
  // Same-typed strings or booleans (false < true); mixed types cannot meet in one checked column.
  return a < b ? -1 : 1;
}

/** The deterministic order of a relation's tuples: column by column in declaration order. */
export function tupleComparator(relation: Relation<unknown>): (a: Tuple, b: Tuple) => number {
  const { columns } = relation;
  return (a, b) => {
    for (let i = 0; i < columns.length; i++) {
      const c = compareValues(a[columns[i]], b[columns[i]]);
      if (c !== 0) return c;
    }
    return 0;
  };
}
