// Swarm testing: one seed picks the fault settings themselves (which kinds are on, how many faults, how
// long they last) and then the faults, so a sweep over seeds explores many fault mixes rather than one
// average mix (as TigerBeetle's VOPR does). Owns the drawing of a FaultSpace from a seed; the faults are
// then sampled from the same arbitrary the property tests shrink.

import fc from 'fast-check';
import type { Rng } from '../kernel/rng.ts';
import { NS_PER_MS, type Nanos } from '../kernel/time.ts';
import type { NodeId } from '../net/message.ts';
import { faultScheduleArbitrary } from './arbitrary.ts';
import type { FaultSchedule } from './schedule.ts';
import { FAULT_KINDS, type FaultKind, type FaultSpace } from './windows.ts';

export interface SwarmTargets {
  readonly nodes: readonly NodeId[];
  readonly protectedNodes: readonly NodeId[];
  /** Faults start within [startNs, endNs). */
  readonly startNs: Nanos;
  readonly endNs: Nanos;
}

/** Draws the fault settings for one run: each kind on with probability 1/2 (at least one), then rates. */
export function swarmSpace(rng: Rng, targets: SwarmTargets): FaultSpace {
  let kinds: FaultKind[] = FAULT_KINDS.filter(() => rng.chance(0.5));
  if (kinds.length === 0) kinds = [rng.pick(FAULT_KINDS)];
  const span = targets.endNs - targets.startNs;
  const durationMinNs = rng.between(1, 50) * NS_PER_MS;
  const crashable = targets.nodes.filter((n) => !targets.protectedNodes.includes(n)).length;
  return {
    nodes: targets.nodes,
    protectedNodes: targets.protectedNodes,
    kinds,
    startNs: targets.startNs,
    endNs: targets.endNs,
    durationMinNs,
    durationMaxNs: durationMinNs + Math.max(1, Math.round((span * rng.between(5, 50)) / 100)),
    maxFaults: rng.between(1, 12),
    // A minority of the crashable nodes, so a majority-based protocol can still make progress.
    maxCrashed: Math.max(1, Math.floor((crashable - 1) / 2)),
  };
}

/** A schedule sampled from `space`, reproducible from the stream it draws its fast-check seed from. */
export function sampleFaultSchedule(rng: Rng, space: FaultSpace): FaultSchedule {
  return fc.sample(faultScheduleArbitrary(space), { seed: rng.uint32() | 0, numRuns: 1 })[0];
}
