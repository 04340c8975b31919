// The cost model of moving a VM's memory (seed 003 Q14): iterative pre-copy while the VM runs, then
// stop-and-copy of what is still dirty; or, for a cold move, shut down and boot at the destination.
// Pure arithmetic over the parameters; owns no timers and knows nothing of hosts or messages. The
// migration manager turns these durations into virtual time.

import { NS_PER_S, type Nanos } from '../kernel/time.ts';

export interface LiveMigrationParams {
  /** The VM's memory: what pre-copy round 1 sends. */
  readonly memoryBytes: number;
  /** How fast the running VM dirties memory already sent. */
  readonly dirtyRateBytesPerSec: number;
  /** The migration link's throughput. */
  readonly bandwidthBytesPerSec: number;
  /** Pre-copy stops once the dirty set is this small; the rest goes during stop-and-copy. */
  readonly stopCopyBytes: number;
  /** Pre-copy stops after this many rounds even if the dirty set never gets small enough. */
  readonly maxRounds: number;
  /** From the last byte in to the VM executing at the destination. */
  readonly resumeNs: Nanos;
  /** A cold move's boot at the destination (seed 003: minutes). */
  readonly bootNs: Nanos;
}

export const DEFAULT_LIVE_MIGRATION: LiveMigrationParams = {
  memoryBytes: 512 * 1024 * 1024,
  dirtyRateBytesPerSec: 50_000_000,
  bandwidthBytesPerSec: 1_250_000_000, // 10 Gbit/s
  stopCopyBytes: 8 * 1024 * 1024,
  maxRounds: 30,
  resumeNs: 5_000_000,
  bootNs: 120 * NS_PER_S,
};

export interface PrecopyRound {
  /** 1, 2, … */
  readonly round: number;
  readonly bytes: number;
  readonly durationNs: Nanos;
}

export interface MemoryPlan {
  /** Empty for a cold move. */
  readonly rounds: readonly PrecopyRound[];
  /** Memory still to send once the VM is stunned (0 for a cold move: nothing of memory moves). */
  readonly stopCopyBytes: number;
  /** Whether pre-copy got the dirty set down to stopCopyBytes (false: it stopped at maxRounds). */
  readonly converged: boolean;
}

/** Throws on parameters the model cannot use; changes nothing. */
export function checkParams(p: LiveMigrationParams): void {
  const nonNegative: (keyof LiveMigrationParams)[] = ['memoryBytes', 'dirtyRateBytesPerSec', 'stopCopyBytes', 'resumeNs', 'bootNs'];
  for (const key of nonNegative) {
    if (!Number.isFinite(p[key]) || p[key] < 0) throw new Error(`migration model: ${key} must be a finite number ≥ 0, got ${p[key]}`);
  }
  if (!Number.isFinite(p.bandwidthBytesPerSec) || p.bandwidthBytesPerSec <= 0) throw new Error(`migration model: bandwidthBytesPerSec must be > 0, got ${p.bandwidthBytesPerSec}`);
  if (!Number.isSafeInteger(p.maxRounds) || p.maxRounds < 1) throw new Error(`migration model: maxRounds must be an integer ≥ 1, got ${p.maxRounds}`);
}

/** Time to send `bytes` over the migration link (whole nanoseconds, rounded up). */
export function transferNs(bytes: number, p: LiveMigrationParams): Nanos {
  return Math.ceil((bytes * NS_PER_S) / p.bandwidthBytesPerSec);
}

/**
 * Pre-copy: round 1 sends all memory; each later round sends what was dirtied during the round before
 * (never more than all of memory), until that is ≤ stopCopyBytes or maxRounds rounds have run.
 */
export function planLiveMigration(p: LiveMigrationParams): MemoryPlan {
  checkParams(p);
  const rounds: PrecopyRound[] = [];
  let bytes = p.memoryBytes;
  for (let round = 1; ; round++) {
    const durationNs = transferNs(bytes, p);
    rounds.push({ round, bytes, durationNs });
    const dirtied = Math.min(p.memoryBytes, Math.ceil((p.dirtyRateBytesPerSec * durationNs) / NS_PER_S));
    if (dirtied <= p.stopCopyBytes) return { rounds, stopCopyBytes: dirtied, converged: true };
    if (round >= p.maxRounds) return { rounds, stopCopyBytes: dirtied, converged: false };
    bytes = dirtied;
  }
}

export function planColdMigration(p: LiveMigrationParams): MemoryPlan {
  checkParams(p);
  return { rounds: [], stopCopyBytes: 0, converged: true };
}

/**
 * The VM's downtime the model predicts, stun to resume: the stop-and-copy transfer (remaining memory and
 * the middlebox state), then the resume — or, cold, the state transfer and a boot.
 */
export function modelDowntimeNs(mode: 'live' | 'cold', plan: MemoryPlan, stateBytes: number, p: LiveMigrationParams): Nanos {
  return transferNs(plan.stopCopyBytes + stateBytes, p) + (mode === 'live' ? p.resumeNs : p.bootNs);
}

/** The pre-copy phase's length (the VM still runs at the source meanwhile). */
export function precopyNs(plan: MemoryPlan): Nanos {
  return plan.rounds.reduce((sum, r) => sum + r.durationNs, 0);
}
