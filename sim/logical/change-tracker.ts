// Turns the entities a transaction touched into the change set its subscribers receive. Owns the
// "before" picture of each touched entity and the order of a change set; not the entities themselves.
//
// The first time a transaction touches an entity, the tracker keeps that entity's tuples as they were.
// At commit it compares them with the entity's tuples now: tuples that vanished are deletes, new ones
// inserts, unchanged ones nothing (so a call that sets a value to what it was produces no change, and an
// insert later undone in the same transaction cancels out). Each tuple belongs to exactly one entity, so
// diffing entity by entity is the same as diffing the whole relation set, at the cost of the touched
// entities only.

import { RELATION_ORDER, type Delta, type Fact, type RelationName } from './relations.ts';
import { compareTuples, factKey } from './tuple-order.ts';

export class ChangeTracker {
  private readonly before = new Map<string, Fact[]>();

  /** Records `id`'s tuples before its first change in this transaction. */
  touch(id: string, current: () => Fact[]): void {
    if (!this.before.has(id)) this.before.set(id, current());
  }

  /** The net change since tracking began, in change-set order; starts tracking afresh. */
  drain(current: (id: string) => Fact[]): Delta[] {
    const deletes: Fact[] = [];
    const inserts: Fact[] = [];
    for (const [id, old] of this.before) {
      const now = current(id);
      const oldKeys = new Set(old.map(factKey));
      const nowKeys = new Set(now.map(factKey));
      for (const f of old) if (!nowKeys.has(factKey(f))) deletes.push(f);
      for (const f of now) if (!oldKeys.has(factKey(f))) inserts.push(f);
    }
    this.before.clear();
    return [...orderFacts(deletes, true).map((f) => toDelta(f, 'delete')), ...orderFacts(inserts, false).map((f) => toDelta(f, 'insert'))];
  }

  /** Forgets everything (the transaction was rolled back). */
  clear(): void {
    this.before.clear();
  }
}

const RELATION_RANK = new Map<RelationName, number>(RELATION_ORDER.map((r, i) => [r, i]));

/**
 * Sorts facts by relation (dependency order, or its reverse for deletes, so children go before parents)
 * and then by tuple. The result depends only on the set of facts, never on the order they were made in.
 */
export function orderFacts(facts: Fact[], reverse: boolean): Fact[] {
  return facts.sort((a, b) => {
    const ra = RELATION_RANK.get(a.relation)!;
    const rb = RELATION_RANK.get(b.relation)!;
    if (ra !== rb) return reverse ? rb - ra : ra - rb;
    return compareTuples(a.relation, a.tuple, b.tuple);
  });
}

function toDelta(f: Fact, op: 'insert' | 'delete'): Delta {
  return { relation: f.relation, op, tuple: f.tuple } as Delta;
}
