// XState v5 actors on the kernel's virtual clock: delayed transitions fire exactly at the virtual deadline
// and only when the scheduler runs, equal deadlines fire in scheduling order, and leaving a state cancels
// its timer.
import { describe, expect, test } from 'vitest';
import { assign, createActor, createMachine, raise } from 'xstate';
import { Scheduler } from '../../sim/kernel/scheduler.ts';
import { NS_PER_MS } from '../../sim/kernel/time.ts';
import { virtualClock } from '../../sim/kernel/xstate-clock.ts';

/**
 * Runs every pending event, and what they schedule, without Scheduler.runUntilQuiescent (see the failing
 * test at the end): runEvents(k) with k <= pending never looks past the last event.
 */
function drain(scheduler: Scheduler): void {
  while (scheduler.pendingCount > 0) scheduler.runEvents(scheduler.pendingCount);
}

describe('virtualClock', () => {
  test('an `after` transition fires exactly at now + delay ms in virtual ns, and only when the scheduler runs', () => {
    const scheduler = new Scheduler();
    const firedAt: number[] = [];
    const machine = createMachine({
      id: 'timeouts',
      initial: 'waiting',
      states: {
        waiting: { after: { 250: { target: 'late', actions: () => firedAt.push(scheduler.now) } } },
        late: { after: { 1: { target: 'done', actions: () => firedAt.push(scheduler.now) } } },
        done: { type: 'final' },
      },
    });
    const actor = createActor(machine, { clock: virtualClock(scheduler) }).start();
    expect(actor.getSnapshot().value).toBe('waiting');
    expect(scheduler.pendingCount).toBe(1);

    // Nothing fires on its own: only the scheduler moves time.
    expect(actor.getSnapshot().value).toBe('waiting');
    scheduler.runUntil(250 * NS_PER_MS - 1);
    expect(actor.getSnapshot().value).toBe('waiting');
    expect(firedAt).toEqual([]);

    scheduler.step();
    expect(actor.getSnapshot().value).toBe('late');
    expect(firedAt).toEqual([250 * NS_PER_MS]);

    drain(scheduler);
    expect(actor.getSnapshot().value).toBe('done');
    expect(firedAt).toEqual([250 * NS_PER_MS, 251 * NS_PER_MS]);
  });

  test('fractional millisecond delays become whole nanoseconds', () => {
    const scheduler = new Scheduler();
    const clock = virtualClock(scheduler);
    const at: number[] = [];
    clock.setTimeout(() => at.push(scheduler.now), 0.0015);
    clock.setTimeout(() => at.push(scheduler.now), 0);
    drain(scheduler);
    expect(at).toEqual([0, 1_500]);
  });

  test('delayed events with equal deadlines fire in the order they were scheduled (FIFO)', () => {
    const scheduler = new Scheduler();
    const machine = createMachine({
      types: {} as { context: { log: string[] }; events: { type: 'LATE' } | { type: 'A' } | { type: 'B' } | { type: 'C' } },
      id: 'fifo',
      context: { log: [] },
      initial: 'running',
      states: {
        running: {
          // B is set first, at t=0 for 100ms; C and A are set at t=40ms for 60ms, in that order: all three fall due at 100ms.
          entry: [raise({ type: 'B' }, { id: 'b', delay: 100 }), raise({ type: 'LATE' }, { id: 'late', delay: 40 })],
          on: {
            LATE: { actions: [raise({ type: 'C' }, { id: 'c', delay: 60 }), raise({ type: 'A' }, { id: 'a', delay: 60 })] },
            A: { actions: assign({ log: ({ context }) => [...context.log, `A@${scheduler.now}`] }) },
            B: { actions: assign({ log: ({ context }) => [...context.log, `B@${scheduler.now}`] }) },
            C: { actions: assign({ log: ({ context }) => [...context.log, `C@${scheduler.now}`] }) },
          },
        },
      },
    });
    const actor = createActor(machine, { clock: virtualClock(scheduler) }).start();
    drain(scheduler);
    const t = 100 * NS_PER_MS;
    expect(actor.getSnapshot().context.log).toEqual([`B@${t}`, `C@${t}`, `A@${t}`]);
  });

  test('parallel regions with equal `after` delays fire in the order the regions were entered', () => {
    const scheduler = new Scheduler();
    const order: string[] = [];
    const region = (name: string) => ({
      initial: 'idle',
      states: { idle: { after: { 10: { target: 'fired', actions: () => order.push(name) } } }, fired: {} },
    });
    const machine = createMachine({ id: 'parallel', type: 'parallel', states: { z: region('z'), a: region('a'), m: region('m') } });
    createActor(machine, { clock: virtualClock(scheduler) }).start();
    drain(scheduler);
    expect(order).toEqual(['z', 'a', 'm']);
    expect(scheduler.now).toBe(10 * NS_PER_MS);
  });

  test('leaving a state cancels its timer', () => {
    const scheduler = new Scheduler();
    const timeouts: number[] = [];
    const machine = createMachine({
      types: {} as { events: { type: 'LEAVE' } | { type: 'BACK' } },
      id: 'cancel',
      initial: 'a',
      states: {
        a: { on: { LEAVE: 'b' }, after: { 100: { target: 'timedOut', actions: () => timeouts.push(scheduler.now) } } },
        b: { on: { BACK: 'a' } },
        timedOut: {},
      },
    });
    const actor = createActor(machine, { clock: virtualClock(scheduler) }).start();
    scheduler.runUntil(40 * NS_PER_MS);
    actor.send({ type: 'LEAVE' });
    expect(scheduler.pendingCount).toBe(0);

    // Back in `a` at 50ms: only the new timer (due at 150ms) may fire, not the cancelled one (due at 100ms).
    scheduler.runUntil(50 * NS_PER_MS);
    actor.send({ type: 'BACK' });
    scheduler.runUntil(149 * NS_PER_MS);
    expect(actor.getSnapshot().value).toBe('a');
    expect(timeouts).toEqual([]);
    drain(scheduler);
    expect(actor.getSnapshot().value).toBe('timedOut');
    expect(timeouts).toEqual([150 * NS_PER_MS]);
  });

  test('stopping the actor cancels its pending timers', () => {
    const scheduler = new Scheduler();
    const machine = createMachine({ id: 'stop', initial: 'a', states: { a: { after: { 5: 'b' } }, b: {} } });
    const actor = createActor(machine, { clock: virtualClock(scheduler) }).start();
    expect(scheduler.pendingCount).toBe(1);
    actor.stop();
    expect(scheduler.pendingCount).toBe(0);
    expect(scheduler.pendingCount).toBe(0);
    expect(scheduler.runUntil(1_000 * NS_PER_MS)).toBe(0);
  });
});

describe('Scheduler run loops when the queue drains', () => {
  // BUG sim/kernel/scheduler.ts:100-101: with limit = Infinity (runUntilQuiescent, step, runEvents) an empty
  // queue's peekTime() is Infinity, `Infinity > Infinity` is false, and the loop calls the null callback
  // of an empty heap: "TypeError: callback is not a function". Fix: also break when time === Infinity.
  test('runUntilQuiescent returns once the last event has run', () => {
    const scheduler = new Scheduler();
    const clock = virtualClock(scheduler);
    let fired = 0;
    clock.setTimeout(() => fired++, 1);
    expect(scheduler.runUntilQuiescent()).toBe(1);
    expect(fired).toBe(1);
  });

  test('step() on an empty queue returns false', () => {
    expect(new Scheduler().step()).toBe(false);
  });
});
