// The distributed middlebox element of one host (seed 001 §1.2, §4): volatile, one per switch node. It
// binds external slice tags to internal ids (one-to-one for its life), compiles each slice's records,
// judges packets with connection state kept per (slice, VM-specific id), and implements the migration
// calls (vm-state.ts): gather, delta streaming, the stun fence, state gaps, install, delete and TTL.
//
// State leaves only through remove(), expire() or the idle collector: configuration changes never delete
// it, because after a migration the controller may withdraw a slice's records from the source before the
// state was fetched. A fenced VM's state is never used again here; it stays for gather until it goes.
// Type-1 (shared) state — backend health, IDS counters — is handed to the host's state sharing manager
// whenever it changes (setSharing); type-2 (connections) never is.
//
// Owns all of the above; not the pipeline that calls it, nor how state travels between hosts.

import { CT_ESTABLISHED, CT_NAT, CT_NEW, CT_REPLY, CT_TRACKED, type MiddleboxHook, type MiddleboxMode, type MiddleboxVerdict } from '../dataplane/middlebox-hook.ts';
import { formatIpv4, headerBytes, IP_PROTO_TCP, type Headers } from '../dataplane/headers.ts';
import type { NodeContext, TimerHandle } from '../net/node.ts';
import type { Nanos } from '../kernel/time.ts';
import { elementOptions, type ElementOptions } from './element-options.ts';
import { alertKey, healthKey, judgeNewConnection, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from './new-connection.ts';
import type { MiddleboxKind } from './records.ts';
import { firstMatch } from './rule-match.ts';
import { compileRecords, type CompiledConfig, type RuleRecord } from './slice-config.ts';
import { isSliceWideKey, SliceState, type ConnectionHit } from './slice-state.ts';
import { StateGaps } from './state-gap.ts';
import { isTrackable, reverseTuple, rewrite, sameTuple, tupleKey, tupleOf } from './tuple.ts';
import type { ConnectionEntry, ElementMigrationApi, SharedEntry, StateDelta, StateGapPolicy, TcpPhase, VmMiddleboxState, VmSliceState } from './vm-state.ts';
import './trace-events.ts';

/** Where the element hands its type-1 state (the host's state sharing manager). */
export interface SharedStateSink {
  share(tag: number, vmKey: number, entries: readonly SharedEntry[]): void;
  get(tag: number, vmKey?: number): SharedEntry[];
  remove(tag: number, vmKey: number): void;
}

export interface ElementStats {
  passed: number;
  dropped: number;
  rejected: number;
  buffered: number;
  /** Packets that met a state gap's policy. */
  gapPackets: number;
  /** Packets of a fenced (migrated-away) VM, all dropped. */
  fencedDrops: number;
  alerts: number;
  /** Fenced drops that matched the VM's leftover connections: state that would have been used stale. */
  staleUses: number;
}

export interface SliceConfigView {
  readonly kind: MiddleboxKind;
  readonly name: string;
  readonly tenant: string;
  readonly rules: readonly RuleRecord[];
}

type Conn = 'new' | 'established' | 'reply' | 'none';
interface Decision {
  readonly verdict: MiddleboxVerdict;
  readonly conn: Conn;
}

/** What one VM's installs have applied: snapshot items by their text (a repeat is skipped), the last delta. */
interface InstallMemory {
  readonly applied: Map<string, string>;
  lastSeq: number;
}

const STATE_GAP_POLICIES: readonly StateGapPolicy[] = ['drop', 'new', 'buffer'];

/** sizeBytes estimate: per VM, per slice, per connection, per type-1 entry (plus its key), per delta. */
export const SIZE_VM_HEADER_BYTES = 16;
export const SIZE_SLICE_HEADER_BYTES = 32;
export const SIZE_CONNECTION_BYTES = 64;
export const SIZE_SHARED_ENTRY_BYTES = 16;
export const SIZE_DELTA_BYTES = 72;

export class MiddleboxElement implements MiddleboxHook, ElementMigrationApi {
  readonly options: ElementOptions;
  private config: CompiledConfig = { slices: new Map(), vifs: new Map() };
  private readonly slices = new Map<number, SliceState>();
  private nextInternal = 1;
  /** vifId → vmKey, from records and installs, kept for the element's life (records may be withdrawn). */
  private readonly vifs = new Map<string, number>();
  private readonly fenced = new Set<number>();
  private readonly gaps: StateGaps;
  private readonly watchers = new Map<number, Set<(d: StateDelta) => void>>();
  private readonly deltaSeq = new Map<number, number>();
  private readonly installs = new Map<number, InstallMemory>();
  private readonly ttlTimers = new Map<number, TimerHandle>();
  private gcTimer: TimerHandle | null = null;
  private sharing: SharedStateSink | null = null;
  private readonly counters: Omit<ElementStats, 'gapPackets'> = { passed: 0, dropped: 0, rejected: 0, buffered: 0, fencedDrops: 0, alerts: 0, staleUses: 0 };

  constructor(
    private readonly ctx: NodeContext,
    options: Partial<ElementOptions> = {},
  ) {
    this.options = elementOptions(options);
    this.gaps = new StateGaps(ctx, this.options.gapTimeoutNs, this.options.bufferLimit);
  }

  /** Connects the host's state sharing manager; the slice-wide type-1 state it already holds is taken in. */
  setSharing(sink: SharedStateSink): void {
    this.sharing = sink;
    for (const slice of this.slices.values()) this.learnShared(slice.tag, sink.get(slice.tag));
  }

  // ---- configuration ---------------------------------------------------------------------------------

  configure(records: readonly string[]): void {
    this.config = compileRecords(records, (error) => {
      if (this.ctx.trace.active) this.ctx.trace.emit('mb.record.bad', { node: this.ctx.id, error });
    });
    for (const [tag, c] of this.config.slices) this.bind(tag, c.slice.kind).kind = c.slice.kind;
    for (const [vifId, vmKey] of this.config.vifs) this.vifs.set(vifId, vmKey);
  }

  /** What the element is configured with for the slice (the SSM's fourth call), or null. */
  sliceConfig(tag: number): SliceConfigView | null {
    const c = this.config.slices.get(tag);
    return c === undefined ? null : { kind: c.slice.kind, name: c.slice.name, tenant: c.slice.tenant, rules: c.rules };
  }

  /** The slice for an external tag, bound to the next internal id the first time the tag is seen. */
  private bind(tag: number, kind: MiddleboxKind): SliceState {
    let slice = this.slices.get(tag);
    if (slice !== undefined) return slice;
    slice = new SliceState(tag, this.nextInternal++, kind);
    this.slices.set(tag, slice);
    if (this.ctx.trace.active) this.ctx.trace.emit('mb.slice.create', { node: this.ctx.id, tag, internal: slice.internal });
    if (this.sharing !== null) this.learnShared(tag, this.sharing.get(tag));
    return slice;
  }

  // ---- packets --------------------------------------------------------------------------------------

  process(tag: number, vmKey: number, mode: MiddleboxMode, headers: Headers, commit: boolean): MiddleboxVerdict {
    const d = this.decide(tag, vmKey, mode, headers, commit);
    if (!commit) return d.verdict;
    const v = d.verdict;
    if (v.verdict === 'pass') this.counters.passed++;
    else if (v.verdict === 'drop') this.counters.dropped++;
    else if (v.verdict === 'reject') this.counters.rejected++;
    else this.counters.buffered++;
    if (this.ctx.trace.active) {
      const base = { node: this.ctx.id, tag, vmKey, mode, verdict: v.verdict, conn: d.conn };
      this.ctx.trace.detail('mb.verdict', v.verdict === 'drop' || v.verdict === 'reject' ? { ...base, reason: v.reason } : base);
    }
    return v;
  }

  hold(_tag: number, vmKey: number, retry: () => void): void {
    this.gaps.hold(vmKey, retry);
  }

  private decide(tag: number, vmKey: number, mode: MiddleboxMode, h: Headers, commit: boolean): Decision {
    if (this.fenced.has(vmKey)) {
      if (commit) {
        this.counters.fencedDrops++;
        if (isTrackable(h) && this.slices.get(tag)?.lookup(vmKey, tupleOf(h))) this.counters.staleUses++;
      }
      return drop('fenced');
    }
    if (!isTrackable(h)) return passUnchanged(h);
    const slice = this.slices.get(tag);
    if (slice === undefined) return drop('unknown-slice');
    const config = this.config.slices.get(tag) ?? null;
    if (mode === 'copy' || slice.kind === 'ids') return this.observe(slice, vmKey, h, commit);

    const hit = slice.lookup(vmKey, tupleOf(h));
    // A new SYN on a closed connection's tuple starts a new connection in its place.
    const reopens = hit !== null && !hit.reply && hit.entry.phase === 'closed' && opensConnection(h);
    if (hit !== null && !reopens) return this.continueConnection(slice, vmKey, hit, h, commit);

    const policy = this.gaps.policyOf(vmKey);
    if (policy !== undefined) {
      if (commit) this.gaps.count(vmKey);
      if (policy === 'drop') return drop('state-gap');
      // A what-if cannot be held: it reports the drop a packet gets when the gap ends without state.
      if (policy === 'buffer') return !commit ? drop('state-gap') : this.gaps.admit(vmKey) ? { verdict: { verdict: 'buffer' }, conn: 'none' } : drop('state-gap-overflow');
    }
    if (mode === 'reply-only') return passUnchanged(h);

    const judged = judgeNewConnection(slice.kind, config, slice, h);
    switch (judged.kind) {
      case 'untracked':
        return passUnchanged(h);
      case 'drop':
        return { verdict: { verdict: 'drop', reason: judged.reason }, conn: 'new' };
      case 'reject':
        return { verdict: { verdict: 'reject', reason: judged.reason, response: judged.response }, conn: 'new' };
      case 'track': {
        const t = tupleOf(h);
        if (commit) {
          if (reopens) this.deleteConnection(slice, vmKey, hit!.entry);
          if (judged.roundRobin !== undefined) slice.roundRobin.set(judged.roundRobin.rule, judged.roundRobin.next);
          const bytes = headerBytes(h);
          const entry: ConnectionEntry = { tuple: t, translated: judged.translated, rule: judged.rule, phase: openingPhase(h), packets: [1, 0], bytes: [bytes, 0], lastSeenNs: this.ctx.now() };
          slice.put(vmKey, entry);
          this.changed(slice.tag, vmKey, 'put', entry);
          this.armCollector();
        }
        const nat = sameTuple(t, judged.translated) ? 0 : CT_NAT;
        return { verdict: { verdict: 'pass', headers: rewrite(h, judged.translated), ctState: CT_TRACKED | CT_NEW | nat }, conn: 'new' };
      }
    }
  }

  /** A packet of a tracked connection: the same translation as its first packet (reversed for replies). */
  private continueConnection(slice: SliceState, vmKey: number, hit: ConnectionHit, h: Headers, commit: boolean): Decision {
    const e = hit.entry;
    if (commit) {
      const dir = hit.reply ? 1 : 0;
      const bytes = headerBytes(h);
      const updated: ConnectionEntry = {
        ...e,
        phase: nextPhase(e.phase, hit.reply, h),
        packets: dir === 0 ? [e.packets[0] + 1, e.packets[1]] : [e.packets[0], e.packets[1] + 1],
        bytes: dir === 0 ? [e.bytes[0] + bytes, e.bytes[1]] : [e.bytes[0], e.bytes[1] + bytes],
        lastSeenNs: this.ctx.now(),
      };
      slice.put(vmKey, updated);
      this.changed(slice.tag, vmKey, 'put', updated);
    }
    const to = hit.reply ? reverseTuple(e.tuple) : e.translated;
    const nat = sameTuple(e.tuple, e.translated) ? 0 : CT_NAT;
    const ctState = CT_TRACKED | CT_ESTABLISHED | (hit.reply ? CT_REPLY : 0) | nat;
    return { verdict: { verdict: 'pass', headers: rewrite(h, to), ctState }, conn: hit.reply ? 'reply' : 'established' };
  }

  /** Passive processing (IDS, copies): count alerts, change nothing in the packet's path. */
  private observe(slice: SliceState, vmKey: number, h: Headers, commit: boolean): Decision {
    const config = this.config.slices.get(slice.tag);
    if (commit && slice.kind === 'ids' && config !== undefined) {
      const rule = firstMatch(config.classifier, h);
      if (rule !== null) {
        const key = alertKey(h.ipSrc);
        const value = (slice.vmSharedValue(vmKey, key) ?? 0) + 1;
        slice.setVmShared(vmKey, key, value);
        this.counters.alerts++;
        if (this.ctx.trace.active) this.ctx.trace.emit('mb.alert', { node: this.ctx.id, tag: slice.tag, srcIp: formatIpv4(h.ipSrc), rule: rule.rule });
        this.sharing?.share(slice.tag, vmKey, [{ key, value }]);
      }
    }
    return passUnchanged(h);
  }

  /** Backend health (type-1, slice-wide), shared through the state sharing manager. */
  setBackendHealth(tag: number, ip: number, port: number, up: boolean): void {
    const slice = this.slices.get(tag);
    if (slice === undefined) throw new Error(`middlebox element: no slice with tag ${tag}`);
    if (!Number.isSafeInteger(ip) || ip < 0 || ip > 0xffff_ffff) throw new Error(`middlebox element: backend ip ${ip} is not an IPv4 address`);
    if (!Number.isSafeInteger(port) || port < 0 || port > 65_535) throw new Error(`middlebox element: backend port ${port} is not a port`);
    const entry = { key: healthKey(ip, port), value: up ? 1 : 0 };
    slice.sliceShared.set(entry.key, entry.value);
    this.sharing?.share(tag, 0, [entry]);
  }

  /** Slice-wide type-1 state learnt from peers (through the SSM). */
  learnShared(tag: number, entries: readonly SharedEntry[]): void {
    const slice = this.slices.get(tag);
    if (slice === undefined) return;
    for (const e of entries) if (isSliceWideKey(e.key)) slice.sliceShared.set(e.key, e.value);
  }

  /** A VM's own type-1 entries from a peer: only keys it lacks, and only for a VM with state here. */
  fillVmShared(tag: number, vmKey: number, entries: readonly SharedEntry[]): void {
    const slice = this.slices.get(tag);
    if (slice === undefined || this.fenced.has(vmKey) || !this.slicesOf(vmKey).includes(tag)) return;
    for (const e of entries) if (!isSliceWideKey(e.key) && slice.vmSharedValue(vmKey, e.key) === undefined) slice.setVmShared(vmKey, e.key, e.value);
  }

  // ---- migration ------------------------------------------------------------------------------------

  vmKeyOf(vifId: string): number | undefined {
    return this.vifs.get(vifId);
  }

  /** Tags of the slices the VM has state in or is configured in, ascending. */
  slicesOf(vmKey: number): number[] {
    const tags: number[] = [];
    for (const slice of [...this.slices.values()].sort((a, b) => a.tag - b.tag)) {
      const configured = this.config.slices.get(slice.tag)?.vmKeys.has(vmKey) ?? false;
      if (configured || slice.connectionCount(vmKey) > 0 || slice.vmSharedOf(vmKey).length > 0) tags.push(slice.tag);
    }
    return tags;
  }

  gather(vmKey: number, vifId: string, scope: 'all' | 'local-only'): VmMiddleboxState {
    const slices: VmSliceState[] = this.slicesOf(vmKey).map((tag) => {
      const slice = this.slices.get(tag)!;
      const shared = scope === 'local-only' ? [] : [...slice.sliceSharedEntries(), ...slice.vmSharedOf(vmKey)].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      return { tag, kind: slice.kind, connections: slice.connectionsOf(vmKey), shared };
    });
    return { vmKey, vifId, slices };
  }

  watch(vmKey: number, onDelta: (d: StateDelta) => void): () => void {
    let set = this.watchers.get(vmKey);
    if (set === undefined) this.watchers.set(vmKey, (set = new Set()));
    set.add(onDelta);
    return () => {
      set.delete(onDelta);
      if (set.size === 0 && this.watchers.get(vmKey) === set) this.watchers.delete(vmKey);
    };
  }

  fence(vmKey: number): void {
    checkVmKey(vmKey, 'fence');
    this.fenced.add(vmKey);
    // Packets held for the VM meet the fence now rather than wait out a gap it will never leave here.
    this.gaps.end(vmKey, 'close');
  }

  expectState(vmKey: number, policy: StateGapPolicy): void {
    checkVmKey(vmKey, 'expectState');
    if (!STATE_GAP_POLICIES.includes(policy)) throw new Error(`middlebox element: state gap policy '${String(policy)}' is not one of ${STATE_GAP_POLICIES.join(', ')}`);
    this.reclaim(vmKey);
    this.gaps.start(vmKey, policy);
  }

  install(state: VmMiddleboxState, deltas: readonly StateDelta[]): void {
    const vmKey = state.vmKey;
    checkVmKey(vmKey, 'install');
    this.reclaim(vmKey);
    if (state.vifId !== '') this.vifs.set(state.vifId, vmKey);
    const memory = this.installs.get(vmKey) ?? { applied: new Map<string, string>(), lastSeq: 0 };
    this.installs.set(vmKey, memory);
    // A snapshot item already applied unchanged is skipped, so a repeated install cannot undo later deltas.
    const firstTime = (key: string, value: unknown): boolean => {
      const text = JSON.stringify(value);
      if (memory.applied.get(key) === text) return false;
      memory.applied.set(key, text);
      return true;
    };
    let connections = 0;
    let shared = 0;
    for (const s of state.slices) {
      const slice = this.bind(s.tag, s.kind);
      for (const e of s.connections) {
        if (!firstTime(`c|${s.tag}|${tupleKey(e.tuple)}`, e)) continue;
        slice.put(vmKey, e, true);
        connections++;
      }
      const vmEntries: SharedEntry[] = [];
      for (const e of s.shared) {
        if (!firstTime(`s|${s.tag}|${e.key}`, e.value)) continue;
        if (isSliceWideKey(e.key)) slice.sliceShared.set(e.key, e.value);
        else {
          slice.setVmShared(vmKey, e.key, e.value);
          vmEntries.push(e);
        }
        shared++;
      }
      if (vmEntries.length > 0) this.sharing?.share(s.tag, vmKey, vmEntries);
    }
    let applied = 0;
    for (const d of [...deltas].sort((a, b) => a.seq - b.seq)) {
      if (d.vmKey !== vmKey || d.seq <= memory.lastSeq) continue;
      // A delta's slice must be known here (in the snapshot or configured): its kind is not in the delta.
      const kind = this.slices.get(d.tag)?.kind ?? this.config.slices.get(d.tag)?.slice.kind;
      if (kind === undefined) continue;
      memory.lastSeq = d.seq;
      const slice = this.bind(d.tag, kind);
      if (d.op === 'put') slice.put(vmKey, d.entry, true);
      else slice.delete(vmKey, tupleKey(d.entry.tuple));
      applied++;
    }
    if (connections > 0 || applied > 0) this.armCollector();
    if (this.ctx.trace.active) this.ctx.trace.emit('mb.state.install', { node: this.ctx.id, vmKey, connections, shared, deltas: applied });
    this.gaps.end(vmKey, 'close');
  }

  remove(vmKey: number): number {
    return this.dropVm(vmKey, 'delete');
  }

  expire(vmKey: number, ttlNs: Nanos): void {
    if (!Number.isSafeInteger(ttlNs) || ttlNs < 0) throw new Error(`middlebox element: ttl ${String(ttlNs)} is not a whole, non-negative nanosecond count`);
    const before = this.ttlTimers.get(vmKey);
    if (before !== undefined) this.ctx.cancelTimer(before);
    this.ttlTimers.delete(vmKey);
    // Idle since the VM's latest connection activity, or since now when it has only type-1 entries.
    const since = this.ctx.now();
    const check = (): void => {
      this.ttlTimers.delete(vmKey);
      if (!this.hasState(vmKey)) return;
      const wait = (this.lastActivity(vmKey) ?? since) + ttlNs - this.ctx.now();
      if (wait <= 0) this.dropVm(vmKey, 'ttl');
      else this.ttlTimers.set(vmKey, this.ctx.setTimer(wait, check));
    };
    check();
  }

  sizeBytes(state: VmMiddleboxState, deltas: readonly StateDelta[]): number {
    let bytes = SIZE_VM_HEADER_BYTES + state.vifId.length;
    for (const s of state.slices) {
      bytes += SIZE_SLICE_HEADER_BYTES + SIZE_CONNECTION_BYTES * s.connections.length;
      for (const e of s.shared) bytes += SIZE_SHARED_ENTRY_BYTES + e.key.length;
    }
    return bytes + SIZE_DELTA_BYTES * deltas.length;
  }

  /** A fenced VM's state coming back here (it migrates back): the leftovers are stale, so they go. */
  private reclaim(vmKey: number): void {
    if (!this.fenced.delete(vmKey)) return;
    if (this.hasState(vmKey)) this.dropVm(vmKey, 'delete');
    this.installs.delete(vmKey);
  }

  private dropVm(vmKey: number, cause: 'delete' | 'ttl'): number {
    let entries = 0;
    for (const slice of [...this.slices.values()].sort((a, b) => a.tag - b.tag)) {
      const gone = slice.removeVm(vmKey);
      entries += gone.connections + gone.shared;
      if (gone.shared > 0) this.sharing?.remove(slice.tag, vmKey);
    }
    const timer = this.ttlTimers.get(vmKey);
    if (timer !== undefined) this.ctx.cancelTimer(timer);
    this.ttlTimers.delete(vmKey);
    this.installs.delete(vmKey);
    if (this.ctx.trace.active) this.ctx.trace.emit('mb.state.remove', { node: this.ctx.id, vmKey, entries, cause });
    return entries;
  }

  private hasState(vmKey: number): boolean {
    for (const slice of this.slices.values()) if (slice.vmKeys().includes(vmKey)) return true;
    return false;
  }

  private lastActivity(vmKey: number): Nanos | null {
    let last: Nanos | null = null;
    for (const slice of this.slices.values()) for (const e of slice.connectionsOf(vmKey)) if (last === null || e.lastSeenNs > last) last = e.lastSeenNs;
    return last;
  }

  /** A type-2 change of a VM that is not fenced, streamed to its watchers with the VM's next sequence number. */
  private changed(tag: number, vmKey: number, op: 'put' | 'delete', entry: ConnectionEntry): void {
    const watchers = this.watchers.get(vmKey);
    if (watchers === undefined || this.fenced.has(vmKey)) return;
    const seq = (this.deltaSeq.get(vmKey) ?? 0) + 1;
    this.deltaSeq.set(vmKey, seq);
    const delta: StateDelta = { vmKey, tag, seq, op, entry };
    for (const w of [...watchers]) w(delta);
  }

  private deleteConnection(slice: SliceState, vmKey: number, entry: ConnectionEntry): void {
    if (slice.delete(vmKey, tupleKey(entry.tuple)) !== undefined) this.changed(slice.tag, vmKey, 'delete', entry);
  }

  // ---- idle collection ------------------------------------------------------------------------------

  // Armed only while some connection exists, so an idle world can run to quiescence.
  private armCollector(): void {
    if (this.gcTimer === null) this.gcTimer = this.ctx.setTimer(this.options.gcIntervalNs, () => this.collectIdle());
  }

  private collectIdle(): void {
    this.gcTimer = null;
    const now = this.ctx.now();
    const removed = new Map<number, number>();
    for (const slice of [...this.slices.values()].sort((a, b) => a.tag - b.tag)) {
      for (const vmKey of slice.vmKeys()) {
        for (const e of slice.connectionsOf(vmKey)) {
          if (e.phase !== 'closed' && now - e.lastSeenNs <= this.options.idleTimeoutNs) continue;
          this.deleteConnection(slice, vmKey, e);
          removed.set(vmKey, (removed.get(vmKey) ?? 0) + 1);
        }
      }
    }
    if (this.ctx.trace.active) {
      for (const [vmKey, entries] of [...removed].sort(([a], [b]) => a - b)) this.ctx.trace.emit('mb.state.remove', { node: this.ctx.id, vmKey, entries, cause: 'idle' });
    }
    for (const slice of this.slices.values()) {
      if (slice.hasConnections()) {
        this.armCollector();
        break;
      }
    }
  }

  // ---- accessors for checkers -----------------------------------------------------------------------

  connections(vmKey?: number): { tag: number; vmKey: number; entry: ConnectionEntry }[] {
    const out: { tag: number; vmKey: number; entry: ConnectionEntry }[] = [];
    for (const slice of [...this.slices.values()].sort((a, b) => a.tag - b.tag)) {
      for (const v of vmKey === undefined ? slice.vmKeys() : [vmKey]) for (const entry of slice.connectionsOf(v)) out.push({ tag: slice.tag, vmKey: v, entry });
    }
    return out;
  }

  /** The VM's type-1 entries per slice (slice-wide ones excluded), by tag. */
  sharedOf(vmKey: number): { tag: number; entries: SharedEntry[] }[] {
    return [...this.slices.values()]
      .sort((a, b) => a.tag - b.tag)
      .map((slice) => ({ tag: slice.tag, entries: slice.vmSharedOf(vmKey) }))
      .filter((s) => s.entries.length > 0);
  }

  bindings(): { tag: number; internal: number }[] {
    return [...this.slices.values()].map((s) => ({ tag: s.tag, internal: s.internal })).sort((a, b) => a.tag - b.tag);
  }

  stats(): ElementStats {
    return { ...this.counters, gapPackets: this.gaps.totalPackets() };
  }

  gapPacketsOf(vmKey: number): number {
    return this.gaps.packetsOf(vmKey);
  }

  isFenced(vmKey: number): boolean {
    return this.fenced.has(vmKey);
  }
}

function drop(reason: string): Decision {
  return { verdict: { verdict: 'drop', reason }, conn: 'none' };
}

function passUnchanged(h: Headers): Decision {
  return { verdict: { verdict: 'pass', headers: { ...h }, ctState: 0 }, conn: 'none' };
}

function checkVmKey(vmKey: number, call: string): void {
  if (!Number.isSafeInteger(vmKey) || vmKey <= 0) throw new Error(`middlebox element: ${call} needs a VM-specific id above 0, got ${String(vmKey)}`);
}

/** A TCP SYN without ACK: the first packet of a connection. */
function opensConnection(h: Headers): boolean {
  return h.ipProto === IP_PROTO_TCP && (h.tcpFlags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
}

/** A connection picked up mid-stream (no SYN seen, e.g. in a 'new' state gap) is taken as established. */
function openingPhase(h: Headers): TcpPhase {
  if (h.ipProto !== IP_PROTO_TCP) return 'none';
  if ((h.tcpFlags & TCP_RST) !== 0) return 'closed';
  if ((h.tcpFlags & TCP_FIN) !== 0) return 'closing';
  return opensConnection(h) ? 'syn-sent' : 'established';
}

function nextPhase(phase: TcpPhase, reply: boolean, h: Headers): TcpPhase {
  if (h.ipProto !== IP_PROTO_TCP) return phase;
  if ((h.tcpFlags & TCP_RST) !== 0) return 'closed';
  if ((h.tcpFlags & TCP_FIN) !== 0) return phase === 'closed' ? 'closed' : 'closing';
  if (reply && phase === 'syn-sent' && (h.tcpFlags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)) return 'established';
  return phase;
}
