// Stepping between timeline events: the time of the event just before or just after an instant. Owns that
// search only (binary, so stepping through a long trace stays instant); the buttons are playback.ts's.

import { bisectLeft, bisectRight } from 'd3';
import type { Nanos } from '../model/types.ts';

/** The latest of `times` (sorted ascending) strictly before `t`, or null. */
export function previousTime(times: readonly Nanos[], t: Nanos): Nanos | null {
  const i = bisectLeft(times, t);
  return i > 0 ? times[i - 1] : null;
}

/** The earliest of `times` (sorted ascending) strictly after `t`, or null. */
export function nextTime(times: readonly Nanos[], t: Nanos): Nanos | null {
  const i = bisectRight(times, t);
  return i < times.length ? times[i] : null;
}
