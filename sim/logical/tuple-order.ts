// A total order on tuples and a canonical identity string for a fact, so snapshots and change sets come
// out in the same order in every run and on every machine. Owns only comparison and identity; not the
// schema (relations.ts).

import { RELATION_COLUMNS, type Fact, type RelationName, type Tuple } from './relations.ts';

/** Compares column by column in schema order: numbers numerically, strings by code unit (not by locale). */
export function compareTuples(relation: RelationName, a: Tuple, b: Tuple): number {
  const ra = a as unknown as Record<string, number | string>;
  const rb = b as unknown as Record<string, number | string>;
  for (const column of RELATION_COLUMNS[relation]) {
    const x = ra[column];
    const y = rb[column];
    if (x === y) continue;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** The fact's identity: relation and every column value, in order ("port_address_mac|3|1|2199023255553"). */
export function factKey(fact: Fact): string {
  const row = fact.tuple as unknown as Record<string, number | string>;
  let key: string = fact.relation;
  // Strings are JSON-quoted so a '|' inside a name cannot make two different tuples collide.
  for (const column of RELATION_COLUMNS[fact.relation]) {
    const v = row[column];
    key += typeof v === 'string' ? `|${JSON.stringify(v)}` : `|${v}`;
  }
  return key;
}
