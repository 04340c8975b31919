// A directed link's mechanism settings (latency, loss, duplication, reordering) and its live state.
// Owns how one message's fate on one link is drawn; the fabric owns which link a message takes and
// whether the endpoints can talk at all (partitions, crashes).
//
// Links are FIFO, like a TCP connection or one switch path: a message never overtakes an earlier one on
// the same link, whatever the latency draws, except when reordering holds it back. A reordered message is
// delayed by an extra `reorderDelay` and does not hold up the messages behind it, as netem's reorder does.
// A duplicate copy takes its own latency draw and is not held in FIFO order either.

import { probabilityThreshold, type Rng } from '../kernel/rng.ts';
import type { Nanos } from '../kernel/time.ts';
import { sampleLatency, validateLatency, type LatencyDistribution } from './latency.ts';

export interface LinkConfig {
  readonly latency: LatencyDistribution;
  readonly lossProbability: number;
  readonly duplicateProbability: number;
  readonly reorderProbability: number;
  readonly reorderDelay: LatencyDistribution;
}

export const DEFAULT_LINK: LinkConfig = {
  latency: { kind: 'constant', ns: 1_000_000 },
  lossProbability: 0,
  duplicateProbability: 0,
  reorderProbability: 0,
  reorderDelay: { kind: 'uniform', minNs: 0, maxNs: 5_000_000 },
};

/** Throws a one-line error naming the bad field. */
export function validateLinkConfig(c: LinkConfig): void {
  validateLatency(c.latency);
  validateLatency(c.reorderDelay);
  for (const field of ['lossProbability', 'duplicateProbability', 'reorderProbability'] as const) {
    const p = c[field];
    if (!(typeof p === 'number' && p >= 0 && p <= 1)) throw new Error(`link ${field} must be within [0, 1], got ${p}`);
  }
}

/** A change laid over a link's base settings by `degrade`, removed by `restore`. */
export interface LinkOverlay {
  readonly id: string;
  readonly settings: Partial<LinkConfig>;
}

export class LinkState {
  /** Base settings set for this pair, or undefined to follow the fabric's default. */
  base: LinkConfig | undefined = undefined;
  overlays: LinkOverlay[] = [];
  private effective!: LinkConfig;
  private lossThreshold = 0;
  private duplicateThreshold = 0;
  private reorderThreshold = 0;
  /** Delivery time of the latest in-order message, for FIFO. */
  private lastInOrderAt: Nanos = 0;

  constructor(
    readonly src: string,
    readonly dst: string,
    private readonly rng: Rng,
    fabricDefault: LinkConfig,
  ) {
    this.resolve(fabricDefault);
  }

  get config(): LinkConfig {
    return this.effective;
  }

  /** Recomputes the effective settings from the default, the base and the overlays, in that order. */
  resolve(fabricDefault: LinkConfig): void {
    let c: LinkConfig = this.base ?? fabricDefault;
    for (const overlay of this.overlays) c = { ...c, ...overlay.settings };
    this.effective = c;
    this.lossThreshold = probabilityThreshold(c.lossProbability);
    this.duplicateThreshold = probabilityThreshold(c.duplicateProbability);
    this.reorderThreshold = probabilityThreshold(c.reorderProbability);
  }

  /** Draws whether the message is lost. Always draws once, so later draws do not depend on the outcome. */
  shouldLose(): boolean {
    return this.rng.chanceThreshold(this.lossThreshold);
  }

  shouldDuplicate(): boolean {
    return this.rng.chanceThreshold(this.duplicateThreshold);
  }

  /** Delivery time for a message sent now, keeping FIFO unless the message is picked for reordering. */
  deliveryTime(now: Nanos): Nanos {
    const arrival = now + sampleLatency(this.effective.latency, this.rng);
    if (this.rng.chanceThreshold(this.reorderThreshold)) {
      return Math.max(arrival, this.lastInOrderAt) + sampleLatency(this.effective.reorderDelay, this.rng);
    }
    if (arrival > this.lastInOrderAt) this.lastInOrderAt = arrival;
    return this.lastInOrderAt;
  }

  /** Delivery time for a duplicate copy: its own latency draw, outside FIFO order. */
  duplicateDeliveryTime(now: Nanos): Nanos {
    return now + sampleLatency(this.effective.latency, this.rng);
  }
}
