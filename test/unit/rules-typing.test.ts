// The typed rule API, checked by the type checker (npm test runs tsc first): bodies see exactly the
// variables bound before them with their column types, heads must build the head relation's tuple, and
// unknown columns, mistyped joins and literals, rebinding a variable and bad datapath columns are compile
// errors. The runtime part only confirms that the well-typed program runs.
import { expect, test } from 'vitest';
import { RulesEngine, insertTuple, lit } from '../../sim/rules/index.ts';

function declare() {
  const engine = new RulesEngine();
  const lport = engine.input('lport', { dp: 'number', port: 'number', mac: 'number', kind: 'string' }, { datapath: 'dp' });
  const binding = engine.input('binding', { dp: 'number', port: 'number', chassis: 'number' }, { datapath: 'dp' });
  const chassis = engine.input('chassis', { chassis: 'number', ip: 'string' }, { datapath: null });
  const l2 = engine.relation('l2', { dp: 'number', chassis: 'number', mac: 'number', ip: 'string' }, { datapath: 'dp' });
  return { engine, lport, binding, chassis, l2 };
}

/** Never called: each statement must fail to type-check (an unused @ts-expect-error fails tsc). */
export function typeErrors(): void {
  const { engine, lport, binding, chassis, l2 } = declare();
  const head = { chassis: 1, mac: 1, ip: '' };
  // @ts-expect-error binding has no column 'nope'
  engine.rule(l2, (q) => q.from(lport).join(binding, { dp: 'dp', nope: 'x' }).select((v) => ({ dp: v.dp, ...head })));
  // @ts-expect-error 'ip' is a string variable, binding.port a number column
  engine.rule(l2, (q) => q.from(chassis).join(binding, { dp: 'dp', port: 'ip' }).select((v) => ({ dp: v.dp, ...head })));
  // @ts-expect-error a number literal for a string column
  engine.rule(l2, (q) => q.from(lport, { dp: 'dp', kind: lit(3) }).select((v) => ({ dp: v.dp, ...head })));
  // @ts-expect-error compute may not rebind 'mac'
  engine.rule(l2, (q) => q.from(lport).compute('mac', (v) => v.mac).select((v) => ({ dp: v.dp, ...head })));
  // @ts-expect-error the head lacks columns
  engine.rule(l2, (q) => q.from(lport).select((v) => ({ dp: v.dp })));
  // @ts-expect-error 'ch' is not bound yet
  engine.rule(l2, (q) => q.from(lport).where((v) => v.ch > 1).select((v) => ({ dp: v.dp, ...head })));
  // @ts-expect-error a list column cannot be a datapath
  engine.input('x', { a: 'number[]' }, { datapath: 'a' });
  // @ts-expect-error collect needs a scalar value column of the source
  engine.collect('y', { from: lport, groupBy: ['dp'], value: 'nope', as: 'zs' });
}

test('a well-typed program runs, with literals, computed columns and collect', () => {
  const { engine, lport, binding, chassis, l2 } = declare();
  engine.rule(l2, (q) =>
    q
      .from(lport, { dp: 'dp', port: 'port', mac: 'mac', kind: lit('vif') })
      .join(binding, { dp: 'dp', port: 'port', chassis: 'ch' })
      .join(chassis, { chassis: 'ch', ip: 'ip' })
      .where((v) => v.mac > 0)
      .compute('tagged', (v) => v.mac + 0x100)
      .select((v) => ({ dp: v.dp, chassis: v.ch, mac: v.tagged, ip: v.ip })),
  );
  const flood = engine.collect('flood', { from: binding, groupBy: ['dp', 'chassis'], value: 'port', as: 'ports' });
  engine.apply([
    insertTuple(lport, { dp: 1, port: 1, mac: 5, kind: 'vif' }),
    insertTuple(lport, { dp: 1, port: 2, mac: 6, kind: 'router' }),
    insertTuple(binding, { dp: 1, port: 1, chassis: 3 }),
    insertTuple(binding, { dp: 1, port: 2, chassis: 3 }),
    insertTuple(chassis, { chassis: 3, ip: '10.0.0.3' }),
  ]);
  expect(engine.contents(l2)).toEqual([{ dp: 1, chassis: 3, mac: 0x105, ip: '10.0.0.3' }]);
  const lists: readonly { dp: number; chassis: number; ports: readonly number[] }[] = engine.contents(flood);
  expect(lists).toEqual([{ dp: 1, chassis: 3, ports: [1, 2] }]);
});
