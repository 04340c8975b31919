// The state sharing manager of one host (seed 001 §1.4, §2.C, §2.D). It keeps the host's type-1 (shared)
// middlebox state, which the element pushes to it whenever that state changes, behind the seed's four
// calls: share, get, remove, config. It exchanges type-1 state with peer managers on demand (push and
// pull, retransmitted until answered), and stands between the element and the VM migration manager:
// it hands out a VM's local-only state, and at a destination installs delivered local-only state together
// with the type-1 state it holds, then acknowledges.
//
// Owns the type-1 store (per slice tag and VM-specific id; vmKey 0 holds slice-wide entries such as
// backend health) and the exchange protocol; never carries or stores connection (type-2) state.

import type { Message, NodeId } from '../net/message.ts';
import type { NodeContext, TimerHandle } from '../net/node.ts';
import { NS_PER_MS, type Nanos } from '../kernel/time.ts';
import type { MiddleboxElement, SharedStateSink, SliceConfigView } from './element.ts';
import type { SsmMessage, SsmPull, SsmPush, SsmState } from './ssm-messages.ts';
import type { SharedEntry, StateDelta, VmMiddleboxState, VmSliceState } from './vm-state.ts';
import './trace-events.ts';

export interface SsmOptions {
  /** How long to wait for a peer's answer before sending the request again. */
  retransmitNs: Nanos;
}

export const DEFAULT_SSM_OPTIONS: SsmOptions = { retransmitNs: 50 * NS_PER_MS };

/** A VM's type-1 state in one slice: the slice-wide entries with the VM's own over them, by key. */
export interface SharedSliceState {
  readonly tag: number;
  readonly entries: readonly SharedEntry[];
}

interface Outstanding {
  readonly peer: NodeId;
  readonly message: SsmPush | SsmPull;
  timer: TimerHandle;
  readonly done?: (slices: readonly SharedSliceState[]) => void;
}

export class StateSharingManager implements SharedStateSink {
  readonly options: SsmOptions;
  private readonly store = new Map<number, Map<number, Map<string, number>>>();
  private readonly outstanding = new Map<string, Outstanding>();
  /** Exchanges already taken in, by sender and id, so a duplicate is answered but not traced twice. */
  private readonly received = new Set<string>();
  private nextId = 1;

  constructor(
    private readonly ctx: NodeContext,
    private readonly element: MiddleboxElement,
    options: Partial<SsmOptions> = {},
  ) {
    for (const key of Object.keys(options)) if (!(key in DEFAULT_SSM_OPTIONS)) throw new Error(`state sharing manager: unknown option '${key}'`);
    this.options = { ...DEFAULT_SSM_OPTIONS, ...options };
    if (!Number.isSafeInteger(this.options.retransmitNs) || this.options.retransmitNs <= 0) {
      throw new Error(`state sharing manager: retransmitNs must be a positive whole number of nanoseconds, got ${String(this.options.retransmitNs)}`);
    }
    element.setSharing(this);
  }

  // ---- the four calls (seed 001 §1.4) ----------------------------------------------------------------

  /** (1) The element sends type-1 state for sharing; entries replace those with the same key. */
  share(tag: number, vmKey: number, entries: readonly SharedEntry[]): void {
    checkKeys(tag, vmKey, 'share');
    for (const e of entries) {
      if (typeof e.key !== 'string' || !Number.isFinite(e.value)) throw new Error(`state sharing manager: share got an entry that is not a key and a number`);
    }
    this.put(tag, vmKey, entries);
    if (this.ctx.trace.active) this.ctx.trace.detail('ssm.share', { node: this.ctx.id, tag, vmKey, entries: entries.length });
  }

  /** (2) The type-1 state the element needs: the slice-wide entries, with the VM's own over them if given. */
  get(tag: number, vmKey?: number): SharedEntry[] {
    const bySlice = this.store.get(tag);
    const merged = new Map(bySlice?.get(0) ?? []);
    if (vmKey !== undefined && vmKey !== 0) for (const [k, v] of bySlice?.get(vmKey) ?? []) merged.set(k, v);
    return [...merged].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, value]) => ({ key, value }));
  }

  /** (3) Stops sharing the VM's type-1 state in the slice (vmKey 0: the slice-wide state). */
  remove(tag: number, vmKey: number): void {
    const bySlice = this.store.get(tag);
    bySlice?.delete(vmKey);
    if (bySlice?.size === 0) this.store.delete(tag);
  }

  /** (4) What the element is configured with for the slice, or null. */
  config(tag: number): SliceConfigView | null {
    return this.element.sliceConfig(tag);
  }

  /** Everything held, for checkers: per (tag, vmKey), entries by key. */
  held(): { tag: number; vmKey: number; entries: SharedEntry[] }[] {
    const out: { tag: number; vmKey: number; entries: SharedEntry[] }[] = [];
    for (const tag of [...this.store.keys()].sort((a, b) => a - b)) {
      const bySlice = this.store.get(tag)!;
      for (const vmKey of [...bySlice.keys()].sort((a, b) => a - b)) out.push({ tag, vmKey, entries: this.entriesOf(tag, vmKey) });
    }
    return out;
  }

  // ---- exchange with peers ---------------------------------------------------------------------------

  /**
   * Sends the peer what this manager holds for (tag, vmKey) — the slice-wide entries, and the VM's own
   * for vmKey above 0 — until the peer acknowledges.
   */
  pushTo(peer: NodeId, tag: number, vmKey: number): void {
    checkKeys(tag, vmKey, 'pushTo');
    const vm = vmKey === 0 ? [] : this.entriesOf(tag, vmKey);
    const message: SsmPush = { type: 'ssm.push', id: this.newId(), tag, vmKey, sliceWide: this.entriesOf(tag, 0), vm };
    this.request(peer, message);
  }

  /** Asks the peer for the VM's type-1 state; `done` gets it (per slice) once, when the answer arrives. */
  pull(peer: NodeId, vmKey: number, done: (slices: readonly SharedSliceState[]) => void): void {
    checkKeys(0, vmKey, 'pull');
    const message: SsmPull = { type: 'ssm.pull', id: this.newId(), vmKey };
    this.request(peer, message, done);
  }

  onMessage(from: NodeId, body: Message): boolean {
    if (!body.type.startsWith('ssm.')) return false;
    const m = body as unknown as SsmMessage;
    switch (m.type) {
      case 'ssm.push':
        this.onPush(from, m);
        break;
      case 'ssm.pull':
        this.ctx.send(from, this.answer(m));
        break;
      case 'ssm.push-ack':
        this.settle(m.id);
        break;
      case 'ssm.state':
        this.onState(from, m);
        break;
    }
    return true;
  }

  private request(peer: NodeId, message: SsmPush | SsmPull, done?: (slices: readonly SharedSliceState[]) => void): void {
    const send = (): void => {
      this.ctx.send(peer, message);
      out.timer = this.ctx.setTimer(this.options.retransmitNs, send);
    };
    const out: Outstanding = { peer, message, timer: 0, done };
    this.outstanding.set(message.id, out);
    send();
  }

  private settle(id: string): Outstanding | undefined {
    const out = this.outstanding.get(id);
    if (out === undefined) return undefined;
    this.outstanding.delete(id);
    this.ctx.cancelTimer(out.timer);
    return out;
  }

  private onPush(from: NodeId, m: SsmPush): void {
    if (this.firstCopy(from, m.id)) {
      this.takeIn(m.tag, 0, m.sliceWide);
      this.takeIn(m.tag, m.vmKey, m.vm);
      if (this.ctx.trace.active) this.ctx.trace.emit('ssm.exchange', { from, to: this.ctx.id, vmKey: m.vmKey, entries: m.sliceWide.length + m.vm.length });
    }
    this.ctx.send(from, { type: 'ssm.push-ack', id: m.id });
  }

  private answer(m: SsmPull): SsmState {
    const tags = new Set(this.element.slicesOf(m.vmKey));
    for (const [tag, bySlice] of this.store) if (bySlice.has(m.vmKey)) tags.add(tag);
    const slices = [...tags].sort((a, b) => a - b).map((tag) => ({ tag, sliceWide: this.entriesOf(tag, 0), vm: this.entriesOf(tag, m.vmKey) }));
    return { type: 'ssm.state', id: m.id, vmKey: m.vmKey, slices };
  }

  private onState(from: NodeId, m: SsmState): void {
    const out = this.settle(m.id);
    if (out === undefined || out.peer !== from) return;
    let entries = 0;
    for (const s of m.slices) {
      this.takeIn(s.tag, 0, s.sliceWide);
      this.takeIn(s.tag, m.vmKey, s.vm);
      entries += s.sliceWide.length + s.vm.length;
    }
    if (this.ctx.trace.active) this.ctx.trace.emit('ssm.exchange', { from, to: this.ctx.id, vmKey: m.vmKey, entries });
    out.done?.(m.slices.map((s) => ({ tag: s.tag, entries: this.get(s.tag, m.vmKey) })));
  }

  /**
   * Peer state. Slice-wide entries are the latest word (stored, and handed to the element at once). A VM's
   * own entries only fill in keys this host lacks: where the VM runs its counts are the freshest, and the
   * element takes them only for a VM it holds state for (otherwise they wait here for an install).
   */
  private takeIn(tag: number, vmKey: number, entries: readonly SharedEntry[]): void {
    if (entries.length === 0) return;
    if (vmKey === 0) {
      this.put(tag, 0, entries);
      this.element.learnShared(tag, entries);
      return;
    }
    const held = this.store.get(tag)?.get(vmKey);
    this.put(tag, vmKey, entries.filter((e) => !(held?.has(e.key) ?? false)));
    this.element.fillVmShared(tag, vmKey, entries);
  }

  // ---- migration middleman (seed 001 §2.C, §2.D) -----------------------------------------------------

  /** The VM's local-only state, for the migration manager to carry. */
  prepareMigration(vmKey: number, vifId: string): VmMiddleboxState {
    return this.element.gather(vmKey, vifId, 'local-only');
  }

  /**
   * Destination: the VM's local-only state (and deltas) arrived. The element installs it together with
   * the type-1 state this manager holds for the VM; then the migration manager is acknowledged.
   */
  deliver(state: VmMiddleboxState, deltas: readonly StateDelta[], onAck: () => void): void {
    const slices: VmSliceState[] = state.slices.map((s) => ({ ...s, shared: overlay(s.shared, this.get(s.tag, state.vmKey)) }));
    for (const [tag, bySlice] of [...this.store].sort(([a], [b]) => a - b)) {
      const kind = this.element.sliceConfig(tag)?.kind;
      if (!bySlice.has(state.vmKey) || slices.some((s) => s.tag === tag) || kind === undefined) continue;
      slices.push({ tag, kind, connections: [], shared: this.get(tag, state.vmKey) });
    }
    this.element.install({ ...state, slices }, deltas);
    if (this.ctx.trace.active) this.ctx.trace.emit('ssm.ack', { node: this.ctx.id, vmKey: state.vmKey });
    onAck();
  }

  // ---- store -----------------------------------------------------------------------------------------

  private put(tag: number, vmKey: number, entries: readonly SharedEntry[]): void {
    if (entries.length === 0) return;
    let bySlice = this.store.get(tag);
    if (bySlice === undefined) this.store.set(tag, (bySlice = new Map()));
    let m = bySlice.get(vmKey);
    if (m === undefined) bySlice.set(vmKey, (m = new Map()));
    for (const e of entries) m.set(e.key, e.value);
  }

  private entriesOf(tag: number, vmKey: number): SharedEntry[] {
    const m = this.store.get(tag)?.get(vmKey);
    if (m === undefined) return [];
    return [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, value]) => ({ key, value }));
  }

  private newId(): string {
    return `${this.ctx.incarnation}.${this.nextId++}`;
  }

  private firstCopy(from: NodeId, id: string): boolean {
    const key = `${from}|${id}`;
    if (this.received.has(key)) return false;
    this.received.add(key);
    return true;
  }
}

function overlay(base: readonly SharedEntry[], over: readonly SharedEntry[]): SharedEntry[] {
  const m = new Map<string, number>();
  for (const e of base) m.set(e.key, e.value);
  for (const e of over) m.set(e.key, e.value);
  return [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, value]) => ({ key, value }));
}

function checkKeys(tag: number, vmKey: number, call: string): void {
  if (!Number.isSafeInteger(tag) || tag < 0) throw new Error(`state sharing manager: ${call} needs a slice tag, got ${String(tag)}`);
  if (!Number.isSafeInteger(vmKey) || vmKey < 0) throw new Error(`state sharing manager: ${call} needs a VM-specific id (0 for slice-wide), got ${String(vmKey)}`);
}
