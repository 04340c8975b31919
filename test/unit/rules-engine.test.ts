// The rules engine's rule evaluation: joins on shared variables, literals and wildcards, filters, computed
// columns (also as join keys), rules over derived relations, deletes, self-joins, tuples derived more than
// one way, set semantics of inputs, net-zero changes inside one transaction, the order of reported
// changes, subscribers, and the refusals (malformed rules, cycles, misuse of transactions).
import { describe, expect, test } from 'vitest';
import {
  RulesEngine,
  deleteTuple,
  evaluateFromScratch,
  insertTuple,
  lit,
  type RelationChange,
} from '../../sim/rules/index.ts';

/** A small network: ports on datapaths, bindings of ports to chassis, and the chassis list. */
function network() {
  const engine = new RulesEngine();
  const port = engine.input('port', { dp: 'number', port: 'number', mac: 'number' }, { datapath: 'dp' });
  const binding = engine.input('binding', { dp: 'number', port: 'number', chassis: 'number' }, { datapath: 'dp' });
  const chassis = engine.input('chassis', { chassis: 'number', ip: 'string' }, { datapath: null });
  return { engine, port, binding, chassis };
}

const names = (changes: readonly RelationChange[]) => changes.map((c) => c.relation.name);

describe('joins, filters and computed columns', () => {
  test('a three-way join binds shared variables and builds the head', () => {
    const { engine, port, binding, chassis } = network();
    const l2 = engine.relation('l2', { dp: 'number', mac: 'number', ip: 'string' }, { datapath: 'dp' });
    engine.rule(l2, (q) =>
      q
        .from(port)
        .join(binding, { dp: 'dp', port: 'port', chassis: 'ch' })
        .join(chassis, { chassis: 'ch', ip: 'ip' })
        .select((v) => ({ dp: v.dp, mac: v.mac, ip: v.ip })),
    );
    const result = engine.apply([
      insertTuple(port, { dp: 1, port: 1, mac: 0xa }),
      insertTuple(port, { dp: 1, port: 2, mac: 0xb }),
      insertTuple(port, { dp: 2, port: 1, mac: 0xc }),
      insertTuple(binding, { dp: 1, port: 1, chassis: 7 }),
      insertTuple(binding, { dp: 2, port: 1, chassis: 8 }),
      insertTuple(chassis, { chassis: 7, ip: '10.0.0.7' }),
    ]);
    expect(result.of(l2).inserted).toEqual([{ dp: 1, mac: 0xa, ip: '10.0.0.7' }]);
    expect(result.of(l2).deleted).toEqual([]);
    expect(result.inputChanges).toBe(6);

    // The missing chassis arrives: the dp 2 port now joins.
    const next = engine.apply([insertTuple(chassis, { chassis: 8, ip: '10.0.0.8' })]);
    expect(next.of(l2).inserted).toEqual([{ dp: 2, mac: 0xc, ip: '10.0.0.8' }]);
    expect(engine.contents(l2)).toEqual([
      { dp: 1, mac: 0xa, ip: '10.0.0.7' },
      { dp: 2, mac: 0xc, ip: '10.0.0.8' },
    ]);
  });

  test('filters, computed columns, literals and wildcards', () => {
    const { engine, port, binding } = network();
    const out = engine.relation('out', { dp: 'number', key: 'number' }, { datapath: 'dp' });
    engine.rule(out, (q) =>
      q
        .from(port, { dp: 'dp', port: 'p', mac: 'mac' })
        .join(binding, { dp: 'dp', port: 'p', chassis: lit(7) }) // only ports on chassis 7
        .where((v) => v.mac % 2 === 0)
        .compute('key', (v) => v.p * 1000 + v.mac)
        .select((v) => ({ dp: v.dp, key: v.key })),
    );
    const inChassis = engine.relation('in-chassis', { dp: 'number' }, { datapath: 'dp' });
    engine.rule(inChassis, (q) => q.from(binding, { dp: 'dp' }).select((v) => ({ dp: v.dp }))); // port and chassis are wildcards
    engine.apply([
      insertTuple(port, { dp: 1, port: 1, mac: 2 }),
      insertTuple(port, { dp: 1, port: 2, mac: 3 }),
      insertTuple(port, { dp: 1, port: 3, mac: 4 }),
      insertTuple(binding, { dp: 1, port: 1, chassis: 7 }),
      insertTuple(binding, { dp: 1, port: 2, chassis: 7 }),
      insertTuple(binding, { dp: 1, port: 3, chassis: 9 }),
    ]);
    expect(engine.contents(out)).toEqual([{ dp: 1, key: 1002 }]);
    expect(engine.contents(inChassis)).toEqual([{ dp: 1 }]);
    expect(engine.derivations(inChassis, { dp: 1 })).toBe(3);
  });

  test('a computed column can be a join key, and a repeated variable is an equality', () => {
    const engine = new RulesEngine();
    const a = engine.input('a', { dp: 'number', x: 'number' }, { datapath: 'dp' });
    const b = engine.input('b', { dp: 'number', y: 'number', z: 'number' }, { datapath: 'dp' });
    const out = engine.relation('out', { dp: 'number', x: 'number' }, { datapath: 'dp' });
    engine.rule(out, (q) =>
      q
        .from(a)
        .compute('next', (v) => v.x + 1)
        .join(b, { dp: 'dp', y: 'next', z: 'next' })
        .select((v) => ({ dp: v.dp, x: v.x })),
    );
    engine.apply([
      insertTuple(a, { dp: 0, x: 1 }),
      insertTuple(a, { dp: 0, x: 5 }),
      insertTuple(b, { dp: 0, y: 2, z: 2 }),
      insertTuple(b, { dp: 0, y: 6, z: 7 }),
    ]);
    expect(engine.contents(out)).toEqual([{ dp: 0, x: 1 }]);
    // Starting from b's delta, 'next' is bound by b and the computation becomes a check.
    engine.apply([insertTuple(b, { dp: 0, y: 6, z: 6 })]);
    expect(engine.contents(out)).toEqual([
      { dp: 0, x: 1 },
      { dp: 0, x: 5 },
    ]);
    expect(engine.stats().rules[0].plans).toEqual(['Δa ⋈ let next ⋈ old b[key]', 'Δb ⋈ new a[dp] ⋈ check next']);
  });

  test('the engine keeps copies: a head may return its bindings, a caller may reuse its input object', () => {
    const engine = new RulesEngine();
    const a = engine.input('a', { dp: 'number', x: 'number' }, { datapath: 'dp' });
    const b = engine.relation('b', { dp: 'number', x: 'number' }, { datapath: 'dp' });
    engine.rule(b, (q) => q.from(a).compute('extra', (v) => v.x * 2).select((v) => v)); // v also holds 'extra'
    const reused = { dp: 0, x: 1 };
    engine.begin();
    engine.insert(a, reused);
    reused.x = 2;
    engine.insert(a, reused);
    engine.commit();
    reused.x = 3;
    expect(engine.contents(a)).toEqual([
      { dp: 0, x: 1 },
      { dp: 0, x: 2 },
    ]);
    expect(engine.contents(b)).toEqual([
      { dp: 0, x: 1 },
      { dp: 0, x: 2 },
    ]);
  });

  test('list columns are opaque values that join by content', () => {
    const engine = new RulesEngine();
    const a = engine.input('a', { dp: 'number', path: 'number[]' }, { datapath: 'dp' });
    const b = engine.input('b', { dp: 'number', path: 'number[]', name: 'string' }, { datapath: 'dp' });
    const out = engine.relation('out', { dp: 'number', name: 'string' }, { datapath: 'dp' });
    engine.rule(out, (q) => q.from(a).join(b, { dp: 'dp', path: 'path', name: 'name' }).select((v) => ({ dp: v.dp, name: v.name })));
    engine.apply([insertTuple(a, { dp: 0, path: [1, 2] }), insertTuple(b, { dp: 0, path: [1, 2], name: 'x' }), insertTuple(b, { dp: 0, path: [2, 1], name: 'y' })]);
    expect(engine.contents(out)).toEqual([{ dp: 0, name: 'x' }]);
  });
});

describe('deletes, duplicates and multi-level rules', () => {
  function tunnels() {
    const { engine, binding, chassis } = network();
    // Chassis that host a port of the datapath (one derivation per port), an intermediate view.
    const dpChassis = engine.relation('dp-chassis', { dp: 'number', chassis: 'number' }, { datapath: 'dp', output: false });
    engine.rule(dpChassis, (q) => q.from(binding).select((v) => ({ dp: v.dp, chassis: v.chassis })));
    // A self-join: a tunnel from every such chassis to every other, to the remote's IP.
    const tunnel = engine.relation('tunnel', { dp: 'number', from: 'number', to: 'number', ip: 'string' }, { datapath: 'dp' });
    engine.rule(tunnel, (q) =>
      q
        .from(dpChassis, { dp: 'dp', chassis: 'from' })
        .join(dpChassis, { dp: 'dp', chassis: 'to' })
        .where((v) => v.from !== v.to)
        .join(chassis, { chassis: 'to', ip: 'ip' })
        .select((v) => ({ dp: v.dp, from: v.from, to: v.to, ip: v.ip })),
    );
    engine.apply([1, 2, 3].map((c) => insertTuple(chassis, { chassis: c, ip: `ip${c}` })));
    return { engine, binding, chassis, dpChassis, tunnel };
  }

  test('a self-join over a derived relation, inserted and deleted in one transaction and across several', () => {
    const { engine, binding, tunnel } = tunnels();
    const first = engine.apply([
      insertTuple(binding, { dp: 1, port: 1, chassis: 1 }),
      insertTuple(binding, { dp: 1, port: 2, chassis: 2 }),
      insertTuple(binding, { dp: 1, port: 3, chassis: 3 }),
    ]);
    expect(first.of(tunnel).inserted).toHaveLength(6);
    expect(names(first.changes)).toEqual(['tunnel']); // the intermediate view is not reported

    const second = engine.apply([deleteTuple(binding, { dp: 1, port: 3, chassis: 3 })]);
    expect(second.of(tunnel).deleted).toEqual([
      { dp: 1, from: 1, to: 3, ip: 'ip3' },
      { dp: 1, from: 2, to: 3, ip: 'ip3' },
      { dp: 1, from: 3, to: 1, ip: 'ip1' },
      { dp: 1, from: 3, to: 2, ip: 'ip2' },
    ]);
    expect(second.of(tunnel).inserted).toEqual([]);
    expect(engine.contents(tunnel)).toEqual(evaluateFromScratch(engine).get('tunnel'));
  });

  test('a tuple derived two ways survives losing one derivation', () => {
    const { engine, binding, dpChassis, tunnel } = tunnels();
    engine.apply([
      insertTuple(binding, { dp: 1, port: 1, chassis: 1 }),
      insertTuple(binding, { dp: 1, port: 2, chassis: 2 }),
      insertTuple(binding, { dp: 1, port: 3, chassis: 2 }), // chassis 2 twice
    ]);
    expect(engine.derivations(dpChassis, { dp: 1, chassis: 2 })).toBe(2);
    const result = engine.apply([deleteTuple(binding, { dp: 1, port: 2, chassis: 2 })]);
    expect(result.changes).toEqual([]);
    expect(result.derivationChanges).toBe(1);
    expect(engine.derivations(dpChassis, { dp: 1, chassis: 2 })).toBe(1);
    expect(engine.size(tunnel)).toBe(2);
    const last = engine.apply([deleteTuple(binding, { dp: 1, port: 3, chassis: 2 })]);
    expect(last.of(tunnel).deleted).toHaveLength(2);
    expect(engine.has(dpChassis, { dp: 1, chassis: 2 })).toBe(false);
  });

  test('a global change reaches every datapath that depends on it, and only through present tuples', () => {
    const { engine, binding, chassis, tunnel } = tunnels();
    engine.apply([
      insertTuple(binding, { dp: 1, port: 1, chassis: 1 }),
      insertTuple(binding, { dp: 1, port: 2, chassis: 2 }),
      insertTuple(binding, { dp: 2, port: 1, chassis: 2 }),
      insertTuple(binding, { dp: 2, port: 2, chassis: 3 }),
    ]);
    const result = engine.apply([deleteTuple(chassis, { chassis: 2, ip: 'ip2' }), insertTuple(chassis, { chassis: 2, ip: 'new2' })]);
    expect(result.of(tunnel).deleted).toEqual([
      { dp: 1, from: 1, to: 2, ip: 'ip2' },
      { dp: 2, from: 3, to: 2, ip: 'ip2' },
    ]);
    expect(result.of(tunnel).inserted).toEqual([
      { dp: 1, from: 1, to: 2, ip: 'new2' },
      { dp: 2, from: 3, to: 2, ip: 'new2' },
    ]);
  });

  test('one new port touches only what depends on it, however large the network', () => {
    const work = (datapaths: number) => {
      const { engine, binding, chassis, tunnel } = tunnels();
      const changes = [];
      for (let c = 4; c <= 50; c++) changes.push(insertTuple(chassis, { chassis: c, ip: `ip${c}` }));
      for (let dp = 0; dp < datapaths; dp++) {
        for (let p = 0; p < 5; p++) changes.push(insertTuple(binding, { dp, port: p, chassis: 1 + ((dp + p * 7) % 50) }));
      }
      engine.apply(changes);
      const visited = () => engine.stats().rules.reduce((n, r) => n + r.recordsVisited, 0);
      const before = visited();
      const result = engine.apply([insertTuple(binding, { dp: 0, port: 99, chassis: 50 })]);
      expect(result.of(tunnel).inserted).toHaveLength(10); // to and from each of the datapath's 5 chassis
      return visited() - before;
    };
    const small = work(10);
    expect(work(1000)).toBe(small);
    expect(small).toBeLessThan(40);
  });

  test('three levels of rules run in dependency order and report in evaluation order', () => {
    const engine = new RulesEngine();
    // Declared out of dependency order on purpose.
    const c = engine.relation('c', { dp: 'number', x: 'number' }, { datapath: 'dp' });
    const b = engine.relation('b', { dp: 'number', x: 'number' }, { datapath: 'dp' });
    const a = engine.input('a', { dp: 'number', x: 'number' }, { datapath: 'dp' });
    engine.rule(c, (q) => q.from(b).join(b, { dp: 'dp', x: 'x' }).select((v) => ({ dp: v.dp, x: v.x * 10 })));
    engine.rule(b, (q) => q.from(a).select((v) => ({ dp: v.dp, x: v.x + 1 })));
    const result = engine.apply([insertTuple(a, { dp: 0, x: 1 })]);
    expect(names(result.changes)).toEqual(['b', 'c']);
    expect(engine.contents(c)).toEqual([{ dp: 0, x: 20 }]);
    expect(engine.program().relations.map((r) => r.name)).toEqual(['a', 'b', 'c']);
    const removed = engine.apply([deleteTuple(a, { dp: 0, x: 1 })]);
    expect(removed.of(c).deleted).toEqual([{ dp: 0, x: 20 }]);
    expect(engine.size(b) + engine.size(c)).toBe(0);
  });
});

describe('set semantics and the transaction boundary', () => {
  function copy() {
    const engine = new RulesEngine();
    const a = engine.input('a', { dp: 'number', x: 'number' }, { datapath: 'dp' });
    const b = engine.relation('b', { dp: 'number', x: 'number' }, { datapath: 'dp' });
    engine.rule(b, (q) => q.from(a).select((v) => ({ dp: v.dp, x: v.x })));
    return { engine, a, b };
  }

  test('inputs are sets: a second insert and a delete of an absent tuple change nothing', () => {
    const { engine, a, b } = copy();
    engine.begin();
    expect(engine.insert(a, { dp: 0, x: 1 })).toBe(true);
    expect(engine.insert(a, { dp: 0, x: 1 })).toBe(false);
    expect(engine.delete(a, { dp: 0, x: 2 })).toBe(false);
    engine.commit();
    expect(engine.derivations(b, { dp: 0, x: 1 })).toBe(1);
    const again = engine.apply([insertTuple(a, { dp: 0, x: 1 })]);
    expect(again.changes).toEqual([]);
    expect(again.inputChanges).toBe(0);
    // One delete removes it, however often it was inserted.
    engine.apply([deleteTuple(a, { dp: 0, x: 1 })]);
    expect(engine.contents(b)).toEqual([]);
  });

  test('changes that cancel within a transaction report nothing', () => {
    const { engine, a } = copy();
    engine.apply([insertTuple(a, { dp: 0, x: 1 })]);
    const churn = engine.apply([
      deleteTuple(a, { dp: 0, x: 1 }),
      insertTuple(a, { dp: 0, x: 1 }),
      insertTuple(a, { dp: 0, x: 2 }),
      deleteTuple(a, { dp: 0, x: 2 }),
    ]);
    expect(churn.changes).toEqual([]);
    expect(churn.inputChanges).toBe(0);
    expect(churn.size).toBe(0);
  });

  test('reported changes list deletions then insertions, each sorted, whatever the input order', () => {
    const { engine, a, b } = copy();
    engine.apply([3, 1, 2].map((x) => insertTuple(a, { dp: 0, x })));
    const result = engine.apply([
      insertTuple(a, { dp: 1, x: 9 }),
      deleteTuple(a, { dp: 0, x: 3 }),
      insertTuple(a, { dp: 0, x: 0 }),
      deleteTuple(a, { dp: 0, x: 1 }),
    ]);
    expect(result.of(b)).toEqual({
      relation: b,
      deleted: [
        { dp: 0, x: 1 },
        { dp: 0, x: 3 },
      ],
      inserted: [
        { dp: 0, x: 0 },
        { dp: 1, x: 9 },
      ],
    });
  });

  test('subscribers hear each commit that changed their relation, and may not start a transaction', () => {
    const { engine, a, b } = copy();
    const heard: number[] = [];
    const off = engine.subscribe(b, (change) => {
      heard.push(change.inserted.length - change.deleted.length);
      expect(() => engine.begin()).toThrow(/listener may not start/);
    });
    engine.apply([insertTuple(a, { dp: 0, x: 1 }), insertTuple(a, { dp: 0, x: 2 })]);
    engine.apply([insertTuple(a, { dp: 0, x: 2 })]); // no change, no call
    engine.apply([deleteTuple(a, { dp: 0, x: 1 })]);
    off();
    engine.apply([deleteTuple(a, { dp: 0, x: 2 })]);
    expect(heard).toEqual([2, -1]);
  });

  test('misuse of transactions is refused with a clear error', () => {
    const { engine, a, b } = copy();
    expect(() => engine.insert(a, { dp: 0, x: 1 })).toThrow(/no open transaction/);
    engine.begin();
    expect(() => engine.begin()).toThrow(/already open/);
    expect(() => engine.insert(b, { dp: 0, x: 1 })).toThrow(/only input relations/);
    expect(() => engine.insert(a, { dp: 0, x: 'one' } as never)).toThrow(/column 'x', expected number/);
    expect(() => engine.insert(a, { dp: 0 } as never)).toThrow(/nothing in column 'x'/);
    expect(() => engine.contents(b)).toThrow(/commit the open transaction/);
    engine.commit();
    expect(() => engine.relation('late', { x: 'number' }, { datapath: null })).toThrow(/program is fixed/);
    const other = new RulesEngine();
    const foreign = other.input('a', { dp: 'number', x: 'number' }, { datapath: 'dp' });
    expect(() => engine.apply([insertTuple(foreign, { dp: 0, x: 1 })])).toThrow(/not a relation of this engine/);
  });

  test('a malformed change aborts the whole apply, and abort() restores inputs and active datapaths', () => {
    const { engine, a, b } = copy();
    engine.apply([insertTuple(a, { dp: 0, x: 1 })]);
    expect(() =>
      engine.apply([deleteTuple(a, { dp: 0, x: 1 }), insertTuple(a, { dp: 0, x: 2 }), insertTuple(a, { dp: 0, x: '3' } as never)]),
    ).toThrow(/expected number/);
    expect(engine.storedInputs(a)).toEqual([{ dp: 0, x: 1 }]);
    engine.begin();
    engine.delete(a, { dp: 0, x: 1 });
    engine.insert(a, { dp: 1, x: 5 });
    engine.setActiveDatapaths([1]);
    engine.abort();
    expect(engine.activeDatapaths()).toBe('all');
    expect(engine.storedInputs(a)).toEqual([{ dp: 0, x: 1 }]);
    const next = engine.apply([insertTuple(a, { dp: 0, x: 4 })]);
    expect(next.of(b).inserted).toEqual([{ dp: 0, x: 4 }]);
    expect(engine.contents(b)).toEqual([
      { dp: 0, x: 1 },
      { dp: 0, x: 4 },
    ]);
    expect(engine.contents(b)).toEqual(evaluateFromScratch(engine).get('b'));
  });

  test('a rule function that throws during a commit leaves the engine refusing further work', () => {
    const engine = new RulesEngine();
    const a = engine.input('a', { dp: 'number', x: 'number' }, { datapath: 'dp' });
    const b = engine.relation('b', { dp: 'number', x: 'number' }, { datapath: 'dp' });
    engine.rule(b, (q) =>
      q
        .from(a)
        .where((v) => {
          if (v.x === 13) throw new Error('unlucky');
          return true;
        })
        .select((v) => ({ dp: v.dp, x: v.x })),
    );
    expect(() => engine.apply([insertTuple(a, { dp: 0, x: 13 })])).toThrow(/unlucky/);
    expect(() => engine.apply([])).toThrow(/unusable: a commit failed \(Error: unlucky\)/);
  });
});

describe('malformed programs', () => {
  test('cycles, including a relation deriving from itself, are refused when the rule is added', () => {
    const engine = new RulesEngine();
    const a = engine.input('a', { dp: 'number', x: 'number' }, { datapath: 'dp' });
    const b = engine.relation('b', { dp: 'number', x: 'number' }, { datapath: 'dp' });
    const c = engine.relation('c', { dp: 'number', x: 'number' }, { datapath: 'dp' });
    engine.rule(b, (q) => q.from(a).select((v) => v));
    engine.rule(c, (q) => q.from(b).select((v) => v));
    expect(() => engine.rule(b, (q) => q.from(c).select((v) => v), { name: 'back' })).toThrow(
      "rules: rule 'back' would make 'b' depend on itself ('b' ← 'c' ← 'b'); rules may not be recursive",
    );
    expect(() => engine.rule(c, (q) => q.from(c).select((v) => v))).toThrow(/'c' ← 'c'/);
    expect(() => engine.collect('agg', { from: a, groupBy: ['dp'], value: 'x', as: 'xs' })).not.toThrow();
    // The refused rules left nothing behind.
    engine.apply([insertTuple(a, { dp: 0, x: 1 })]);
    expect(engine.contents(c)).toEqual([{ dp: 0, x: 1 }]);
  });

  test('the first atom is on the datapath, every atom binds the same datapath variable, heads keep it', () => {
    const { engine, port, binding, chassis } = network();
    const out = engine.relation('out', { dp: 'number', ip: 'string' }, { datapath: 'dp' });
    const global = engine.relation('global', { ip: 'string' }, { datapath: null });
    expect(() =>
      engine.rule(out, (q) => q.from(chassis).join(binding, { dp: 'dp', chassis: 'chassis' }).select((v) => ({ dp: v.dp, ip: v.ip }))),
    ).toThrow(/first atom must be datapath-keyed \(on 'binding'\), not global 'chassis'/);
    expect(() =>
      engine.rule(out, (q) =>
        q
          .from(port)
          .join(binding, { dp: 'other', port: 'port' })
          .select((v) => ({ dp: v.dp, ip: '' })),
      ),
    ).toThrow(/binds its datapath column to 'other', not to 'dp'/);
    expect(() => engine.rule(out, (q) => q.from(port, { port: 'p' }).select(() => ({ dp: 1, ip: '' })))).toThrow(
      /must bind its datapath column 'dp' to a variable/,
    );
    expect(() => engine.rule(out, (q) => q.from(chassis).select((v) => ({ dp: 0, ip: v.ip })))).toThrow(
      /head 'out' is datapath-keyed, so the body must contain a datapath-keyed atom/,
    );
    // A global head may project away the datapath; a rule may join global relations only.
    engine.rule(global, (q) => q.from(port).join(binding, { dp: 'dp', port: 'port', chassis: 'c' }).join(chassis, { chassis: 'c', ip: 'ip' }).select((v) => ({ ip: v.ip })));
    engine.rule(global, (q) => q.from(chassis).select((v) => ({ ip: v.ip + '!' })));
    // A head whose datapath is not the body's is caught when it is derived.
    engine.rule(out, (q) => q.from(port).select((v) => ({ dp: v.dp + 1, ip: '' })), { name: 'shifted' });
    expect(() => engine.apply([insertTuple(port, { dp: 1, port: 1, mac: 1 })])).toThrow(
      /rule 'shifted' derived a 'out' tuple in datapath 2 from datapath 1/,
    );
  });

  test('declarations are checked', () => {
    const engine = new RulesEngine();
    const a = engine.input('a', { dp: 'number', x: 'number', tags: 'string[]' }, { datapath: 'dp' });
    expect(() => engine.input('a', { x: 'number' }, { datapath: null })).toThrow(/already declared/);
    expect(() => engine.input('e', {}, { datapath: null })).toThrow(/has no columns/);
    expect(() => engine.input('d', { x: 'float' } as never, { datapath: null })).toThrow(/unknown type 'float'/);
    expect(() => engine.input('f', { x: 'number' }, { datapath: 'y' as never })).toThrow(/does not have/);
    expect(() => engine.collect('g', { from: a, groupBy: ['x'], value: 'x', as: 'xs' })).toThrow(/must include the datapath column 'dp'/);
    expect(() => engine.collect('g', { from: a, groupBy: ['dp'], value: 'tags' as never, as: 'xs' })).toThrow(/must be a scalar column/);
    expect(() => engine.collect('g', { from: a, groupBy: ['dp'], value: 'x', as: 'dp' })).toThrow(/clashes with a group column/);
    const b = engine.relation('b', { dp: 'number', x: 'number' }, { datapath: 'dp' });
    expect(() => engine.rule(a as never, (q: any) => q.from(b).select((v: any) => v))).toThrow(/is an input relation/);
    expect(() => engine.rule(b, (q: any) => q.from(a).compute('x', (v: any) => v.x).select((v: any) => v))).toThrow(
      /compute\('x'\) names a variable that is already bound/,
    );
    expect(() => engine.rule(b, (q) => q.from(a, { dp: 'dp', x: 'x', tags: 'x' } as never).select((v: any) => v))).toThrow(
      /variable 'x' joins a number column with 'a.tags' \(string\[\]\)/,
    );
    expect(() => engine.rule(b, (q) => q.from(a, { dp: 'dp', x: lit('1') } as never).select((v: any) => v))).toThrow(/literal "1" does not fit/);
  });
});
