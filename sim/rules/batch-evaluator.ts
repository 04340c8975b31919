// From-scratch evaluation of an engine's program over its current visible inputs: the oracle that the
// incremental engine is tested against (incremental == batch), and a convergence check for its users.
// Owns nothing and changes nothing; it reads the program and the input contents through the public API.
//
// Deliberately simple and independent of the incremental machinery: each rule body is evaluated in the
// order it was written, one step at a time over a list of binding sets, each atom joined through a hash
// table built on the spot; set semantics throughout, no counts, no old/new states.

import type { RulesEngine } from './engine.ts';
import type { Env, RuleSpec } from './rule-spec.ts';
import type { Relation, Scalar, Tuple, Value } from './schema.ts';
import { compareValues, encodeValue, tupleComparator, tupleKey, valuesEqual } from './tuple-key.ts';

/** Every relation's contents (inputs: the visible part), by relation name, each sorted. */
export function evaluateFromScratch(engine: RulesEngine): Map<string, Tuple[]> {
  const program = engine.program();
  const sets = new Map<number, Map<string, Tuple>>();
  const contents = (relation: Relation<any>): Tuple[] => [...sets.get(relation.id)!.values()];

  for (const relation of program.relations) {
    const set = new Map<string, Tuple>();
    sets.set(relation.id, set);
    const add = (tuple: Tuple): void => {
      set.set(tupleKey(relation, tuple), tuple);
    };
    if (relation.kind === 'input') {
      for (const tuple of engine.contents(relation)) add(tuple as Tuple);
      continue;
    }
    for (const rule of program.rules) if (rule.head === relation) for (const t of evaluateRule(rule, contents)) add(t);
    for (const collect of program.collects) {
      if (collect.output !== relation) continue;
      const groups = new Map<string, { sample: Tuple; values: Scalar[] }>();
      for (const tuple of contents(collect.source)) {
        const key = collect.groupBy.map((c) => encodeValue(tuple[c])).join('');
        let group = groups.get(key);
        if (group === undefined) groups.set(key, (group = { sample: tuple, values: [] }));
        const value = tuple[collect.value] as Scalar;
        if (!group.values.some((v) => valuesEqual(v, value))) group.values.push(value);
      }
      for (const { sample, values } of groups.values()) {
        const tuple: Record<string, Value> = {};
        for (const column of collect.groupBy) tuple[column] = sample[column];
        tuple[collect.as] = values.sort(compareValues) as Value;
        add(tuple);
      }
    }
  }

  const out = new Map<string, Tuple[]>();
  for (const relation of program.relations) {
    out.set(relation.name, [...sets.get(relation.id)!.values()].sort(tupleComparator(relation)));
  }
  return out;
}

function evaluateRule(rule: RuleSpec, contents: (relation: Relation<any>) => Tuple[]): Tuple[] {
  let envs: Env[] = [{}];
  const bound = new Set<string>();
  for (const step of rule.steps) {
    if (step.kind === 'where') {
      envs = envs.filter((env) => step.test(env));
      continue;
    }
    if (step.kind === 'compute') {
      envs = envs.map((env) => ({ ...env, [step.variable]: step.fn(env) }));
      bound.add(step.variable);
      continue;
    }
    const { relation, terms } = step.atom;
    const keyed = terms.filter((t) => t.variable === undefined || bound.has(t.variable));
    const free = terms.filter((t) => !keyed.includes(t));
    const table = new Map<string, Tuple[]>();
    for (const tuple of contents(relation)) {
      const key = keyed.map((t) => encodeValue(tuple[t.column])).join('');
      const list = table.get(key);
      if (list === undefined) table.set(key, [tuple]);
      else list.push(tuple);
    }
    const next: Env[] = [];
    for (const env of envs) {
      const key = keyed.map((t) => encodeValue(t.variable === undefined ? t.constant : env[t.variable])).join('');
      match: for (const tuple of table.get(key) ?? []) {
        const extended: Env = { ...env };
        const fresh = new Set<string>();
        for (const term of free) {
          const variable = term.variable!;
          if (fresh.has(variable)) {
            if (!valuesEqual(extended[variable], tuple[term.column])) continue match;
          } else {
            extended[variable] = tuple[term.column];
            fresh.add(variable);
          }
        }
        next.push(extended);
      }
    }
    envs = next;
    for (const term of free) bound.add(term.variable!);
  }
  return envs.map((env) => rule.select(env));
}
