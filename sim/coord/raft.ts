// A Raft peer (Ongaro & Ousterhout; the thesis's pre-vote §9.6 and CheckQuorum §6.2) living inside a
// controller instance's node process: the replicated log the coordination manager keeps its state in.
// Owns elections, replication, commitment and the order in which committed entries are handed to `apply`;
// not what the entries mean (the CM's state machine does) and not the disk layout (raft-log.ts).
//
// Roles: voters are 'follower', 'candidate' or 'leader'; a node outside `voters` is a 'learner' for life,
// which receives the log but never votes or stands. A candidate in its pre-vote round also reports
// 'candidate': it has given up on its leader, though its term does not move until a majority would vote.
//
// Safety under loss, duplication, reordering and delay rests on the usual rules, with two details that
// matter here: a follower truncates only on a term conflict (a reordered, older AppendEntries that is a
// prefix of the log is acknowledged, not applied as a cut), and it acknowledges prevIndex + entries sent,
// never its own last index. Term and vote, and every log change, are on the disk before the reply that
// depends on them is sent. Retransmission is the heartbeat: every interval the leader sends each peer
// the entries from its nextIndex (advanced optimistically on send); a refusal moves nextIndex back to
// the follower's hint and resends at once.
//
// Leader-side guards: CheckQuorum — a leader that has not heard from a majority of voters within the
// maximum election timeout steps down; and leader stickiness — a follower that heard from its leader
// within the minimum election timeout, and a leader, ignore vote and pre-vote requests, so a node that
// rejoins cannot depose a healthy leader.
//
// A new leader appends a no-op of its term so it can commit its predecessors' entries; `apply` receives it
// with command null (so proposals must not be null). After a restart, commitIndex and lastApplied are 0
// and `apply` runs again from index 1 as the commit index becomes known: the state machine above is
// rebuilt by replay. There are no snapshots or compaction, so the log and the replay grow without bound.
//
// Callbacks (`apply`, `onStateChange`) run only from this peer's message handlers and timers, never from
// inside `propose` or `setLearners`, and `apply` is never re-entered; a callback may call `propose`.

import { NS_PER_MS, type Nanos } from '../kernel/time.ts';
import type { Message, NodeId } from '../net/message.ts';
import type { NodeContext, TimerHandle } from '../net/node.ts';
import { RaftLog, type RaftEntry } from './raft-log.ts';
import { RAFT_MESSAGE_PREFIX, type AppendReply, type AppendRequest, type RaftMessage, type VoteReply, type VoteRequest } from './raft-messages.ts';

declare module '../kernel/trace.ts' {
  interface TraceEventMap {
    /** A peer's role changed (and once when it starts, as follower or learner). */
    'raft.role': { node: NodeId; role: RaftRole; term: number; leader: NodeId | null };
    /** A peer's commit index advanced (full traces only). */
    'raft.commit': { node: NodeId; term: number; index: number };
  }
}

export type RaftRole = 'follower' | 'candidate' | 'leader' | 'learner';

export interface RaftState {
  readonly role: RaftRole;
  readonly term: number;
  readonly leader: NodeId | null;
}

export interface RaftOptions<C> {
  /** The fixed voting set (node ids). May or may not include this node; if not, this node is a learner. */
  voters: readonly NodeId[];
  /** Non-voting members: the leader replicates the log to them too; they never vote or stand. */
  learners?: readonly NodeId[];
  /** Election timeout, uniformly random in [min, max] from ctx.rng. Default [150 ms, 300 ms]. */
  electionTimeoutNs?: readonly [Nanos, Nanos];
  /** Leader heartbeat / AppendEntries interval; must be below the minimum election timeout. Default 50 ms. */
  heartbeatNs?: Nanos;
  /** Pre-vote (Raft thesis §9.6) so a partitioned node rejoining does not depose a healthy leader. Default true. */
  preVote?: boolean;
  /** Max entries per AppendEntries. Default 64. */
  maxBatch?: number;
  /**
   * Called for each committed entry, in index order, exactly once per incarnation (indices from 1).
   * `command` is null for a leader's no-op; otherwise a copy of what was proposed.
   */
  apply: (index: number, term: number, command: C | null) => void;
  /** Called when role, term or known leader changes. */
  onStateChange?: (state: RaftState) => void;
  /** Disk key prefix. Default 'raft/'. */
  diskPrefix?: string;
}

export const DEFAULT_ELECTION_TIMEOUT_NS: readonly [Nanos, Nanos] = [150 * NS_PER_MS, 300 * NS_PER_MS];
export const DEFAULT_HEARTBEAT_NS: Nanos = 50 * NS_PER_MS;
export const DEFAULT_MAX_BATCH = 64;
export const DEFAULT_DISK_PREFIX = 'raft/';

/** What a leader knows of one peer. */
interface Progress {
  /** The next index to send (advanced on send, moved back on refusal). */
  next: number;
  /** The highest index known to be replicated on the peer. */
  match: number;
  /** When the leader last heard a reply of its term from the peer (CheckQuorum). */
  lastHeard: Nanos;
}

export class RaftPeer<C> {
  private readonly log: RaftLog<C>;
  private readonly voters: readonly NodeId[];
  private readonly isVoter: boolean;
  private readonly majority: number;
  private learnerIds: readonly NodeId[];
  private readonly electionMinNs: Nanos;
  private readonly electionMaxNs: Nanos;
  private readonly heartbeatNs: Nanos;
  private readonly preVote: boolean;
  private readonly maxBatch: number;

  private currentRole: RaftRole;
  private currentLeader: NodeId | null = null;
  private commit = 0;
  private applied = 0;
  private applying = false;
  /** When the current leader was last heard from (leader stickiness). */
  private lastLeaderContact: Nanos = 0;
  /** While a candidate: whether the round is a pre-vote, and who granted in it (self included). */
  private preVoting = false;
  private readonly grants = new Set<NodeId>();
  /** While leader: every other voter, then every learner. */
  private readonly progress = new Map<NodeId, Progress>();
  private electionTimer: TimerHandle | null = null;
  private heartbeatTimer: TimerHandle | null = null;
  private flushTimer: TimerHandle | null = null;
  private reported: RaftState;

  private readonly onElectionTimeout = () => {
    this.electionTimer = null;
    if (this.currentRole === 'follower' || this.currentRole === 'candidate') {
      if (this.preVote) this.startPreVote();
      else this.startElection();
      this.report();
    }
  };

  private readonly onHeartbeat = () => {
    this.heartbeatTimer = this.ctx.setTimer(this.heartbeatNs, this.onHeartbeat);
    if (!this.hearsFromQuorum()) {
      this.stepDown(null);
      this.report();
      return;
    }
    for (const [id, p] of this.progress) this.replicateTo(id, p);
  };

  private readonly onFlush = () => {
    this.flushTimer = null;
    if (this.currentRole !== 'leader') return;
    for (const [id, p] of this.progress) if (p.next <= this.log.lastIndex) this.replicateTo(id, p);
    this.advanceCommit();
  };

  constructor(
    private readonly ctx: NodeContext,
    private readonly options: RaftOptions<C>,
  ) {
    checkOptions(options);
    this.voters = [...options.voters];
    this.learnerIds = [...(options.learners ?? [])];
    this.isVoter = this.voters.includes(ctx.id);
    this.majority = Math.floor(this.voters.length / 2) + 1;
    [this.electionMinNs, this.electionMaxNs] = options.electionTimeoutNs ?? DEFAULT_ELECTION_TIMEOUT_NS;
    this.heartbeatNs = options.heartbeatNs ?? DEFAULT_HEARTBEAT_NS;
    this.preVote = options.preVote ?? true;
    this.maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    this.log = new RaftLog<C>(ctx.disk, options.diskPrefix ?? DEFAULT_DISK_PREFIX);
    this.currentRole = this.isVoter ? 'follower' : 'learner';
    this.reported = { role: this.currentRole, term: this.log.term, leader: null };
    if (ctx.trace.active) ctx.trace.emit('raft.role', { node: ctx.id, role: this.currentRole, term: this.log.term, leader: null });
    if (this.isVoter) this.resetElectionTimer();
  }

  get role(): RaftRole {
    return this.currentRole;
  }

  get term(): number {
    return this.log.term;
  }

  get leader(): NodeId | null {
    return this.currentLeader;
  }

  get commitIndex(): number {
    return this.commit;
  }

  get lastApplied(): number {
    return this.applied;
  }

  get lastIndex(): number {
    return this.log.lastIndex;
  }

  get isLeader(): boolean {
    return this.currentRole === 'leader';
  }

  /** The learners the leader replicates to (as last set here). */
  get learners(): readonly NodeId[] {
    return this.learnerIds;
  }

  /** Handles every message whose type starts with 'raft.'; returns false for anything else. */
  onMessage(from: NodeId, body: Message): boolean {
    if (!body.type.startsWith(RAFT_MESSAGE_PREFIX)) return false;
    const m = body as unknown as RaftMessage;
    switch (m.type) {
      case 'raft.vote':
        this.onVoteRequest(from, m);
        return true;
      case 'raft.vote-reply':
        this.onVoteReply(from, m);
        return true;
      case 'raft.append':
        this.onAppend(from, m);
        return true;
      case 'raft.append-reply':
        this.onAppendReply(from, m);
        return true;
      default:
        return false;
    }
  }

  /**
   * Leader only: appends a copy of `command` to the log and returns its index; null when not leader (the
   * entry is then nowhere). Being appended is not being committed: watch `apply` for the index.
   */
  propose(command: C): number | null {
    if (command === null || command === undefined) throw new Error('raft propose: a command must not be null or undefined (null marks a leader no-op)');
    let copy: C;
    try {
      copy = structuredClone(command);
    } catch (e) {
      throw new Error(`raft propose: a command must be plain data (${(e as Error).message.split('\n')[0]})`);
    }
    if (this.currentRole !== 'leader') return null;
    this.log.append([{ term: this.log.term, command: copy }]);
    this.scheduleFlush();
    return this.log.lastIndex;
  }

  /** Replaces the learner set; a leader starts (or stops) replicating to them at once. */
  setLearners(ids: readonly NodeId[]): void {
    checkLearners(ids, this.voters);
    this.learnerIds = [...ids];
    if (this.currentRole !== 'leader') return;
    const members = new Set(this.peerIds());
    for (const id of [...this.progress.keys()]) if (!members.has(id)) this.progress.delete(id);
    for (const id of members) if (!this.progress.has(id)) this.progress.set(id, this.freshProgress());
    this.scheduleFlush();
  }

  // ---- elections ---------------------------------------------------------------------------------------

  private startPreVote(): void {
    this.becomeCandidate(true);
    if (this.grants.size >= this.majority) {
      this.startElection();
      return;
    }
    this.requestVotes(this.log.term + 1, true);
  }

  private startElection(): void {
    this.log.setTermAndVote(this.log.term + 1, this.ctx.id);
    this.becomeCandidate(false);
    if (this.grants.size >= this.majority) {
      this.becomeLeader();
      return;
    }
    this.requestVotes(this.log.term, false);
  }

  private becomeCandidate(preVoting: boolean): void {
    this.stopLeading();
    this.currentRole = 'candidate';
    this.currentLeader = null;
    this.preVoting = preVoting;
    this.grants.clear();
    this.grants.add(this.ctx.id);
    this.resetElectionTimer();
  }

  private requestVotes(term: number, preVote: boolean): void {
    const request: VoteRequest = { type: 'raft.vote', term, preVote, lastIndex: this.log.lastIndex, lastTerm: this.log.lastTerm };
    for (const id of this.voters) if (id !== this.ctx.id) this.send(id, request);
  }

  private onVoteRequest(from: NodeId, m: VoteRequest): void {
    if (!this.isVoter || from === this.ctx.id || !this.voters.includes(from) || this.inLease()) return;
    const upToDate = m.lastTerm > this.log.lastTerm || (m.lastTerm === this.log.lastTerm && m.lastIndex >= this.log.lastIndex);
    if (m.preVote) {
      const granted = m.term > this.log.term && upToDate;
      this.send(from, { type: 'raft.vote-reply', term: granted ? m.term : this.log.term, preVote: true, granted });
      return;
    }
    if (m.term > this.log.term) this.adoptTerm(m.term);
    const votedFor = this.log.votedFor;
    const granted = m.term === this.log.term && (votedFor === null || votedFor === from) && upToDate;
    if (granted) {
      this.log.setTermAndVote(this.log.term, from);
      this.resetElectionTimer();
    }
    this.report();
    this.send(from, { type: 'raft.vote-reply', term: this.log.term, preVote: false, granted });
  }

  private onVoteReply(from: NodeId, m: VoteReply): void {
    if (!this.isVoter) return;
    // A granted pre-vote echoes the term we would stand in; anything else with a higher term means we are behind.
    if (m.term > this.log.term && !(m.preVote && m.granted)) {
      this.adoptTerm(m.term);
      this.report();
      return;
    }
    if (this.currentRole !== 'candidate' || !m.granted || !this.voters.includes(from)) return;
    if (m.preVote !== this.preVoting) return;
    if (m.term !== (this.preVoting ? this.log.term + 1 : this.log.term)) return;
    this.grants.add(from);
    if (this.grants.size < this.majority) return;
    if (this.preVoting) this.startElection();
    else this.becomeLeader();
    this.report();
  }

  /** A leader, or a follower that heard from its leader within the minimum election timeout, ignores votes. */
  private inLease(): boolean {
    if (this.currentRole === 'leader') return true;
    return this.currentRole === 'follower' && this.currentLeader !== null && this.ctx.now() - this.lastLeaderContact < this.electionMinNs;
  }

  // ---- leading -----------------------------------------------------------------------------------------

  private becomeLeader(): void {
    this.cancelElectionTimer();
    this.currentRole = 'leader';
    this.currentLeader = this.ctx.id;
    this.preVoting = false;
    this.grants.clear();
    this.progress.clear();
    for (const id of this.peerIds()) this.progress.set(id, this.freshProgress());
    this.log.append([{ term: this.log.term, command: null }]);
    // Reported before the first send so that a callback's proposals ride along with the no-op.
    this.report();
    this.onHeartbeat();
    this.advanceCommit();
  }

  private freshProgress(): Progress {
    return { next: this.log.lastIndex + 1, match: 0, lastHeard: this.ctx.now() };
  }

  /** Other voters first, then learners, in the order given: the order sends go out in. */
  private peerIds(): NodeId[] {
    const ids = this.voters.filter((id) => id !== this.ctx.id);
    for (const id of this.learnerIds) if (id !== this.ctx.id && !ids.includes(id)) ids.push(id);
    return ids;
  }

  private hearsFromQuorum(): boolean {
    const now = this.ctx.now();
    let heard = 1;
    for (const id of this.voters) {
      const p = this.progress.get(id);
      if (p !== undefined && now - p.lastHeard <= this.electionMaxNs) heard++;
    }
    return heard >= this.majority;
  }

  /** Proposals are sent on a zero-delay timer, so a burst of them in one handler goes out as one batch. */
  private scheduleFlush(): void {
    if (this.flushTimer === null) this.flushTimer = this.ctx.setTimer(0, this.onFlush);
  }

  private replicateTo(id: NodeId, p: Progress): void {
    const prevIndex = p.next - 1;
    const entries = this.log.slice(p.next, p.next + this.maxBatch - 1);
    const request: AppendRequest = { type: 'raft.append', term: this.log.term, prevIndex, prevTerm: this.log.termAt(prevIndex), entries, commit: this.commit };
    this.send(id, request);
    p.next += entries.length;
  }

  private onAppendReply(from: NodeId, m: AppendReply): void {
    if (m.term > this.log.term) {
      this.adoptTerm(m.term);
      this.report();
      return;
    }
    if (this.currentRole !== 'leader' || m.term !== this.log.term) return;
    const p = this.progress.get(from);
    if (p === undefined) return;
    p.lastHeard = this.ctx.now();
    if (!m.success) {
      p.next = Math.max(p.match + 1, Math.min(m.index, this.log.lastIndex + 1));
      this.replicateTo(from, p);
      return;
    }
    if (m.index <= p.match) return; // a duplicate or an older acknowledgement
    p.match = m.index;
    if (p.next <= p.match) p.next = p.match + 1;
    this.advanceCommit();
    if (this.currentRole === 'leader' && p.next <= this.log.lastIndex) this.replicateTo(from, p);
  }

  /** Commits the highest index a majority of voters holds, if it is of this term (Raft §5.4.2). */
  private advanceCommit(): void {
    if (this.currentRole !== 'leader') return;
    const matches = this.voters.map((id) => (id === this.ctx.id ? this.log.lastIndex : (this.progress.get(id)?.match ?? 0)));
    matches.sort((a, b) => b - a);
    const index = matches[this.majority - 1];
    if (index > this.commit && this.log.termAt(index) === this.log.term) {
      this.setCommit(index);
      this.applyCommitted();
    }
  }

  private stopLeading(): void {
    if (this.heartbeatTimer !== null) this.ctx.cancelTimer(this.heartbeatTimer);
    if (this.flushTimer !== null) this.ctx.cancelTimer(this.flushTimer);
    this.heartbeatTimer = null;
    this.flushTimer = null;
    this.progress.clear();
  }

  // ---- following ---------------------------------------------------------------------------------------

  private onAppend(from: NodeId, m: AppendRequest): void {
    if (m.term < this.log.term) {
      this.send(from, { type: 'raft.append-reply', term: this.log.term, success: false, index: 0 });
      return;
    }
    if (m.term > this.log.term) this.adoptTerm(m.term);
    if (this.currentRole === 'candidate' || this.currentRole === 'leader') {
      this.stepDown(from);
    } else {
      this.currentLeader = from;
      if (this.isVoter) this.resetElectionTimer();
    }
    this.lastLeaderContact = this.ctx.now();
    this.report();

    if (m.prevIndex > this.log.lastIndex) {
      this.send(from, { type: 'raft.append-reply', term: this.log.term, success: false, index: this.log.lastIndex + 1 });
      return;
    }
    if (this.log.termAt(m.prevIndex) !== m.prevTerm) {
      // Committed entries match every leader's, so the retry never needs to start at or below the commit index.
      const hint = Math.max(this.log.firstIndexOfTermAt(m.prevIndex), this.commit + 1);
      this.send(from, { type: 'raft.append-reply', term: this.log.term, success: false, index: hint });
      return;
    }
    this.merge(m.prevIndex, m.entries as readonly RaftEntry<C>[]);
    const match = m.prevIndex + m.entries.length;
    if (m.commit > this.commit && match > this.commit) this.setCommit(Math.min(m.commit, match));
    this.send(from, { type: 'raft.append-reply', term: this.log.term, success: true, index: match });
    this.applyCommitted();
  }

  /** Appends what the log lacks after prevIndex, cutting the log only where a term conflicts. */
  private merge(prevIndex: number, entries: readonly RaftEntry<C>[]): void {
    let i = 0;
    for (; i < entries.length; i++) {
      const index = prevIndex + 1 + i;
      if (index > this.log.lastIndex) break;
      if (this.log.termAt(index) !== entries[i].term) {
        if (index <= this.commit) throw new Error(`raft ${this.ctx.id}: a leader asked to overwrite committed entry ${index}`);
        this.log.truncateFrom(index);
        break;
      }
    }
    if (i < entries.length) this.log.append(entries.slice(i));
  }

  // ---- shared ------------------------------------------------------------------------------------------

  /** Moves to a higher term, with no vote cast in it yet; a leader or candidate becomes a follower. */
  private adoptTerm(term: number): void {
    this.log.setTermAndVote(term, null);
    if (this.currentRole === 'leader' || this.currentRole === 'candidate') this.stepDown(null);
    else this.currentLeader = null;
  }

  private stepDown(leader: NodeId | null): void {
    this.stopLeading();
    this.currentRole = 'follower';
    this.currentLeader = leader;
    this.preVoting = false;
    this.grants.clear();
    this.resetElectionTimer();
  }

  private resetElectionTimer(): void {
    this.cancelElectionTimer();
    this.electionTimer = this.ctx.setTimer(this.ctx.rng.between(this.electionMinNs, this.electionMaxNs), this.onElectionTimeout);
  }

  private cancelElectionTimer(): void {
    if (this.electionTimer !== null) this.ctx.cancelTimer(this.electionTimer);
    this.electionTimer = null;
  }

  private setCommit(index: number): void {
    this.commit = index;
    if (this.ctx.trace.active) this.ctx.trace.detail('raft.commit', { node: this.ctx.id, term: this.log.term, index });
  }

  private applyCommitted(): void {
    if (this.applying) return;
    this.applying = true;
    try {
      while (this.applied < this.commit) {
        const index = ++this.applied;
        const entry = this.log.entry(index);
        // A copy, so a state machine that keeps or changes what it is handed cannot change the log.
        this.options.apply(index, entry.term, entry.command === null ? null : structuredClone(entry.command));
      }
    } finally {
      this.applying = false;
    }
  }

  private send(to: NodeId, message: RaftMessage): void {
    this.ctx.send(to, message);
  }

  /** Tells the owner (and the trace, for a role change) when role, term or leader differs from last time. */
  private report(): void {
    const before = this.reported;
    const now: RaftState = { role: this.currentRole, term: this.log.term, leader: this.currentLeader };
    if (before.role === now.role && before.term === now.term && before.leader === now.leader) return;
    this.reported = now;
    if (before.role !== now.role && this.ctx.trace.active) this.ctx.trace.emit('raft.role', { node: this.ctx.id, ...now });
    this.options.onStateChange?.(now);
  }
}

// ---- option checks -----------------------------------------------------------------------------------

function checkOptions<C>(options: RaftOptions<C>): void {
  const fail = (why: string): never => {
    throw new Error(`raft options: ${why}`);
  };
  const { voters } = options;
  if (!Array.isArray(voters) || voters.length === 0) fail('voters must be a non-empty list of node ids');
  for (const id of voters) if (typeof id !== 'string' || id === '') fail(`voter ${JSON.stringify(id)} is not a node id`);
  if (new Set(voters).size !== voters.length) fail(`voters list a node twice: ${voters.join(', ')}`);
  if (options.learners !== undefined) checkLearners(options.learners, voters);
  const timeout = options.electionTimeoutNs;
  if (timeout !== undefined) {
    const [min, max] = Array.isArray(timeout) ? timeout : [NaN, NaN];
    if (!(isPositiveInteger(min) && isPositiveInteger(max) && min <= max)) fail(`electionTimeoutNs must be [min, max] whole nanoseconds with 0 < min <= max, got ${JSON.stringify(timeout)}`);
  }
  const [electionMin] = timeout ?? DEFAULT_ELECTION_TIMEOUT_NS;
  const heartbeat = options.heartbeatNs ?? DEFAULT_HEARTBEAT_NS;
  if (!isPositiveInteger(heartbeat) || heartbeat >= electionMin) fail(`heartbeatNs must be whole nanoseconds above 0 and below the minimum election timeout (${electionMin}), got ${heartbeat}`);
  const batch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  if (!isPositiveInteger(batch)) fail(`maxBatch must be a positive integer, got ${batch}`);
  if (typeof options.apply !== 'function') fail('apply must be a function');
  if (options.onStateChange !== undefined && typeof options.onStateChange !== 'function') fail('onStateChange must be a function');
  if (options.diskPrefix !== undefined && (typeof options.diskPrefix !== 'string' || options.diskPrefix === '')) fail('diskPrefix must be a non-empty string');
}

function checkLearners(ids: readonly NodeId[], voters: readonly NodeId[]): void {
  const fail = (why: string): never => {
    throw new Error(`raft learners: ${why}`);
  };
  if (!Array.isArray(ids)) fail('learners must be a list of node ids');
  for (const id of ids) {
    if (typeof id !== 'string' || id === '') fail(`learner ${JSON.stringify(id)} is not a node id`);
    if (voters.includes(id)) fail(`'${id}' is a voter and cannot also be a learner`);
  }
  if (new Set(ids).size !== ids.length) fail(`learners list a node twice: ${ids.join(', ')}`);
}

function isPositiveInteger(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0;
}
