// Link latency distributions and their sampling. Owns the distribution shapes and their validation; the
// link decides when to sample. Every sample is a whole, non-negative number of nanoseconds.

import type { Rng } from '../kernel/rng.ts';
import type { Nanos } from '../kernel/time.ts';

export type LatencyDistribution =
  | { readonly kind: 'constant'; readonly ns: Nanos }
  | { readonly kind: 'uniform'; readonly minNs: Nanos; readonly maxNs: Nanos }
  /** Normal, clipped below at `floorNs`. */
  | { readonly kind: 'normal'; readonly meanNs: Nanos; readonly sdNs: Nanos; readonly floorNs: Nanos }
  /** Log-normal with the given median and shape (sigma of the underlying normal), clipped at `floorNs`. */
  | { readonly kind: 'lognormal'; readonly medianNs: Nanos; readonly sigma: number; readonly floorNs: Nanos };

export function sampleLatency(d: LatencyDistribution, rng: Rng): Nanos {
  switch (d.kind) {
    case 'constant':
      return d.ns;
    case 'uniform':
      return d.minNs + rng.below(d.maxNs - d.minNs + 1);
    case 'normal':
      return Math.max(d.floorNs, Math.round(d.meanNs + d.sdNs * rng.standardNormal()));
    case 'lognormal':
      return Math.max(d.floorNs, Math.round(d.medianNs * Math.exp(d.sigma * rng.standardNormal())));
  }
}

/** Throws a one-line error when the distribution is malformed. */
export function validateLatency(d: LatencyDistribution): void {
  const whole = (name: string, v: number) => {
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`latency ${d.kind}: ${name} must be a whole, non-negative ns count, got ${v}`);
  };
  switch (d.kind) {
    case 'constant':
      return whole('ns', d.ns);
    case 'uniform':
      whole('minNs', d.minNs);
      whole('maxNs', d.maxNs);
      if (d.maxNs < d.minNs) throw new Error(`latency uniform: maxNs (${d.maxNs}) is below minNs (${d.minNs})`);
      return;
    case 'normal':
      whole('meanNs', d.meanNs);
      whole('sdNs', d.sdNs);
      return whole('floorNs', d.floorNs);
    case 'lognormal':
      whole('medianNs', d.medianNs);
      whole('floorNs', d.floorNs);
      if (!(d.sigma >= 0 && d.sigma < 10)) throw new Error(`latency lognormal: sigma must be within [0, 10), got ${d.sigma}`);
      return;
    default:
      throw new Error(`unknown latency distribution kind '${(d as { kind: string }).kind}'`);
  }
}
