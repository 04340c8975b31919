// Runs XState v5 actors on virtual time: `createActor(machine, { clock: virtualClock(scheduler) })`.
// XState hands delayed transitions to its clock's timeout method; here they become kernel events, so they
// fire at the virtual deadline and, for equal deadlines, in the order they were set (the kernel's FIFO),
// which XState's own SimulatedClock does not promise. Owns only the adaptation.
//
// XState's hidden nondeterminism to keep out of traces: scheduled events without an explicit `id` get a
// random id and a wall-clock `startedAt` in the snapshot, and actor session ids come from a
// process-wide counter. Give delayed events explicit ids and trace actors by their own names, never by
// sessionId.

import type { Scheduler } from './scheduler.ts';
import { NS_PER_MS } from './time.ts';

/** The shape of XState v5's `clock` option (its `Clock` type is not exported from the package root). */
export interface ActorClock {
  setTimeout(fn: (...args: any[]) => void, timeout: number): any; // wall-clock: none — XState's clock interface
  clearTimeout(id: any): void;
}

const callThunk = (fn: () => void): void => fn();

export function virtualClock(scheduler: Scheduler): ActorClock {
  return {
    setTimeout(fn: (...args: any[]) => void, timeoutMs: number): number { // wall-clock: none — a kernel event
      const delay = Math.max(0, Math.round(timeoutMs * NS_PER_MS));
      return scheduler.after(delay, callThunk, fn);
    },
    clearTimeout(handle: number): void {
      scheduler.cancel(handle);
    },
  };
}
