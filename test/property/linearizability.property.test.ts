// Properties of the linearizability checker: (1) histories recorded around a real sequential execution
// (each op's interval contains its point of effect; some ops unanswered, with or without effect) are
// linearizable; (2) on small random histories the checker agrees with a brute-force search over every
// real-time-consistent order and every keep-or-drop choice for unanswered ops; (3) every order it returns
// is a valid linearization of the whole history. Plus a 1,000-op key-value history as a speed check.
import { describe, expect } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { checkLinearizable, type HistoryOp, type Model } from '../../sim/check/linearizability.ts';
import {
  kvModel,
  registerModel,
  type KvInput,
  type KvOutput,
  type RegisterInput,
  type RegisterOutput,
  type Value,
} from '../../sim/check/linearizability-models.ts';

const runs = (fallback: number) => Number(process.env.NVSIM_PROPERTY_RUNS ?? fallback);

type KvOp = HistoryOp<KvInput, KvOutput>;

// ---- (1) histories around a sequential execution -------------------------------------------------

/** One op of a sequential execution, in the order the ops take effect. */
interface PlannedOp {
  client: number;
  f: 'get' | 'put' | 'delete' | 'cas';
  key: number;
  value: number;
  /** For cas: whether `expected` is the value actually there. */
  casHits: boolean;
  /** How far (in percent of the gap to the client's neighbouring ops, < 50) the interval reaches out. */
  callSlack: number;
  retSlack: number;
  /** Applies to a client's last op only: never answered; `takesEffect` says whether it happened. */
  unanswered: boolean;
  takesEffect: boolean;
}

const GAP_NS = 1000;

function plannedOpArb(clients: number, keys: number): fc.Arbitrary<PlannedOp> {
  return fc.record({
    client: fc.nat({ max: clients - 1 }),
    f: fc.constantFrom('get', 'put', 'delete', 'cas'),
    key: fc.nat({ max: keys - 1 }),
    value: fc.nat({ max: 4 }),
    casHits: fc.boolean(),
    callSlack: fc.nat({ max: 49 }),
    retSlack: fc.nat({ max: 49 }),
    unanswered: fc.boolean(),
    takesEffect: fc.boolean(),
  });
}

/** Runs the plan on a plain map and records each op over an interval around its point of effect. */
function recordExecution(plan: readonly PlannedOp[]): KvOp[] {
  const store = new Map<string, Value>();
  const point = (i: number) => (i + 1) * GAP_NS;
  const lastOfClient = new Map<number, number>();
  plan.forEach((p, i) => lastOfClient.set(p.client, i));
  const previousOfClient = new Map<number, number>();
  const nextOfClient = new Map<number, number>();
  const seenLast = new Map<number, number>();
  plan.forEach((p, i) => {
    const before = seenLast.get(p.client);
    if (before !== undefined) {
      previousOfClient.set(i, before);
      nextOfClient.set(before, i);
    }
    seenLast.set(p.client, i);
  });

  return plan.map((p, i) => {
    const key = `k${p.key}`;
    const current = store.get(key) ?? null;
    let input: KvInput;
    let output: KvOutput;
    let effect: () => void = () => {};
    switch (p.f) {
      case 'get':
        input = { f: 'get', key };
        output = { value: current };
        break;
      case 'put':
        input = { f: 'put', key, value: p.value };
        output = { ok: true };
        effect = () => store.set(key, p.value);
        break;
      case 'delete':
        input = { f: 'delete', key };
        output = { ok: true };
        effect = () => store.delete(key);
        break;
      case 'cas': {
        const expected = p.casHits ? current : current === null ? p.value : null;
        input = { f: 'cas', key, expected, value: p.value };
        output = { ok: p.casHits };
        if (p.casHits) effect = () => store.set(key, p.value);
        break;
      }
    }
    const unanswered = p.unanswered && lastOfClient.get(p.client) === i;
    if (!unanswered || p.takesEffect) effect();
    const t = point(i);
    const before = previousOfClient.get(i);
    const after = nextOfClient.get(i);
    const low = before === undefined ? 0 : point(before);
    const high = after === undefined ? t + 10 * GAP_NS : point(after);
    return {
      id: i + 1,
      client: `c${p.client}`,
      call: t - Math.floor(((t - low) * p.callSlack) / 100),
      ret: unanswered ? null : t + Math.floor(((high - t) * p.retSlack) / 100),
      input,
      output: unanswered ? null : output,
    };
  });
}

const executionArb = fc
  .record({ clients: fc.integer({ min: 1, max: 5 }), keys: fc.integer({ min: 1, max: 3 }) })
  .chain(({ clients, keys }) => fc.array(plannedOpArb(clients, keys), { maxLength: 60 }));

// ---- (3) what a valid linearization is -------------------------------------------------------------

/** Replays `order` through the model (no partitioning) and checks real-time precedence and coverage. */
function expectValidLinearization<S, I, O>(history: readonly HistoryOp<I, O>[], model: Model<S, I, O>, order: readonly number[]) {
  const byId = new Map(history.map((op) => [op.id, op]));
  expect(new Set(order).size).toBe(order.length);
  for (const op of history) if (op.ret !== null) expect(order).toContain(op.id);
  let state = model.init();
  let latestCall = -Infinity;
  for (const id of order) {
    const op = byId.get(id);
    if (op === undefined) throw new Error(`order names unknown op ${id}`);
    const result = model.step(state, op.input, op.output);
    expect(result.ok, `op ${id} replays with its recorded output`).toBe(true);
    state = result.state;
    // An op placed after one invoked later than it returned would break real-time order.
    if (op.ret !== null) expect(op.ret, `op ${id} returned before an earlier-placed op was invoked`).toBeGreaterThanOrEqual(latestCall);
    latestCall = Math.max(latestCall, op.call);
  }
}

// ---- (2) brute force over small random histories ---------------------------------------------------

/** Whether some subset of the unanswered ops, together with every answered op, has an order that
 *  respects real time and replays through the model. Every order is tried; nothing is pruned by state. */
function bruteForceLinearizable<S, I, O>(history: readonly HistoryOp<I, O>[], model: Model<S, I, O>): boolean {
  const answered = history.filter((op) => op.ret !== null);
  const unanswered = history.filter((op) => op.ret === null);
  const precedes = (a: HistoryOp<I, O>, b: HistoryOp<I, O>) => a.ret !== null && a.ret < b.call;
  const orderExists = (remaining: readonly HistoryOp<I, O>[], state: S): boolean => {
    if (remaining.length === 0) return true;
    return remaining.some((op) => {
      if (remaining.some((other) => other !== op && precedes(other, op))) return false;
      const result = model.step(state, op.input, op.output);
      return result.ok && orderExists(remaining.filter((other) => other !== op), result.state);
    });
  };
  for (let mask = 0; mask < 1 << unanswered.length; mask++) {
    const kept = unanswered.filter((_, i) => (mask >> i) & 1);
    if (orderExists([...answered, ...kept], model.init())) return true;
  }
  return false;
}

/** A small random op: client, gap after the client's previous op, duration, and a random operation
 *  with a random (often wrong) output. */
interface RandomOp {
  client: number;
  gap: number;
  duration: number;
  f: 'read' | 'write' | 'cas';
  key: number;
  value: number;
  expected: number;
  readValue: number;
  casOk: boolean;
  unanswered: boolean;
}

const randomOpArb: fc.Arbitrary<RandomOp> = fc.record({
  client: fc.nat({ max: 2 }),
  gap: fc.nat({ max: 20 }),
  duration: fc.nat({ max: 30 }),
  f: fc.constantFrom('read', 'write', 'cas'),
  key: fc.nat({ max: 1 }),
  value: fc.integer({ min: 1, max: 2 }),
  expected: fc.nat({ max: 2 }),
  readValue: fc.nat({ max: 2 }),
  casOk: fc.boolean(),
  unanswered: fc.boolean(),
});

/** Lays each client's ops end to end (so a client has one op at a time); only a last op may be unanswered. */
function layOut(ops: readonly RandomOp[]): { id: number; client: string; call: number; ret: number | null; r: RandomOp }[] {
  const clientEnd = new Map<number, number>();
  const lastOfClient = new Map<number, number>();
  ops.forEach((r, i) => lastOfClient.set(r.client, i));
  return ops.map((r, i) => {
    const call = (clientEnd.get(r.client) ?? 0) + r.gap;
    const ret = call + r.duration;
    clientEnd.set(r.client, ret);
    return { id: i + 1, client: `c${r.client}`, call, ret: r.unanswered && lastOfClient.get(r.client) === i ? null : ret, r };
  });
}

function registerHistoryOf(ops: readonly RandomOp[]): HistoryOp<RegisterInput, RegisterOutput>[] {
  return layOut(ops).map(({ id, client, call, ret, r }) => {
    const [input, output]: [RegisterInput, RegisterOutput] =
      r.f === 'read'
        ? [{ f: 'read' }, { value: r.readValue }]
        : r.f === 'write'
          ? [{ f: 'write', value: r.value }, { ok: true }]
          : [{ f: 'cas', expected: r.expected, value: r.value }, { ok: r.casOk }];
    return { id, client, call, ret, input, output: ret === null ? null : output };
  });
}

function kvHistoryOf(ops: readonly RandomOp[]): KvOp[] {
  return layOut(ops).map(({ id, client, call, ret, r }) => {
    const key = `k${r.key}`;
    const [input, output]: [KvInput, KvOutput] =
      r.f === 'read'
        ? [{ f: 'get', key }, { value: r.readValue === 0 ? null : r.readValue }]
        : r.f === 'write'
          ? r.value === 2
            ? [{ f: 'delete', key }, { ok: true }]
            : [{ f: 'put', key, value: r.value }, { ok: true }]
          : [{ f: 'cas', key, expected: r.expected === 0 ? null : r.expected, value: r.value }, { ok: r.casOk }];
    return { id, client, call, ret, input, output: ret === null ? null : output };
  });
}

const smallHistoryArb = fc.array(randomOpArb, { minLength: 1, maxLength: 7 });

describe('linearizability checker', () => {
  test.prop([executionArb], { numRuns: runs(200) })('histories recorded around a sequential execution are linearizable', (plan) => {
    const history = recordExecution(plan);
    const model = kvModel();
    const result = checkLinearizable(history, model);
    expect(result.ok, result.ok === true ? '' : result.message).toBe(true);
    if (result.ok === true) expectValidLinearization(history, model, result.order);
  });

  test.prop([smallHistoryArb], { numRuns: runs(300) })('on a register, agrees with brute force', (ops) => {
    const history = registerHistoryOf(ops);
    const model = registerModel(0);
    const result = checkLinearizable(history, model);
    expect(result.ok).toBe(bruteForceLinearizable(history, model));
    if (result.ok === true) expectValidLinearization(history, model, result.order);
  });

  test.prop([smallHistoryArb], { numRuns: runs(300) })('on two keys, checked key by key, agrees with brute force on the whole map', (ops) => {
    const history = kvHistoryOf(ops);
    const model = kvModel();
    const result = checkLinearizable(history, model);
    expect(result.ok).toBe(bruteForceLinearizable(history, model));
    if (result.ok === true) expectValidLinearization(history, model, result.order);
  });

  test('a 1,000-op history of 5 clients over 10 keys checks quickly', () => {
    const [plan] = fc.sample(fc.array(plannedOpArb(5, 10), { minLength: 1000, maxLength: 1000 }), { seed: 20240611, numRuns: 1 });
    const history = recordExecution(plan);
    const model = kvModel();
    const result = checkLinearizable(history, model);
    expect(result.ok).toBe(true);
    if (result.ok === true) expectValidLinearization(history, model, result.order);
  });
});
