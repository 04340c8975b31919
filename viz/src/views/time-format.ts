// How the page writes virtual time: an instant to the nanosecond, a span in its largest sensible unit, and
// short axis ticks. Owns the text only; times stay integer nanoseconds everywhere else.

import type { Nanos } from '../model/types.ts';

const NS_PER_S = 1_000_000_000;

/** An instant, exact: "3.000512000 s". */
export function formatInstant(t: Nanos): string {
  const whole = Math.floor(t / NS_PER_S);
  const fraction = String(t - whole * NS_PER_S).padStart(9, '0');
  return `${whole}.${fraction} s`;
}

/** A span, to three significant digits in the largest unit under which it reads ≥ 1: "812 ms", "35.2 µs". */
export function formatSpan(ns: Nanos): string {
  const units: [number, string][] = [
    [NS_PER_S, 's'],
    [1_000_000, 'ms'],
    [1_000, 'µs'],
  ];
  for (const [size, unit] of units) {
    if (Math.abs(ns) >= size) return `${Number((ns / size).toPrecision(3))} ${unit}`;
  }
  return `${ns} ns`;
}

/**
 * Axis ticks for an axis spanning `spanNs`, in the unit that suits the span ("2.5 s", "120 ms", "35 µs"),
 * so a zoomed-in axis does not read "1e-9 s".
 */
export function axisTickFormat(spanNs: Nanos): (t: Nanos) => string {
  const [size, unit] = spanNs >= 2 * NS_PER_S ? [NS_PER_S, 's'] : spanNs >= 2_000_000 ? [1_000_000, 'ms'] : spanNs >= 2_000 ? [1_000, 'µs'] : [1, 'ns'];
  return (t) => `${Number((t / size).toPrecision(9))} ${unit}`;
}
