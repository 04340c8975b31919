// The linearizability checker: decides whether a recorded history of client operations (invocation time,
// response time or none, input, output) is explained by some total order that respects real time and a
// sequential model. Wing–Gong search with Lowe's improvements: depth-first over the time-sorted list of
// call/return entries, linearizing any pending call that comes before the first unmatched return,
// memoizing (linearized set, model state) to prune, backtracking on failure. Models may split a history
// into independent parts (P-compositionality), each searched on its own.
// Owns only the search and the history's validation; it never runs or changes the simulated system, and
// knows no operation semantics beyond what a model's `step` says.
//
// Real-time order: A precedes B exactly when A.ret < B.call; intervals that touch are concurrent.
// An unanswered op (ret null) takes effect at some point after its call, or never, so the search may
// leave it out of the linearization.

export interface HistoryOp<I, O> {
  readonly id: number;
  /** The process that invoked it; a client issues one op at a time. */
  readonly client: string;
  /** Virtual time of invocation (ns). */
  readonly call: number;
  /** Time of the response; null when never answered (timed out, crashed). */
  readonly ret: number | null;
  readonly input: I;
  /** null exactly when ret is null. */
  readonly output: O | null;
}

export interface Model<S, I, O> {
  init(): S;
  /** The state after applying input; ok=false when `output` is not what the model would return.
   *  When output is null (unanswered op), any output is acceptable. Must not mutate `state`. */
  step(state: S, input: I, output: O | null): { ok: boolean; state: S };
  /** A canonical string of a state, for memoization. */
  stateKey(state: S): string;
  /** Optional: split a history into independent sub-histories (e.g., by key). */
  partition?(ops: readonly HistoryOp<I, O>[]): HistoryOp<I, O>[][];
  /** Optional: describe an op for reports. */
  describe?(op: HistoryOp<I, O>): string;
}

export type LinearizabilityResult =
  | { readonly ok: true; readonly order: readonly number[] }
  | {
      readonly ok: false;
      /** Index of the failing sub-history in the model's partition (0 without one). */
      readonly partition: number;
      /** Op ids of the longest linearizable prefix the search found in that sub-history. */
      readonly longestPrefix: readonly number[];
      /** Op ids pending after that prefix, none of which could take effect next. */
      readonly stuckAt: readonly number[];
      readonly message: string;
    }
  | { readonly ok: 'unknown'; readonly message: string };

export interface LinearizabilityOptions {
  /** Most model steps spent searching any one sub-history before answering 'unknown'. */
  readonly maxSteps?: number;
}

export const DEFAULT_MAX_STEPS = 1_000_000;

export function checkLinearizable<S, I, O>(
  history: readonly HistoryOp<I, O>[],
  model: Model<S, I, O>,
  options: LinearizabilityOptions = {},
): LinearizabilityResult {
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
  if (!Number.isSafeInteger(maxSteps) || maxSteps < 1) {
    throw new Error(`checkLinearizable: maxSteps must be a positive integer, got ${String(maxSteps)}`);
  }
  validateHistory(history);
  const parts = model.partition ? model.partition(history) : [history.slice()];
  validatePartition(history, parts);

  const orders: (readonly HistoryOp<I, O>[])[] = [];
  let unknown: string | null = null;
  for (let p = 0; p < parts.length; p++) {
    const outcome = searchPartition(parts[p], model, maxSteps);
    if (outcome.kind === 'stuck') return failure(model, parts[p], p, parts.length, outcome);
    if (outcome.kind === 'budget') {
      unknown ??= `linearizability unknown: search budget of ${maxSteps} steps exhausted in partition ${p} (${parts[p].length} ops)`;
      continue;
    }
    orders.push(outcome.order);
  }
  if (unknown !== null) return { ok: 'unknown', message: unknown };
  return { ok: true, order: mergeOrders(orders) };
}

function validateHistory<I, O>(history: readonly HistoryOp<I, O>[]): void {
  const ids = new Set<number>();
  const byClient = new Map<string, HistoryOp<I, O>[]>();
  for (const op of history) {
    if (ids.has(op.id)) throw new Error(`checkLinearizable: duplicate op id ${op.id}`);
    ids.add(op.id);
    if (!Number.isFinite(op.call)) throw new Error(`checkLinearizable: op ${op.id} has a non-finite call time ${op.call}`);
    if (op.ret !== null && !(Number.isFinite(op.ret) && op.ret >= op.call)) {
      throw new Error(`checkLinearizable: op ${op.id} returns at ${op.ret}, before its call at ${op.call}`);
    }
    if ((op.ret === null) !== (op.output === null)) {
      throw new Error(`checkLinearizable: op ${op.id} must have a null output exactly when its ret is null`);
    }
    const own = byClient.get(op.client);
    if (own) own.push(op);
    else byClient.set(op.client, [op]);
  }
  for (const [client, ops] of byClient) {
    const sorted = [...ops].sort((a, b) => a.call - b.call || a.id - b.id);
    for (let i = 1; i < sorted.length; i++) {
      const before = sorted[i - 1];
      if (before.ret === null || before.ret > sorted[i].call) {
        throw new Error(
          `checkLinearizable: client ${client} overlaps op ${before.id} with op ${sorted[i].id} (one op at a time; an unanswered op must be its client's last)`,
        );
      }
    }
  }
}

function validatePartition<I, O>(history: readonly HistoryOp<I, O>[], parts: readonly (readonly HistoryOp<I, O>[])[]): void {
  const seen = new Set<number>();
  for (const part of parts) {
    for (const op of part) {
      if (seen.has(op.id)) throw new Error(`checkLinearizable: the model's partition puts op ${op.id} in more than one part`);
      seen.add(op.id);
    }
  }
  if (seen.size !== history.length) throw new Error(`checkLinearizable: the model's partition covers ${seen.size} of ${history.length} ops`);
}

type SearchOutcome<I, O> =
  | { kind: 'ok'; order: readonly HistoryOp<I, O>[] }
  | { kind: 'budget' }
  | { kind: 'stuck'; longestPrefix: readonly HistoryOp<I, O>[]; stuckAt: readonly HistoryOp<I, O>[]; blockedBy: HistoryOp<I, O> };

/** A 32-bit mix of an op index, XOR-ed into the hash of a linearized set so the hash updates in O(1). */
function opHash(index: number): number {
  let x = Math.imul(index + 1, 0x9e3779b1);
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  return x | 0;
}

function searchPartition<S, I, O>(ops: readonly HistoryOp<I, O>[], model: Model<S, I, O>, maxSteps: number): SearchOutcome<I, O> {
  const n = ops.length;
  // Entries: op i's call is entry i, its return (answered ops only) entry n + i. Unanswered ops need no
  // return entry: nothing ever forces them to be linearized.
  const head = 2 * n;
  const isCall = (entry: number) => entry < n;
  const time = (entry: number) => (isCall(entry) ? ops[entry].call : (ops[entry - n].ret as number));
  const sorted: number[] = [];
  for (let i = 0; i < n; i++) {
    sorted.push(i);
    if (ops[i].ret !== null) sorted.push(n + i);
  }
  // Calls before returns at equal times keep touching intervals concurrent; ids make the order total.
  sorted.sort((a, b) => time(a) - time(b) || Number(isCall(b)) - Number(isCall(a)) || ops[a % n].id - ops[b % n].id);
  const next = new Int32Array(2 * n + 1).fill(-1);
  const prev = new Int32Array(2 * n + 1).fill(-1);
  let last = head;
  for (const entry of sorted) {
    next[last] = entry;
    prev[entry] = last;
    last = entry;
  }

  const unlink = (entry: number) => {
    next[prev[entry]] = next[entry];
    if (next[entry] !== -1) prev[next[entry]] = prev[entry];
  };
  const relink = (entry: number) => {
    next[prev[entry]] = entry;
    if (next[entry] !== -1) prev[next[entry]] = entry;
  };
  const lift = (i: number) => {
    unlink(i);
    if (ops[i].ret !== null) unlink(n + i);
  };
  // Dancing links: undo in the reverse order of lift.
  const unlift = (i: number) => {
    if (ops[i].ret !== null) relink(n + i);
    relink(i);
  };

  const linearized = new Uint32Array(Math.ceil(n / 32));
  let setHash = 0;
  const toggle = (i: number) => {
    linearized[i >>> 5] ^= 1 << (i & 31);
    setHash ^= opHash(i);
  };
  const seen = new Map<string, Uint32Array[]>();
  /** Records (linearized set, state); false when that configuration was searched before. */
  const remember = (key: string): boolean => {
    const bucketKey = `${setHash}|${key}`;
    const bucket = seen.get(bucketKey);
    if (bucket?.some((bits) => bits.every((word, w) => word === linearized[w]))) return false;
    if (bucket) bucket.push(linearized.slice());
    else seen.set(bucketKey, [linearized.slice()]);
    return true;
  };

  let remainingAnswered = ops.filter((op) => op.ret !== null).length;
  const stack: { index: number; stateBefore: S }[] = [];
  let state = model.init();
  let steps = 0;
  let longestPrefix: number[] = [];
  let stuckAt: number[] = [];
  let blockedBy = -1;

  let entry = next[head];
  // Whenever an answered op is still pending its return entry is in the list, and the walk meets the
  // first such return before running off the end; so `entry` stays valid while the loop runs.
  while (remainingAnswered > 0) {
    if (isCall(entry)) {
      const op = ops[entry];
      if (++steps > maxSteps) return { kind: 'budget' };
      const result = model.step(state, op.input, op.output);
      if (result.ok) {
        toggle(entry);
        if (remember(model.stateKey(result.state))) {
          stack.push({ index: entry, stateBefore: state });
          state = result.state;
          lift(entry);
          if (op.ret !== null) remainingAnswered--;
          entry = next[head];
          continue;
        }
        toggle(entry);
      }
      entry = next[entry];
      continue;
    }
    // The first pending return: its op could not be linearized after the current prefix.
    if (blockedBy === -1 || stack.length > longestPrefix.length) {
      longestPrefix = stack.map((frame) => frame.index);
      stuckAt = [];
      for (let e = next[head]; e !== entry; e = next[e]) stuckAt.push(e);
      blockedBy = entry - n;
    }
    const frame = stack.pop();
    if (frame === undefined) {
      return {
        kind: 'stuck',
        longestPrefix: longestPrefix.map((i) => ops[i]),
        stuckAt: stuckAt.map((i) => ops[i]),
        blockedBy: ops[blockedBy],
      };
    }
    state = frame.stateBefore;
    toggle(frame.index);
    unlift(frame.index);
    if (ops[frame.index].ret !== null) remainingAnswered++;
    entry = next[frame.index];
  }
  return { kind: 'ok', order: stack.map((frame) => ops[frame.index]) };
}

/**
 * One linearization of the whole history from its parts' linearizations. Each op gets the earliest
 * point inside its interval that keeps its part's order (the latest of its call and its predecessor's
 * point); ordering all ops by point then respects every part's order and real time across parts.
 */
function mergeOrders<I, O>(orders: readonly (readonly HistoryOp<I, O>[])[]): number[] {
  const placed: { id: number; point: number; part: number; position: number }[] = [];
  orders.forEach((order, part) => {
    let point = -Infinity;
    order.forEach((op, position) => {
      point = Math.max(point, op.call);
      placed.push({ id: op.id, point, part, position });
    });
  });
  placed.sort((a, b) => a.point - b.point || a.part - b.part || a.position - b.position);
  return placed.map((p) => p.id);
}

const PREFIX_SHOWN = 3;

function failure<S, I, O>(
  model: Model<S, I, O>,
  part: readonly HistoryOp<I, O>[],
  partition: number,
  partitions: number,
  stuck: Extract<SearchOutcome<I, O>, { kind: 'stuck' }>,
): LinearizabilityResult {
  const name = (op: HistoryOp<I, O>) => `#${op.id} ${op.client} ${describeOp(model, op)}`;
  const prefix = stuck.longestPrefix;
  const shown = prefix.slice(-PREFIX_SHOWN).map(name).join(', ');
  const after =
    prefix.length === 0
      ? 'from the initial state'
      : `after ${prefix.length} op${prefix.length === 1 ? '' : 's'} (${prefix.length > PREFIX_SHOWN ? '…, ' : ''}${shown})`;
  const where = partitions > 1 ? ` in partition ${partition} (${part.length} ops)` : '';
  return {
    ok: false,
    partition,
    longestPrefix: prefix.map((op) => op.id),
    stuckAt: stuck.stuckAt.map((op) => op.id),
    message:
      `not linearizable${where}: ${after}, none of the pending ops [${stuck.stuckAt.map(name).join('; ')}] ` +
      `can come next, yet #${stuck.blockedBy.id} returned at ${stuck.blockedBy.ret}`,
  };
}

function describeOp<S, I, O>(model: Model<S, I, O>, op: HistoryOp<I, O>): string {
  if (model.describe) return model.describe(op);
  return `${JSON.stringify(op.input)} -> ${op.output === null ? '?' : JSON.stringify(op.output)}`;
}
