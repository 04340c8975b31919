// Datapath (LDPS) partitioning: an engine computes only for the datapaths it is told it is responsible
// for. Input tuples of inactive datapaths are kept but derive nothing; activating a datapath adds exactly
// its outputs and deactivating removes exactly them; a change to a global relation does work only for
// active datapaths; and activation composes with other changes in one transaction.
import { describe, expect, test } from 'vitest';
import {
  RulesEngine,
  activateDatapaths,
  deleteTuple,
  evaluateFromScratch,
  insertTuple,
  type Change,
} from '../../sim/rules/index.ts';

function program() {
  const engine = new RulesEngine();
  const port = engine.input('port', { dp: 'number', port: 'number', chassis: 'number' }, { datapath: 'dp' });
  const chassis = engine.input('chassis', { chassis: 'number', ip: 'string' }, { datapath: null });
  const flow = engine.relation('flow', { dp: 'number', port: 'number', ip: 'string' }, { datapath: 'dp' });
  engine.rule(flow, (q) =>
    q
      .from(port, { dp: 'dp', port: 'port', chassis: 'c' })
      .join(chassis, { chassis: 'c', ip: 'ip' })
      .select((v) => ({ dp: v.dp, port: v.port, ip: v.ip })),
  );
  const flood = engine.collect('flood', { from: port, groupBy: ['dp', 'chassis'], value: 'port', as: 'ports' });
  return { engine, port, chassis, flow, flood };
}

/** Two ports in each of datapaths 1..n, on chassis 1 and 2. */
function ports(n: number, port: ReturnType<typeof program>['port']): Change[] {
  const out: Change[] = [];
  for (let dp = 1; dp <= n; dp++) for (const c of [1, 2]) out.push(insertTuple(port, { dp, port: dp * 10 + c, chassis: c }));
  return out;
}

describe('datapath partitioning', () => {
  test('inputs of inactive datapaths are stored but derive nothing', () => {
    const { engine, port, chassis, flow, flood } = program();
    engine.apply([activateDatapaths([2]), insertTuple(chassis, { chassis: 1, ip: 'a' }), insertTuple(chassis, { chassis: 2, ip: 'b' }), ...ports(3, port)]);
    expect(engine.storedInputs(port)).toHaveLength(6);
    expect(engine.contents(port)).toHaveLength(2);
    expect(engine.contents(flow)).toEqual([
      { dp: 2, port: 21, ip: 'a' },
      { dp: 2, port: 22, ip: 'b' },
    ]);
    expect(engine.contents(flood).map((t) => t.dp)).toEqual([2, 2]);
    expect(engine.activeDatapaths()).toEqual([2]);
    expect(engine.isDatapathActive(3)).toBe(false);
    expect(engine.stats().relations.find((r) => r.name === 'port')).toMatchObject({ tuples: 2, stored: 6 });
  });

  test('activating adds exactly the datapath’s outputs and deactivating removes exactly them', () => {
    const { engine, port, chassis, flow } = program();
    engine.apply([activateDatapaths([]), insertTuple(chassis, { chassis: 1, ip: 'a' }), insertTuple(chassis, { chassis: 2, ip: 'b' }), ...ports(3, port)]);
    expect(engine.size(flow)).toBe(0);

    const on = engine.apply([activateDatapaths([3])]);
    expect(on.inputChanges).toBe(2);
    expect(on.of(flow)).toMatchObject({ deleted: [], inserted: [{ dp: 3, port: 31, ip: 'a' }, { dp: 3, port: 32, ip: 'b' }] });
    expect(on.changes.every((c) => c.inserted.every((t) => t.dp === 3) && c.deleted.length === 0)).toBe(true);

    const more = engine.apply([activateDatapaths([3, 1])]);
    expect(more.changes.every((c) => c.inserted.every((t) => t.dp === 1) && c.deleted.length === 0)).toBe(true);

    const off = engine.apply([activateDatapaths([1])]);
    expect(off.of(flow)).toMatchObject({ inserted: [], deleted: [{ dp: 3, port: 31, ip: 'a' }, { dp: 3, port: 32, ip: 'b' }] });

    const all = engine.apply([activateDatapaths('all')]);
    expect(all.of(flow).inserted.map((t) => t.dp)).toEqual([2, 2, 3, 3]);
    expect(engine.activeDatapaths()).toBe('all');
    expect(engine.contents(flow)).toEqual(evaluateFromScratch(engine).get('flow'));
  });

  test('an engine with some datapaths active computes what an engine given only their inputs computes', () => {
    const partial = program();
    const alone = program();
    const base = [insertTuple(partial.chassis, { chassis: 1, ip: 'a' }), insertTuple(partial.chassis, { chassis: 2, ip: 'b' })];
    partial.engine.apply([activateDatapaths([2, 4]), ...base, ...ports(5, partial.port)]);
    alone.engine.apply([
      insertTuple(alone.chassis, { chassis: 1, ip: 'a' }),
      insertTuple(alone.chassis, { chassis: 2, ip: 'b' }),
      ...ports(5, alone.port).filter((c) => c.op === 'insert' && (c.tuple.dp === 2 || c.tuple.dp === 4)),
    ]);
    expect(partial.engine.contents(partial.flow)).toEqual(alone.engine.contents(alone.flow));
    expect(partial.engine.contents(partial.flood)).toEqual(alone.engine.contents(alone.flood));
  });

  test('a global change does work only for active datapaths', () => {
    const { engine, port, chassis, flow } = program();
    engine.apply([activateDatapaths([7]), insertTuple(chassis, { chassis: 1, ip: 'a' }), ...ports(100, port)]);
    const result = engine.apply([deleteTuple(chassis, { chassis: 1, ip: 'a' }), insertTuple(chassis, { chassis: 1, ip: 'z' })]);
    expect(result.derivationChanges).toBe(2); // one flow out, one in: the other 99 datapaths cost nothing
    expect(result.of(flow)).toMatchObject({ deleted: [{ dp: 7, port: 71, ip: 'a' }], inserted: [{ dp: 7, port: 71, ip: 'z' }] });
  });

  test('activation composes with changes in one transaction, and a round trip is net zero', () => {
    const { engine, port, chassis, flow } = program();
    engine.apply([insertTuple(chassis, { chassis: 1, ip: 'a' }), activateDatapaths([1])]);
    engine.begin();
    engine.insert(port, { dp: 2, port: 21, chassis: 1 }); // inactive now, active by the end
    engine.setActiveDatapaths([1, 2]);
    engine.insert(port, { dp: 2, port: 22, chassis: 1 });
    engine.setActiveDatapaths([1]);
    engine.setActiveDatapaths([2, 1]);
    const result = engine.commit();
    expect(result.of(flow).inserted).toEqual([
      { dp: 2, port: 21, ip: 'a' },
      { dp: 2, port: 22, ip: 'a' },
    ]);
    const roundTrip = engine.apply([activateDatapaths([1]), activateDatapaths([1, 2])]);
    expect(roundTrip.changes).toEqual([]);
    expect(roundTrip.inputChanges).toBe(0);
    // Deleting an inactive datapath's input changes nothing visible but is remembered.
    engine.apply([activateDatapaths([1]), deleteTuple(port, { dp: 2, port: 21, chassis: 1 })]);
    const back = engine.apply([activateDatapaths([1, 2])]);
    expect(back.of(flow).inserted).toEqual([{ dp: 2, port: 22, ip: 'a' }]);
  });

  test('string datapath keys work, and a malformed datapath is refused', () => {
    const engine = new RulesEngine();
    const a = engine.input('a', { ls: 'string', x: 'number' }, { datapath: 'ls' });
    const b = engine.relation('b', { ls: 'string', x: 'number' }, { datapath: 'ls' });
    engine.rule(b, (q) => q.from(a).select((v) => v));
    engine.apply([activateDatapaths(['web']), insertTuple(a, { ls: 'web', x: 1 }), insertTuple(a, { ls: 'db', x: 2 })]);
    expect(engine.contents(b)).toEqual([{ ls: 'web', x: 1 }]);
    expect(() => engine.apply([activateDatapaths([{}] as never)])).toThrow(/a datapath is a number or a string/);
  });
});
