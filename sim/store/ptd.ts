// The PTD component of one controller instance (FIGS. 40–43): master or slave replica of the persistent
// transactional store, submitter of transactions, and the instance's NIB import module for PTD records.
// Owns the replication protocol, the master's trigger list and the import notifications; not the log's
// disk layout (ptd-log.ts), transaction semantics (ptd-transaction.ts) or who is master (the coordination
// manager names the master and its epoch in the view; call onViewChange when the view changes).
//
// The protocol is primary-backup with an externally chosen primary, as in Viewstamped Replication or
// Kafka with a controller:
// - Order. The master appends each transaction to its log at the next index, tagged with its epoch, and
//   sends it to every replica. A replica accepts log messages only from the epoch it has promised (the
//   newest it knows, from the view or a message) or a newer one; older ones are refused ('ptd.stale'
//   answer, 'ptd.reject-stale' trace), which fences a deposed master. It installs entries only after the
//   one it already holds at the previous index (a gap is buffered and reported so the master resends;
//   a conflicting uncommitted suffix is truncated) and persists them before acking.
// - Commit, 'ack-then-write' (FIG. 42): an entry is committed once 'majority' (of the view's replicas,
//   master counted) or 'all' (every replica not flagged) hold it; the master then applies it, answers the
//   origin and notifies the importers, and tells the slaves, which apply committed entries in index
//   order. So a slave's "write" (FIG. 43 stage 6) is the durable append it acks; its records follow the
//   commit point. Transactions are evaluated when applied, identically on every replica.
//   'write-then-notify' (FIG. 43): the master applies and answers at once, then replicates: a master crash
//   can lose acknowledged writes, deliberately (the ablation measures it).
// - Error handler (FIG. 42 4240/4250): the master retransmits to a slave that does not ack; after
//   maxRetransmits retransmissions without progress the slave is flagged ('ptd.slave.flagged'). In 'all'
//   mode a flagged slave is no longer waited for until it has caught up again (Kafka's in-sync replica
//   set): it still gets new entries, catches up through the heartbeat, and is unflagged once it holds
//   everything committed. Flagging never shrinks the set below a majority (Kafka's min.insync.replicas):
//   'all' commits only what 'majority' would too, so a master cut off with a minority cannot commit alone,
//   and a committed write survives the crash of any minority under both policies.
// - New master (a higher epoch in the view): it first synchronises. It asks every replica for its last
//   (index, epoch); waits for a majority ('all': and for every other replica, until the retransmit budget
//   flags the silent ones); adopts the most up-to-date log (latest epoch of last entry, then highest
//   index), fetching it from its holder; and appends a no-op entry of its own epoch. It is ready
//   ('ptd.master.ready') once that no-op commits: everything before it is then committed too, and a log
//   that lacks it can never be adopted again (Raft's rule that a leader commits only entries of its own
//   term, for the same reason). Submissions that arrive meanwhile are queued. A restarted master of the
//   same epoch does the same.
// - Dedupe: a request id (origin, incarnation, seq) travels in the log entry, so any master recognises a
//   retransmitted submission from its log and answers it again instead of applying it twice.
// - Submitters (FIG. 41) send to the master and retransmit every retransmitNs; an 'accepted' answer
//   (the master holds the request and is working on it) counts as hearing from it. After maxRetransmits
//   silent intervals the caller gets 'timeout' ('no-master' if no master was named all along); a view
//   change resends pending requests to the new master with a fresh budget.
// - Import (FIG. 43 stage 8, FIG. 29): the master keeps the trigger list (importer → watched prefixes),
//   volatile, so importers re-register with each new master. Each registration returns a snapshot of the
//   watched records and the next notification number; each committed change goes, with its record, to
//   exactly the importers watching its key, numbered per importer. An importer applies them in order
//   and re-reads its prefixes on a gap that does not fill, on a new master, or when the heartbeat shows
//   it missed some; it calls onChange once per changed key.
// - Heartbeat: every heartbeatNs the master sends each replica and importer its log end, commit point and
//   last notification number. Replicas answer with their position, so whatever fell behind (a partition
//   outlived the retransmit budget, an ack was lost after the slave was flagged) catches up; importers
//   re-register when the master has forgotten them or sent what they never got. With the heartbeat off,
//   such stragglers wait for the next write or view change.
// - Restart: a replica replays its disk and announces itself to the master. A replica whose applied prefix
//   disagrees with the master's log (only after 'write-then-notify' lost a write) discards its PTD and
//   reloads it from the master ('ptd.reload').

import { NS_PER_MS, type Nanos } from '../kernel/time.ts';
import type { Message, NodeId } from '../net/message.ts';
import type { NodeContext, TimerHandle } from '../net/node.ts';
import { ReplicaLog } from './ptd-log.ts';
import {
  requestKey,
  type AcceptedMessage,
  type AppendMessage,
  type BeatMessage,
  type EntriesMessage,
  type NotifyMessage,
  type PtdMessage,
  type RecordChange,
  type ReportMessage,
  type RequestId,
  type ResultMessage,
  type SubmitMessage,
  type WatchedMessage,
  type WatchMessage,
} from './ptd-messages.ts';
import { canonicalJson, compareKeys, validateTransaction, type PtdRecord, type Transaction, type TxnOutcome } from './ptd-transaction.ts';

export type { Condition, PtdRecord, Statement, Transaction, TxnOutcome } from './ptd-transaction.ts';

declare module '../kernel/trace.ts' {
  interface TraceEventMap {
    /** (detail) The master appended an entry to its log; `request` is the request key, null for a no-op. */
    'ptd.issue': { node: NodeId; index: number; epoch: number; request: string | null };
    /** The master applied a committed entry (`ok`: the transaction's outcome; a no-op is ok). */
    'ptd.commit': { node: NodeId; index: number; epoch: number; origin: NodeId | null; ok: boolean };
    /** A new master adopted the most up-to-date log, held by `source`. */
    'ptd.master.sync': { node: NodeId; epoch: number; source: NodeId; lastIndex: number; lastEpoch: number };
    'ptd.master.ready': { node: NodeId; epoch: number; index: number };
    /** A master learned of a newer epoch and stopped acting as master. */
    'ptd.master.deposed': { node: NodeId; epoch: number; newer: number };
    'ptd.reject-stale': { node: NodeId; from: NodeId; message: string; epoch: number; promised: number };
    'ptd.slave.flagged': { node: NodeId; slave: NodeId; epoch: number; match: number };
    'ptd.slave.unflagged': { node: NodeId; slave: NodeId; epoch: number };
    /** A replica discarded its PTD to reload it from the master (its applied prefix was never committed). */
    'ptd.reload': { node: NodeId; epoch: number; applied: number };
    'ptd.error': { node: NodeId; request: string; error: 'timeout' | 'refused' | 'no-master' };
    // The FIG. 43 stages of one write, for checkers (all detail: one per write or per message).
    /** (detail) Stage 2: the local NIB export handed a transaction to this instance's PTD interface. */
    'ptd.request': { node: NodeId; request: string };
    /** (detail) Stage 3: a request sent, or sent again, to the master's interface. */
    'ptd.forward': { node: NodeId; request: string; master: NodeId; epoch: number };
    /** (detail) Stage 5: the master sent a slave its entries first..last. */
    'ptd.replicate': { node: NodeId; slave: NodeId; epoch: number; first: number; last: number };
    /** (detail) Stage 6: a slave holds the master's entries first..last on disk, and acks them. */
    'ptd.install': { node: NodeId; master: NodeId; epoch: number; first: number; last: number };
    /** (detail) Stage 7: the master learned that a slave's log matches its own through `match`. */
    'ptd.ack': { node: NodeId; slave: NodeId; epoch: number; match: number };
    /** (detail) Stage 8: an import module took a record into its NIB (version null: a deletion). */
    'ptd.import': { node: NodeId; key: string; version: number | null; via: 'notify' | 'snapshot' };
  }
}

export interface PtdView {
  readonly master: NodeId | null;
  /** Increases every time the coordination manager picks a master. */
  readonly epoch: number;
  /** Instances holding a PTD, master included. */
  readonly replicas: readonly NodeId[];
  /** Every instance's NIB import module, PTD-less ones included. */
  readonly importers: readonly NodeId[];
}

export interface PtdOptions {
  /** The coordination manager's current view; call onViewChange() whenever it changes. */
  view: () => PtdView;
  /** False: a PTD-less instance (submitter and importer only). */
  hasReplica: boolean;
  /** FIG. 42 step 4230. Default 'majority'. */
  commit?: 'all' | 'majority';
  /** FIG. 42 (slaves ack, then the master records and answers) or FIG. 43 (the reverse). Default 'ack-then-write'. */
  order?: 'ack-then-write' | 'write-then-notify';
  /** Default 50 ms. */
  retransmitNs?: Nanos;
  /** Default 5; then the error handler (submitter: error to the caller; master: flag the slave). */
  maxRetransmits?: number;
  /** The master's heartbeat (anti-entropy) period; 0 turns it off. Default 200 ms. */
  heartbeatNs?: Nanos;
  /** This instance's NIB import module: called once per changed watched key, in commit order. */
  onChange?: (key: string, record: PtdRecord | null, index: number) => void;
}

export type SubmitResult =
  | { ok: true; index: number; outcome: TxnOutcome }
  | { ok: false; error: 'timeout' | 'refused' | 'no-master'; message: string };

export const DEFAULT_RETRANSMIT_NS: Nanos = 50 * NS_PER_MS;
export const DEFAULT_MAX_RETRANSMITS = 5;
export const DEFAULT_HEARTBEAT_NS: Nanos = 200 * NS_PER_MS;

/** Most entries one append carries; a replica further behind catches up over several round trips. */
const MAX_BATCH_ENTRIES = 64;
/** Most out-of-order messages a replica or importer holds while waiting for the gap before them. */
const MAX_BUFFERED = 256;

interface Settings {
  readonly commit: 'all' | 'majority';
  readonly order: 'ack-then-write' | 'write-then-notify';
  readonly retransmitNs: Nanos;
  readonly maxRetransmits: number;
  readonly heartbeatNs: Nanos;
}

type Send = (dst: NodeId, body: PtdMessage) => void;

export class PtdNode {
  private readonly settings: Settings;
  private readonly log: ReplicaLog | null;
  private mastership: Mastership | null = null;
  private readonly submitter: Submitter;
  private readonly importer: ImportModule;
  /** Appends that arrived before the entries they follow, by prevIndex (promised epoch only). */
  private readonly appendBuffer = new Map<number, AppendMessage>();
  private readonly sendFn: Send = (dst, body) => this.send(dst, body);
  /** False until the first event after construction; until then submissions and watches only queue up. */
  private started = false;

  constructor(
    private readonly ctx: NodeContext,
    private readonly options: PtdOptions,
  ) {
    this.settings = checkOptions(options);
    checkView(options.view());
    this.log = options.hasReplica ? new ReplicaLog(ctx.disk) : null;
    this.submitter = new Submitter(ctx, this.settings, this.sendFn, options.view);
    this.importer = new ImportModule(ctx, this.settings, this.sendFn, options.view, options.onChange);
    // Started from the queue rather than here, so the whole cluster exists before the first message.
    ctx.setTimer(0, () => this.start());
  }

  // ---- public API -------------------------------------------------------------------------------------

  onMessage(from: NodeId, body: Message): boolean {
    if (typeof body.type !== 'string' || !body.type.startsWith('ptd.')) return false;
    const m = body as PtdMessage;
    switch (m.type) {
      case 'ptd.submit':
        if (this.mastership !== null) this.mastership.onSubmit(from, m);
        else this.send(from, { type: 'ptd.not-master', request: m.request });
        return true;
      case 'ptd.accepted':
      case 'ptd.result':
      case 'ptd.refused':
      case 'ptd.not-master':
        this.submitter.onReply(m);
        return true;
      case 'ptd.watch':
        this.mastership?.onWatch(from, m);
        return true;
      case 'ptd.watched':
        this.importer.onWatched(from, m);
        return true;
      case 'ptd.notify':
        this.importer.onNotify(from, m);
        return true;
      case 'ptd.beat':
        this.importer.onBeat(from, m);
        if (this.log !== null) this.onBeat(from, m);
        return true;
      case 'ptd.state-query':
        if (this.log !== null && this.acceptFromMaster(from, m)) this.reportState(from);
        return true;
      case 'ptd.fetch':
        if (this.log !== null && this.acceptFromMaster(from, m)) this.sendEntries(from, m.epoch, m.from);
        return true;
      case 'ptd.append':
        if (this.log !== null && this.acceptFromMaster(from, m)) this.installAppend(from, m);
        return true;
      case 'ptd.commit':
        if (this.log !== null && this.acceptFromMaster(from, m) && this.log.holds(m.index, m.indexEpoch)) this.log.applyThrough(m.index);
        return true;
      case 'ptd.report':
        if (this.log !== null) {
          this.noteEpoch(m.epoch);
          this.mastership?.onReport(from, m);
        }
        return true;
      case 'ptd.entries':
        this.mastership?.onEntries(from, m);
        return true;
      case 'ptd.stale':
        if (this.log !== null) this.noteEpoch(m.epoch);
        return true;
      default:
        return false;
    }
  }

  /** FIG. 41 here (forward to the master, wait, retransmit, error) or FIG. 42 if this is the master. */
  submit(txn: Transaction, done: (r: SubmitResult) => void): void {
    if (typeof done !== 'function') throw new Error('PTD submit: done must be a function');
    this.submitter.submit(validateTransaction(txn), done, this.started);
  }

  /** Registers this instance's import module for keys under `prefix` (with every master to come). */
  watch(prefix: string): void {
    if (typeof prefix !== 'string') throw new Error(`PTD watch: prefix must be a string, got ${typeof prefix}`);
    this.importer.watch(prefix, this.started);
  }

  onViewChange(): void {
    checkView(this.options.view());
    if (!this.started) return;
    this.followView(false);
    this.submitter.onViewChange();
    this.importer.onViewChange();
  }

  /** The local replica's records (PTD holders) or the imported records (PTD-less instances). */
  records(): ReadonlyMap<string, PtdRecord> {
    return this.log !== null ? this.log.records : this.importer.imported;
  }

  get appliedIndex(): number {
    return this.log?.applied ?? 0;
  }

  appliedLog(): ReadonlyArray<{ index: number; epoch: number }> {
    return this.log?.appliedLog() ?? [];
  }

  /** Whether this instance is currently the master and done synchronising (for tests and pictures). */
  get isReadyMaster(): boolean {
    return this.mastership?.phase === 'ready';
  }

  // ---- replica role -----------------------------------------------------------------------------------

  private start(): void {
    this.started = true;
    this.followView(true);
    this.submitter.onViewChange();
    this.importer.onViewChange();
  }

  /** Promises the view's epoch, and starts, stops or updates this instance's mastership to match it. */
  private followView(starting: boolean): void {
    const log = this.log;
    if (log === null) return;
    const view = this.options.view();
    this.noteEpoch(view.epoch);
    const lead = view.master === this.ctx.id && view.epoch === log.promised;
    if (this.mastership !== null && (!lead || this.mastership.epoch !== view.epoch)) this.stepDown();
    if (lead) {
      if (this.mastership === null) {
        this.mastership = new Mastership(this.ctx, log, view.epoch, this.settings, this.sendFn, this.options.view);
        this.mastership.start();
      } else {
        this.mastership.onMembersChanged();
      }
    } else if (starting && view.master !== null) {
      // A (re)started replica announces itself, so the master brings it up to date.
      this.reportState(view.master);
    }
  }

  /** Raises the promised epoch; a master of an older epoch stops acting as one. */
  private noteEpoch(epoch: number): void {
    const log = this.log!;
    if (log.promise(epoch)) this.appendBuffer.clear();
    const m = this.mastership;
    if (m !== null && m.epoch < log.promised) {
      this.ctx.trace.emit('ptd.master.deposed', { node: this.ctx.id, epoch: m.epoch, newer: log.promised });
      this.stepDown();
    }
  }

  private stepDown(): void {
    this.mastership!.stop();
    this.mastership = null;
  }

  /** Fencing: refuses a master's message from an epoch older than the promised one. */
  private acceptFromMaster(from: NodeId, m: { type: string; epoch: number }): boolean {
    const log = this.log!;
    if (m.epoch < log.promised) {
      this.ctx.trace.emit('ptd.reject-stale', { node: this.ctx.id, from, message: m.type, epoch: m.epoch, promised: log.promised });
      this.send(from, { type: 'ptd.stale', epoch: log.promised });
      return false;
    }
    this.noteEpoch(m.epoch);
    // Only this instance masters its own epoch.
    return this.mastership?.epoch !== m.epoch;
  }

  private installAppend(from: NodeId, m: AppendMessage): void {
    const log = this.log!;
    switch (log.install(m.prevIndex, m.prevEpoch, m.entries)) {
      case 'gap': {
        // Keep it for when the gap fills; the first time, tell the master where this log ends.
        const first = this.appendBuffer.size === 0;
        if (this.appendBuffer.size < MAX_BUFFERED) this.appendBuffer.set(m.prevIndex, m);
        if (first) this.reportState(from);
        return;
      }
      case 'mismatch':
        return this.reportState(from);
      case 'diverged':
        this.reload(m.epoch);
        return this.reportState(from);
      case 'ok':
        break;
    }
    if (log.dropStaleTail(m.lastIndex, m.epoch) === 'diverged') {
      this.reload(m.epoch);
      return this.reportState(from);
    }
    const verified = m.prevIndex + m.entries.length;
    if (this.ctx.trace.active && m.entries.length > 0) {
      this.ctx.trace.detail('ptd.install', { node: this.ctx.id, master: from, epoch: m.epoch, first: m.prevIndex + 1, last: verified });
    }
    log.applyThrough(Math.min(m.commit, verified));
    this.send(from, { type: 'ptd.report', epoch: m.epoch, kind: 'ack', lastIndex: verified, lastEpoch: log.epochAt(verified)!, applied: log.applied });
    this.drainAppends(from);
  }

  private drainAppends(from: NodeId): void {
    const log = this.log!;
    const ready = [...this.appendBuffer.keys()].filter((prev) => prev <= log.lastIndex).sort((a, b) => a - b);
    for (const prev of ready) {
      const m = this.appendBuffer.get(prev);
      if (m === undefined) continue;
      this.appendBuffer.delete(prev);
      if (m.epoch === log.promised) this.installAppend(from, m);
    }
  }

  /** Applies what the beat says is committed and answers with this log's position, in case an ack was lost. */
  private onBeat(from: NodeId, m: BeatMessage): void {
    const log = this.log!;
    if (!this.acceptFromMaster(from, m)) return;
    if (log.holds(m.commit, m.commitEpoch)) log.applyThrough(m.commit);
    if (log.dropStaleTail(m.lastIndex, m.epoch) === 'diverged') this.reload(m.epoch);
    this.reportState(from);
  }

  private reload(epoch: number): void {
    this.ctx.trace.emit('ptd.reload', { node: this.ctx.id, epoch, applied: this.log!.applied });
    this.log!.reset();
    this.appendBuffer.clear();
  }

  private reportState(to: NodeId): void {
    const log = this.log!;
    this.send(to, { type: 'ptd.report', epoch: log.promised, kind: 'state', lastIndex: log.lastIndex, lastEpoch: log.lastEpoch, applied: log.applied });
  }

  /** Answers a new master's fetch with every entry from `from` (or from its own end, if shorter). */
  private sendEntries(to: NodeId, epoch: number, from: number): void {
    const log = this.log!;
    const start = Math.max(1, Math.min(from, log.lastIndex + 1));
    this.send(to, { type: 'ptd.entries', epoch, prevIndex: start - 1, prevEpoch: log.epochAt(start - 1)!, entries: log.entriesFrom(start) });
  }

  /** Messages to this instance go through the queue (reliably, in order) instead of over the fabric. */
  private send(dst: NodeId, body: PtdMessage): void {
    if (dst === this.ctx.id) {
      const copy = structuredClone(body);
      this.ctx.setTimer(0, () => this.onMessage(dst, copy));
    } else {
      this.ctx.send(dst, body);
    }
  }
}

// ---- master role ----------------------------------------------------------------------------------------

/** The master's view of one slave. Entries next..last are unsent; match+1..next-1 are in flight. */
interface Follower {
  readonly id: NodeId;
  next: number;
  match: number;
  flagged: boolean;
  /** Retransmissions since the slave last made progress. */
  retransmits: number;
  timer: TimerHandle | null;
}

interface ReplicaPosition {
  readonly lastIndex: number;
  readonly lastEpoch: number;
  readonly applied: number;
}

/**
 * 'sync': collecting replicas' positions; 'fetch': copying the most up-to-date log from its holder;
 * 'opening': the epoch's no-op is issued and not yet committed; 'ready': serving submissions.
 */
type Phase = 'sync' | 'fetch' | 'opening' | 'ready';

/** One mastership (one epoch, one incarnation): synchronisation, ordering, commit, triggers, heartbeat. */
class Mastership {
  phase: Phase = 'sync';
  private readonly followers = new Map<NodeId, Follower>();
  /** Positions reported during synchronisation, this master's own first. */
  private readonly positions = new Map<NodeId, ReplicaPosition>();
  private syncRetransmits = 0;
  private syncTimer: TimerHandle | null = null;
  private fetchSource: NodeId | null = null;
  private openingIndex = 0;
  private readonly queue: Array<{ from: NodeId; body: SubmitMessage | WatchMessage }> = [];
  /** The PTD trigger list (FIG. 29): importer → watched prefixes and the last notification number sent. */
  private readonly triggers = new Map<NodeId, { prefixes: readonly string[]; seq: number }>();
  private tickTimer: TimerHandle | null = null;

  constructor(
    private readonly ctx: NodeContext,
    private readonly log: ReplicaLog,
    readonly epoch: number,
    private readonly settings: Settings,
    private readonly send: Send,
    private readonly view: () => PtdView,
  ) {}

  start(): void {
    this.positions.set(this.ctx.id, this.ownPosition());
    for (const id of this.slaveIds()) this.addFollower(id);
    this.armSyncTimer();
    this.armTick();
    this.checkSync();
  }

  stop(): void {
    if (this.syncTimer !== null) this.ctx.cancelTimer(this.syncTimer);
    if (this.tickTimer !== null) this.ctx.cancelTimer(this.tickTimer);
    for (const f of this.followers.values()) if (f.timer !== null) this.ctx.cancelTimer(f.timer);
  }

  onMembersChanged(): void {
    const ids = this.slaveIds();
    for (const [id, f] of this.followers) {
      if (ids.includes(id)) continue;
      if (f.timer !== null) this.ctx.cancelTimer(f.timer);
      this.followers.delete(id);
      this.positions.delete(id);
    }
    for (const id of ids) if (!this.followers.has(id)) this.addFollower(id);
    this.checkSync();
    this.tryCommit();
  }

  // ---- submissions and watches ----

  onSubmit(from: NodeId, m: SubmitMessage): void {
    if (this.phase !== 'ready') {
      this.queue.push({ from, body: m });
      this.send(from, { type: 'ptd.accepted', request: m.request, index: null });
      return;
    }
    let txn: Transaction;
    try {
      txn = validateTransaction(m.txn);
    } catch (e) {
      this.send(from, { type: 'ptd.refused', request: m.request, reason: (e as Error).message });
      return;
    }
    const known = this.log.lookup(requestKey(m.request));
    if (known === undefined) this.issue(m.request, txn);
    else if (known.outcome !== null) this.send(m.request.origin, result(m.request, known.index, known.outcome));
    else this.send(from, { type: 'ptd.accepted', request: m.request, index: known.index } satisfies AcceptedMessage);
  }

  onWatch(from: NodeId, m: WatchMessage): void {
    if (m.epoch !== this.epoch) return;
    if (this.phase !== 'ready') {
      this.queue.push({ from, body: m });
      return;
    }
    let t = this.triggers.get(from);
    if (t === undefined) {
      t = { prefixes: [], seq: 0 };
      this.triggers.set(from, t);
    }
    t.prefixes = [...m.prefixes];
    const records: RecordChange[] = [...this.log.records.keys()]
      .filter((key) => underAny(key, m.prefixes))
      .sort(compareKeys)
      .map((key) => ({ key, record: this.log.records.get(key)! }));
    this.send(from, { type: 'ptd.watched', epoch: this.epoch, session: this.ctx.incarnation, watchId: m.watchId, index: this.log.applied, nextSeq: t.seq + 1, records });
  }

  // ---- synchronisation ----

  onReport(from: NodeId, m: ReportMessage): void {
    const f = this.followers.get(from);
    if (m.epoch !== this.epoch || f === undefined) return;
    if (this.phase === 'sync' || this.phase === 'fetch') {
      // An ack only says how far the log matched an older master's, not where it ends.
      if (m.kind === 'state') this.positions.set(from, { lastIndex: m.lastIndex, lastEpoch: m.lastEpoch, applied: m.applied });
      this.checkSync();
      return;
    }
    const matchBefore = f.match;
    if (m.kind === 'ack') {
      if (!this.log.holds(m.lastIndex, m.lastEpoch)) return;
      f.match = Math.max(f.match, m.lastIndex);
      f.next = Math.max(f.next, f.match + 1);
      if (f.next <= this.log.lastIndex) this.sendAppend(f);
    } else if (this.place(f, m)) {
      this.sendAppend(f);
    }
    if (f.match > matchBefore) {
      if (this.ctx.trace.active) this.ctx.trace.detail('ptd.ack', { node: this.ctx.id, slave: from, epoch: this.epoch, match: f.match });
      this.progressed(f);
    }
    this.tryCommit();
  }

  onEntries(from: NodeId, m: EntriesMessage): void {
    if (this.phase !== 'fetch' || from !== this.fetchSource || m.epoch !== this.epoch) return;
    if (this.log.adopt(m.prevIndex, m.prevEpoch, m.entries) === 'diverged') {
      // This master's own applied prefix was never committed: start over from an empty PTD.
      this.ctx.trace.emit('ptd.reload', { node: this.ctx.id, epoch: this.epoch, applied: this.log.applied });
      this.log.reset();
      this.startFetch(from);
      return;
    }
    this.adopted(from);
  }

  private checkSync(): void {
    if (this.phase !== 'sync') return;
    const enough =
      this.positions.size >= this.quorum() &&
      (this.settings.commit === 'majority' || [...this.followers.values()].every((f) => f.flagged || this.positions.has(f.id)));
    if (!enough) return;
    this.positions.set(this.ctx.id, this.ownPosition());
    let best = this.ctx.id;
    let bestPos = this.positions.get(best)!;
    for (const [id, p] of this.positions) {
      if (p.lastEpoch > bestPos.lastEpoch || (p.lastEpoch === bestPos.lastEpoch && p.lastIndex > bestPos.lastIndex)) {
        best = id;
        bestPos = p;
      }
    }
    if (best === this.ctx.id) this.adopted(best);
    else this.startFetch(best);
  }

  private startFetch(source: NodeId): void {
    this.phase = 'fetch';
    this.fetchSource = source;
    this.syncRetransmits = 0;
    this.send(source, { type: 'ptd.fetch', epoch: this.epoch, from: this.log.applied + 1 });
    this.armSyncTimer();
  }

  private armSyncTimer(): void {
    if (this.syncTimer !== null) this.ctx.cancelTimer(this.syncTimer);
    this.syncTimer = this.ctx.setTimer(this.settings.retransmitNs, () => this.onSyncTimer());
  }

  private onSyncTimer(): void {
    this.syncTimer = null;
    const exhausted = ++this.syncRetransmits > this.settings.maxRetransmits;
    if (this.phase === 'fetch') {
      if (!exhausted) {
        this.send(this.fetchSource!, { type: 'ptd.fetch', epoch: this.epoch, from: this.log.applied + 1 });
        this.armSyncTimer();
        return;
      }
      // The source went silent: forget its position and choose again among the others.
      this.positions.delete(this.fetchSource!);
      this.phase = 'sync';
      this.syncRetransmits = 0;
      this.queryUnreported();
      this.armSyncTimer();
      this.checkSync();
      return;
    }
    if (this.phase !== 'sync') return;
    if (!exhausted) {
      this.queryUnreported();
      this.armSyncTimer();
      return;
    }
    // 'all' goes on without the silent replicas; 'majority' must wait (the heartbeat keeps asking).
    if (this.settings.commit === 'all') for (const f of this.followers.values()) if (!this.positions.has(f.id) && !f.flagged) this.flag(f);
    this.checkSync();
  }

  private queryUnreported(): void {
    for (const f of this.followers.values()) if (!this.positions.has(f.id)) this.send(f.id, { type: 'ptd.state-query', epoch: this.epoch });
  }

  /** The log is now the most up-to-date one: open the epoch with a no-op and bring every slave in line. */
  private adopted(source: NodeId): void {
    if (this.syncTimer !== null) this.ctx.cancelTimer(this.syncTimer);
    this.syncTimer = null;
    this.ctx.trace.emit('ptd.master.sync', { node: this.ctx.id, epoch: this.epoch, source, lastIndex: this.log.lastIndex, lastEpoch: this.log.lastEpoch });
    this.phase = 'opening';
    for (const f of this.followers.values()) {
      const p = this.positions.get(f.id);
      if (p !== undefined) this.place(f, p);
      else f.next = this.log.lastIndex + 1;
    }
    this.openingIndex = this.log.lastIndex + 1;
    this.issue(null, null);
    for (const f of this.followers.values()) if (f.next < this.openingIndex) this.sendAppend(f);
  }

  // ---- ordering, replication, commit ----

  private issue(request: RequestId | null, txn: Transaction | null): void {
    const index = this.log.lastIndex + 1;
    this.log.append({ index, epoch: this.epoch, request, txn });
    if (this.ctx.trace.active) this.ctx.trace.detail('ptd.issue', { node: this.ctx.id, index, epoch: this.epoch, request: request === null ? null : requestKey(request) });
    if (this.settings.order === 'write-then-notify') this.commitThrough(index);
    // Up-to-date slaves get the new entry; flagged ones whatever they lack, as a chance to catch up.
    for (const f of this.followers.values()) if (f.next === index || f.flagged) this.sendAppend(f);
    this.tryCommit();
  }

  /**
   * Sets where a slave's log stands from its reported position. A position this log holds is a prefix
   * of it; otherwise the slave has entries the master lacks, and only its applied prefix is known good.
   * Returns whether the slave needs an append (to catch up or to drop a stale tail).
   */
  private place(f: Follower, p: ReplicaPosition): boolean {
    const last = this.log.lastIndex;
    if (p.lastIndex <= last && this.log.holds(p.lastIndex, p.lastEpoch)) {
      f.match = p.lastIndex;
      f.next = p.lastIndex + 1;
      return p.lastIndex < last;
    }
    const base = Math.min(p.applied, last);
    f.match = Math.min(f.match, base);
    f.next = base + 1;
    return true;
  }

  private sendAppend(f: Follower): void {
    const log = this.log;
    f.next = Math.max(1, Math.min(f.next, log.lastIndex + 1));
    const prevIndex = f.next - 1;
    const entries = log.entriesFrom(f.next, MAX_BATCH_ENTRIES);
    this.send(f.id, { type: 'ptd.append', epoch: this.epoch, prevIndex, prevEpoch: log.epochAt(prevIndex)!, entries, commit: log.applied, lastIndex: log.lastIndex });
    if (this.ctx.trace.active && entries.length > 0) {
      this.ctx.trace.detail('ptd.replicate', { node: this.ctx.id, slave: f.id, epoch: this.epoch, first: prevIndex + 1, last: prevIndex + entries.length });
    }
    f.next = prevIndex + entries.length + 1;
    if (!f.flagged && f.timer === null && f.match < log.lastIndex) {
      f.timer = this.ctx.setTimer(this.settings.retransmitNs, () => this.onRetransmitTimer(f));
    }
  }

  /** FIG. 42 4240/4250: retransmit what the slave has not acked, then flag it. */
  private onRetransmitTimer(f: Follower): void {
    f.timer = null;
    if (f.match >= this.log.lastIndex) return;
    if (++f.retransmits > this.settings.maxRetransmits) {
      this.flag(f);
      this.tryCommit();
      return;
    }
    f.next = f.match + 1;
    this.sendAppend(f);
  }

  private progressed(f: Follower): void {
    f.retransmits = 0;
    if (f.timer !== null) this.ctx.cancelTimer(f.timer);
    f.timer = null;
    // Caught up with everything committed without it: waited for again (Kafka's ISR rejoin).
    if (f.flagged && f.match >= this.log.applied) {
      f.flagged = false;
      this.ctx.trace.emit('ptd.slave.unflagged', { node: this.ctx.id, slave: f.id, epoch: this.epoch });
    }
    if (!f.flagged && f.match < this.log.lastIndex) f.timer = this.ctx.setTimer(this.settings.retransmitNs, () => this.onRetransmitTimer(f));
  }

  private flag(f: Follower): void {
    f.flagged = true;
    if (f.timer !== null) this.ctx.cancelTimer(f.timer);
    f.timer = null;
    this.ctx.trace.emit('ptd.slave.flagged', { node: this.ctx.id, slave: f.id, epoch: this.epoch, match: f.match });
  }

  /** Commits as far as the policy allows; only an entry of this epoch can be committed by counting. */
  private tryCommit(): void {
    if (this.settings.order === 'ack-then-write' && (this.phase === 'opening' || this.phase === 'ready')) {
      const candidate = this.commitCandidate();
      if (candidate > this.log.applied && this.log.epochAt(candidate) === this.epoch) this.commitThrough(candidate);
    }
    if (this.phase === 'opening' && this.log.applied >= this.openingIndex) this.becomeReady();
  }

  private commitCandidate(): number {
    const followers = [...this.followers.values()];
    const matches = [this.log.lastIndex, ...followers.map((f) => f.match)].sort((a, b) => b - a);
    const majority = matches[this.quorum() - 1];
    if (this.settings.commit === 'majority') return majority;
    return Math.min(majority, ...followers.filter((f) => !f.flagged).map((f) => f.match));
  }

  /** FIG. 42 4260–4270: record in the master PTD, answer the origin, notify the importers. */
  private commitThrough(index: number): void {
    for (const a of this.log.applyThrough(index)) {
      const { entry, outcome } = a;
      this.ctx.trace.emit('ptd.commit', { node: this.ctx.id, index: entry.index, epoch: entry.epoch, origin: entry.request?.origin ?? null, ok: outcome?.ok ?? true });
      if (entry.request !== null && outcome !== null) this.send(entry.request.origin, result(entry.request, entry.index, outcome));
      if (a.changes.length > 0) this.notifyImporters(entry.index, a.changes);
    }
    if (this.settings.order === 'write-then-notify') return;
    const commit = this.log.applied;
    const commitEpoch = this.log.epochAt(commit)!;
    for (const f of this.followers.values()) if (f.match >= commit) this.send(f.id, { type: 'ptd.commit', epoch: this.epoch, index: commit, indexEpoch: commitEpoch });
  }

  private becomeReady(): void {
    this.phase = 'ready';
    this.ctx.trace.emit('ptd.master.ready', { node: this.ctx.id, epoch: this.epoch, index: this.log.applied });
    for (const { from, body } of this.queue.splice(0)) {
      if (body.type === 'ptd.submit') this.onSubmit(from, body);
      else this.onWatch(from, body);
    }
  }

  private notifyImporters(index: number, changes: readonly RecordChange[]): void {
    for (const [importer, t] of this.triggers) {
      const mine = changes.filter((c) => underAny(c.key, t.prefixes));
      if (mine.length === 0) continue;
      t.seq++;
      this.send(importer, { type: 'ptd.notify', epoch: this.epoch, session: this.ctx.incarnation, seq: t.seq, index, changes: mine });
    }
  }

  // ---- heartbeat ----

  private armTick(): void {
    if (this.settings.heartbeatNs === 0) return;
    this.tickTimer = this.ctx.setTimer(this.settings.heartbeatNs, () => {
      this.tickTimer = null;
      this.onTick();
      this.armTick();
    });
  }

  private onTick(): void {
    if (this.phase === 'sync') {
      this.queryUnreported();
      return;
    }
    if (this.phase === 'fetch') return;
    const view = this.view();
    const log = this.log;
    const targets = new Set([...view.replicas, ...view.importers]);
    targets.delete(this.ctx.id);
    for (const id of targets) {
      this.send(id, {
        type: 'ptd.beat',
        epoch: this.epoch,
        session: this.ctx.incarnation,
        lastIndex: log.lastIndex,
        lastEpoch: log.lastEpoch,
        commit: log.applied,
        commitEpoch: log.epochAt(log.applied)!,
        notified: this.triggers.get(id)?.seq ?? null,
      });
    }
  }

  // ---- helpers ----

  private addFollower(id: NodeId): void {
    const f: Follower = { id, next: this.log.lastIndex + 1, match: 0, flagged: false, retransmits: 0, timer: null };
    this.followers.set(id, f);
    if (this.phase === 'sync') this.send(id, { type: 'ptd.state-query', epoch: this.epoch });
    else if (this.phase !== 'fetch') this.sendAppend(f);
  }

  private slaveIds(): NodeId[] {
    return [...new Set(this.view().replicas)].filter((id) => id !== this.ctx.id);
  }

  /** A majority of the view's replicas, this master counted. */
  private quorum(): number {
    return Math.floor((this.followers.size + 1) / 2) + 1;
  }

  private ownPosition(): ReplicaPosition {
    return { lastIndex: this.log.lastIndex, lastEpoch: this.log.lastEpoch, applied: this.log.applied };
  }
}

function result(request: RequestId, index: number, outcome: TxnOutcome): ResultMessage {
  return { type: 'ptd.result', request, index, outcome };
}

function underAny(key: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => key.startsWith(p));
}

// ---- submitter (FIG. 41) --------------------------------------------------------------------------------

interface PendingSubmit {
  readonly request: RequestId;
  readonly txn: Transaction;
  readonly done: (r: SubmitResult) => void;
  /** Retransmit intervals in a row without hearing from the master. */
  silent: number;
  heard: boolean;
  /** The master and epoch it was last sent to. */
  master: NodeId | null;
  epoch: number;
  sawMaster: boolean;
  timer: TimerHandle | null;
}

class Submitter {
  private seq = 0;
  private readonly pending = new Map<string, PendingSubmit>();

  constructor(
    private readonly ctx: NodeContext,
    private readonly settings: Settings,
    private readonly send: Send,
    private readonly view: () => PtdView,
  ) {}

  /** Before the component starts, the request waits for the first onViewChange to send it. */
  submit(txn: Transaction, done: (r: SubmitResult) => void, send: boolean): void {
    const request: RequestId = { origin: this.ctx.id, incarnation: this.ctx.incarnation, seq: ++this.seq };
    const p: PendingSubmit = { request, txn, done, silent: 0, heard: false, master: null, epoch: 0, sawMaster: false, timer: null };
    this.pending.set(requestKey(request), p);
    if (this.ctx.trace.active) this.ctx.trace.detail('ptd.request', { node: this.ctx.id, request: requestKey(request) });
    if (send) this.transmit(p);
  }

  onReply(m: PtdMessage): void {
    if (m.type !== 'ptd.accepted' && m.type !== 'ptd.result' && m.type !== 'ptd.refused' && m.type !== 'ptd.not-master') return;
    const p = this.pending.get(requestKey(m.request));
    if (p === undefined) return;
    if (m.type === 'ptd.accepted') p.heard = true;
    else if (m.type === 'ptd.result') this.finish(p, { ok: true, index: m.index, outcome: m.outcome });
    else if (m.type === 'ptd.refused') this.finish(p, { ok: false, error: 'refused', message: m.reason });
  }

  /** Pending requests go to the new master at once, with a fresh retransmission budget. */
  onViewChange(): void {
    const view = this.view();
    for (const p of [...this.pending.values()]) {
      if (p.timer !== null && p.master === view.master && p.epoch === view.epoch) continue;
      p.silent = 0;
      this.transmit(p);
    }
  }

  private transmit(p: PendingSubmit): void {
    const view = this.view();
    p.master = view.master;
    p.epoch = view.epoch;
    if (view.master !== null) {
      p.sawMaster = true;
      this.send(view.master, { type: 'ptd.submit', request: p.request, txn: p.txn });
      if (this.ctx.trace.active) this.ctx.trace.detail('ptd.forward', { node: this.ctx.id, request: requestKey(p.request), master: view.master, epoch: view.epoch });
    }
    if (p.timer !== null) this.ctx.cancelTimer(p.timer);
    p.timer = this.ctx.setTimer(this.settings.retransmitNs, () => this.onTimer(p));
  }

  private onTimer(p: PendingSubmit): void {
    p.timer = null;
    p.silent = p.heard ? 0 : p.silent + 1;
    p.heard = false;
    if (p.silent <= this.settings.maxRetransmits) {
      this.transmit(p);
      return;
    }
    const n = this.settings.maxRetransmits;
    if (p.sawMaster) this.finish(p, { ok: false, error: 'timeout', message: `no answer from the PTD master '${p.master}' after ${n} retransmissions` });
    else this.finish(p, { ok: false, error: 'no-master', message: `no PTD master was named within ${n} retransmission intervals` });
  }

  private finish(p: PendingSubmit, r: SubmitResult): void {
    this.pending.delete(requestKey(p.request));
    if (p.timer !== null) this.ctx.cancelTimer(p.timer);
    if (!r.ok) this.ctx.trace.emit('ptd.error', { node: this.ctx.id, request: requestKey(p.request), error: r.error });
    p.done(r);
  }
}

// ---- import module (FIG. 43 stage 8, FIG. 31) -----------------------------------------------------------

class ImportModule {
  /** The imported records: this instance's NIB view of the watched PTD keys. */
  readonly imported = new Map<string, PtdRecord>();
  private readonly prefixes: string[] = [];
  /** The master and epoch this module is registered (or registering) with. */
  private master: NodeId | null = null;
  private epoch = -1;
  private watchId = 0;
  /**
   * The session (master process incarnation) that confirmed the registration, and the next notification
   * number to apply in it; both null until a registration is confirmed. A restarted master forgets its
   * trigger list, and may even confirm a retransmitted registration its previous life already confirmed.
   */
  private session: number | null = null;
  private nextSeq: number | null = null;
  private readonly buffer = new Map<number, NotifyMessage>();
  private watchTimer: TimerHandle | null = null;
  private watchRetransmits = 0;
  private gapTimer: TimerHandle | null = null;
  /** The latest notification number a heartbeat said the master has sent. */
  private masterNotified = 0;

  constructor(
    private readonly ctx: NodeContext,
    private readonly settings: Settings,
    private readonly send: Send,
    private readonly view: () => PtdView,
    private readonly onChange: PtdOptions['onChange'],
  ) {}

  /** Before the component starts, the prefix waits for the first onViewChange to register it. */
  watch(prefix: string, register: boolean): void {
    if (this.prefixes.includes(prefix)) return;
    this.prefixes.push(prefix);
    if (register) this.register();
  }

  onViewChange(): void {
    const view = this.view();
    if (this.prefixes.length > 0 && (view.master !== this.master || view.epoch !== this.epoch)) this.register();
  }

  onWatched(from: NodeId, m: WatchedMessage): void {
    if (from !== this.master || m.epoch !== this.epoch || m.watchId !== this.watchId || this.nextSeq !== null) return;
    if (this.watchTimer !== null) this.ctx.cancelTimer(this.watchTimer);
    this.watchTimer = null;
    this.session = m.session;
    for (const [seq, n] of this.buffer) if (n.session !== m.session) this.buffer.delete(seq);
    const snapshot = new Map(m.records.map((c) => [c.key, c.record]));
    for (const key of [...this.imported.keys()]) if (underAny(key, this.prefixes) && !snapshot.has(key)) this.apply(key, null, m.index, 'snapshot');
    for (const c of m.records) this.apply(c.key, c.record, m.index, 'snapshot');
    this.nextSeq = m.nextSeq;
    this.drain();
  }

  onNotify(from: NodeId, m: NotifyMessage): void {
    if (from !== this.master || m.epoch !== this.epoch) return;
    if (this.nextSeq !== null && (m.session !== this.session || m.seq < this.nextSeq)) return;
    if (this.buffer.size >= MAX_BUFFERED) {
      this.register();
      return;
    }
    this.buffer.set(m.seq, m);
    this.drain();
  }

  /** The heartbeat shows whether the master still knows this module and what it has sent it. */
  onBeat(from: NodeId, m: BeatMessage): void {
    const view = this.view();
    if (this.prefixes.length === 0 || from !== view.master || m.epoch !== view.epoch) return;
    if (from !== this.master || m.epoch !== this.epoch) return this.register();
    if (this.nextSeq === null) {
      if (this.watchTimer === null) this.register(); // the registration gave up earlier
      return;
    }
    if (m.session !== this.session || m.notified === null) return this.register(); // the master lost its trigger list (restart)
    this.masterNotified = Math.max(this.masterNotified, m.notified);
    if (this.masterNotified >= this.nextSeq) this.armGapTimer();
  }

  /** (Re-)registers every watched prefix with the current master and re-reads them. */
  private register(): void {
    if (this.watchTimer !== null) this.ctx.cancelTimer(this.watchTimer);
    if (this.gapTimer !== null) this.ctx.cancelTimer(this.gapTimer);
    this.watchTimer = null;
    this.gapTimer = null;
    this.buffer.clear();
    this.session = null;
    this.nextSeq = null;
    this.masterNotified = 0;
    const view = this.view();
    this.master = view.master;
    this.epoch = view.epoch;
    if (this.prefixes.length === 0 || this.master === null) return;
    this.watchId++;
    this.watchRetransmits = 0;
    this.sendWatch();
  }

  private sendWatch(): void {
    this.send(this.master!, { type: 'ptd.watch', epoch: this.epoch, watchId: this.watchId, prefixes: [...this.prefixes] });
    this.watchTimer = this.ctx.setTimer(this.settings.retransmitNs, () => {
      this.watchTimer = null;
      // After the budget, the next heartbeat from the master starts a new registration.
      if (this.nextSeq === null && ++this.watchRetransmits <= this.settings.maxRetransmits) this.sendWatch();
    });
  }

  private drain(): void {
    if (this.nextSeq === null) return;
    for (let m = this.buffer.get(this.nextSeq); m !== undefined; m = this.buffer.get(this.nextSeq)) {
      this.buffer.delete(this.nextSeq);
      this.nextSeq++;
      for (const c of m.changes) this.apply(c.key, c.record, m.index, 'notify');
    }
    for (const seq of [...this.buffer.keys()]) if (seq < this.nextSeq) this.buffer.delete(seq);
    if (this.buffer.size > 0) this.armGapTimer();
  }

  /** A gap that is still open one retransmit interval later is a loss: re-read instead of waiting. */
  private armGapTimer(): void {
    if (this.gapTimer !== null) return;
    this.gapTimer = this.ctx.setTimer(this.settings.retransmitNs, () => {
      this.gapTimer = null;
      if (this.nextSeq !== null && (this.buffer.size > 0 || this.masterNotified >= this.nextSeq)) this.register();
    });
  }

  private apply(key: string, record: PtdRecord | null, index: number, via: 'notify' | 'snapshot'): void {
    const old = this.imported.get(key);
    if (record === null) {
      if (old === undefined) return;
      this.imported.delete(key);
    } else {
      if (old !== undefined && old.version === record.version && canonicalJson(old.value) === canonicalJson(record.value)) return;
      this.imported.set(key, record);
    }
    if (this.ctx.trace.active) this.ctx.trace.detail('ptd.import', { node: this.ctx.id, key, version: record?.version ?? null, via });
    this.onChange?.(key, record, index);
  }
}

// ---- validation -----------------------------------------------------------------------------------------

function checkOptions(o: PtdOptions): Settings {
  const fail = (why: string): never => {
    throw new Error(`bad PTD options: ${why}`);
  };
  if (typeof o !== 'object' || o === null) fail('expected an options object');
  if (typeof o.view !== 'function') fail('view must be a function returning the current PtdView');
  if (typeof o.hasReplica !== 'boolean') fail('hasReplica must be true or false');
  const commit = o.commit ?? 'majority';
  if (commit !== 'all' && commit !== 'majority') fail(`commit must be 'all' or 'majority', got ${String(commit)}`);
  const order = o.order ?? 'ack-then-write';
  if (order !== 'ack-then-write' && order !== 'write-then-notify') fail(`order must be 'ack-then-write' or 'write-then-notify', got ${String(order)}`);
  const retransmitNs = o.retransmitNs ?? DEFAULT_RETRANSMIT_NS;
  if (!(Number.isSafeInteger(retransmitNs) && retransmitNs > 0)) fail(`retransmitNs must be a positive whole number of ns, got ${retransmitNs}`);
  const maxRetransmits = o.maxRetransmits ?? DEFAULT_MAX_RETRANSMITS;
  if (!(Number.isSafeInteger(maxRetransmits) && maxRetransmits >= 0)) fail(`maxRetransmits must be a whole number, 0 or more, got ${maxRetransmits}`);
  const heartbeatNs = o.heartbeatNs ?? DEFAULT_HEARTBEAT_NS;
  if (!(Number.isSafeInteger(heartbeatNs) && heartbeatNs >= 0)) fail(`heartbeatNs must be a whole number of ns, 0 or more, got ${heartbeatNs}`);
  if (o.onChange !== undefined && typeof o.onChange !== 'function') fail('onChange must be a function');
  return { commit, order, retransmitNs, maxRetransmits, heartbeatNs };
}

function checkView(v: PtdView): void {
  const fail = (why: string): never => {
    throw new Error(`bad PTD view: ${why}`);
  };
  if (typeof v !== 'object' || v === null) fail('view() must return an object');
  if (v.master !== null && typeof v.master !== 'string') fail('master must be a node id or null');
  if (!(Number.isSafeInteger(v.epoch) && v.epoch >= 0)) fail(`epoch must be a whole number, 0 or more, got ${v.epoch}`);
  if (!Array.isArray(v.replicas) || !v.replicas.every((r) => typeof r === 'string')) fail('replicas must be a list of node ids');
  if (!Array.isArray(v.importers) || !v.importers.every((r) => typeof r === 'string')) fail('importers must be a list of node ids');
  if (v.master !== null && !v.replicas.includes(v.master)) fail(`master '${v.master}' is not among the replicas`);
}
