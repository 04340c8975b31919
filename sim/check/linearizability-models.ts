// Sequential reference models for the linearizability checker: a single register (read, write,
// compare-and-set) and a key-value map (get, put, delete, compare-and-set) that splits its histories by
// key. Pure: a step returns a new state and never mutates the old one. Owns operation semantics only;
// the search lives in linearizability.ts.
//
// Outputs: a read/get answers `{ value }` (null = absent); a write/put/delete answers `{ ok: true }`; a
// compare-and-set answers `{ ok }`, true when it swapped. An operation that certainly failed without
// effect does not belong in the history at all.

import type { HistoryOp, Model } from './linearizability.ts';

export type Value = string | number;

export type ReadOutput = { readonly value: Value | null };
export type AckOutput = { readonly ok: boolean };

export type RegisterInput =
  | { readonly f: 'read' }
  | { readonly f: 'write'; readonly value: Value }
  | { readonly f: 'cas'; readonly expected: Value | null; readonly value: Value };
export type RegisterOutput = ReadOutput | AckOutput;

export type KvInput =
  | { readonly f: 'get'; readonly key: string }
  | { readonly f: 'put'; readonly key: string; readonly value: Value }
  | { readonly f: 'delete'; readonly key: string }
  | { readonly f: 'cas'; readonly key: string; readonly expected: Value | null; readonly value: Value };
export type KvOutput = ReadOutput | AckOutput;

const readGives = (output: RegisterOutput | null, current: Value | null): boolean =>
  output === null || ('value' in output && output.value === current);
const acked = (output: RegisterOutput | null): boolean => output === null || ('ok' in output && output.ok === true);
const casAnswered = (output: RegisterOutput | null, swapped: boolean): boolean =>
  output === null || ('ok' in output && output.ok === swapped);

/** What one operation does to a single cell (absent = null): the register, or one key of the map. */
type CellInput = RegisterInput | { readonly f: 'delete' };

function stepCell(current: Value | null, input: CellInput, output: RegisterOutput | null): { ok: boolean; state: Value | null } {
  switch (input.f) {
    case 'read':
      return { ok: readGives(output, current), state: current };
    case 'write':
      return { ok: acked(output), state: input.value };
    case 'delete':
      return { ok: acked(output), state: null };
    case 'cas': {
      const swapped = current === input.expected;
      return { ok: casAnswered(output, swapped), state: swapped ? input.value : current };
    }
    default:
      throw new Error(`linearizability model: unknown operation ${JSON.stringify((input as { f: unknown }).f)}`);
  }
}

const show = (value: Value | null) => (value === null ? 'nil' : JSON.stringify(value));

function describeOutput(output: RegisterOutput | null): string {
  if (output === null) return '?';
  return 'value' in output ? show(output.value) : output.ok ? 'ok' : 'fail';
}

/** One register holding a value, initially `initial` (null = empty). */
export function registerModel(initial: Value | null = null): Model<Value | null, RegisterInput, RegisterOutput> {
  return {
    init: () => initial,
    step: stepCell,
    stateKey: show,
    describe(op) {
      const i = op.input;
      const call = i.f === 'read' ? 'read()' : i.f === 'write' ? `write(${show(i.value)})` : `cas(${show(i.expected)}, ${show(i.value)})`;
      return `${call} -> ${describeOutput(op.output)}`;
    },
  };
}

export type KvState = ReadonlyMap<string, Value>;

function asCellInput(input: KvInput): CellInput {
  switch (input.f) {
    case 'get':
      return { f: 'read' };
    case 'put':
      return { f: 'write', value: input.value };
    case 'delete':
    case 'cas':
      return input;
    default:
      throw new Error(`kvModel: unknown operation ${JSON.stringify((input as { f: unknown }).f)}`);
  }
}

/** A map from string keys to values, all absent at first; histories are checked one key at a time. */
export function kvModel(): Model<KvState, KvInput, KvOutput> {
  return {
    init: () => new Map(),
    step(state, input, output) {
      const current = state.get(input.key) ?? null;
      const { ok, state: after } = stepCell(current, asCellInput(input), output);
      if (after === current) return { ok, state };
      const changed = new Map(state);
      if (after === null) changed.delete(input.key);
      else changed.set(input.key, after);
      return { ok, state: changed };
    },
    stateKey: (state) => JSON.stringify([...state].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    partition(ops) {
      const byKey = new Map<string, HistoryOp<KvInput, KvOutput>[]>();
      for (const op of ops) {
        const part = byKey.get(op.input.key);
        if (part) part.push(op);
        else byKey.set(op.input.key, [op]);
      }
      return [...byKey.values()];
    },
    describe(op) {
      const i = op.input;
      const args =
        i.f === 'put' ? `, ${show(i.value)}` : i.f === 'cas' ? `, ${show(i.expected)}, ${show(i.value)}` : '';
      return `${i.f}(${JSON.stringify(i.key)}${args}) -> ${describeOutput(op.output)}`;
    },
  };
}
