// What the controller-join scenario checks and reports on top of the testbed's and ClusterChecks'
// invariants (seed 000 §3.5, notes §6 S28, §7 invariants 5 and 7): how each assignment change came about
// (read from the CM replicas' 'cm.assign' / 'cm.member' / 'cm.policy' events), the invariants over that —
// under 'unassigned-only' nothing but a failover changes an existing assignment; every move between live
// instances is two-phase — and, once faults stop under 'rebalance', every kind balanced over the up
// members; and the metrics of each step (a join, a policy change): assignments before and after, moves,
// and how long until balanced. Owns the classification and the step clocks; reads the cluster only
// through the testbed and the trace.

import { entityKind, type CmState, type JoinPolicy } from '../../sim/coord/cm-state.ts';
import type { SafetyInvariant, LivenessInvariant } from '../../sim/check/invariant.ts';
import type { TraceRecorder } from '../../sim/kernel/trace.ts';
import { NS_PER_MS, type Nanos } from '../../sim/kernel/time.ts';
import type { NodeId } from '../../sim/net/message.ts';
import type { MetricValue } from '../../sim/testbed/index.ts';
import type { NvTestbed } from './nv-testbed.ts';

const POLL_NS: Nanos = 10 * NS_PER_MS;

/**
 * How one applied assignment came about: 'assign' gives an unmastered entity a master (new, orphaned, or
 * the second phase of a move); 'failover' takes it from a master declared down in the same entry;
 * 'revoke' takes it from a live master (a move's first phase); 'direct' hands it from one master to
 * another in one entry without the first being down — never legitimate.
 */
export type ChangeCause = 'assign' | 'failover' | 'revoke' | 'direct';

export interface AssignmentChange {
  readonly index: number;
  readonly entity: string;
  readonly from: NodeId | null;
  readonly to: NodeId | null;
  readonly cause: ChangeCause;
  /** The join policy in force at the entry. */
  readonly policy: JoinPolicy;
}

/**
 * The cluster's assignment changes in log order, each classified once (the first replica to apply an
 * index has applied every earlier one, so first sightings come in index order for each entity).
 */
export class AssignmentChanges {
  private readonly masters = new Map<string, { index: number; master: NodeId | null }>();
  private readonly downAt = new Map<number, Set<NodeId>>();
  /** Policy changes as (index, policy), ascending. */
  private readonly policies: Array<{ index: number; policy: JoinPolicy }> = [];
  private readonly listeners: Array<(c: AssignmentChange) => void> = [];

  constructor(trace: TraceRecorder, initialPolicy: JoinPolicy) {
    this.policies.push({ index: 0, policy: initialPolicy });
    trace.on('cm.policy', (e) => {
      const last = this.policies[this.policies.length - 1];
      if (e.index > last.index) this.policies.push({ index: e.index, policy: e.joinPolicy as JoinPolicy });
    });
    trace.on('cm.member', (e) => {
      if (e.up) return;
      let down = this.downAt.get(e.index);
      if (down === undefined) this.downAt.set(e.index, (down = new Set()));
      down.add(e.member);
    });
    trace.on('cm.assign', (e) => {
      const prev = this.masters.get(e.entity);
      if (prev !== undefined && prev.index >= e.index) return; // a replica applying what another already did
      this.masters.set(e.entity, { index: e.index, master: e.master });
      const from = prev?.master ?? null;
      if (from === e.master) return;
      const cause: ChangeCause =
        from === null ? 'assign' : this.downAt.get(e.index)?.has(from) === true ? 'failover' : e.master === null ? 'revoke' : 'direct';
      const change: AssignmentChange = { index: e.index, entity: e.entity, from, to: e.master, cause, policy: this.policyAt(e.index) };
      for (const l of this.listeners) l(change);
    });
  }

  onChange(listener: (c: AssignmentChange) => void): void {
    this.listeners.push(listener);
  }

  /** The join policy in force when the entry at `index` was applied. */
  policyAt(index: number): JoinPolicy {
    let policy = this.policies[0].policy;
    for (const p of this.policies) if (p.index <= index) policy = p.policy;
    return policy;
  }
}

/** Seed 000 §7 inv. 7: under 'unassigned-only' a join (or anything but a failover) changes no existing assignment. */
export function joinKeepsAssignmentsInvariant(changes: AssignmentChanges): SafetyInvariant {
  return {
    kind: 'safety',
    id: 'join-keeps-assignments',
    description: "while the join policy is 'unassigned-only', an entity's master changes only when that master is declared down (a join moves nothing)",
    watch(violated) {
      changes.onChange((c) => {
        if (c.policy !== 'unassigned-only' || c.cause === 'assign' || c.cause === 'failover') return;
        violated(`${c.entity} was taken from ${c.from} (to ${c.to ?? 'nobody'}) at log index ${c.index} under 'unassigned-only', though ${c.from} was not declared down`);
      });
    },
  };
}

/** A move between live instances must be revoke-then-assign, so the two never both hold the entity. */
export function twoPhaseMovesInvariant(changes: AssignmentChanges): SafetyInvariant {
  return {
    kind: 'safety',
    id: 'moves-two-phase',
    description: 'an entity passes from one live master to another only through a revoke entry and a later assign',
    watch(violated) {
      changes.onChange((c) => {
        if (c.cause === 'direct') violated(`${c.entity} passed from ${c.from} to ${c.to} in one entry (log index ${c.index}) while ${c.from} was up`);
      });
    },
  };
}

/** Per kind, how many entities each up member masters in a CM state. */
function loads(state: CmState): Map<'switch' | 'ldps', Map<NodeId, number>> {
  const out = new Map<'switch' | 'ldps', Map<NodeId, number>>();
  for (const kind of ['switch', 'ldps'] as const) out.set(kind, new Map(state.upMembers().map((id) => [id, 0])));
  for (const [entity, entry] of state.masters) {
    const byMember = out.get(entityKind(entity))!;
    if (entry.master !== null && byMember.has(entry.master)) byMember.set(entry.master, byMember.get(entry.master)! + 1);
  }
  return out;
}

interface StepResult {
  readonly before: MetricValue;
  /** Null until the next step starts (the last step's is read at the end). */
  after: MetricValue;
  readonly policy: JoinPolicy | null;
  balancedAfterMs: number | null;
  joinedAfterMs: number | null;
}

export class JoinChecks {
  readonly changes: AssignmentChanges;
  private readonly steps: Array<{ label: string; atNs: Nanos; joiner: NodeId | null }> = [];
  private readonly results = new Map<Nanos, StepResult>();
  private readonly revokeTimes: Nanos[] = [];
  private readonly memberUpTimes = new Map<NodeId, Nanos>();

  constructor(
    private readonly t: NvTestbed,
    initialPolicy: JoinPolicy,
  ) {
    const trace = t.world.trace;
    this.changes = new AssignmentChanges(trace, initialPolicy);
    this.changes.onChange((c) => {
      if (c.cause === 'revoke') this.revokeTimes.push(t.world.now);
    });
    trace.on('cm.member', (e) => {
      if (e.up && !this.memberUpTimes.has(e.member)) this.memberUpTimes.set(e.member, t.world.now);
    });
    for (const j of t.joiners) this.step(`${j.id} joins`, j.atNs, j.id);
  }

  /** A step of the scenario whose effect on the assignments is reported (joins are steps already). */
  step(label: string, atNs: Nanos, joiner: NodeId | null = null): this {
    if (this.steps.some((s) => s.atNs === atNs)) throw new Error(`join-checks: two steps at ${atNs / NS_PER_MS}ms ('${label}')`);
    this.steps.push({ label, atNs, joiner });
    this.steps.sort((a, b) => a.atNs - b.atNs);
    this.t.world.scheduler.at(atNs, () => this.startStep(atNs));
    return this;
  }

  installInvariants(): this {
    const w = this.t.world;
    w.invariant(joinKeepsAssignmentsInvariant(this.changes));
    w.invariant(twoPhaseMovesInvariant(this.changes));
    const balanced: LivenessInvariant = {
      kind: 'liveness',
      id: 'balanced-after-rebalance',
      description: "after faults stop under 'rebalance', every running instance is a member and each kind of entity is spread evenly (max - min <= 1 per up member), every master acting",
      holds: () => (this.view()?.policy.joinPolicy !== 'rebalance' ? true : this.balanced()),
    };
    w.invariant(balanced);
    return this;
  }

  /**
   * 'joinSteps': per step, the join policy in force when it starts, the entities each instance masters
   * then and when the next step starts (or at the end), the moves (revokes) in between, how long until
   * the joiner was an up CM member and until the cluster was balanced (null: not within the step).
   * 'moves': every move of the run.
   */
  installMetrics(): this {
    const w = this.t.world;
    w.metric('joinSteps', () =>
      this.steps.map((s, i) => {
        const r = this.results.get(s.atNs);
        const endNs = this.steps[i + 1]?.atNs ?? Infinity;
        return {
          step: s.label,
          atMs: s.atNs / NS_PER_MS,
          policy: r?.policy ?? null,
          ...(s.joiner !== null && { joinedAfterMs: r?.joinedAfterMs ?? null }),
          before: r?.before ?? null,
          after: r?.after ?? this.snapshot(),
          moves: this.revokeTimes.filter((at) => at >= s.atNs && at < endNs).length,
          balancedAfterMs: r?.balancedAfterMs ?? null,
        };
      }),
    );
    w.metric('moves', () => this.revokeTimes.length);
    return this;
  }

  /**
   * Whether the cluster is balanced now: every running instance up in the CM, no entity unmastered or
   * mid-move, each kind within one entity per up member, and each entity's master acting on it.
   */
  balanced(): true | string {
    const state = this.view();
    if (state === undefined) return 'no instance is running';
    for (const id of this.t.runningInstances()) if (!state.isUp(id)) return `${id} runs but is not an up CM member`;
    for (const [entity, entry] of state.masters) {
      if (entry.master === null) return `${entity} has no master${entry.moving !== null ? ` (moving ${entry.moving.from} -> ${entry.moving.to})` : ''}`;
      const acting = this.t.mastersOfEntity(entity);
      if (acting.length !== 1 || acting[0] !== entry.master) return `${entity} is assigned to ${entry.master} but acted on by [${acting.join(', ')}]`;
    }
    for (const [kind, byMember] of loads(state)) {
      const counts = [...byMember.values()];
      if (counts.length > 0 && Math.max(...counts) - Math.min(...counts) > 1) {
        return `${kind === 'switch' ? 'switches' : 'LDPSs'} are not balanced: ${[...byMember].map(([id, n]) => `${id} ${n}`).join(', ')}`;
      }
    }
    return true;
  }

  /** The CM state of the running instance that has applied the most. */
  private view(): CmState | undefined {
    let best: { applied: number; state: CmState } | undefined;
    for (const id of this.t.runningInstances()) {
      const cm = this.t.instance(id)!.cm;
      if (best === undefined || cm.raft.lastApplied > best.applied) best = { applied: cm.raft.lastApplied, state: cm.state };
    }
    return best?.state;
  }

  /** The entities each instance masters, as the most advanced running replica sees it. */
  private snapshot(): MetricValue {
    const state = this.view();
    const out: Record<string, MetricValue> = {};
    for (const id of this.t.instances) out[id] = state === undefined ? null : state.mastered(id);
    return out;
  }

  /** Snapshots the assignments now and when the next step starts; clocks the join and the balance. */
  private startStep(atNs: Nanos): void {
    const i = this.steps.findIndex((s) => s.atNs === atNs);
    const step = this.steps[i];
    const endNs = this.steps[i + 1]?.atNs ?? Infinity;
    const r: StepResult = { before: this.snapshot(), after: null, policy: this.view()?.policy.joinPolicy ?? null, balancedAfterMs: null, joinedAfterMs: null };
    this.results.set(atNs, r);
    const scheduler = this.t.world.scheduler;
    if (endNs !== Infinity) scheduler.at(endNs, () => void (r.after = this.snapshot()));
    const poll = (): void => {
      const now = this.t.world.now;
      if (now >= endNs) return;
      const upAt = step.joiner === null ? undefined : this.memberUpTimes.get(step.joiner);
      if (upAt !== undefined && r.joinedAfterMs === null) r.joinedAfterMs = (upAt - atNs) / NS_PER_MS;
      if (r.balancedAfterMs === null && this.balanced() === true) r.balancedAfterMs = (now - atNs) / NS_PER_MS;
      if (r.balancedAfterMs !== null && (step.joiner === null || r.joinedAfterMs !== null)) return;
      scheduler.after(POLL_NS, poll);
    };
    poll();
  }
}
