// Messages sent per second of virtual time, from `net.send` records (recorded only in full traces). Owns
// the bucketing: second k counts the sends at k s ≤ t < (k+1) s and is plotted at k s. A trace longer
// than a virtual day (a hostile one can claim 2^53 ns) gets points only for the seconds with sends and
// the zero seconds beside them, so the series stays as long as the sends warrant.

import type { SeriesPoint } from './types.ts';

const NS_PER_S = 1_000_000_000;
const MAX_DENSE_SECONDS = 86_400;

export class MessageRate {
  private readonly perSecond = new Map<number, number>();

  send(t: number): void {
    const second = Math.floor(t / NS_PER_S);
    this.perSecond.set(second, (this.perSecond.get(second) ?? 0) + 1);
  }

  /** A point per second from 0 to the second that holds `endNs`. */
  points(endNs: number): SeriesPoint[] {
    const lastSecond = Math.floor(endNs / NS_PER_S);
    const points: SeriesPoint[] = [];
    if (lastSecond < MAX_DENSE_SECONDS) {
      for (let s = 0; s <= lastSecond; s++) points.push({ t: s * NS_PER_S, value: this.perSecond.get(s) ?? 0 });
      return points;
    }
    const seconds = new Set<number>([0, lastSecond]);
    for (const s of this.perSecond.keys()) {
      seconds.add(s);
      if (s > 0) seconds.add(s - 1);
      if (s < lastSecond) seconds.add(s + 1);
    }
    for (const s of [...seconds].sort((a, b) => a - b)) points.push({ t: s * NS_PER_S, value: this.perSecond.get(s) ?? 0 });
    return points;
  }
}
