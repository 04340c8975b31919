// The coordination manager (CM) of one controller instance (seed 000 FIG. 25): a consensus peer over the
// CM log (raft.ts), the replicated state it applies (cm-state.ts), sessions for failure detection, and
// this instance's mastership as it may act on it. Owns sessions, leases, proposals and the leader's
// duties; not the election policy (cm-state.ts) nor what an instance does with its mastership.
//
// Failure detection (ZooKeeper-style sessions): every instance sends the CM leader a session heartbeat
// every sessionHeartbeatNs carrying the index it has applied; the leader answers with the send time it
// echoes and the end of its log (committed or not). The leader proposes `member-down` for a member it has not heard from for
// sessionTimeoutNs, and `member-up` for one it hears from that is not up.
//
// Mastership an instance acts on = the applied state names it master AND its lease is valid. A lease
// runs sessionTimeoutNs from the SEND time of an acknowledged heartbeat, and counts only once the
// instance has applied the log up to the index the acknowledgement carried (until then the previous
// lease, if any, runs on) — the leader's log end, not
// its commit index: a `member-down` the leader has just proposed for this very instance is in the log
// but not yet committed, and the instance must see it before acting again (a restarted or lagging
// instance must not act on an old assignment either). Since the leader declares a member down no earlier than
// sessionTimeoutNs after it last heard from it, an instance's lease runs out before anyone else can be
// given its work; a new leader waits a further grace (two election timeouts, within which a deposed
// leader has stepped down and stopped acknowledging) before declaring anyone down. Moves between live
// instances are two-phase (cm-state.ts). So at most one instance acts as master of an entity at any
// instant, which the checker verifies from the 'cm.master' events; switches fence by epoch as well.
//
// The election policy is replicated state (a `set-policy` entry, cm-state.ts): the leader's rebalance steps
// follow the policy it has applied last, so a switch to 'rebalance' starts moving work at its next tick,
// and a switch back stops new moves (a move already revoked is still completed).

import type { Nanos } from '../kernel/time.ts';
import type { Message, NodeId } from '../net/message.ts';
import type { NodeContext } from '../net/node.ts';
import { CmState, type CmCommand, type CmEffects, type CmPolicy, type EntityKey, DEFAULT_CM_POLICY, validateCmPolicy } from './cm-state.ts';
import { RaftPeer } from './raft.ts';

declare module '../kernel/trace.ts' {
  interface TraceEventMap {
    /** An instance starts or stops acting as master of an entity (with the epoch it acts under). */
    'cm.master': { instance: NodeId; entity: string; epoch: number; held: boolean; reason: string };
    /** A CM replica applied an assignment (every replica reports each; all must agree). */
    'cm.assign': { node: NodeId; index: number; entity: string; master: NodeId | null; epoch: number };
    /** A CM replica applied a membership change. */
    'cm.member': { node: NodeId; index: number; member: NodeId; up: boolean };
    /** A CM replica applied a new election policy (every replica reports it at the same index). */
    'cm.policy': { node: NodeId; index: number; electionMode: string; joinPolicy: string; backups: number };
    /** The leader's failure detector declared a member down. */
    'cm.session.expired': { leader: NodeId; member: NodeId; silentNs: number };
  }
}

export interface CoordinationOptions {
  /** The CM consensus group's voters (fixed); instances not among them follow the log as learners. */
  voters: readonly NodeId[];
  learners?: readonly NodeId[];
  hasPtd: boolean;
  hasDht: boolean;
  policy?: CmPolicy;
  sessionHeartbeatNs?: Nanos;
  sessionTimeoutNs?: Nanos;
  electionTimeoutNs?: readonly [Nanos, Nanos];
  raftHeartbeatNs?: Nanos;
  /** Called after each applied command (the state already updated). */
  onApplied?: (index: number, command: CmCommand, effects: CmEffects) => void;
  /** Called when the set of entities this instance acts as master of changes. */
  onMastership?: (held: ReadonlyMap<EntityKey, number>) => void;
}

export const DEFAULT_SESSION_HEARTBEAT_NS: Nanos = 100_000_000;
export const DEFAULT_SESSION_TIMEOUT_NS: Nanos = 1_000_000_000;
const DEFAULT_ELECTION_TIMEOUT_NS: readonly [Nanos, Nanos] = [150_000_000, 300_000_000];
/** How long a proposal waits for its effect before it is sent again. */
const PROPOSAL_RETRY_NS: Nanos = 300_000_000;

type SessionMessage =
  | { readonly type: 'cm.session'; readonly sentAt: Nanos; readonly applied: number; readonly hasPtd: boolean; readonly hasDht: boolean }
  | { readonly type: 'cm.session-ack'; readonly sentAt: Nanos; readonly logIndex: number }
  | { readonly type: 'cm.propose'; readonly command: CmCommand };

interface Session {
  lastHeard: Nanos;
  applied: number;
  hasPtd: boolean;
  hasDht: boolean;
}

interface Proposal {
  readonly command: CmCommand;
  /** True once the applied state shows the command's effect (or makes it moot). */
  readonly settled: (state: CmState) => boolean;
  lastSent: Nanos;
}

export class CoordinationManager {
  readonly state: CmState;
  readonly raft: RaftPeer<CmCommand>;
  private readonly heartbeatNs: Nanos;
  private readonly timeoutNs: Nanos;
  private readonly graceNs: Nanos;
  /** The lease in force: until when this instance may act. */
  private leaseUntil: Nanos = 0;
  /** Acknowledged leases waiting for this instance to apply the log up to their index. */
  private pendingLeases: Array<{ until: Nanos; index: number }> = [];
  private leaseTimer: number | null = null;
  private held = new Map<EntityKey, number>();
  /** Leader only: what it knows of each member's session. */
  private sessions = new Map<NodeId, Session>();
  private leaderSince: Nanos = -1;
  private readonly proposals: Proposal[] = [];
  /** Leader only: commands proposed and not yet reflected, by their JSON, with when (to avoid floods). */
  private readonly inFlight = new Map<string, Nanos>();

  constructor(
    private readonly ctx: NodeContext,
    private readonly options: CoordinationOptions,
  ) {
    this.heartbeatNs = options.sessionHeartbeatNs ?? DEFAULT_SESSION_HEARTBEAT_NS;
    this.timeoutNs = options.sessionTimeoutNs ?? DEFAULT_SESSION_TIMEOUT_NS;
    const election = options.electionTimeoutNs ?? DEFAULT_ELECTION_TIMEOUT_NS;
    this.graceNs = 2 * election[1];
    this.state = new CmState(options.policy ?? DEFAULT_CM_POLICY);
    this.raft = new RaftPeer<CmCommand>(ctx, {
      voters: options.voters,
      learners: options.learners,
      electionTimeoutNs: election,
      heartbeatNs: options.raftHeartbeatNs,
      apply: (index, _term, command) => this.onApply(index, command),
      onStateChange: ({ role }) => this.onRaftState(role === 'leader'),
    });
    this.tick();
  }

  onMessage(from: NodeId, body: Message): boolean {
    if (body.type.startsWith('raft.')) return this.raft.onMessage(from, body);
    if (!body.type.startsWith('cm.')) return false;
    const m = body as unknown as SessionMessage;
    switch (m.type) {
      case 'cm.session':
        this.onSession(from, m);
        return true;
      case 'cm.session-ack':
        this.onSessionAck(m.sentAt, m.logIndex);
        return true;
      case 'cm.propose':
        if (this.raft.isLeader) this.leaderPropose(m.command);
        return true;
    }
  }

  /** The epoch under which this instance may act as master of `entity`, or null. */
  epochOf(entity: EntityKey): number | null {
    return this.held.get(entity) ?? null;
  }

  heldEntities(): ReadonlyMap<EntityKey, number> {
    return this.held;
  }

  /** Whether this instance's lease is valid (it may act on the applied state). */
  leaseValid(): boolean {
    return this.ctx.now() < this.leaseUntil;
  }

  /**
   * Asks for a command to be committed, resending to the current leader until the applied state shows
   * `settled` (commands are idempotent, so a duplicate commit is harmless).
   */
  propose(command: CmCommand, settled: (state: CmState) => boolean): void {
    if (command.kind === 'set-policy') validateCmPolicy(command.policy);
    if (settled(this.state)) return;
    const p: Proposal = { command, settled, lastSent: -Infinity };
    this.proposals.push(p);
    this.sendProposal(p);
  }

  /**
   * Asks the cluster to replace its election policy (replicated: every instance switches at the same log
   * index). Retried until this instance has applied a policy equal to `policy`; throws on an invalid one.
   */
  setPolicy(policy: CmPolicy): void {
    validateCmPolicy(policy);
    const wanted: CmPolicy = { electionMode: policy.electionMode, joinPolicy: policy.joinPolicy, backups: policy.backups };
    this.propose({ kind: 'set-policy', policy: wanted }, (state) =>
      state.policy.electionMode === wanted.electionMode && state.policy.joinPolicy === wanted.joinPolicy && state.policy.backups === wanted.backups,
    );
  }

  // ---- applying ----------------------------------------------------------------------------------------

  private onApply(index: number, command: CmCommand | null): void {
    if (command === null) {
      // A new leader's no-op: it changes no state, but a lease may have waited for this index.
      if (this.promoteLeases()) this.reevaluate('lease renewed');
      return;
    }
    const effects = this.state.apply(index, command);
    const trace = this.ctx.trace;
    if (trace.active) {
      if (effects.membership && (command.kind === 'member-up' || command.kind === 'member-down')) {
        trace.emit('cm.member', { node: this.ctx.id, index, member: command.id, up: command.kind === 'member-up' });
      }
      if (effects.policy) {
        const { electionMode, joinPolicy, backups } = this.state.policy;
        trace.emit('cm.policy', { node: this.ctx.id, index, electionMode, joinPolicy, backups });
      }
      for (const { entity, entry } of effects.assignments) {
        trace.emit('cm.assign', { node: this.ctx.id, index, entity, master: entry.master, epoch: entry.epoch });
      }
    }
    this.inFlight.delete(JSON.stringify(command));
    for (let i = this.proposals.length - 1; i >= 0; i--) if (this.proposals[i].settled(this.state)) this.proposals.splice(i, 1);
    this.options.onApplied?.(index, command, effects);
    this.promoteLeases();
    this.reevaluate(`applied ${index} (${command.kind})`);
  }

  /** Recomputes what this instance acts as master of, and reports the changes. */
  private reevaluate(reason: string): void {
    const next = new Map<EntityKey, number>();
    if (this.leaseValid()) {
      for (const entity of this.state.mastered(this.ctx.id)) next.set(entity, this.state.masterOf(entity)!.epoch);
    }
    let changed = false;
    const trace = this.ctx.trace;
    for (const [entity, epoch] of this.held) {
      if (next.get(entity) === epoch) continue;
      changed = true;
      if (trace.active) trace.emit('cm.master', { instance: this.ctx.id, entity, epoch, held: false, reason });
    }
    for (const [entity, epoch] of next) {
      if (this.held.get(entity) === epoch) continue;
      changed = true;
      if (trace.active) trace.emit('cm.master', { instance: this.ctx.id, entity, epoch, held: true, reason });
    }
    this.held = next;
    if (changed) this.options.onMastership?.(next);
  }

  // ---- sessions ----------------------------------------------------------------------------------------

  private tick(): void {
    this.ctx.setTimer(this.heartbeatNs, () => {
      this.sendSession();
      if (this.raft.isLeader) this.leaderDuties();
      for (const p of this.proposals) if (this.ctx.now() - p.lastSent >= PROPOSAL_RETRY_NS) this.sendProposal(p);
      this.tick();
    });
  }

  private sendSession(): void {
    const m: SessionMessage = { type: 'cm.session', sentAt: this.ctx.now(), applied: this.raft.lastApplied, hasPtd: this.options.hasPtd, hasDht: this.options.hasDht };
    if (this.raft.isLeader) return this.onSession(this.ctx.id, m as Extract<SessionMessage, { type: 'cm.session' }>);
    const leader = this.raft.leader;
    for (const to of leader !== null ? [leader] : this.options.voters) if (to !== this.ctx.id) this.ctx.send(to, m);
  }

  private onSession(from: NodeId, m: Extract<SessionMessage, { type: 'cm.session' }>): void {
    if (!this.raft.isLeader) return;
    this.sessions.set(from, { lastHeard: this.ctx.now(), applied: m.applied, hasPtd: m.hasPtd, hasDht: m.hasDht });
    const ack = { type: 'cm.session-ack', sentAt: m.sentAt, logIndex: this.raft.lastIndex } as const;
    if (from === this.ctx.id) this.onSessionAck(ack.sentAt, ack.logIndex);
    else this.ctx.send(from, ack);
  }

  private onSessionAck(sentAt: Nanos, logIndex: number): void {
    const until = sentAt + this.timeoutNs;
    if (until <= this.leaseUntil || until <= this.ctx.now()) return;
    this.pendingLeases.push({ until, index: logIndex });
    if (this.promoteLeases()) this.reevaluate('lease renewed');
  }

  /** Puts in force the longest pending lease whose index has been applied; true when the lease grew. */
  private promoteLeases(): boolean {
    const applied = this.raft.lastApplied;
    const now = this.ctx.now();
    let until = this.leaseUntil;
    this.pendingLeases = this.pendingLeases.filter((l) => {
      if (l.until <= now) return false;
      if (l.index > applied) return true;
      until = Math.max(until, l.until);
      return false;
    });
    if (until <= this.leaseUntil) return false;
    this.leaseUntil = until;
    if (this.leaseTimer !== null) this.ctx.cancelTimer(this.leaseTimer);
    this.leaseTimer = this.ctx.setTimer(until - this.ctx.now(), () => {
      this.leaseTimer = null;
      this.reevaluate('lease expired');
    });
    return true;
  }

  // ---- the leader's duties -----------------------------------------------------------------------------

  private onRaftState(isLeader: boolean): void {
    if (isLeader && this.leaderSince < 0) {
      // A new leader knows nothing of sessions: everyone gets the full timeout plus the grace.
      this.leaderSince = this.ctx.now();
      this.sessions = new Map();
      this.inFlight.clear();
    }
    if (!isLeader) this.leaderSince = -1;
  }

  private leaderDuties(): void {
    const now = this.ctx.now();
    const state = this.state;
    for (const [id, s] of this.sessions) {
      if (now - s.lastHeard > this.timeoutNs) continue;
      const member = state.members.get(id);
      if (member === undefined || !member.up || member.hasPtd !== s.hasPtd || member.hasDht !== s.hasDht) {
        this.leaderPropose({ kind: 'member-up', id, hasPtd: s.hasPtd, hasDht: s.hasDht });
      }
    }
    const heardSince = (id: NodeId) => Math.max(this.sessions.get(id)?.lastHeard ?? -Infinity, this.leaderSince + this.graceNs);
    for (const id of state.upMembers()) {
      const silent = now - heardSince(id);
      if (silent <= this.timeoutNs) continue;
      const trace = this.ctx.trace;
      if (!this.inFlight.has(JSON.stringify({ kind: 'member-down', id })) && trace.active) {
        trace.emit('cm.session.expired', { leader: this.ctx.id, member: id, silentNs: silent });
      }
      this.leaderPropose({ kind: 'member-down', id });
    }
    const step = state.nextRebalanceStep((member, index) => (this.sessions.get(member)?.applied ?? 0) >= index);
    if (step !== null) this.leaderPropose(step);
  }

  /** Appends a command unless the same one is already in flight (sent less than a retry period ago). */
  private leaderPropose(command: CmCommand): void {
    const key = JSON.stringify(command);
    const sent = this.inFlight.get(key);
    if (sent !== undefined && this.ctx.now() - sent < PROPOSAL_RETRY_NS) return;
    if (this.raft.propose(command) !== null) this.inFlight.set(key, this.ctx.now());
  }

  private sendProposal(p: Proposal): void {
    p.lastSent = this.ctx.now();
    if (this.raft.isLeader) return this.leaderPropose(p.command);
    const leader = this.raft.leader;
    if (leader !== null) this.ctx.send(leader, { type: 'cm.propose', command: p.command } satisfies SessionMessage);
  }
}
