// What an invariant is, and the book that evaluates a run's invariants. Safety invariants watch the
// journal and report a violation the moment they see one (and may check once more at the end); liveness
// invariants are predicates over the world that must come to hold within the liveness phase's bound.
// Owns verdicts and their journal entries (`check.violation`, `check.liveness.ok`); it never changes the
// simulated system.

import type { Nanos } from '../kernel/time.ts';
import { formatDuration } from '../kernel/time.ts';
import type { TraceRecorder } from '../kernel/trace.ts';

declare module '../kernel/trace.ts' {
  interface TraceEventMap {
    'check.violation': { id: string; detail: string };
    'check.liveness.ok': { id: string; afterNs: Nanos };
  }
}

/** true when it holds, otherwise a one-line reason. */
export type Verdict = true | string;

export interface SafetyInvariant {
  readonly kind: 'safety';
  readonly id: string;
  readonly description: string;
  /** Subscribe to the journal here and call `violated` on each violation seen. */
  watch?(violated: (detail: string) => void): void;
  /** Checked once when the run ends. */
  atEnd?(): Verdict;
}

export interface LivenessInvariant {
  readonly kind: 'liveness';
  readonly id: string;
  readonly description: string;
  /** Evaluated through the liveness phase; must come to hold before its bound. */
  holds(): Verdict;
}

export type Invariant = SafetyInvariant | LivenessInvariant;

export interface InvariantResult {
  id: string;
  kind: 'safety' | 'liveness';
  ok: boolean;
  detail: string;
  /** When the first violation was seen, or when a liveness invariant first held. */
  atNs?: Nanos;
}

interface Entry {
  readonly invariant: Invariant;
  violations: number;
  firstViolation?: { atNs: Nanos; detail: string };
  heldAtNs?: Nanos;
  lastReason?: string;
}

export class InvariantBook {
  private readonly entries: Entry[] = [];
  private livenessStartNs: Nanos | undefined;
  private livenessDeadlineNs: Nanos = Infinity;

  constructor(
    private readonly clock: { readonly now: Nanos },
    private readonly trace: TraceRecorder,
  ) {}

  add(invariant: Invariant): void {
    if (this.entries.some((e) => e.invariant.id === invariant.id)) throw new Error(`invariant '${invariant.id}' is registered twice`);
    const entry: Entry = { invariant, violations: 0 };
    this.entries.push(entry);
    if (invariant.kind === 'safety') invariant.watch?.((detail) => this.violated(entry, detail));
  }

  get size(): number {
    return this.entries.length;
  }

  /** Marks the start of the liveness phase; each liveness invariant must hold by `deadlineNs`. */
  startLiveness(deadlineNs: Nanos): void {
    this.livenessStartNs = this.clock.now;
    this.livenessDeadlineNs = deadlineNs;
  }

  /** Evaluates the liveness invariants that have not held yet. Returns true when all have. */
  pollLiveness(): boolean {
    let all = true;
    for (const e of this.entries) {
      if (e.invariant.kind !== 'liveness' || e.heldAtNs !== undefined) continue;
      const verdict = e.invariant.holds();
      if (verdict === true) {
        e.heldAtNs = this.clock.now;
        this.trace.emit('check.liveness.ok', { id: e.invariant.id, afterNs: this.clock.now - (this.livenessStartNs ?? 0) });
      } else {
        e.lastReason = verdict;
        all = false;
      }
    }
    return all;
  }

  /** Final verdicts: runs the end-of-run safety checks and one last liveness poll. */
  results(): InvariantResult[] {
    this.pollLiveness();
    for (const e of this.entries) {
      if (e.invariant.kind !== 'safety' || e.invariant.atEnd === undefined) continue;
      const verdict = e.invariant.atEnd();
      if (verdict !== true) this.violated(e, verdict);
    }
    return this.entries.map((e): InvariantResult => {
      const { id, kind } = e.invariant;
      if (kind === 'safety') {
        if (e.firstViolation === undefined) return { id, kind, ok: true, detail: 'held throughout' };
        const more = e.violations > 1 ? ` (${e.violations} violations in all)` : '';
        return { id, kind, ok: false, detail: `${e.firstViolation.detail}${more}`, atNs: e.firstViolation.atNs };
      }
      if (e.heldAtNs === undefined) {
        return { id, kind, ok: false, detail: `never held before the run ended: ${e.lastReason ?? 'no reason given'}` };
      }
      if (this.livenessStartNs === undefined) return { id, kind, ok: true, detail: 'held at the end of the run', atNs: e.heldAtNs };
      const after = formatDuration(e.heldAtNs - this.livenessStartNs);
      if (e.heldAtNs > this.livenessDeadlineNs) {
        const bound = formatDuration(this.livenessDeadlineNs - this.livenessStartNs);
        return { id, kind, ok: false, detail: `held only ${after} into the liveness phase, past its bound of ${bound}`, atNs: e.heldAtNs };
      }
      return { id, kind, ok: true, detail: `held ${after} into the liveness phase`, atNs: e.heldAtNs };
    });
  }

  private violated(entry: Entry, detail: string): void {
    entry.violations++;
    if (entry.firstViolation === undefined) entry.firstViolation = { atNs: this.clock.now, detail };
    this.trace.emit('check.violation', { id: entry.invariant.id, detail });
  }
}
