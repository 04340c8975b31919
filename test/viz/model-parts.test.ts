// The trace model's parts on their own: the checkpointed history against a plain replay, the first-seen
// lists, VM placement through a migration, flow counting by flow-mod command, failover times, the
// message rate of a long trace, and the node-kind table held to the simulator's own.

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { NODE_KIND } from '../../sim/dataplane/topology-builder.ts';
import { failoversOf } from '../../viz/src/model/failovers.ts';
import { FirstSeen } from '../../viz/src/model/first-seen.ts';
import { FlowCounts } from '../../viz/src/model/flow-counts.ts';
import { KeyedHistory } from '../../viz/src/model/keyed-history.ts';
import { mergeByLine, type MasterChange } from '../../viz/src/model/mastership.ts';
import { MessageRate } from '../../viz/src/model/message-rate.ts';
import { hasSwitch, roleOfKind } from '../../viz/src/model/node-roles.ts';
import { VmPlacement } from '../../viz/src/model/vm-placement.ts';

describe('KeyedHistory', () => {
  const change = fc.record({ dt: fc.nat({ max: 3 }), key: fc.constantFrom('a', 'b', 'c', 'd', 'e'), value: fc.option(fc.constantFrom('x', 'y', 'z'), { nil: undefined }) });

  test('the state at any time equals a replay of the changes up to it, across many checkpoints', () => {
    fc.assert(
      fc.property(fc.array(change, { minLength: 150, maxLength: 600, size: 'max' }), fc.array(fc.integer({ min: -2, max: 1200 }), { minLength: 1, maxLength: 30 }), (changes, queries) => {
        const history = new KeyedHistory<string>();
        let t = 0;
        const timed = changes.map((c) => ({ ...c, t: (t += c.dt) }));
        for (const c of timed) history.set(c.t, c.key, c.value);
        for (const q of queries) {
          const replay = new Map<string, string>();
          for (const c of timed) {
            if (c.t > q) break;
            if (c.value === undefined) replay.delete(c.key);
            else replay.set(c.key, c.value);
          }
          expect([...history.stateAt(q)]).toEqual([...replay]);
        }
      }),
      { numRuns: 60 },
    );
  });
});

test('FirstSeen: names known by a time, sorted, each once', () => {
  const seen = new FirstSeen();
  seen.add(0, 'h2');
  seen.add(0, 'h10');
  seen.add(5, 'h1');
  seen.add(7, 'h2');
  expect(seen.knownAt(-1)).toEqual([]);
  expect(seen.knownAt(4)).toEqual(['h10', 'h2']);
  expect(seen.knownAt(5)).toEqual(['h1', 'h10', 'h2']);
  expect(seen.knownAt(5)).toBe(seen.knownAt(100));
});

describe('VmPlacement', () => {
  test('a migrating VM stays on its source until it resumes on the destination', () => {
    const p = new VmPlacement();
    p.attach(0, 'a1', 'h1');
    p.attach(10, 'a1', 'h2');
    expect(p.history.current('a1')).toBe('h1');
    p.resume(15, 'a1', 'h2');
    p.detach(16, 'a1', 'h1');
    expect([...p.history.stateAt(14)]).toEqual([['a1', 'h1']]);
    expect([...p.history.stateAt(15)]).toEqual([['a1', 'h2']]);
  });

  test('a move by detach then attach; a detach of the running host falls back to the other attachment', () => {
    const p = new VmPlacement();
    p.attach(0, 'v', 'h1');
    p.detach(5, 'v', 'h1');
    expect(p.history.current('v')).toBeUndefined();
    p.attach(5, 'v', 'h2');
    p.attach(6, 'v', 'h3');
    p.detach(7, 'v', 'h2');
    expect(p.history.current('v')).toBe('h3');
    p.resume(8, 'v', 'h9');
    expect(p.history.current('v')).toBe('h3');
  });
});

test('FlowCounts: add and modify install, delete-strict and delete-cookie remove, a crash empties', () => {
  const flows = new FlowCounts();
  flows.flowmod(1, 's', 'add', '0/1/a', 'c1');
  flows.flowmod(1, 's', 'add', '0/1/b', 'c1');
  flows.flowmod(2, 's', 'modify', '0/1/c', 'c2');
  flows.flowmod(2, 's', 'add', '0/1/a', 'c2');
  flows.flowmod(3, 's', 'delete-cookie', '', 'c1');
  flows.flowmod(4, 's', 'delete-strict', '0/1/c', '');
  flows.flowmod(5, 's', 'unknown-command', '0/1/a', '');
  flows.flowmod(6, 's', 'add', '0/1/d', 'c3');
  flows.crash(7, 's');
  flows.crash(7, 'not-a-switch');
  expect(flows.series()).toEqual({
    s: [
      { t: 1, value: 2 },
      { t: 2, value: 3 },
      { t: 3, value: 2 },
      { t: 4, value: 1 },
      { t: 6, value: 2 },
      { t: 7, value: 0 },
    ],
  });
});

describe('failoversOf', () => {
  const change = (line: number, entity: string, master: string | undefined): MasterChange => ({ t: line * 10, line, entity, master });

  test('the time until every switch the crashed controller mastered has another master at once', () => {
    const changes = [change(1, 'h1', 'c1'), change(1, 'h2', 'c1'), change(2, 'h3', 'c2'), change(5, 'h1', undefined), change(5, 'h2', undefined), change(7, 'h1', 'c2'), change(8, 'h1', undefined), change(9, 'h2', 'c3'), change(10, 'h1', 'c3')];
    expect(failoversOf(changes, [{ node: 'c1', t: 50, line: 5 }])).toEqual([{ node: 'c1', crashedAt: 50, recoveredAfterNs: 50 }]);
  });

  test('never recovered is null; a controller that mastered nothing recovers at once', () => {
    const changes = [change(1, 'h1', 'c1'), change(5, 'h1', undefined), change(8, 'h1', 'c1')];
    expect(
      failoversOf(changes, [
        { node: 'c1', t: 50, line: 5 },
        { node: 'c9', t: 60, line: 6 },
      ]),
    ).toEqual([
      { node: 'c1', crashedAt: 50, recoveredAfterNs: null },
      { node: 'c9', crashedAt: 60, recoveredAfterNs: 0 },
    ]);
  });
});

test('mergeByLine keeps trace order, the first list first on equal lines', () => {
  expect(mergeByLine([{ line: 1, s: 'a' }, { line: 4, s: 'b' }], [{ line: 1, s: 'c' }, { line: 2, s: 'd' }, { line: 9, s: 'e' }]).map((x) => x.s)).toEqual(['a', 'c', 'd', 'b', 'e']);
});

test('MessageRate: one point per second; a claimed end years away gives points only around the sends', () => {
  const rate = new MessageRate();
  rate.send(0);
  rate.send(999_999_999);
  rate.send(2_500_000_000);
  expect(rate.points(3_000_000_000).map((p) => p.value)).toEqual([2, 0, 1, 0]);
  const far = rate.points(Number.MAX_SAFE_INTEGER);
  expect(far.length).toBeLessThan(10);
  expect(far.at(-1)).toEqual({ t: Math.floor(Number.MAX_SAFE_INTEGER / 1e9) * 1e9, value: 0 });
});

test("node roles: the simulator's node kinds", () => {
  expect(roleOfKind(NODE_KIND.host)).toBe('host');
  expect(roleOfKind(NODE_KIND.pool)).toBe('pool');
  expect(roleOfKind(NODE_KIND.gateway)).toBe('gateway');
  expect(roleOfKind(NODE_KIND.segment)).toBe('segment');
  expect(roleOfKind('replica')).toBe('other');
  expect(roleOfKind('__proto__')).toBe('other');
  expect((['host', 'pool', 'gateway', 'segment', 'controller'] as const).filter(hasSwitch)).toEqual(['host', 'pool', 'gateway']);
});
