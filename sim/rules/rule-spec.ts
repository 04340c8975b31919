// What a rule is, as data: its body as a sequence of steps (atoms that bind variables and join on shared
// ones, filters, computed columns) and a head function that builds the derived tuple from the bindings;
// plus the checks that make a rule well-formed, including nLog's datapath discipline. Owns rule
// validation; how a rule is evaluated belongs to delta-plan.ts (incremental) and batch-evaluator.ts.
//
// The datapath discipline: when any atom of a body is datapath-keyed, the first atom must be, and every
// datapath-keyed atom must bind its datapath column to the same variable. Every derivation then lies within
// one datapath, so gating inputs by datapath gates everything derived from them (seed 001 §1.6: "first join
// is on the LDPS, so work on unmanaged LDPSs stops at once").

import type { ColumnType, Relation, Tuple, Value } from './schema.ts';
import { hasType } from './tuple-key.ts';

/** A constant in an atom: `{ kind: lit('vif') }` matches only tuples whose `kind` is 'vif'. */
export class Literal<X extends Value = Value> {
  constructor(readonly value: X) {}
}

export function lit<const X extends Value>(value: X): Literal<X> {
  return new Literal(value);
}

/** Variable bindings while a body is evaluated. Rule functions must not keep it: it is reused. */
export type Env = Record<string, Value>;

export type AtomTerm =
  | { readonly column: string; readonly variable: string; readonly constant?: undefined }
  | { readonly column: string; readonly variable?: undefined; readonly constant: Value };

export interface AtomSpec {
  readonly relation: Relation<any>;
  /** Mapped columns in the relation's column order; unmapped columns are wildcards. */
  readonly terms: readonly AtomTerm[];
}

export type StepSpec =
  | { readonly kind: 'atom'; readonly atom: AtomSpec }
  | { readonly kind: 'where'; readonly test: (env: Env) => boolean }
  | { readonly kind: 'compute'; readonly variable: string; readonly fn: (env: Env) => Value };

export interface RuleSpec {
  readonly name: string;
  readonly head: Relation<any>;
  readonly steps: readonly StepSpec[];
  readonly select: (env: Env) => Tuple;
  /** The variable every datapath-keyed atom binds its datapath column to; null for an all-global body. */
  readonly datapathVariable: string | null;
  readonly atoms: readonly AtomSpec[];
  /** Every variable, in order of first binding along the body. */
  readonly variables: readonly string[];
}

/** Builds an atom's terms from a column → variable-or-literal map, in the relation's column order. */
export function atomOf(relation: Relation<any>, map: Record<string, string | Literal> | undefined): AtomSpec {
  if (map === undefined) {
    return { relation, terms: relation.columns.map((column) => ({ column, variable: column })) };
  }
  for (const column of Object.keys(map)) relation.typeOf(column);
  const terms: AtomTerm[] = [];
  for (const column of relation.columns) {
    if (!Object.hasOwn(map, column)) continue;
    const term = map[column];
    if (term instanceof Literal) terms.push({ column, constant: term.value });
    else if (typeof term === 'string' && term.length > 0) terms.push({ column, variable: term });
    else {
      throw new Error(`rules: atom on '${relation.name}' maps column '${column}' to ${String(term)}; use a name or lit()`);
    }
  }
  return { relation, terms };
}

/** Validates a body and head and returns the rule; throws with the rule's name on any defect. */
export function makeRule(
  name: string,
  head: Relation<any>,
  steps: readonly StepSpec[],
  select: (env: Env) => Tuple,
): RuleSpec {
  const fail = (why: string): never => {
    throw new Error(`rules: rule '${name}' (into '${head.name}'): ${why}`);
  };
  if (steps.length === 0 || steps[0].kind !== 'atom') fail('a body starts with from()');
  const atoms = steps.flatMap((step) => (step.kind === 'atom' ? [step.atom] : []));
  const variables: string[] = [];
  // Column type of each atom-bound variable, to refuse joining a number column with a string column.
  const types = new Map<string, ColumnType>();
  const computed = new Set<string>();
  for (const step of steps) {
    if (step.kind === 'where') continue;
    if (step.kind === 'compute') {
      if (types.has(step.variable) || computed.has(step.variable)) {
        fail(`compute('${step.variable}') names a variable that is already bound`);
      }
      computed.add(step.variable);
      variables.push(step.variable);
      continue;
    }
    const { relation, terms } = step.atom;
    for (const term of terms) {
      const type = relation.typeOf(term.column);
      if (term.variable === undefined) {
        if (!hasType(term.constant, type)) {
          fail(`literal ${JSON.stringify(term.constant)} does not fit '${relation.name}.${term.column}' (${type})`);
        }
        continue;
      }
      const seen = types.get(term.variable);
      if (seen !== undefined && seen !== type) {
        fail(`variable '${term.variable}' joins a ${seen} column with '${relation.name}.${term.column}' (${type})`);
      }
      if (seen === undefined && !computed.has(term.variable)) variables.push(term.variable);
      types.set(term.variable, type);
    }
  }

  const keyed = atoms.filter((atom) => atom.relation.datapath !== null);
  let datapathVariable: string | null = null;
  if (keyed.length > 0) {
    const first = atoms[0];
    if (first.relation.datapath === null) {
      fail(`the first atom must be datapath-keyed (on '${keyed[0].relation.name}'), not global '${first.relation.name}'`);
    }
    for (const atom of keyed) {
      const term = atom.terms.find((t) => t.column === atom.relation.datapath);
      if (term === undefined || term.variable === undefined) {
        fail(`atom on '${atom.relation.name}' must bind its datapath column '${atom.relation.datapath}' to a variable`);
      }
      if (datapathVariable === null) datapathVariable = term!.variable!;
      else if (term!.variable !== datapathVariable) {
        fail(
          `atom on '${atom.relation.name}' binds its datapath column to '${term!.variable}', not to ` +
            `'${datapathVariable}': every atom of a rule lies in one datapath`,
        );
      }
    }
  }
  if (head.datapath !== null && datapathVariable === null) {
    fail(`head '${head.name}' is datapath-keyed, so the body must contain a datapath-keyed atom`);
  }
  return { name, head, steps, select, datapathVariable, atoms, variables };
}
