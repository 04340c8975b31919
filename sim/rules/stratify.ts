// Which relation derives from which, the refusal of cycles (nLog rules are not recursive), and the
// evaluation order: a relation is computed only after everything it derives from, ties going to the
// earlier declaration, so the order never depends on anything but the program text. Owns the dependency
// graph only.

import type { Relation } from './schema.ts';

export class DependencyGraph {
  /** Relation id → ids of the relations it derives from directly, in first-use order. */
  private readonly sources = new Map<number, Set<number>>();
  private readonly names = new Map<number, string>();

  /**
   * Records that `head` derives from `bodies` (through `what`, e.g. "rule 'l2'"). Throws, recording
   * nothing, if that would close a cycle.
   */
  add(head: Relation<any>, bodies: readonly Relation<any>[], what: string): void {
    this.names.set(head.id, head.name);
    for (const body of bodies) {
      this.names.set(body.id, body.name);
      const path = this.pathBetween(body.id, head.id);
      if (path !== null) {
        const cycle = [head.id, ...path].map((id) => `'${this.names.get(id)}'`).join(' ← ');
        throw new Error(
          `rules: ${what} would make '${head.name}' depend on itself (${cycle}); rules may not be recursive`,
        );
      }
    }
    let set = this.sources.get(head.id);
    if (set === undefined) this.sources.set(head.id, (set = new Set()));
    for (const body of bodies) set.add(body.id);
  }

  /** A derivation path from relation `from` back to `to` (both included), or null. */
  private pathBetween(from: number, to: number): number[] | null {
    if (from === to) return [from];
    const seen = new Set<number>([from]);
    const walk = (at: number): number[] | null => {
      for (const next of this.sources.get(at) ?? []) {
        if (next === to) return [at, next];
        if (seen.has(next)) continue;
        seen.add(next);
        const rest = walk(next);
        if (rest !== null) return [at, ...rest];
      }
      return null;
    };
    return walk(from);
  }

  /** The relations in evaluation order: each after every relation it derives from; ties by declaration. */
  order<R extends Relation<any>>(relations: readonly R[]): R[] {
    const done = new Set<number>();
    const left = [...relations].sort((a, b) => a.id - b.id);
    const out: R[] = [];
    while (left.length > 0) {
      const i = left.findIndex((r) => [...(this.sources.get(r.id) ?? [])].every((id) => done.has(id)));
      if (i < 0) throw new Error('rules: internal: dependency cycle slipped past add()');
      const [next] = left.splice(i, 1);
      done.add(next.id);
      out.push(next);
    }
    return out;
  }
}
