// One controller instance's DHT (seed 000 §4.3, FIGS. 23–24, 35–38, 44): the query manager, the hash
// table of the records this instance holds, and the trigger processor. Owns the records (volatile: a crash
// loses them), the requests it has sent and is waiting on, and the protocol between instances. It does not
// own the range list — the coordination manager does, and hands it over through `options.view` — and it
// never touches the NIB: importers get trigger notifications through `options.onTrigger`.
//
// Query manager (process 3800): a request's key is hashed once, at the source; the source looks up the
// owner in its range list and either executes the request itself or sends it to the owner *with the hash*
// (the owner never rehashes). It waits `retransmitNs` for the confirmation, re-sends up to
// `maxRetransmits` times — looking the owner up again each time, since the list may have changed — and
// then reports a 'timeout' error. Every request gets exactly one `done` call: confirmations are matched by
// request id, so duplicated and late ones are ignored.
//
// Views differ while the list changes. A receiver that does not own the hash under its own list forwards
// the request once more, to the owner it believes in (MAX_FORWARDS); a second receiver that does not own
// it either answers 'no-owner', a final error for the caller. The answer always goes straight to the source.
//
// The owner serializes writes to its records: each write takes the record's version + 1. A retransmitted
// write is recognized by request id (for `dedupeWindowNs`) and confirmed again without being applied again.
// A delete leaves a tombstone that keeps the version, so a stale copy handed over later cannot bring the
// record back and a new put continues the count; a get that registers a watch on a missing key leaves an
// empty entry holding only the trigger list, so the watcher hears of the record's creation (FIG. 36).
// Tombstones and empty entries are not records: `localRecords` and gets do not show them.
//
// Triggers (FIGS. 29–30, 44): each entry carries its trigger list, the instances whose import modules want
// to hear of changes. Puts with triggers 'self' add the source, 'all' every member of the owner's range
// list; gets add the source unless asked not to. Every write sends one notification to each listed
// importer (the owner's own import module is called directly). Notifications are not confirmed: a lost
// one stays lost, as the import module re-reads the record anyway (FIG. 31); a duplicated one is dropped
// by notification id.
//
// Replication (factor r): the owner sends each write to the r-1 replicas that follow it in the range list
// and confirms once each has acknowledged or exhausted its retransmits (the write is on the owner either
// way). A replica keeps the copy of the highest version, taking the owner's on a tie.
//
// Range changes (`onViewChange`): every instance walks everything it holds. Entries it owns under the new
// list go to their replicas; every other entry goes to its new owner, which keeps the higher version and
// merges trigger lists, and the sender forgets the entry once the owner has confirmed, unless it is itself
// one of the replicas. Doing this for every entry, not only the ones whose owner moved, is what repairs
// copies a lost message or a restart left stale. A transfer can arrive after a later range change, or at
// an instance whose list differs: a receiver that should not hold an entry passes it on to the owner it
// believes in, once. Transfers are re-sent like requests; a new range change supersedes the transfers of
// the previous one. With r = 1 a dead owner's records are gone — DHT data is regenerable (§4.6).
//
// Messages may be delivered by reference, so nothing here mutates a received object or one it has sent,
// values are copied on the way in (put) and on the way out (done, onTrigger).

import { NS_PER_MS, NS_PER_S, type Nanos } from '../kernel/time.ts';
import type { Message, NodeId } from '../net/message.ts';
import type { NodeContext, TimerHandle } from '../net/node.ts';
import { hash48 } from './hash.ts';
import { HASH_SPACE, ownerOf, replicasOf, type HashRange } from './range-list.ts';

export type DhtOp = 'put' | 'delete' | 'get';
type TransferMode = 'handoff' | 'replicate';

declare module '../kernel/trace.ts' {
  interface TraceEventMap {
    /** A request ended in an error for its source (for the administrator, FIG. 38). */
    'dht.error': { node: NodeId; op: DhtOp; key: string; hash: number; owner: NodeId | null; attempts: number; error: 'timeout' | 'no-owner' };
    /** A handoff or replica copy was never confirmed; the next range change tries again. */
    'dht.transfer.failed': { node: NodeId; to: NodeId; mode: TransferMode; records: number; attempts: number };
    'dht.put': { owner: NodeId; origin: NodeId; key: string; hash: number; version: number };
    'dht.delete': { owner: NodeId; origin: NodeId; key: string; hash: number; version: number };
    /** `version` is null when there is no record. */
    'dht.get': { owner: NodeId; origin: NodeId; key: string; hash: number; version: number | null };
    /** A receiver that is not the owner under its own range list passed the request on. */
    'dht.forward': { node: NodeId; origin: NodeId; to: NodeId; key: string; hash: number };
    /** An importer's import module was told of a change; `version` is the tombstone's for a delete. */
    'dht.trigger': { node: NodeId; owner: NodeId; key: string; hash: number; version: number };
  }
}

export interface DhtView {
  readonly ranges: readonly HashRange[];
  readonly version: number;
}

export interface DhtRecord {
  readonly value: unknown;
  readonly version: number;
}

export type DhtResult =
  | { readonly ok: true; readonly record: DhtRecord | null }
  | { readonly ok: false; readonly error: 'timeout' | 'no-owner'; readonly message: string };

export interface DhtOptions {
  /** The current range list (from the coordination manager). Call dht.onViewChange() when it changes. */
  view: () => DhtView;
  /** Copies per key: the owner plus factor-1 successors (replicasOf). Default 1. */
  replicationFactor?: number;
  /** How long the caller waits for a confirmation before re-sending. Default 50 ms. */
  retransmitNs?: Nanos;
  /** Re-sends before giving up with an error to the caller (and a trace event for the administrator). Default 3. */
  maxRetransmits?: number;
  /** This instance's import module: called for every trigger notification addressed to this instance. */
  onTrigger?: (key: string, record: DhtRecord | null) => void;
  /** The hash generator (FIG. 36 #3620); it must return integers in [0, 2^48). Default hash48. */
  hash?: (key: string) => number;
}

export const DEFAULT_RETRANSMIT_NS: Nanos = 50 * NS_PER_MS;
export const DEFAULT_MAX_RETRANSMITS = 3;
/** How many times a request may be passed on by receivers that do not own its hash. */
export const MAX_FORWARDS = 1;

/** 'origin': add the source to the trigger list; 'all': every member of the owner's range list. */
type Registration = 'origin' | 'all' | 'none';

type RequestMessage = {
  readonly type: 'dht.request';
  readonly id: string;
  readonly origin: NodeId;
  readonly op: DhtOp;
  readonly key: string;
  readonly hash: number;
  readonly value?: unknown;
  readonly register: Registration;
  readonly forwards: number;
};
type ReplyMessage = { readonly type: 'dht.reply'; readonly id: string; readonly result: DhtResult };
type TriggerMessage = { readonly type: 'dht.trigger'; readonly id: string; readonly key: string; readonly hash: number; readonly version: number; readonly record: DhtRecord | null };
type TransferMessage = {
  readonly type: 'dht.transfer';
  readonly id: string;
  readonly mode: TransferMode;
  readonly entries: readonly WireEntry[];
  /** How many times these entries were passed on by instances that should not hold them. */
  readonly hops: number;
};
type TransferAckMessage = { readonly type: 'dht.transfer-ack'; readonly id: string };

/** What an instance holds for a key: a record (present), a tombstone, or only a trigger list (version 0). */
interface Entry {
  readonly hash: number;
  version: number;
  present: boolean;
  value: unknown;
  readonly triggers: NodeId[];
}
type WireEntry = { readonly key: string; readonly hash: number; readonly version: number; readonly present: boolean; readonly value: unknown; readonly triggers: readonly NodeId[] };

/** A request this instance is the source of, until its `done` is called. */
interface Outstanding {
  readonly id: string;
  readonly op: DhtOp;
  readonly key: string;
  readonly hash: number;
  readonly value: unknown;
  readonly register: Registration;
  readonly done: ((r: DhtResult) => void) | undefined;
  attempts: number;
  owner: NodeId | null;
  timer: TimerHandle | null;
}

interface Transfer {
  readonly id: string;
  readonly to: NodeId;
  readonly mode: TransferMode;
  readonly entries: readonly WireEntry[];
  readonly hops: number;
  readonly settled: (acked: boolean) => void;
  attempts: number;
  timer: TimerHandle | null;
}

/** Ids seen recently, each with a value, forgotten `windowNs` after they were last set. */
class ExpiringMap<V> {
  private readonly items = new Map<string, { at: Nanos; value: V }>();
  constructor(private readonly windowNs: Nanos) {}

  get(id: string, now: Nanos): V | undefined {
    this.prune(now);
    return this.items.get(id)?.value;
  }

  set(id: string, value: V, now: Nanos): void {
    this.prune(now);
    this.items.delete(id); // re-inserted at the end, so the map stays in time order for pruning
    this.items.set(id, { at: now, value });
  }

  private prune(now: Nanos): void {
    for (const [id, item] of this.items) {
      if (now - item.at < this.windowNs) break;
      this.items.delete(id);
    }
  }
}

function checkCount(name: string, value: number, min: number): void {
  if (!(Number.isSafeInteger(value) && value >= min)) throw new Error(`dht: ${name} must be an integer >= ${min}, got ${value}`);
}

function copyRecord(record: DhtRecord | null): DhtRecord | null {
  return record === null ? null : { value: structuredClone(record.value), version: record.version };
}

function recordOf(e: Entry): DhtRecord | null {
  return e.present ? { value: e.value, version: e.version } : null;
}

function wire(key: string, e: Entry): WireEntry {
  return { key, hash: e.hash, version: e.version, present: e.present, value: e.value, triggers: [...e.triggers] };
}

function addTrigger(e: Entry, importer: NodeId): boolean {
  if (e.triggers.includes(importer)) return false;
  e.triggers.push(importer);
  return true;
}

export class DhtInstance {
  private readonly entries = new Map<string, Entry>();
  private readonly outstanding = new Map<string, Outstanding>();
  private readonly transfers = new Map<string, Transfer>();
  /** Writes served as owner, by request id: null while replicas are being written, then the confirmation. */
  private readonly served: ExpiringMap<DhtResult | null>;
  private readonly triggersSeen: ExpiringMap<true>;
  private readonly replicationFactor: number;
  private readonly retransmitNs: Nanos;
  private readonly maxRetransmits: number;
  private readonly hashKey: (key: string) => number;
  private lastId = 0;

  constructor(
    private readonly ctx: NodeContext,
    private readonly options: DhtOptions,
  ) {
    if (typeof options?.view !== 'function') throw new Error('dht: options.view must be a function returning the range list');
    this.replicationFactor = options.replicationFactor ?? 1;
    this.retransmitNs = options.retransmitNs ?? DEFAULT_RETRANSMIT_NS;
    this.maxRetransmits = options.maxRetransmits ?? DEFAULT_MAX_RETRANSMITS;
    checkCount('replicationFactor', this.replicationFactor, 1);
    checkCount('retransmitNs', this.retransmitNs, 1);
    checkCount('maxRetransmits', this.maxRetransmits, 0);
    if (options.onTrigger !== undefined && typeof options.onTrigger !== 'function') throw new Error('dht: options.onTrigger must be a function');
    if (options.hash !== undefined && typeof options.hash !== 'function') throw new Error('dht: options.hash must be a function');
    this.hashKey = options.hash ?? hash48;
    // Long enough to outlast every retransmit of a request and the stragglers the network delays.
    const dedupeWindowNs = Math.max(NS_PER_S, 4 * (this.maxRetransmits + 1) * this.retransmitNs);
    this.served = new ExpiringMap(dedupeWindowNs);
    this.triggersSeen = new ExpiringMap(dedupeWindowNs);
  }

  // ---- the source's side: the query manager ----------------------------------------------------------

  /**
   * Put; `triggers` adds importers to the record's trigger list: 'self' (this instance's import module),
   * 'all' (the import modules of every member in the range list, as in FIG. 44), or none (the default).
   */
  put(key: string, value: unknown, done?: (r: DhtResult) => void, options?: { triggers?: 'self' | 'all' | 'none' }): void {
    this.checkRequest('put', key, done);
    const triggers = options?.triggers ?? 'none';
    if (triggers !== 'self' && triggers !== 'all' && triggers !== 'none') throw new Error(`dht put '${key}': triggers must be 'self', 'all' or 'none', got '${String(triggers)}'`);
    let stored: unknown;
    try {
      stored = structuredClone(value);
    } catch (e) {
      throw new Error(`dht put '${key}': the value is not plain data (${(e as Error).message.split('\n')[0]})`);
    }
    this.submit('put', key, stored, triggers === 'self' ? 'origin' : triggers, done);
  }

  delete(key: string, done?: (r: DhtResult) => void): void {
    this.checkRequest('delete', key, done);
    this.submit('delete', key, undefined, 'none', done);
  }

  /**
   * Get; a get registers this instance's import module on the record's trigger list (FIG. 30: every NIB
   * that queried a record is notified when it changes), unless options.watch === false.
   */
  get(key: string, done: (r: DhtResult) => void, options?: { watch?: boolean }): void {
    this.checkRequest('get', key, done);
    if (done === undefined) throw new Error(`dht get '${key}': a done callback is required`);
    this.submit('get', key, undefined, options?.watch === false ? 'none' : 'origin', done);
  }

  /** The coordination manager changed the range list: hand every entry to where it now belongs. */
  onViewChange(): void {
    this.supersedeTransfers();
    const ranges = this.options.view().ranges;
    if (ranges.length === 0) return;
    const me = this.ctx.id;
    const handoffs = new Map<NodeId, WireEntry[]>();
    const copies = new Map<NodeId, WireEntry[]>();
    for (const [key, e] of this.entries) {
      const set = replicasOf(ranges, e.hash, this.replicationFactor);
      if (set[0] === me) for (const replica of set.slice(1)) pushTo(copies, replica, wire(key, e));
      else pushTo(handoffs, set[0], wire(key, e));
    }
    for (const [to, entries] of handoffs) this.handOff(to, entries, 0);
    for (const [to, entries] of copies) this.startTransfer(to, 'replicate', entries, 0, () => {});
  }

  /** Records this instance holds (owner or replica), for checkers. */
  localRecords(): ReadonlyMap<string, DhtRecord> {
    const out = new Map<string, DhtRecord>();
    for (const [key, e] of this.entries) if (e.present) out.set(key, { value: e.value, version: e.version });
    return out;
  }

  /** Handles messages whose type starts with 'dht.'; false for any other. */
  onMessage(from: NodeId, body: Message): boolean {
    switch (body.type) {
      case 'dht.request':
        this.serve(body as RequestMessage);
        return true;
      case 'dht.reply': {
        const m = body as ReplyMessage;
        this.finish(m.id, m.result);
        return true;
      }
      case 'dht.trigger':
        this.deliverTrigger(from, body as TriggerMessage);
        return true;
      case 'dht.transfer':
        this.acceptTransfer(from, body as TransferMessage);
        return true;
      case 'dht.transfer-ack':
        this.onTransferAck((body as TransferAckMessage).id);
        return true;
      default:
        return false;
    }
  }

  private checkRequest(op: DhtOp, key: string, done: unknown): void {
    if (typeof key !== 'string') throw new Error(`dht ${op}: the key must be a string, got ${typeof key}`);
    if (done !== undefined && typeof done !== 'function') throw new Error(`dht ${op} '${key}': done must be a function`);
  }

  private submit(op: DhtOp, key: string, value: unknown, register: Registration, done: ((r: DhtResult) => void) | undefined): void {
    const hash = this.hashKey(key);
    if (!(Number.isInteger(hash) && hash >= 0 && hash < HASH_SPACE)) throw new Error(`dht ${op} '${key}': the hash generator returned ${hash}, not an integer in [0, 2^48)`);
    const o: Outstanding = { id: this.nextId(), op, key, hash, value, register, done, attempts: 0, owner: null, timer: null };
    this.outstanding.set(o.id, o);
    this.attempt(o);
  }

  private attempt(o: Outstanding): void {
    o.owner = ownerOf(this.options.view().ranges, o.hash);
    if (o.owner === null) {
      this.finish(o.id, { ok: false, error: 'no-owner', message: `no instance owns hash ${o.hash}: the range list is empty` });
      return;
    }
    o.attempts++;
    const request: RequestMessage = { type: 'dht.request', id: o.id, origin: this.ctx.id, op: o.op, key: o.key, hash: o.hash, value: o.value, register: o.register, forwards: 0 };
    if (o.owner === this.ctx.id) {
      this.serve(request); // confirms through finish(), now or once the replicas have answered
      return;
    }
    this.ctx.send(o.owner, request);
    o.timer = this.ctx.setTimer(this.retransmitNs, () => {
      o.timer = null;
      if (!this.outstanding.has(o.id)) return;
      if (o.attempts <= this.maxRetransmits) this.attempt(o);
      else this.finish(o.id, { ok: false, error: 'timeout', message: `${o.owner} did not confirm ${o.op} '${o.key}' after ${o.attempts} attempts` });
    });
  }

  /** The one place a request ends: its `done` is called once, and errors are reported to the administrator. */
  private finish(id: string, result: DhtResult): void {
    const o = this.outstanding.get(id);
    if (o === undefined) return; // a duplicate or late confirmation
    this.outstanding.delete(id);
    if (o.timer !== null) this.ctx.cancelTimer(o.timer);
    if (!result.ok) {
      const trace = this.ctx.trace;
      if (trace.active) trace.emit('dht.error', { node: this.ctx.id, op: o.op, key: o.key, hash: o.hash, owner: o.owner, attempts: o.attempts, error: result.error });
    }
    o.done?.(result.ok ? { ok: true, record: copyRecord(result.record) } : result);
  }

  // ---- the owner's side: hash table and trigger processor --------------------------------------------

  private serve(req: RequestMessage): void {
    const owner = ownerOf(this.options.view().ranges, req.hash);
    if (owner !== this.ctx.id) {
      if (owner !== null && req.forwards < MAX_FORWARDS) {
        const trace = this.ctx.trace;
        if (trace.active) trace.detail('dht.forward', { node: this.ctx.id, origin: req.origin, to: owner, key: req.key, hash: req.hash });
        this.ctx.send(owner, { ...req, forwards: req.forwards + 1 });
      } else {
        const believed = owner === null ? 'no instance' : `'${owner}'`;
        this.answer(req, { ok: false, error: 'no-owner', message: `'${this.ctx.id}' does not own hash ${req.hash} (it believes ${believed} does) and the request was already forwarded` });
      }
      return;
    }
    if (req.op === 'get') this.read(req);
    else this.write(req);
  }

  private read(req: RequestMessage): void {
    let e = this.entries.get(req.key);
    if (req.register === 'origin') {
      if (e === undefined) {
        e = { hash: req.hash, version: 0, present: false, value: undefined, triggers: [] };
        this.entries.set(req.key, e);
      }
      // A stand-in owner must know the watchers too, so a new registration goes to the replicas.
      if (addTrigger(e, req.origin)) this.replicate(req.key, e, () => {});
    }
    const trace = this.ctx.trace;
    if (trace.active) trace.detail('dht.get', { owner: this.ctx.id, origin: req.origin, key: req.key, hash: req.hash, version: e?.present ? e.version : null });
    this.answer(req, { ok: true, record: e === undefined ? null : recordOf(e) });
  }

  private write(req: RequestMessage): void {
    const now = this.ctx.now();
    const prior = this.served.get(req.id, now);
    if (prior !== undefined) {
      if (prior !== null) this.answer(req, prior); // applied already: confirm again; else wait for the replicas
      return;
    }
    let e = this.entries.get(req.key);
    if (req.op === 'delete' && (e === undefined || !e.present)) {
      this.answer(req, { ok: true, record: null }); // nothing to delete is no change: no version, no notification
      return;
    }
    if (e === undefined) {
      e = { hash: req.hash, version: 0, present: false, value: undefined, triggers: [] };
      this.entries.set(req.key, e);
    }
    e.version++;
    e.present = req.op === 'put';
    e.value = req.op === 'put' ? req.value : undefined;
    if (req.register === 'origin') addTrigger(e, req.origin);
    else if (req.register === 'all') for (const member of this.members()) addTrigger(e, member);
    const trace = this.ctx.trace;
    if (trace.active) trace.detail(req.op === 'put' ? 'dht.put' : 'dht.delete', { owner: this.ctx.id, origin: req.origin, key: req.key, hash: req.hash, version: e.version });
    const result: DhtResult = { ok: true, record: recordOf(e) };
    this.served.set(req.id, null, now);
    this.notify(req.key, e);
    this.replicate(req.key, e, () => {
      this.served.set(req.id, result, this.ctx.now());
      this.answer(req, result);
    });
  }

  private answer(req: RequestMessage, result: DhtResult): void {
    if (req.origin === this.ctx.id) this.finish(req.id, result);
    else this.ctx.send(req.origin, { type: 'dht.reply', id: req.id, result } satisfies ReplyMessage);
  }

  /** The distinct owners in the range list, in list order. */
  private members(): NodeId[] {
    const out: NodeId[] = [];
    for (const r of this.options.view().ranges) if (!out.includes(r.owner)) out.push(r.owner);
    return out;
  }

  private notify(key: string, e: Entry): void {
    const record = recordOf(e);
    for (const importer of [...e.triggers]) {
      const message: TriggerMessage = { type: 'dht.trigger', id: this.nextId(), key, hash: e.hash, version: e.version, record };
      if (importer === this.ctx.id) this.deliverTrigger(this.ctx.id, message);
      else this.ctx.send(importer, message);
    }
  }

  private deliverTrigger(owner: NodeId, m: TriggerMessage): void {
    const now = this.ctx.now();
    if (this.triggersSeen.get(m.id, now) !== undefined) return;
    this.triggersSeen.set(m.id, true, now);
    const trace = this.ctx.trace;
    if (trace.active) trace.detail('dht.trigger', { node: this.ctx.id, owner, key: m.key, hash: m.hash, version: m.version });
    this.options.onTrigger?.(m.key, copyRecord(m.record));
  }

  /** Sends the entry to its replicas under the current list; `then` runs once every copy has settled. */
  private replicate(key: string, e: Entry, then: () => void): void {
    const replicas = replicasOf(this.options.view().ranges, e.hash, this.replicationFactor).filter((n) => n !== this.ctx.id);
    if (replicas.length === 0) {
      then();
      return;
    }
    let unsettled = replicas.length;
    const entries = [wire(key, e)];
    for (const replica of replicas) {
      this.startTransfer(replica, 'replicate', entries, 0, () => {
        if (--unsettled === 0) then();
      });
    }
  }

  // ---- transfers: replica copies and handoffs --------------------------------------------------------

  /** Gives entries to the owner; each is forgotten once confirmed, unless it changed or is ours to keep. */
  private handOff(to: NodeId, entries: readonly WireEntry[], hops: number): void {
    this.startTransfer(to, 'handoff', entries, hops, (acked) => {
      if (acked) for (const w of entries) this.forgetIfUnchanged(w);
    });
  }

  private startTransfer(to: NodeId, mode: TransferMode, entries: readonly WireEntry[], hops: number, settled: (acked: boolean) => void): void {
    const t: Transfer = { id: this.nextId(), to, mode, entries, hops, settled, attempts: 0, timer: null };
    this.transfers.set(t.id, t);
    this.sendTransfer(t);
  }

  private sendTransfer(t: Transfer): void {
    t.attempts++;
    this.ctx.send(t.to, { type: 'dht.transfer', id: t.id, mode: t.mode, entries: t.entries, hops: t.hops } satisfies TransferMessage);
    t.timer = this.ctx.setTimer(this.retransmitNs, () => {
      t.timer = null;
      if (!this.transfers.has(t.id)) return;
      if (t.attempts <= this.maxRetransmits) {
        this.sendTransfer(t);
        return;
      }
      this.transfers.delete(t.id);
      const trace = this.ctx.trace;
      if (trace.active) trace.emit('dht.transfer.failed', { node: this.ctx.id, to: t.to, mode: t.mode, records: t.entries.length, attempts: t.attempts });
      t.settled(false);
    });
  }

  private onTransferAck(id: string): void {
    const t = this.transfers.get(id);
    if (t === undefined) return;
    this.transfers.delete(id);
    if (t.timer !== null) this.ctx.cancelTimer(t.timer);
    t.settled(true);
  }

  /** A range change replaces every transfer under way; writes waiting on their replicas are confirmed. */
  private supersedeTransfers(): void {
    const old = [...this.transfers.values()];
    this.transfers.clear();
    for (const t of old) if (t.timer !== null) this.ctx.cancelTimer(t.timer);
    for (const t of old) t.settled(false);
  }

  /**
   * Merges what arrived, then puts it where this instance's list says it belongs: an owner passes what it
   * learned on to its replicas; an instance that is not among an entry's replicas — the transfer was sent
   * under another list, or crossed a range change — passes the entry on to the owner, once (MAX_FORWARDS),
   * so that disagreeing lists cannot bounce entries around forever.
   */
  private acceptTransfer(from: NodeId, m: TransferMessage): void {
    const me = this.ctx.id;
    const ranges = this.options.view().ranges;
    const copies = new Map<NodeId, WireEntry[]>();
    const handoffs = new Map<NodeId, WireEntry[]>();
    for (const w of m.entries) {
      const changed = this.merge(w, m.mode);
      const set = replicasOf(ranges, w.hash, this.replicationFactor);
      if (set.length === 0) continue;
      const e = wire(w.key, this.entries.get(w.key)!);
      if (set[0] === me) {
        if (changed) for (const replica of set.slice(1)) pushTo(copies, replica, e);
      } else if (!set.includes(me) && m.hops < MAX_FORWARDS) {
        pushTo(handoffs, set[0], e);
      }
    }
    this.ctx.send(from, { type: 'dht.transfer-ack', id: m.id } satisfies TransferAckMessage);
    for (const [to, entries] of copies) this.startTransfer(to, 'replicate', entries, 0, () => {});
    for (const [to, entries] of handoffs) this.handOff(to, entries, m.hops + 1);
  }

  /**
   * Keeps the higher version (a replica takes the owner's copy on a tie) and the union of the trigger
   * lists. Returns whether anything changed.
   */
  private merge(w: WireEntry, mode: TransferMode): boolean {
    const e = this.entries.get(w.key);
    if (e === undefined) {
      this.entries.set(w.key, { hash: w.hash, version: w.version, present: w.present, value: w.value, triggers: [...w.triggers] });
      return true;
    }
    let changed = false;
    if (w.version > e.version || (mode === 'replicate' && w.version === e.version)) {
      changed = w.version > e.version || w.present !== e.present || w.value !== e.value;
      e.version = w.version;
      e.present = w.present;
      e.value = w.value;
    }
    for (const importer of w.triggers) changed = addTrigger(e, importer) || changed;
    return changed;
  }

  /**
   * Drops an entry handed to its owner, unless it changed since (trigger lists only grow, so their length
   * tells) or this instance has become one of its replicas.
   */
  private forgetIfUnchanged(sent: WireEntry): void {
    const e = this.entries.get(sent.key);
    if (e === undefined || e.version !== sent.version || e.triggers.length !== sent.triggers.length) return;
    if (replicasOf(this.options.view().ranges, e.hash, this.replicationFactor).includes(this.ctx.id)) return;
    this.entries.delete(sent.key);
  }

  private nextId(): string {
    return `${this.ctx.id}/${this.ctx.incarnation}/${++this.lastId}`;
  }
}

function pushTo<T>(map: Map<NodeId, T[]>, to: NodeId, item: T): void {
  const list = map.get(to);
  if (list === undefined) map.set(to, [item]);
  else list.push(item);
}
