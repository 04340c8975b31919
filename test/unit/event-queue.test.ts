// The kernel's pending-event set and run loops: FIFO at equal times, cancellation and stale handles,
// compaction, growth, order renumbering, and the Scheduler's runUntil / runUntilQuiescent / runEvents /
// stop / argument checks.
import { describe, expect, test } from 'vitest';
import { EventQueue } from '../../sim/kernel/event-queue.ts';
import { Scheduler } from '../../sim/kernel/scheduler.ts';

/** Pops everything due by `limit`, returning [time, arg] pairs in run order. */
function drain(queue: EventQueue, limit = Infinity): [number, unknown][] {
  const out: [number, unknown][] = [];
  for (;;) {
    const callback = queue.popUntil(limit);
    if (callback === null) return out;
    out.push([queue.poppedTime, queue.poppedArg]);
  }
}

const noop = (): void => {};

describe('EventQueue', () => {
  test('events at equal times come out in push order, and times in increasing order', () => {
    const queue = new EventQueue();
    const pushes: [number, number][] = [];
    for (let i = 0; i < 200; i++) pushes.push([(i * 37) % 5, i]);
    for (const [time, id] of pushes) queue.push(time, noop, id);
    const expected = [...pushes].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    expect(drain(queue)).toEqual(expected);
    expect(queue.size).toBe(0);
    expect(queue.scheduledCount).toBe(200);
  });

  test('popUntil stops at the limit and leaves later events pending', () => {
    const queue = new EventQueue();
    for (const t of [5, 10, 10, 20]) queue.push(t, noop, t);
    expect(queue.popUntil(4)).toBeNull();
    expect(drain(queue, 10).map(([t]) => t)).toEqual([5, 10, 10]);
    expect(queue.size).toBe(1);
    expect(queue.peekTime()).toBe(20);
  });

  test('popUntil returns the callback and hands over the argument', () => {
    const queue = new EventQueue();
    const seen: string[] = [];
    queue.push(3, (arg: string) => seen.push(arg), 'hello');
    const callback = queue.popUntil(Infinity);
    expect(callback).not.toBeNull();
    expect(queue.poppedTime).toBe(3);
    callback!(queue.poppedArg);
    expect(seen).toEqual(['hello']);
    expect(queue.popUntil(Infinity)).toBeNull();
    expect(queue.peekTime()).toBe(Infinity);
  });

  test('a cancelled event never comes out, and cancel reports it once', () => {
    const queue = new EventQueue();
    const a = queue.push(1, noop, 'a');
    const b = queue.push(1, noop, 'b');
    const c = queue.push(2, noop, 'c');
    expect(queue.isPending(b)).toBe(true);
    expect(queue.cancel(b)).toBe(true);
    expect(queue.isPending(b)).toBe(false);
    expect(queue.cancel(b)).toBe(false);
    expect(queue.size).toBe(2);
    expect(drain(queue).map(([, arg]) => arg)).toEqual(['a', 'c']);
    expect(queue.isPending(a)).toBe(false);
    expect(queue.isPending(c)).toBe(false);
  });

  test('cancelling the top event skips it in peekTime', () => {
    const queue = new EventQueue();
    const first = queue.push(1, noop, 'first');
    queue.push(7, noop, 'second');
    queue.cancel(first);
    expect(queue.peekTime()).toBe(7);
    expect(queue.size).toBe(1);
  });

  test('cancel of a handle whose event already ran returns false', () => {
    const queue = new EventQueue();
    const handle = queue.push(1, noop, undefined);
    expect(drain(queue)).toHaveLength(1);
    expect(queue.isPending(handle)).toBe(false);
    expect(queue.cancel(handle)).toBe(false);
  });

  test('a stale handle whose slot was reused does not cancel the new event', () => {
    const queue = new EventQueue();
    const ran = queue.push(1, noop, 'old');
    expect(drain(queue)).toEqual([[1, 'old']]);
    const fresh = queue.push(2, noop, 'new'); // takes the freed slot
    expect(fresh).not.toBe(ran);
    expect(queue.cancel(ran)).toBe(false);
    expect(queue.isPending(fresh)).toBe(true);

    const cancelled = queue.push(3, noop, 'cancelled');
    expect(queue.cancel(cancelled)).toBe(true);
    expect(queue.peekTime()).toBe(2); // the cancelled entry is still in the heap, below the top
    expect(drain(queue)).toEqual([[2, 'new']]); // frees the cancelled entry's slot on the way
    const reuse = queue.push(4, noop, 'reuse');
    expect(queue.cancel(cancelled)).toBe(false);
    expect(queue.cancel(fresh)).toBe(false);
    expect(queue.isPending(reuse)).toBe(true);
    expect(drain(queue)).toEqual([[4, 'reuse']]);
  });

  test('values that are not handles are never pending and cancel nothing', () => {
    const queue = new EventQueue();
    const handle = queue.push(1, noop, undefined);
    for (const bogus of [-1, 0.5, handle + 0.5, NaN, Infinity, 2 ** 60, handle + 2 ** 24]) {
      expect(queue.isPending(bogus)).toBe(false);
      expect(queue.cancel(bogus)).toBe(false);
    }
    expect(queue.size).toBe(1);
  });

  test('compaction after many cancels keeps the order and the counts', () => {
    const queue = new EventQueue();
    const handles: number[] = [];
    const n = 20_000;
    for (let i = 0; i < n; i++) handles.push(queue.push(i % 100, noop, i));
    // Cancel three of every four: well past the point where the heap is rebuilt without them.
    for (let i = 0; i < n; i++) if (i % 4 !== 0) expect(queue.cancel(handles[i])).toBe(true);
    expect(queue.size).toBe(n / 4);
    for (let i = 0; i < n; i++) expect(queue.isPending(handles[i])).toBe(i % 4 === 0);
    // New events after compaction still order after the survivors at the same time.
    queue.push(0, noop, 'late');
    const out = drain(queue);
    const expected: [number, unknown][] = [];
    for (let i = 0; i < n; i += 4) expected.push([i % 100, i]);
    expected.push([0, 'late']);
    const rank = (arg: unknown): number => (arg === 'late' ? Infinity : (arg as number));
    expected.sort((a, b) => a[0] - b[0] || rank(a[1]) - rank(b[1]));
    expect(out).toEqual(expected);
    expect(queue.size).toBe(0);
  });

  test('grows past its initial capacity (100k pending) and keeps order', () => {
    const queue = new EventQueue();
    const n = 100_000;
    for (let i = 0; i < n; i++) queue.push((i * 7_919) % 1_009, noop, i);
    expect(queue.size).toBe(n);
    let lastTime = -1;
    let lastId = -1;
    let count = 0;
    for (;;) {
      if (queue.popUntil(Infinity) === null) break;
      const time = queue.poppedTime;
      const id = queue.poppedArg as number;
      expect(time > lastTime || (time === lastTime && id > lastId)).toBe(true);
      lastTime = time;
      lastId = id;
      count++;
    }
    expect(count).toBe(n);
  });

  test('renumbering the tie-break orders keeps FIFO among equal times', () => {
    // A low order limit forces a renumbering every few dozen pushes (production renumbers every 2^29).
    const queue = new EventQueue(64);
    const model: [number, number][] = [];
    let id = 0;
    const push = (time: number): void => {
      queue.push(time, noop, id);
      model.push([time, id++]);
    };
    // Twenty events that stay pending throughout, all at one time, so their FIFO order must survive
    // every renumbering.
    for (let k = 0; k < 20; k++) push(1_000_000);
    for (let round = 0; round < 200; round++) {
      for (let k = 0; k < 5; k++) push(round + (k % 3));
      model.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      for (let k = 0; k < 5; k++) {
        expect(queue.popUntil(Infinity)).not.toBeNull();
        expect([queue.poppedTime, queue.poppedArg]).toEqual(model.shift());
      }
    }
    for (let k = 0; k < 5; k++) push(1_000_000);
    expect(drain(queue)).toEqual(model);
  });

  test('clear drops everything and invalidates handles', () => {
    const queue = new EventQueue();
    const handles = [queue.push(1, noop, 1), queue.push(2, noop, 2)];
    queue.clear();
    expect(queue.size).toBe(0);
    expect(queue.peekTime()).toBe(Infinity);
    for (const h of handles) expect(queue.cancel(h)).toBe(false);
    queue.push(5, noop, 'after');
    expect(drain(queue)).toEqual([[5, 'after']]);
  });
});

describe('Scheduler', () => {
  test('runUntil runs events up to and at the limit, then leaves now at the limit', () => {
    const s = new Scheduler();
    const ran: number[] = [];
    for (const t of [10, 20, 30]) s.at(t, () => ran.push(s.now));
    expect(s.runUntil(20)).toBe(2);
    expect(ran).toEqual([10, 20]);
    expect(s.now).toBe(20);
    expect(s.runUntil(25)).toBe(0);
    expect(s.now).toBe(25);
    expect(s.pendingCount).toBe(1);
    expect(s.nextEventTime).toBe(30);
  });

  test('runUntil never moves time backwards', () => {
    const s = new Scheduler();
    s.runUntil(100);
    expect(s.now).toBe(100);
    expect(s.runUntil(50)).toBe(0);
    expect(s.now).toBe(100);
    s.after(5, () => {});
    s.runFor(10);
    expect(s.now).toBe(110);
  });

  test('runUntil with an empty queue just advances the clock', () => {
    const s = new Scheduler();
    expect(s.runUntil(1_000)).toBe(0);
    expect(s.now).toBe(1_000);
  });

  test('runUntilQuiescent runs chains of events until nothing is pending', () => {
    const s = new Scheduler();
    const times: number[] = [];
    const tick = (left: number): void => {
      times.push(s.now);
      if (left > 0) s.after(7, tick, left - 1);
    };
    s.at(3, tick, 4);
    expect(s.runUntilQuiescent()).toBe(5);
    expect(times).toEqual([3, 10, 17, 24, 31]);
    expect(s.now).toBe(31); // left at the last event, not moved to a limit
    expect(s.pendingCount).toBe(0);
    expect(s.eventsExecuted).toBe(5);
    expect(s.runUntilQuiescent()).toBe(0);
  });

  test('runUntilQuiescent(maxEvents) guards against endless work', () => {
    const s = new Scheduler();
    const forever = (): void => {
      s.after(1, forever);
    };
    s.at(0, forever);
    expect(s.runUntilQuiescent(1_000)).toBe(1_000);
    expect(s.pendingCount).toBe(1);
  });

  test('runEvents(n) runs exactly n events and step runs one', () => {
    const s = new Scheduler();
    const ran: number[] = [];
    for (let i = 0; i < 10; i++) s.at(i * 2, () => ran.push(i));
    expect(s.runEvents(3)).toBe(3);
    expect(ran).toEqual([0, 1, 2]);
    expect(s.now).toBe(4);
    expect(s.step()).toBe(true);
    expect(ran).toEqual([0, 1, 2, 3]);
    expect(s.runEvents(100)).toBe(6);
    expect(s.step()).toBe(false);
  });

  test('stop() from inside a callback ends the run after that event', () => {
    const s = new Scheduler();
    const ran: number[] = [];
    for (let i = 1; i <= 5; i++) {
      s.at(i, () => {
        ran.push(i);
        if (i === 2) s.stop();
      });
    }
    expect(s.runUntil(100)).toBe(2);
    expect(ran).toEqual([1, 2]);
    expect(s.now).toBe(2); // stopped early: the clock stays at the last event
    expect(s.runUntil(100)).toBe(3); // a new run clears the stop
    expect(s.now).toBe(100);
  });

  test('events at equal times run in scheduling order, including ones scheduled while running', () => {
    const s = new Scheduler();
    const order: string[] = [];
    s.at(5, () => {
      order.push('a');
      s.after(0, () => order.push('c'));
    });
    s.at(5, () => order.push('b'));
    s.runUntilQuiescent();
    expect(order).toEqual(['a', 'b', 'c']);
  });

  test('cancel through the scheduler', () => {
    const s = new Scheduler();
    const ran: string[] = [];
    const h = s.at(5, () => ran.push('cancelled'));
    s.at(6, () => ran.push('kept'));
    expect(s.isPending(h)).toBe(true);
    expect(s.cancel(h)).toBe(true);
    expect(s.pendingCount).toBe(1);
    s.runUntilQuiescent();
    expect(ran).toEqual(['kept']);
    expect(s.cancel(h)).toBe(false);
  });

  test('an event at Infinity never runs', () => {
    const s = new Scheduler();
    s.at(Infinity, () => {
      throw new Error('ran');
    });
    expect(s.runUntilQuiescent()).toBe(0);
    expect(s.runUntil(10)).toBe(0);
    expect(s.now).toBe(10);
    expect(s.pendingCount).toBe(1);
  });

  test('scheduling in the past or at a non-integer time throws', () => {
    const s = new Scheduler();
    s.runUntil(100);
    expect(() => s.at(99, () => {})).toThrow(/not before now/);
    expect(() => s.at(100.5, () => {})).toThrow(/whole nanoseconds/);
    expect(() => s.after(-1, () => {})).toThrow();
    expect(() => s.after(0.25, () => {})).toThrow();
    expect(() => s.at(NaN, () => {})).toThrow();
    expect(s.pendingCount).toBe(0);
    expect(() => s.at(100, () => {})).not.toThrow();
  });

  test('an exception from a callback propagates and leaves the scheduler usable', () => {
    const s = new Scheduler();
    s.at(1, () => {
      throw new Error('boom');
    });
    const ran: number[] = [];
    s.at(2, () => ran.push(2));
    expect(() => s.runUntilQuiescent()).toThrow('boom');
    expect(s.now).toBe(1);
    s.runUntilQuiescent();
    expect(ran).toEqual([2]);
  });
});
