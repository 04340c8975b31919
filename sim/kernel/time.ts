// Virtual time: an integer count of nanoseconds held in a `number` (exact up to 2^53 ns, about 104 days).
// Owns the unit helpers and the duration text format ("1.5s", "250ms", "20us", "7ns") used by scenarios,
// fault schedules and the CLI. Must not read the wall clock.

export type Nanos = number;

export const NS_PER_US = 1_000;
export const NS_PER_MS = 1_000_000;
export const NS_PER_S = 1_000_000_000;

/** Rounds to a whole nanosecond so that every time in the simulator is an integer. */
export const ns = (n: number): Nanos => Math.round(n);
export const us = (n: number): Nanos => Math.round(n * NS_PER_US);
export const ms = (n: number): Nanos => Math.round(n * NS_PER_MS);
export const s = (n: number): Nanos => Math.round(n * NS_PER_S);

const UNIT_NS: Record<string, number> = { ns: 1, us: NS_PER_US, ms: NS_PER_MS, s: NS_PER_S, m: 60 * NS_PER_S };
const DURATION = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m)$/;

/**
 * Parses "10s", "1.5s", "250ms", "20us", "7ns" or "2m" into whole nanoseconds.
 * Throws a one-line Error naming the text when it is not a duration.
 */
export function parseDuration(text: string): Nanos {
  const m = DURATION.exec(text.trim());
  if (!m) throw new Error(`not a duration: '${text}' (expected a number and a unit, e.g. 10s, 250ms, 20us, 7ns)`);
  const value = Number(m[1]) * UNIT_NS[m[2]];
  if (!Number.isSafeInteger(Math.round(value))) throw new Error(`duration out of range: '${text}'`);
  return Math.round(value);
}

/** A duration field that may be written as whole nanoseconds or as duration text. */
export function toNanos(value: number | string): Nanos {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`not a whole, non-negative nanosecond count: ${value}`);
    return value;
  }
  return parseDuration(value);
}

/**
 * Formats with the largest unit that represents the value exactly, so the text parses back to the same
 * integer ("1500ms", "3s", "1234567ns").
 */
export function formatDuration(t: Nanos): string {
  if (t !== 0) {
    for (const unit of ['s', 'ms', 'us'] as const) {
      if (t % UNIT_NS[unit] === 0) return `${t / UNIT_NS[unit]}${unit}`;
    }
  }
  return `${t}ns`;
}

/** Seconds with millisecond precision, for progress lines and human-facing text only. */
export function formatSeconds(t: Nanos): string {
  return `${(t / NS_PER_S).toFixed(3)}s`;
}
