// The simulated network and the machines on it: nodes running processes, directed links with latency,
// loss, duplication and reordering, partitions, and crash/restart. Owns message fate and node liveness,
// and offers the fault verbs (crash, restart, partition, partitionOneWay, heal, degrade, restore) that a
// nemesis or a scenario calls. Does not decide *when* faults happen (sim/faults does) and never inspects
// message bodies. Every send, delivery and drop, with its reason, goes to the trace.

import type { RngStreams } from '../kernel/rng.ts';
import type { Scheduler } from '../kernel/scheduler.ts';
import type { Nanos } from '../kernel/time.ts';
import type { TraceRecorder } from '../kernel/trace.ts';
import { DEFAULT_LINK, LinkState, validateLinkConfig, type LinkConfig } from './link.ts';
import type { Envelope, Message, NodeId } from './message.ts';
import type { NodeContext, NodeInfo, NodeOptions, NodeProcess, ProcessFactory, TimerHandle } from './node.ts';
import { MAX_NODES, PartitionTable, pairKey } from './partition-table.ts';
import { PersistentStore } from './persistent-store.ts';
import './trace-events.ts';

interface NodeRecord {
  readonly id: NodeId;
  readonly index: number;
  readonly kind: string;
  readonly factory: ProcessFactory;
  readonly disk: PersistentStore;
  up: boolean;
  incarnation: number;
  process: NodeProcess | null;
}

interface InFlight {
  readonly envelope: Envelope;
  readonly src: NodeRecord;
  readonly dst: NodeRecord;
}

interface PendingTimer {
  readonly node: NodeRecord;
  readonly incarnation: number;
  readonly fn: () => void;
}

export interface FabricStats {
  sent: number;
  delivered: number;
  duplicated: number;
  droppedLoss: number;
  droppedPartition: number;
  droppedCrashed: number;
}

export interface FabricOptions {
  defaultLink?: LinkConfig;
}

export class Fabric {
  private readonly records = new Map<NodeId, NodeRecord>();
  private readonly links = new Map<number, LinkState>();
  private readonly partitions = new PartitionTable();
  /** Degradations by id, with the links each one overlays, for restore. */
  private readonly degradations = new Map<string, LinkState[]>();
  private defaultLink: LinkConfig;
  private nextMessageId = 1;
  readonly stats: FabricStats = { sent: 0, delivered: 0, duplicated: 0, droppedLoss: 0, droppedPartition: 0, droppedCrashed: 0 };

  // Bound once so scheduling a delivery or a timer allocates no closure.
  private readonly deliverEvent = (m: InFlight) => this.deliver(m);
  private readonly timerEvent = (t: PendingTimer) => {
    if (t.node.up && t.node.incarnation === t.incarnation) t.fn();
  };

  constructor(
    private readonly scheduler: Scheduler,
    private readonly rng: RngStreams,
    private readonly trace: TraceRecorder,
    options: FabricOptions = {},
  ) {
    this.defaultLink = options.defaultLink ?? DEFAULT_LINK;
    validateLinkConfig(this.defaultLink);
  }

  // ---- building ----------------------------------------------------------------------------------------

  /** Adds a node and starts its process now. */
  addNode(id: NodeId, factory: ProcessFactory, options: NodeOptions = {}): NodeInfo {
    if (this.records.has(id)) throw new Error(`node '${id}' already exists`);
    if (this.records.size >= MAX_NODES) throw new Error(`more than ${MAX_NODES} nodes`);
    const record: NodeRecord = {
      id,
      index: this.records.size,
      kind: options.kind ?? 'node',
      factory,
      disk: new PersistentStore(),
      up: false,
      incarnation: 0,
      process: null,
    };
    this.records.set(id, record);
    this.start(record);
    return this.info(id);
  }

  /** Sets the settings every link without its own uses. */
  setDefaultLink(config: LinkConfig): void {
    validateLinkConfig(config);
    this.defaultLink = config;
    for (const link of this.links.values()) link.resolve(config);
  }

  /** Sets the base settings of the link src→dst (and dst→src unless `symmetric` is false). */
  setLink(src: NodeId, dst: NodeId, config: LinkConfig, symmetric = true): void {
    validateLinkConfig(config);
    for (const link of symmetric ? [this.link(src, dst), this.link(dst, src)] : [this.link(src, dst)]) {
      link.base = config;
      link.resolve(this.defaultLink);
    }
  }

  // ---- reading -----------------------------------------------------------------------------------------

  info(id: NodeId): NodeInfo {
    const r = this.record(id);
    return { id: r.id, kind: r.kind, up: r.up, incarnation: r.incarnation };
  }

  /** Every node, in the order added. */
  nodes(): NodeInfo[] {
    return [...this.records.keys()].map((id) => this.info(id));
  }

  nodeIds(kind?: string): NodeId[] {
    const ids: NodeId[] = [];
    for (const r of this.records.values()) if (kind === undefined || r.kind === kind) ids.push(r.id);
    return ids;
  }

  hasNode(id: NodeId): boolean {
    return this.records.has(id);
  }

  isUp(id: NodeId): boolean {
    return this.record(id).up;
  }

  /** The node's running process (its volatile state), or undefined while it is down. */
  process<P extends NodeProcess>(id: NodeId): P | undefined {
    return (this.record(id).process as P | null) ?? undefined;
  }

  /** The node's durable state, readable by checkers whether the node is up or down. */
  disk(id: NodeId): PersistentStore {
    return this.record(id).disk;
  }

  linkConfig(src: NodeId, dst: NodeId): LinkConfig {
    return this.link(src, dst).config;
  }

  /** Whether a message sent now from src could reach dst (both up, no partition between them). */
  canReach(src: NodeId, dst: NodeId): boolean {
    const a = this.record(src);
    const b = this.record(dst);
    return a.up && b.up && !this.partitions.isCut(a.index, b.index);
  }

  activePartitions(): string[] {
    return this.partitions.ids();
  }

  activeDegradations(): string[] {
    return [...this.degradations.keys()];
  }

  // ---- fault verbs -------------------------------------------------------------------------------------

  /**
   * Stops the node at once: its process (volatile state) and its timers are gone, and it sends nothing
   * more; its disk stays. Messages it already sent are in the network and still arrive. A message is
   * dropped if its destination is down when it arrives; one that arrives after a restart reaches the new
   * incarnation, as a datagram would.
   */
  crash(id: NodeId): void {
    const r = this.record(id);
    if (!r.up) throw new Error(`cannot crash '${id}': it is already down`);
    r.up = false;
    r.process = null;
    this.trace.emit('fault.crash', { node: id, incarnation: r.incarnation });
  }

  /** Starts a crashed node again: a new incarnation of its process over the same disk. */
  restart(id: NodeId): void {
    const r = this.record(id);
    if (r.up) throw new Error(`cannot restart '${id}': it is up`);
    this.trace.emit('fault.restart', { node: id, incarnation: r.incarnation + 1 });
    this.start(r);
  }

  /** Cuts both directions between every two of the groups. Nodes in no group are unaffected. */
  partition(id: string, groups: NodeId[][]): void {
    const indexes = groups.map((g) => g.map((n) => this.record(n).index));
    const pairs: number[] = [];
    for (let i = 0; i < indexes.length; i++) {
      for (let j = 0; j < indexes.length; j++) {
        if (i === j) continue;
        for (const a of indexes[i]) for (const b of indexes[j]) pairs.push(pairKey(a, b));
      }
    }
    this.checkDisjoint(groups);
    this.partitions.add(id, pairs);
    this.trace.emit('fault.partition', { id, mode: 'groups', groups: groups.map((g) => [...g]) });
  }

  /** Cuts only the direction from → to: messages from `from` to `to` are lost, replies still arrive. */
  partitionOneWay(id: string, from: NodeId[], to: NodeId[]): void {
    this.checkDisjoint([from, to]);
    const pairs: number[] = [];
    for (const a of from) for (const b of to) pairs.push(pairKey(this.record(a).index, this.record(b).index));
    this.partitions.add(id, pairs);
    this.trace.emit('fault.partition', { id, mode: 'one-way', groups: [[...from], [...to]] });
  }

  /** Heals the partition `id`, or every active partition when no id is given. */
  heal(id?: string): void {
    const ids = id === undefined ? this.partitions.ids() : [id];
    for (const p of ids) {
      if (!this.partitions.remove(p)) throw new Error(`cannot heal '${p}': no such partition is active`);
      this.trace.emit('fault.heal', { id: p });
    }
  }

  /** Lays `settings` over the links from → to (and back, when symmetric) until `restore(id)`. */
  degrade(id: string, from: NodeId[], to: NodeId[], settings: Partial<LinkConfig>, symmetric = true): void {
    if (this.degradations.has(id)) throw new Error(`degradation '${id}' is already active`);
    validateLinkConfig({ ...this.defaultLink, ...settings });
    const affected = new Set<LinkState>();
    for (const a of from) {
      for (const b of to) {
        if (a === b) continue;
        affected.add(this.link(a, b));
        if (symmetric) affected.add(this.link(b, a));
      }
    }
    for (const link of affected) {
      link.overlays.push({ id, settings });
      link.resolve(this.defaultLink);
    }
    this.degradations.set(id, [...affected]);
    this.trace.emit('fault.degrade', { id, from: [...from], to: [...to], symmetric, link: settings });
  }

  /** Removes the degradation `id`, or every active one when no id is given. */
  restore(id?: string): void {
    const ids = id === undefined ? [...this.degradations.keys()] : [id];
    for (const d of ids) {
      const affected = this.degradations.get(d);
      if (affected === undefined) throw new Error(`cannot restore '${d}': no such degradation is active`);
      this.degradations.delete(d);
      for (const link of affected) {
        link.overlays = link.overlays.filter((o) => o.id !== d);
        link.resolve(this.defaultLink);
      }
      this.trace.emit('fault.restore', { id: d });
    }
  }

  // ---- internals ---------------------------------------------------------------------------------------

  private start(r: NodeRecord): void {
    r.up = true;
    r.incarnation++;
    this.trace.emit('node.start', { node: r.id, kind: r.kind, incarnation: r.incarnation });
    r.process = r.factory(this.contextFor(r));
  }

  private contextFor(r: NodeRecord): NodeContext {
    const incarnation = r.incarnation;
    const alive = () => r.up && r.incarnation === incarnation;
    const scheduler = this.scheduler;
    return {
      id: r.id,
      incarnation,
      rng: this.rng.stream(`node/${r.id}`),
      disk: r.disk,
      trace: this.trace,
      now: () => scheduler.now,
      send: (dst: NodeId, body: Message) => {
        if (alive()) this.send(r, dst, body);
      },
      setTimer: (delay: Nanos, fn: () => void): TimerHandle => scheduler.after(delay, this.timerEvent, { node: r, incarnation, fn }),
      cancelTimer: (handle: TimerHandle) => {
        scheduler.cancel(handle);
      },
      isAlive: alive,
    };
  }

  private send(src: NodeRecord, dstId: NodeId, body: Message): void {
    const dst = this.records.get(dstId);
    if (dst === undefined) throw new Error(`'${src.id}' sent '${body.type}' to unknown node '${dstId}'`);
    const now = this.scheduler.now;
    const id = this.nextMessageId++;
    const envelope: Envelope = { id, src: src.id, dst: dstId, body, sentAt: now };
    this.stats.sent++;
    if (this.trace.active) this.trace.detail('net.send', { id, src: src.id, dst: dstId, body });
    if (this.partitions.isCut(src.index, dst.index)) {
      this.stats.droppedPartition++;
      if (this.trace.active) this.trace.detail('net.drop.partition', { id, src: src.id, dst: dstId, at: 'send' });
      return;
    }
    const link = this.linkBetween(src, dst);
    // Draw every decision for this message, in a fixed order, before acting on any of them.
    const lost = link.shouldLose();
    const duplicated = link.shouldDuplicate();
    if (lost) {
      this.stats.droppedLoss++;
      if (this.trace.active) this.trace.detail('net.drop.loss', { id, src: src.id, dst: dstId });
    } else {
      this.scheduler.at(link.deliveryTime(now), this.deliverEvent, { envelope, src, dst });
    }
    if (duplicated) {
      const copy: Envelope = { id: this.nextMessageId++, src: src.id, dst: dstId, body, sentAt: now, copyOf: id };
      this.stats.duplicated++;
      if (this.trace.active) this.trace.detail('net.duplicate', { id: copy.id, copyOf: id, src: src.id, dst: dstId });
      this.scheduler.at(link.duplicateDeliveryTime(now), this.deliverEvent, { envelope: copy, src, dst });
    }
  }

  private deliver(m: InFlight): void {
    const { envelope, src, dst } = m;
    if (!dst.up) {
      this.stats.droppedCrashed++;
      if (this.trace.active) this.trace.detail('net.drop.crashed', { id: envelope.id, src: envelope.src, dst: envelope.dst });
      return;
    }
    if (this.partitions.isCut(src.index, dst.index)) {
      this.stats.droppedPartition++;
      if (this.trace.active) this.trace.detail('net.drop.partition', { id: envelope.id, src: envelope.src, dst: envelope.dst, at: 'delivery' });
      return;
    }
    this.stats.delivered++;
    if (this.trace.active) this.trace.detail('net.deliver', { id: envelope.id, src: envelope.src, dst: envelope.dst });
    dst.process!.onMessage(envelope.src, envelope.body);
  }

  private link(src: NodeId, dst: NodeId): LinkState {
    return this.linkBetween(this.record(src), this.record(dst));
  }

  /** The link's state, made on first use; its random stream is named after the pair, not the order of use. */
  private linkBetween(src: NodeRecord, dst: NodeRecord): LinkState {
    const key = pairKey(src.index, dst.index);
    let link = this.links.get(key);
    if (link === undefined) {
      link = new LinkState(src.id, dst.id, this.rng.stream(`net/link/${src.id}->${dst.id}`), this.defaultLink);
      this.links.set(key, link);
    }
    return link;
  }

  private record(id: NodeId): NodeRecord {
    const r = this.records.get(id);
    if (r === undefined) throw new Error(`unknown node '${id}'`);
    return r;
  }

  private checkDisjoint(groups: NodeId[][]): void {
    const seen = new Set<NodeId>();
    for (const g of groups) {
      for (const n of g) {
        if (seen.has(n)) throw new Error(`partition groups overlap at node '${n}'`);
        seen.add(n);
      }
    }
  }
}
