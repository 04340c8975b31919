// The rules engine against its oracle: random programs (joins, self-joins, literals, wildcards, filters,
// computed join keys, rules over derived relations, collect aggregations, global and datapath-keyed
// relations) over small random relations, fed random batches of inserts, deletes and datapath
// (de)activations. After every batch the incremental contents equal a from-scratch evaluation of the
// current visible inputs (themselves checked against a model of the inputs), and each output relation's
// reported change turns the previous contents into the new ones exactly: every deleted tuple was there,
// every inserted one was not, nothing is both, and both lists are sorted. Now and then a batch is first
// tried and aborted, which must leave no trace.
import { describe, expect } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { type Change, RulesEngine, activateDatapaths, deleteTuple, evaluateFromScratch, insertTuple, lit } from '../../sim/rules/index.ts';
import type { Relation, Tuple } from '../../sim/rules/schema.ts';
import { tupleComparator, tupleKey } from '../../sim/rules/tuple-key.ts';

const runs = (fallback: number) => Number(process.env.NVSIM_PROPERTY_RUNS ?? fallback);

const DOMAIN = 3; // values of dp, a and b: small, so joins, duplicates and deletes of present tuples are common
const INPUTS = [
  { name: 'R', datapath: true },
  { name: 'S', datapath: true },
  { name: 'G', datapath: false },
] as const;

type TermGen = { kind: 'var'; v: number } | { kind: 'lit'; value: number } | { kind: 'wild' };
type StepGen =
  | { kind: 'atom'; rel: number; a: TermGen; b: TermGen }
  | { kind: 'where'; op: 'lt' | 'even' | 'ne'; x: number; y: number }
  | { kind: 'compute'; x: number; y: number };
type NodeGen =
  | { kind: 'rules'; datapath: boolean; output: boolean; rules: { steps: StepGen[]; headA: number; headB: number }[] }
  | { kind: 'collect'; source: number; groupByA: boolean; output: boolean };
type OpGen =
  | { kind: 'insert' | 'delete'; rel: number; dp: number; a: number; b: number }
  | { kind: 'activate'; set: number[] | 'all' };

const term: fc.Arbitrary<TermGen> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('var' as const), v: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('lit' as const), value: fc.nat(DOMAIN - 1) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'wild' as const }) },
);
const atom = fc.record({ kind: fc.constant('atom' as const), rel: fc.nat(20), a: term, b: term });
const step: fc.Arbitrary<StepGen> = fc.oneof(
  { weight: 4, arbitrary: atom },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('where' as const),
      op: fc.constantFrom('lt' as const, 'even' as const, 'ne' as const),
      x: fc.nat(5),
      y: fc.nat(5),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('compute' as const), x: fc.nat(5), y: fc.nat(5) }) },
);
const rule = fc.record({
  steps: fc.tuple(atom, fc.array(step, { maxLength: 4 })).map(([first, rest]) => [first, ...rest]),
  headA: fc.nat(5),
  headB: fc.nat(5),
});
const node: fc.Arbitrary<NodeGen> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('rules' as const),
      datapath: fc.boolean(),
      output: fc.boolean(),
      rules: fc.array(rule, { minLength: 1, maxLength: 2 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('collect' as const), source: fc.nat(20), groupByA: fc.boolean(), output: fc.boolean() }),
  },
);
const dpSet = fc.oneof(fc.constant('all' as const), fc.uniqueArray(fc.nat(DOMAIN - 1), { maxLength: DOMAIN }));
const op: fc.Arbitrary<OpGen> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      kind: fc.constantFrom('insert' as const, 'insert' as const, 'delete' as const),
      rel: fc.nat(INPUTS.length - 1),
      dp: fc.nat(DOMAIN - 1),
      a: fc.nat(DOMAIN - 1),
      b: fc.nat(DOMAIN - 1),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('activate' as const), set: dpSet }) },
);
const caseArbitrary = fc.record({
  nodes: fc.array(node, { minLength: 1, maxLength: 5 }),
  batches: fc.array(
    fc.record({
      ops: fc.array(op, { minLength: 1, maxLength: 12 }),
      // Now and then a batch is first tried and aborted, which must leave no trace, then committed.
      abort: fc.integer({ min: 0, max: 7 }).map((n) => n === 0),
    }),
    { minLength: 1, maxLength: 8 },
  ),
});

interface Built {
  engine: RulesEngine;
  inputs: Relation<any>[];
  derived: Relation<any>[];
}

/** Turns a generated program into engine declarations, repairing it into a well-formed one. */
function build(nodes: NodeGen[]): Built {
  const engine = new RulesEngine();
  const all: Relation<any>[] = INPUTS.map((input) =>
    input.datapath
      ? engine.input(input.name, { dp: 'number', a: 'number', b: 'number' }, { datapath: 'dp' })
      : engine.input(input.name, { a: 'number', b: 'number' }, { datapath: null }),
  );
  const inputs = [...all];
  const derived: Relation<any>[] = [];
  nodes.forEach((n, i) => {
    const name = `D${i}`;
    if (n.kind === 'collect') {
      const candidates = all.filter((r) => !r.columns.includes('bs'));
      const source = candidates[n.source % candidates.length];
      const keyed = source.datapath !== null;
      const relation = engine.collect(name, {
        from: source as Relation<{ dp: number; a: number; b: number }>,
        groupBy: keyed ? (n.groupByA ? ['dp', 'a'] : ['dp', 'b']) : n.groupByA ? ['a'] : ['b'],
        value: n.groupByA ? 'b' : 'a',
        as: 'bs',
        output: n.output,
      } as never);
      all.push(relation);
      derived.push(relation);
      return;
    }
    const head = n.datapath
      ? engine.relation(name, { dp: 'number', a: 'number', b: 'number' }, { datapath: 'dp', output: n.output })
      : engine.relation(name, { a: 'number', b: 'number' }, { datapath: null, output: n.output });
    const available = [...all];
    n.rules.forEach((r, k) => addRule(engine, head, available, r, `${name}.${k}`));
    all.push(head);
    derived.push(head);
  });
  return { engine, inputs, derived };
}

function addRule(
  engine: RulesEngine,
  head: Relation<any>,
  available: Relation<any>[],
  gen: { steps: StepGen[]; headA: number; headB: number },
  name: string,
): void {
  const steps = gen.steps.map((s) => ({ ...s }));
  const atoms = steps.filter((s): s is StepGen & { kind: 'atom' } => s.kind === 'atom');
  const relOf = (s: { rel: number }) => available[s.rel % available.length];
  // nLog's discipline: a datapath-keyed head needs a datapath-keyed body, whose first atom is keyed.
  if (head.datapath !== null && atoms.every((a) => relOf(a).datapath === null)) atoms[0].rel = 0;
  const firstKeyed = atoms.findIndex((a) => relOf(a).datapath !== null);
  if (firstKeyed > 0) [atoms[0].rel, atoms[firstKeyed].rel] = [atoms[firstKeyed].rel, atoms[0].rel];

  engine.rule(
    head,
    (q) => {
      let body: any = q;
      let first = true;
      const bound: string[] = [];
      const varName = (v: number) => (v === 3 && bound.includes('s') ? 's' : `v${v % 3}`);
      for (const s of steps) {
        if (s.kind === 'atom') {
          const relation = relOf(s);
          const [colA, colB] = relation.columns.filter((c) => c !== 'dp');
          const map: Record<string, unknown> = {};
          if (relation.datapath !== null) map.dp = 'd';
          const put = (column: string, t: TermGen) => {
            if (t.kind === 'var') map[column] = varName(t.v);
            else if (t.kind === 'lit') map[column] = lit(t.value);
          };
          put(colA, s.a);
          if (colB !== 'bs') put(colB, s.b);
          body = first ? body.from(relation, map) : body.join(relation, map);
          first = false;
          for (const v of Object.values(map)) if (typeof v === 'string' && !bound.includes(v)) bound.push(v);
        } else {
          const vars = bound.filter((v) => v !== 'd');
          if (vars.length === 0) continue;
          const x = vars[s.x % vars.length];
          const y = vars[s.y % vars.length];
          if (s.kind === 'where') {
            const test =
              s.op === 'lt'
                ? (v: any) => v[x] < v[y]
                : s.op === 'even'
                  ? (v: any) => (v[x] + v[y]) % 2 === 0
                  : (v: any) => v[x] !== v[y];
            body = body.where(test);
          } else if (!bound.includes('s')) {
            body = body.compute('s', (v: any) => (v[x] * 2 + v[y]) % DOMAIN);
            bound.push('s');
          }
        }
      }
      const vars = bound.filter((v) => v !== 'd');
      const pick = (i: number, fallback: number) => (vars.length === 0 ? () => fallback : (v: any) => v[vars[i % vars.length]]);
      const a = pick(gen.headA, 0);
      const b = pick(gen.headB, 1);
      return body.select((v: any) => (head.datapath !== null ? { dp: v.d, a: a(v), b: b(v) } : { a: a(v), b: b(v) }));
    },
    { name },
  );
}

function tupleOf(relation: Relation<any>, o: { dp: number; a: number; b: number }): Tuple {
  return relation.datapath !== null ? { dp: o.dp, a: o.a, b: o.b } : { a: o.a, b: o.b };
}

function keysOf(relation: Relation<any>, tuples: readonly Tuple[]): string[] {
  return tuples.map((t) => tupleKey(relation, t));
}

describe('rules engine: incremental equals batch', () => {
  test.prop([caseArbitrary], { numRuns: runs(300) })(
    'after every batch, contents equal a from-scratch evaluation and deltas are exact',
    ({ nodes, batches }) => {
      const { engine, inputs, derived } = build(nodes);
      // The model of the inputs: every stored tuple, and which datapaths are active.
      const stored = inputs.map(() => new Map<string, Tuple>());
      let active: Set<number> | null = null;
      let previous = new Map<string, Tuple[]>(derived.map((r) => [r.name, []]));

      for (const { ops, abort } of batches) {
        if (abort) {
          engine.begin();
          for (const o of ops) {
            if (o.kind === 'activate') engine.setActiveDatapaths(o.set);
            else if (o.kind === 'insert') engine.insert(inputs[o.rel], tupleOf(inputs[o.rel], o));
            else engine.delete(inputs[o.rel], tupleOf(inputs[o.rel], o));
          }
          engine.abort();
          for (const relation of derived) expect(engine.contents(relation)).toEqual(previous.get(relation.name));
        }
        const changes: Change[] = [];
        for (const o of ops) {
          if (o.kind === 'activate') {
            changes.push(activateDatapaths(o.set));
            active = o.set === 'all' ? null : new Set(o.set);
            continue;
          }
          const relation = inputs[o.rel];
          const tuple = tupleOf(relation, o);
          const key = tupleKey(relation, tuple);
          changes.push(o.kind === 'insert' ? insertTuple(relation, tuple) : deleteTuple(relation, tuple));
          if (o.kind === 'insert') {
            if (!stored[o.rel].has(key)) stored[o.rel].set(key, tuple);
          } else stored[o.rel].delete(key);
        }
        const result = engine.apply(changes);

        // Inputs: everything stored is kept; rules see exactly the active part.
        inputs.forEach((relation, i) => {
          const all = [...stored[i].values()].sort(tupleComparator(relation));
          expect(engine.storedInputs(relation)).toEqual(all);
          const visible = all.filter((t) => relation.datapath === null || active === null || active.has(t.dp as number));
          expect(engine.contents(relation)).toEqual(visible);
        });

        const scratch = evaluateFromScratch(engine);
        const reported = new Set(result.changes.map((c) => c.relation.name));
        for (const relation of derived) {
          const now = engine.contents(relation);
          expect(now, relation.name).toEqual(scratch.get(relation.name));
          expect(engine.size(relation)).toBe(now.length);
          if (!relation.output) {
            expect(reported.has(relation.name)).toBe(false);
            continue;
          }
          const { deleted, inserted } = result.of(relation);
          const compare = tupleComparator(relation);
          for (const list of [deleted, inserted]) {
            for (let i = 1; i < list.length; i++) expect(compare(list[i - 1], list[i])).toBeLessThan(0);
          }
          const set = new Map(keysOf(relation, previous.get(relation.name)!).map((k, i) => [k, previous.get(relation.name)![i]]));
          const deletedKeys = new Set(keysOf(relation, deleted));
          for (const key of deletedKeys) {
            expect(set.has(key), `${relation.name}: deleted ${key} was absent`).toBe(true);
            set.delete(key);
          }
          for (const [i, key] of keysOf(relation, inserted).entries()) {
            expect(deletedKeys.has(key), `${relation.name}: ${key} both deleted and inserted`).toBe(false);
            expect(set.has(key), `${relation.name}: inserted ${key} was present`).toBe(false);
            set.set(key, inserted[i]);
          }
          expect([...set.values()].sort(compare)).toEqual(now);
          expect(reported.has(relation.name)).toBe(deleted.length + inserted.length > 0);
        }
        previous = new Map(derived.map((r) => [r.name, engine.contents(r)]));
      }
    },
  );
});
