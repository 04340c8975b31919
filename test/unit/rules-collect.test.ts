// Collect aggregation: one tuple per group with the sorted distinct values of a column (a flood list),
// maintained incrementally — a member change replaces only its group's tuple, an unchanged list reports
// nothing, an emptied group disappears — and usable as the body of further rules.
import { describe, expect, test } from 'vitest';
import { RulesEngine, deleteTuple, evaluateFromScratch, insertTuple } from '../../sim/rules/index.ts';

function floods() {
  const engine = new RulesEngine();
  const binding = engine.input('binding', { dp: 'number', port: 'number', chassis: 'number' }, { datapath: 'dp' });
  const flood = engine.collect('flood', { from: binding, groupBy: ['dp', 'chassis'], value: 'port', as: 'ports' });
  return { engine, binding, flood };
}

describe('collect', () => {
  test('each group gets one tuple with its values sorted, whatever the insertion order', () => {
    const { engine, binding, flood } = floods();
    const result = engine.apply(
      [5, 1, 10, 3].map((port) => insertTuple(binding, { dp: 1, port, chassis: port % 2 })),
    );
    expect(result.of(flood).inserted).toEqual([
      { dp: 1, chassis: 0, ports: [10] },
      { dp: 1, chassis: 1, ports: [1, 3, 5] },
    ]);
    expect(flood.columns).toEqual(['dp', 'chassis', 'ports']);
    expect(flood.datapath).toBe('dp');
    expect(Object.isFrozen(engine.contents(flood)[1].ports)).toBe(true);
  });

  test("a member change replaces only its group's tuple", () => {
    const { engine, binding, flood } = floods();
    engine.apply([1, 2, 3, 4].map((port) => insertTuple(binding, { dp: 1, port, chassis: port % 2 })));
    const added = engine.apply([insertTuple(binding, { dp: 1, port: 7, chassis: 1 })]);
    expect(added.of(flood)).toMatchObject({
      deleted: [{ dp: 1, chassis: 1, ports: [1, 3] }],
      inserted: [{ dp: 1, chassis: 1, ports: [1, 3, 7] }],
    });
    expect(added.derivationChanges).toBe(2);
    const removed = engine.apply([deleteTuple(binding, { dp: 1, port: 2, chassis: 0 }), deleteTuple(binding, { dp: 1, port: 4, chassis: 0 })]);
    expect(removed.of(flood)).toMatchObject({ deleted: [{ dp: 1, chassis: 0, ports: [2, 4] }], inserted: [] });
    expect(engine.contents(flood)).toEqual([{ dp: 1, chassis: 1, ports: [1, 3, 7] }]);
  });

  test('values are distinct: a value shared by two members stays until both are gone', () => {
    const engine = new RulesEngine();
    const port = engine.input('port', { dp: 'number', port: 'number', chassis: 'number' }, { datapath: 'dp' });
    const chassisOf = engine.collect('chassis-of', { from: port, groupBy: ['dp'], value: 'chassis', as: 'chassis' });
    engine.apply([insertTuple(port, { dp: 1, port: 1, chassis: 9 }), insertTuple(port, { dp: 1, port: 2, chassis: 9 })]);
    expect(engine.contents(chassisOf)).toEqual([{ dp: 1, chassis: [9] }]);
    const one = engine.apply([deleteTuple(port, { dp: 1, port: 1, chassis: 9 })]);
    expect(one.changes).toEqual([]); // the list did not change, so nothing is reported
    const both = engine.apply([deleteTuple(port, { dp: 1, port: 2, chassis: 9 })]);
    expect(both.of(chassisOf)).toMatchObject({ deleted: [{ dp: 1, chassis: [9] }], inserted: [] });
  });

  test('a collect can feed a rule, and strings sort by code unit', () => {
    const engine = new RulesEngine();
    const member = engine.input('member', { dp: 'number', name: 'string' }, { datapath: 'dp' });
    const names = engine.collect('names', { from: member, groupBy: ['dp'], value: 'name', as: 'names', output: false });
    const summary = engine.relation('summary', { dp: 'number', first: 'string', count: 'number' }, { datapath: 'dp' });
    engine.rule(summary, (q) => q.from(names).select((v) => ({ dp: v.dp, first: v.names[0], count: v.names.length })));
    engine.apply(['b', 'a', 'B', 'é'].map((name) => insertTuple(member, { dp: 3, name })));
    expect(engine.contents(names)).toEqual([{ dp: 3, names: ['B', 'a', 'b', 'é'] }]);
    const result = engine.apply([insertTuple(member, { dp: 3, name: 'A' })]);
    expect(result.changes.map((c) => c.relation.name)).toEqual(['summary']);
    expect(result.of(summary)).toMatchObject({
      deleted: [{ dp: 3, first: 'B', count: 4 }],
      inserted: [{ dp: 3, first: 'A', count: 5 }],
    });
    expect(engine.contents(summary)).toEqual(evaluateFromScratch(engine).get('summary'));
  });

  test('a global source groups without a datapath', () => {
    const engine = new RulesEngine();
    const chassis = engine.input('chassis', { zone: 'string', chassis: 'number' }, { datapath: null });
    const zones = engine.collect('zones', { from: chassis, groupBy: ['zone'], value: 'chassis', as: 'members' });
    engine.apply([insertTuple(chassis, { zone: 'b', chassis: 2 }), insertTuple(chassis, { zone: 'a', chassis: 1 }), insertTuple(chassis, { zone: 'b', chassis: 1 })]);
    expect(zones.datapath).toBeNull();
    expect(engine.contents(zones)).toEqual([
      { zone: 'a', members: [1] },
      { zone: 'b', members: [1, 2] },
    ]);
  });
});
