// The virtual clock and its run loops: every delay in nvsim is an event scheduled here. Owns "now" and the
// order in which events run (time, then scheduling order). Must not know what events mean, read the wall
// clock, or record trace events (components do that, and a trace per kernel event would cost too much).

import { EventQueue, type EventCallback, type EventHandle } from './event-queue.ts';
import type { Nanos } from './time.ts';

export type { EventCallback, EventHandle } from './event-queue.ts';

export class Scheduler {
  private readonly queue = new EventQueue();
  private nowNs: Nanos = 0;
  private executed = 0;
  private stopRequested = false;

  /** The current virtual time in nanoseconds. */
  get now(): Nanos {
    return this.nowNs;
  }

  /** Events run so far. */
  get eventsExecuted(): number {
    return this.executed;
  }

  /** Events still to run (cancelled ones excluded). */
  get pendingCount(): number {
    return this.queue.size;
  }

  /** Time of the next event to run, or Infinity when nothing is pending. */
  get nextEventTime(): Nanos {
    return this.queue.peekTime();
  }

  /**
   * Schedules `callback(arg)` at absolute virtual time `time` (whole nanoseconds, not in the past).
   * Events at equal times run in the order they were scheduled.
   */
  at<A>(time: Nanos, callback: EventCallback<A>, arg?: A): EventHandle {
    if (!(time >= this.nowNs) || Math.floor(time) !== time) {
      throw new Error(`cannot schedule at ${time}ns: times must be whole nanoseconds, not before now (${this.nowNs}ns)`);
    }
    return this.queue.push(time, callback, arg);
  }

  /** Schedules `callback(arg)` after `delay` nanoseconds (whole, non-negative). */
  after<A>(delay: Nanos, callback: EventCallback<A>, arg?: A): EventHandle {
    return this.at(this.nowNs + delay, callback, arg);
  }

  /** Cancels a pending event; returns false when it already ran or was cancelled. */
  cancel(handle: EventHandle): boolean {
    return this.queue.cancel(handle);
  }

  isPending(handle: EventHandle): boolean {
    return this.queue.isPending(handle);
  }

  /** Makes the running loop return after the event now running. */
  stop(): void {
    this.stopRequested = true;
  }

  /** Runs the next event, if any. Returns whether one ran. */
  step(): boolean {
    return this.run(Infinity, 1) === 1;
  }

  /**
   * Runs every event with time <= `limit`, then leaves the clock at `limit` (unless stopped early).
   * Returns the number of events run.
   */
  runUntil(limit: Nanos): number {
    return this.run(limit, Infinity);
  }

  /** Runs for `duration` nanoseconds of virtual time from now. */
  runFor(duration: Nanos): number {
    return this.runUntil(this.nowNs + duration);
  }

  /** Runs until no event is pending (or `maxEvents` have run, as a guard against endless work). */
  runUntilQuiescent(maxEvents = Infinity): number {
    return this.run(Infinity, maxEvents);
  }

  /** Runs at most `count` events. */
  runEvents(count: number): number {
    return this.run(Infinity, count);
  }

  /** The one run loop: events in (time, sequence) order while time <= limit and fewer than maxEvents ran. */
  run(limit: Nanos, maxEvents: number): number {
    const queue = this.queue;
    let ran = 0;
    this.stopRequested = false;
    while (ran < maxEvents) {
      // One queue call per event, with no result object: null when nothing is due by `limit` (including
      // an empty queue); otherwise the event is already removed and its time and argument are on the queue.
      const callback = queue.popUntil(limit);
      if (callback === null) {
        if (limit !== Infinity && limit > this.nowNs) this.nowNs = limit;
        break;
      }
      this.nowNs = queue.poppedTime;
      this.executed++;
      ran++;
      callback(queue.poppedArg);
      if (this.stopRequested) break;
    }
    return ran;
  }
}
