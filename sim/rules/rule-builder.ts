// The typed way to write a rule body: `q.from(a).join(b, { dp: 'dp', port: 'port', chassis: 'ch' })
// .where((v) => ...).compute('key', (v) => ...).select((v) => headTuple)`. Each atom maps its columns to
// variables; a variable already bound makes the column a join key, a new one binds it, lit(x) demands a
// constant, and an unmapped column is a wildcard. The types track every bound variable, so filters,
// computed columns and the head see exactly the variables bound before them, with their column types.
// Owns the typing and the collection of steps; validation is rule-spec.ts's, evaluation is elsewhere.

import { Relation, type Value } from './schema.ts';
import { type Env, Literal, type StepSpec, atomOf } from './rule-spec.ts';

type Simplify<X> = { [K in keyof X]: X[K] } & {};

/** Column → variable name, or lit(constant); omitted columns are wildcards. */
export type AtomMap<T> = { readonly [K in keyof T]?: string | Literal<T[K] & Value> };

/**
 * Rejects (as `never`) a column the relation lacks, a literal of the wrong type, and a join of a bound
 * variable with a column of another type.
 */
export type CheckedMap<V, T, M> = {
  [K in keyof M]: K extends keyof T
    ? M[K] extends string
      ? M[K] extends keyof V
        ? [V[M[K]]] extends [T[K]]
          ? [T[K]] extends [V[M[K]]]
            ? M[K]
            : never
          : never
        : M[K]
      : M[K] extends Literal<T[K] & Value>
        ? M[K]
        : never
    : never;
};

/** The variables an atom binds that were not bound before it. */
export type NewBindings<V, T, M> = {
  readonly [K in keyof M as M[K] extends string ? (M[K] extends keyof V ? never : M[K]) : never]: K extends keyof T
    ? T[K]
    : never;
};

/** The start of a rule body whose head tuples are `H`. */
export interface RuleStart<H> {
  /** The first atom, binding every column under its own name. */
  from<T>(relation: Relation<T>): RuleBody<Simplify<T>, H>;
  /** The first atom, with an explicit column → variable map. */
  from<T, const M extends AtomMap<T>>(
    relation: Relation<T>,
    map: M & CheckedMap<{}, T, M>,
  ): RuleBody<Simplify<NewBindings<{}, T, M>>, H>;
}

/** A body binding variables `V`, for a head of tuples `H`. */
export interface RuleBody<V, H> {
  /** Joins another atom: columns mapped to bound variables are the join keys. */
  join<T, const M extends AtomMap<T>>(
    relation: Relation<T>,
    map: M & CheckedMap<V, T, M>,
  ): RuleBody<Simplify<V & NewBindings<V, T, M>>, H>;
  /** Keeps bindings for which the pure predicate holds. */
  where(test: (v: V) => boolean): RuleBody<V, H>;
  /** Binds a new variable to a pure function of the bound ones. */
  compute<const N extends string, X extends Value>(
    variable: N & (N extends keyof V ? never : unknown),
    fn: (v: V) => X,
  ): RuleBody<Simplify<V & { readonly [K in N]: X }>, H>;
  /** Ends the body: builds the head tuple from the bindings (a pure function; do not keep `v`). */
  select(build: (v: V) => H): RuleDraft<H>;
}

/** A finished body, handed back to `engine.rule`. */
export class RuleDraft<H> {
  declare readonly headType: H;
  constructor(
    readonly steps: readonly StepSpec[],
    readonly select: (env: Env) => H,
  ) {}
}

/** The untyped builder behind RuleStart and RuleBody; immutable, so a prefix may be reused. */
export class BodyBuilder {
  constructor(private readonly steps: readonly StepSpec[]) {}

  from(relation: Relation<any>, map?: Record<string, string | Literal>): BodyBuilder {
    if (this.steps.length > 0) throw new Error('rules: from() starts a body; use join() for further atoms');
    return this.join(relation, map);
  }

  join(relation: Relation<any>, map?: Record<string, string | Literal>): BodyBuilder {
    if (!(relation instanceof Relation)) throw new Error('rules: join() needs a relation declared on the engine');
    return new BodyBuilder([...this.steps, { kind: 'atom', atom: atomOf(relation, map) }]);
  }

  where(test: (env: Env) => boolean): BodyBuilder {
    return new BodyBuilder([...this.steps, { kind: 'where', test }]);
  }

  compute(variable: string, fn: (env: Env) => Value): BodyBuilder {
    if (typeof variable !== 'string' || variable.length === 0) throw new Error('rules: compute() needs a name');
    return new BodyBuilder([...this.steps, { kind: 'compute', variable, fn }]);
  }

  select(build: (env: Env) => unknown): RuleDraft<unknown> {
    return new RuleDraft(this.steps, build);
  }
}
