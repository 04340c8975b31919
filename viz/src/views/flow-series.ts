// Reading the model's step series (a point at each change): the value at an instant, the total of many
// series (every switch's flow count) as one series, and a series carried to the end of the trace. Owns
// that arithmetic; the charts draw the results.

import { bisector } from 'd3';
import type { Nanos, SeriesPoint } from '../model/types.ts';

const byTime = bisector((p: SeriesPoint) => p.t);

/** The value of the last point at or before `t` (0 before the first). `points` are sorted by time. */
export function valueAt(points: readonly SeriesPoint[], t: Nanos): number {
  const i = byTime.right(points, t);
  return i > 0 ? points[i - 1].value : 0;
}

/** The sum of step series, with a point wherever any of them changes (the last change at a time wins). */
export function totalSeries(series: Readonly<Record<string, readonly SeriesPoint[]>>): SeriesPoint[] {
  const changes: { t: Nanos; key: string; value: number; order: number }[] = [];
  let order = 0;
  for (const [key, points] of Object.entries(series)) for (const p of points) changes.push({ t: p.t, key, value: p.value, order: order++ });
  changes.sort((a, b) => a.t - b.t || a.order - b.order);
  const current = new Map<string, number>();
  let total = 0;
  const out: SeriesPoint[] = [];
  for (const c of changes) {
    total += c.value - (current.get(c.key) ?? 0);
    current.set(c.key, c.value);
    if (out.length > 0 && out[out.length - 1].t === c.t) out[out.length - 1] = { t: c.t, value: total };
    else out.push({ t: c.t, value: total });
  }
  return out;
}

/** The series with its last value carried to the end of the trace, so the last step has a width. */
export function untilEnd(points: readonly SeriesPoint[], endNs: Nanos): SeriesPoint[] {
  const last = points[points.length - 1];
  return last === undefined || last.t >= endNs ? [...points] : [...points, { t: endNs, value: last.value }];
}
