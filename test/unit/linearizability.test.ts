// The linearizability checker on hand-written histories, known to be linearizable or not: stale reads,
// readers disagreeing on the order of concurrent writes, reads of values never written, unanswered writes
// (seen later, or never), real-time order, compare-and-set, multi-key histories where one key fails, and
// the refusals (malformed histories, bad options) and the search budget.
// Diagrams: time runs left to right, one line per client, |---| spans an op's call to its return, and
// |---> an op that was never answered.
import { describe, expect, test } from 'vitest';
import { checkLinearizable, type HistoryOp, type LinearizabilityResult } from '../../sim/check/linearizability.ts';
import {
  kvModel,
  registerModel,
  type KvInput,
  type KvOutput,
  type RegisterInput,
  type RegisterOutput,
  type Value,
} from '../../sim/check/linearizability-models.ts';

type RegOp = HistoryOp<RegisterInput, RegisterOutput>;
type KvOp = HistoryOp<KvInput, KvOutput>;

/** Builds register histories; ids count up from 1 in the order ops are written down. */
function registerHistory() {
  const ops: RegOp[] = [];
  const add = (client: string, call: number, ret: number | null, input: RegisterInput, output: RegisterOutput) =>
    ops.push({ id: ops.length + 1, client, call, ret, input, output: ret === null ? null : output });
  return {
    ops,
    write: (client: string, call: number, ret: number | null, value: Value) => add(client, call, ret, { f: 'write', value }, { ok: true }),
    read: (client: string, call: number, ret: number | null, value: Value | null) => add(client, call, ret, { f: 'read' }, { value }),
    cas: (client: string, call: number, ret: number | null, expected: Value | null, value: Value, ok: boolean) =>
      add(client, call, ret, { f: 'cas', expected, value }, { ok }),
  };
}

const reg = registerModel(0);

function expectFailure(result: LinearizabilityResult) {
  if (result.ok !== false) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result;
}

function expectOrder(result: LinearizabilityResult) {
  if (result.ok !== true) throw new Error(`expected linearizable, got ${JSON.stringify(result)}`);
  return result.order;
}

describe('registers', () => {
  test('an empty history is linearizable', () => {
    expect(checkLinearizable([], reg)).toEqual({ ok: true, order: [] });
  });

  test('a stale read after a completed write is not linearizable', () => {
    // a: |-w1-|
    // b:         |-r0-|
    const h = registerHistory();
    h.write('a', 0, 10, 1);
    h.read('b', 20, 30, 0);
    const failure = expectFailure(checkLinearizable(h.ops, reg));
    expect(failure.longestPrefix).toEqual([1]);
    expect(failure.stuckAt).toEqual([2]);
    expect(failure.message).toContain('#2 b read() -> 0');
  });

  test('a read concurrent with a write may see either value', () => {
    // a: |----w1----|
    // b:   |-r0-|
    // c:     |-r1-|
    // d:        |-r1-|
    const h = registerHistory();
    h.write('a', 0, 40, 1);
    h.read('b', 5, 15, 0);
    h.read('c', 10, 20, 1);
    h.read('d', 18, 50, 1);
    expect(expectOrder(checkLinearizable(h.ops, reg))).toEqual([2, 1, 3, 4]);
  });

  test('once a reader saw the new value, a later read may not see the old one', () => {
    // a: |------w1------|
    // b:   |-r1-|
    // c:          |-r0-|
    const h = registerHistory();
    h.write('a', 0, 100, 1);
    h.read('b', 10, 20, 1);
    h.read('c', 30, 40, 0);
    expectFailure(checkLinearizable(h.ops, reg));
  });

  test('touching intervals are concurrent', () => {
    // a: |-w1-|
    // b:      |-r0-|   (the read's call is at the write's return time)
    const h = registerHistory();
    h.write('a', 0, 10, 1);
    h.read('b', 10, 20, 0);
    expect(expectOrder(checkLinearizable(h.ops, reg))).toEqual([2, 1]);
  });

  test('two readers that see concurrent writes in opposite orders are not linearizable', () => {
    // a: |--------w1--------|
    // b: |--------w2--------|
    // c:   |-r1-| |-r2-|
    // d:   |-r2-| |-r1-|
    const h = registerHistory();
    h.write('a', 0, 100, 1);
    h.write('b', 0, 100, 2);
    h.read('c', 10, 20, 1);
    h.read('c', 30, 40, 2);
    h.read('d', 10, 20, 2);
    h.read('d', 30, 40, 1);
    const failure = expectFailure(checkLinearizable(h.ops, reg));
    expect(failure.partition).toBe(0);
    expect(failure.message).toMatch(/^not linearizable: /);
  });

  test('two readers that see concurrent writes in the same order are linearizable', () => {
    const h = registerHistory();
    h.write('a', 0, 100, 1);
    h.write('b', 0, 100, 2);
    h.read('c', 10, 20, 1);
    h.read('c', 30, 40, 2);
    h.read('d', 10, 20, 1);
    h.read('d', 30, 40, 2);
    expect(expectOrder(checkLinearizable(h.ops, reg))).toEqual([1, 3, 5, 2, 4, 6]);
  });

  test('a read of a value never written is not linearizable', () => {
    // a: |-w1-|
    // b:   |-r7-|
    const h = registerHistory();
    h.write('a', 0, 10, 1);
    h.read('b', 5, 15, 7);
    const failure = expectFailure(checkLinearizable(h.ops, reg));
    expect(failure.longestPrefix).toEqual([1]);
    expect(failure.stuckAt).toEqual([2]);
  });

  test('writes that completed in real-time order cannot be read out of that order', () => {
    // a: |-w1-|   |-w2-|
    // b:                 |-r1-|
    const h = registerHistory();
    h.write('a', 0, 10, 1);
    h.write('a', 20, 30, 2);
    h.read('b', 40, 50, 1);
    expect(expectFailure(checkLinearizable(h.ops, reg)).longestPrefix).toEqual([1, 2]);
  });

  test('a read cannot see a write invoked after the read returned', () => {
    // a:        |-w1-|
    // b: |-r1-|
    const h = registerHistory();
    h.write('a', 20, 30, 1);
    h.read('b', 0, 10, 1);
    expectFailure(checkLinearizable(h.ops, reg));
  });
});

describe('unanswered operations', () => {
  test('an unanswered write that a later read sees took effect', () => {
    // a: |-w1--->
    // b:           |-r1-|
    const h = registerHistory();
    h.write('a', 0, null, 1);
    h.read('b', 50, 60, 1);
    expect(expectOrder(checkLinearizable(h.ops, reg))).toEqual([1, 2]);
  });

  test('an unanswered write that no read ever sees may never have happened', () => {
    // a: |-w1--->
    // b:           |-r0-|   |-r0-|
    const h = registerHistory();
    h.write('a', 0, null, 1);
    h.read('b', 50, 60, 0);
    h.read('b', 70, 80, 0);
    expect(expectOrder(checkLinearizable(h.ops, reg))).toEqual([2, 3]);
  });

  test('an unanswered write may take effect long after it was invoked', () => {
    // a: |-w1--->
    // b:          |-r0-| |-r1-|
    const h = registerHistory();
    h.write('a', 0, null, 1);
    h.read('b', 50, 60, 0);
    h.read('b', 70, 80, 1);
    expect(expectOrder(checkLinearizable(h.ops, reg))).toEqual([2, 1, 3]);
  });

  test('an unanswered write cannot take effect before its call', () => {
    // a:        |-w1--->
    // b: |-r1-|
    const h = registerHistory();
    h.write('a', 20, null, 1);
    h.read('b', 0, 10, 1);
    expectFailure(checkLinearizable(h.ops, reg));
  });

  test('an unanswered write takes effect at one point only', () => {
    // a: |-w1-|  |-w2--->
    // b:                   |-r2-| |-r1-| |-r2-|
    const h = registerHistory();
    h.write('a', 0, 10, 1);
    h.write('a', 20, null, 2);
    h.read('b', 30, 40, 2);
    h.read('b', 50, 60, 1);
    h.read('b', 70, 80, 2);
    expectFailure(checkLinearizable(h.ops, reg));
  });
});

describe('compare-and-set', () => {
  test('of two concurrent swaps from the same value only one can succeed', () => {
    // a: |-cas(0,1) ok-|
    // b: |-cas(0,2) ok-|
    const h = registerHistory();
    h.cas('a', 0, 10, 0, 1, true);
    h.cas('b', 0, 10, 0, 2, true);
    expectFailure(checkLinearizable(h.ops, reg));
  });

  test('one succeeds and the other fails, and reads see the winner', () => {
    // a: |-cas(0,1) ok---|
    // b: |-cas(0,2) fail-|
    // c:                   |-r1-|
    const h = registerHistory();
    h.cas('a', 0, 10, 0, 1, true);
    h.cas('b', 0, 10, 0, 2, false);
    h.read('c', 20, 30, 1);
    expect(expectOrder(checkLinearizable(h.ops, reg))).toEqual([1, 2, 3]);
  });

  test('a failed swap must have seen a different value', () => {
    // a: |-cas(0,1) fail-|   (the register holds 0 throughout)
    const h = registerHistory();
    h.cas('a', 0, 10, 0, 1, false);
    expectFailure(checkLinearizable(h.ops, reg));
  });

  test('an unanswered swap acts only if its expected value is there when it takes effect', () => {
    // a: |-w5-|
    // b:   |-cas(5,1)--->
    // c:                  |-r1-|
    const h = registerHistory();
    h.write('a', 0, 10, 5);
    h.cas('b', 5, null, 5, 1, true);
    h.read('c', 20, 30, 1);
    expect(expectOrder(checkLinearizable(h.ops, reg))).toEqual([1, 2, 3]);
    // a: |-w5-|
    // b:        |-cas(0,1)--->
    // c:                       |-r1-|
    const stale = registerHistory();
    stale.write('a', 0, 10, 5);
    stale.cas('b', 20, null, 0, 1, true);
    stale.read('c', 30, 40, 1);
    expectFailure(checkLinearizable(stale.ops, reg));
  });
});

describe('key-value histories, one key at a time', () => {
  const kv = kvModel();
  function kvHistory() {
    const ops: KvOp[] = [];
    const add = (client: string, call: number, ret: number | null, input: KvInput, output: KvOutput) =>
      ops.push({ id: ops.length + 1, client, call, ret, input, output: ret === null ? null : output });
    return {
      ops,
      put: (client: string, call: number, ret: number | null, key: string, value: Value) =>
        add(client, call, ret, { f: 'put', key, value }, { ok: true }),
      get: (client: string, call: number, ret: number | null, key: string, value: Value | null) =>
        add(client, call, ret, { f: 'get', key }, { value }),
      del: (client: string, call: number, ret: number | null, key: string) => add(client, call, ret, { f: 'delete', key }, { ok: true }),
      cas: (client: string, call: number, ret: number | null, key: string, expected: Value | null, value: Value, ok: boolean) =>
        add(client, call, ret, { f: 'cas', key, expected, value }, { ok }),
    };
  }

  test('keys are independent: a history linearizable per key is linearizable', () => {
    // a: |-put x 1-|         |-get y nil-|
    // b:    |-put y 2-| |-get x 1-| |-del y-| |-get y nil-|
    const h = kvHistory();
    h.put('a', 0, 10, 'x', 1);
    h.put('b', 5, 15, 'y', 2);
    h.get('b', 20, 30, 'x', 1);
    h.get('a', 25, 40, 'y', 2);
    h.del('b', 35, 45, 'y');
    h.get('b', 50, 60, 'y', null);
    const order = expectOrder(checkLinearizable(h.ops, kv));
    expect([...order].sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test('a key read as absent before anything is written', () => {
    const h = kvHistory();
    h.get('a', 0, 10, 'x', null);
    h.cas('a', 20, 30, 'x', null, 'v', true);
    h.cas('b', 40, 50, 'x', null, 'w', false);
    h.get('b', 60, 70, 'x', 'v');
    expect(expectOrder(checkLinearizable(h.ops, kv))).toEqual([1, 2, 3, 4]);
  });

  test('when one key fails, the failure names that key and only its ops', () => {
    // x: a |-put x 1-|  b |-get x 1-|                  (fine)
    // y: a |-put y 1-|  a |-put y 2-|  b |-get y 1-|   (stale)
    // z: c |-get z nil-|                               (fine)
    const h = kvHistory();
    h.put('a', 0, 10, 'x', 1);
    h.get('b', 20, 30, 'x', 1);
    h.put('a', 40, 50, 'y', 1);
    h.put('a', 60, 70, 'y', 2);
    h.get('b', 80, 90, 'y', 1);
    h.get('c', 0, 5, 'z', null);
    const failure = expectFailure(checkLinearizable(h.ops, kv));
    expect(failure.partition).toBe(1);
    expect(failure.longestPrefix).toEqual([3, 4]);
    expect(failure.stuckAt).toEqual([5]);
    expect(failure.message).toContain('get("y") -> 1');
    expect(failure.message).toContain('partition 1');
    expect(failure.message).not.toContain('"x"');
    expect(failure.message).not.toContain('"z"');
    expect(failure.message.includes('\n')).toBe(false);
  });

  test('a delete makes the key absent again', () => {
    const h = kvHistory();
    h.put('a', 0, 10, 'k', 'v');
    h.del('a', 20, 30, 'k');
    h.get('b', 40, 50, 'k', 'v');
    expectFailure(checkLinearizable(h.ops, kv));
  });
});

describe('refusals and the search budget', () => {
  const op = (id: number, client: string, call: number, ret: number | null): RegOp => ({
    id,
    client,
    call,
    ret,
    input: { f: 'read' },
    output: ret === null ? null : { value: 0 },
  });

  test.each([
    ['duplicate ids', [op(1, 'a', 0, 10), op(1, 'b', 0, 10)], /duplicate op id 1/],
    ['a return before the call', [op(1, 'a', 10, 5)], /op 1 returns at 5, before its call at 10/],
    ['overlapping ops of one client', [op(1, 'a', 0, 10), op(2, 'a', 5, 15)], /client a overlaps op 1 with op 2/],
    ['an op after an unanswered one', [op(1, 'a', 0, null), op(2, 'a', 5, 15)], /client a overlaps op 1 with op 2/],
    ['an answered op without output', [{ ...op(1, 'a', 0, 10), output: null }], /op 1 must have a null output exactly when its ret is null/],
    ['a non-finite call', [op(1, 'a', Number.NaN, 10)], /op 1 has a non-finite call time/],
  ])('refuses %s with a one-line error', (_name, ops, message) => {
    expect(() => checkLinearizable(ops, reg)).toThrow(message);
  });

  test('back-to-back ops of one client are allowed', () => {
    expect(checkLinearizable([op(1, 'a', 0, 10), op(2, 'a', 10, 20)], reg).ok).toBe(true);
  });

  test.each([0, -1, 1.5, Number.NaN])('refuses maxSteps %s', (maxSteps) => {
    expect(() => checkLinearizable([], reg, { maxSteps })).toThrow(/maxSteps must be a positive integer/);
  });

  test('a model whose partition loses ops is refused', () => {
    const lossy = { ...reg, partition: (ops: readonly RegOp[]) => [ops.slice(1)] };
    expect(() => checkLinearizable([op(1, 'a', 0, 10), op(2, 'b', 0, 10)], lossy)).toThrow(/covers 1 of 2 ops/);
  });

  test('an exhausted budget answers unknown, not a verdict', () => {
    // Many concurrent writes and a read of a value none of them wrote: every order must be tried.
    const h = registerHistory();
    for (let i = 0; i < 12; i++) h.write(`w${i}`, 0, 100, i + 1);
    h.read('r', 0, 100, 99);
    const result = checkLinearizable(h.ops, reg, { maxSteps: 50 });
    expect(result.ok).toBe('unknown');
    if (result.ok === 'unknown') expect(result.message).toContain('budget of 50 steps');
    expect(checkLinearizable(h.ops, reg).ok).toBe(false);
  });
});
