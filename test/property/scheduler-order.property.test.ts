// Scheduler ordering against a reference model: random programs of schedule / cancel / run operations,
// where running events schedule and cancel further events (and sometimes stop the run), are executed on
// the real Scheduler and on a sorted-array model. Events must run in nondecreasing time, equal times in
// scheduling order; a cancelled event never runs; every other event runs exactly once; cancel results,
// the clock and pendingCount agree with the model after every operation.
import { describe, expect } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { Scheduler } from '../../sim/kernel/scheduler.ts';

const RUNS = Number(process.env.NVSIM_PROPERTY_RUNS ?? 100);

/** What an event does when it runs. Targets are event ids counted back from the running event's id. */
interface Reaction {
  spawn: number[];
  cancel: number[];
  stop: boolean;
}

type Op =
  | { kind: 'at'; delay: number }
  | { kind: 'cancel'; id: number }
  | { kind: 'burst'; count: number; spread: number; cancelEvery: number }
  | { kind: 'runEvents'; n: number }
  | { kind: 'runUntil'; delay: number }
  | { kind: 'step' };

interface Program {
  reactions: Reaction[];
  ops: Op[];
}

/** The part of the Scheduler API a program uses; both the real Scheduler and the model provide it. */
interface Api {
  readonly now: number;
  readonly pendingCount: number;
  at(time: number, callback: (id: number) => void, id: number): number;
  cancel(handle: number): boolean;
  stop(): void;
  runUntil(limit: number): number;
  runEvents(count: number): number;
  runUntilQuiescent(): number;
  step(): boolean;
}

/** Reference model: pending events in an array kept sorted by (time, seq); cancelled ones are removed. */
class ModelScheduler implements Api {
  now = 0;
  private seq = 0;
  private pending: { time: number; seq: number; id: number; callback: (id: number) => void }[] = [];
  private stopRequested = false;

  get pendingCount(): number {
    return this.pending.length;
  }

  at(time: number, callback: (id: number) => void, id: number): number {
    const entry = { time, seq: this.seq++, id, callback };
    let i = this.pending.length;
    while (i > 0 && this.pending[i - 1].time > time) i--;
    this.pending.splice(i, 0, entry);
    return entry.seq;
  }

  cancel(handle: number): boolean {
    const i = this.pending.findIndex((e) => e.seq === handle);
    if (i < 0) return false;
    this.pending.splice(i, 1);
    return true;
  }

  stop(): void {
    this.stopRequested = true;
  }

  private run(limit: number, maxEvents: number): number {
    let ran = 0;
    this.stopRequested = false;
    while (ran < maxEvents) {
      const next = this.pending[0];
      if (next === undefined || next.time > limit) {
        if (limit !== Infinity && limit > this.now) this.now = limit;
        break;
      }
      this.pending.shift();
      this.now = next.time;
      ran++;
      next.callback(next.id);
      if (this.stopRequested) break;
    }
    return ran;
  }

  runUntil(limit: number): number {
    return this.run(limit, Infinity);
  }
  runEvents(count: number): number {
    return this.run(Infinity, count);
  }
  runUntilQuiescent(): number {
    return this.run(Infinity, Infinity);
  }
  step(): boolean {
    return this.run(Infinity, 1) === 1;
  }
}

type TraceEntry = [string, ...number[]] | [string, number, boolean];

/** Most events a program may create one by one, so that reactions cannot spawn work forever. */
const EVENT_BUDGET = 400;

/** Runs a program on one implementation and returns what it observed. */
interface Observed {
  trace: TraceEntry[];
  /** [event id, time] in run order. */
  runs: [number, number][];
  /** Ids of events whose cancel returned true. */
  cancelled: Set<number>;
  created: number;
}

function execute(api: Api, program: Program): Observed {
  const handles: number[] = [];
  const trace: TraceEntry[] = [];
  const runs: [number, number][] = [];
  const cancelled = new Set<number>();

  let scheduled = 0;
  const schedule = (time: number): void => {
    if (scheduled++ >= EVENT_BUDGET) return;
    const id = handles.length;
    handles.push(api.at(time, onRun, id));
  };
  const cancel = (id: number): void => {
    if (id < 0 || id >= handles.length) return;
    const ok = api.cancel(handles[id]);
    if (ok) cancelled.add(id);
    trace.push(['cancel', id, ok]);
  };
  function onRun(id: number): void {
    runs.push([id, api.now]);
    trace.push(['run', id, api.now]);
    const reaction = program.reactions[id % program.reactions.length];
    for (const delay of reaction.spawn) schedule(api.now + delay);
    for (const back of reaction.cancel) cancel(id - back);
    if (reaction.stop) api.stop();
  }

  for (const op of program.ops) {
    switch (op.kind) {
      case 'at':
        schedule(api.now + op.delay);
        break;
      case 'cancel':
        if (handles.length > 0) cancel(op.id % handles.length);
        break;
      case 'burst': {
        // Many events at once, most of them cancelled: enough dead entries to make the queue compact.
        const first = handles.length;
        for (let i = 0; i < op.count; i++) {
          const id = handles.length;
          handles.push(api.at(api.now + ((i * 7_919) % op.spread), onRun, id));
        }
        for (let id = first; id < handles.length; id++) if ((id - first) % op.cancelEvery !== 0) cancel(id);
        break;
      }
      case 'runEvents':
        trace.push(['ran', api.runEvents(op.n)]);
        break;
      case 'runUntil':
        trace.push(['ran', api.runUntil(api.now + op.delay)]);
        break;
      case 'step':
        trace.push(['stepped', api.step() ? 1 : 0]);
        break;
    }
    trace.push(['state', api.now, api.pendingCount]);
  }
  // Drain; a reaction may stop a run, so keep going until nothing is pending.
  while (api.pendingCount > 0) trace.push(['ran', api.runUntilQuiescent()]);
  trace.push(['state', api.now, api.pendingCount]);
  return { trace, runs, cancelled, created: handles.length };
}

// Small delays make equal times frequent.
const delayArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0) },
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 1_000 }) },
);

const reactionArb: fc.Arbitrary<Reaction> = fc.record({
  spawn: fc.array(delayArb, { maxLength: 2 }),
  cancel: fc.array(fc.integer({ min: -3, max: 20 }), { maxLength: 2 }),
  stop: fc.integer({ min: 0, max: 19 }).map((k) => k === 0),
});

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: delayArb.map((delay) => ({ kind: 'at' as const, delay })) },
  { weight: 3, arbitrary: fc.nat(1_000).map((id) => ({ kind: 'cancel' as const, id })) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 10 }).map((n) => ({ kind: 'runEvents' as const, n })) },
  {
    weight: 2,
    arbitrary: fc.integer({ min: 0, max: 50 }).map((delay) => ({ kind: 'runUntil' as const, delay })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'step' as const }) },
);

const programArb: fc.Arbitrary<Program> = fc.record({
  reactions: fc.array(reactionArb, { minLength: 1, maxLength: 8 }),
  ops: fc.array(opArb, { minLength: 1, maxLength: 60 }),
});

function checkRun(program: Program): void {
  const real = execute(new Scheduler(), program);
  const model = execute(new ModelScheduler(), program);
  expect(real.trace).toEqual(model.trace);

  // Independent of the model: the order and fate of every event on the real scheduler.
  for (let i = 1; i < real.runs.length; i++) {
    const [prevId, prevTime] = real.runs[i - 1];
    const [id, time] = real.runs[i];
    expect(time > prevTime || (time === prevTime && id > prevId)).toBe(true);
  }
  const runCount = new Map<number, number>();
  for (const [id] of real.runs) runCount.set(id, (runCount.get(id) ?? 0) + 1);
  for (let id = 0; id < real.created; id++) {
    expect(runCount.get(id) ?? 0).toBe(real.cancelled.has(id) ? 0 : 1);
  }
}

describe('Scheduler order against a sorted-array model', () => {
  test.prop([programArb], { numRuns: RUNS })('schedule/cancel/run programs match the model', (program) => {
    checkRun(program);
  });

  // Bursts of mostly cancelled events push the queue past its compaction threshold (4096 dead entries).
  const burstArb: fc.Arbitrary<Op> = fc.record({
    kind: fc.constant('burst' as const),
    count: fc.integer({ min: 9_000, max: 12_000 }),
    spread: fc.integer({ min: 1, max: 50 }),
    cancelEvery: fc.integer({ min: 3, max: 8 }),
  });
  const burstProgramArb: fc.Arbitrary<Program> = fc.record({
    reactions: fc.array(reactionArb, { minLength: 1, maxLength: 4 }),
    ops: fc
      .tuple(fc.array(opArb, { maxLength: 10 }), burstArb, fc.array(opArb, { maxLength: 20 }))
      .map(([before, burst, after]) => [...before, burst, ...after]),
  });
  test.prop([burstProgramArb], { numRuns: Math.max(1, Math.ceil(RUNS / 20)) })(
    'programs with mass cancellation (compaction) match the model',
    (program) => {
      checkRun(program);
    },
  );
});
