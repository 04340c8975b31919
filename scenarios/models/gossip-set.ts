// A replicated grow-only set kept consistent by anti-entropy gossip, and the clients that write to it: the
// workload of the foundation scenarios. It is deliberately small but real: durable client writes, per-origin
// logs with version-vector digests (push-pull, as Dynamo-style anti-entropy does), client retries with
// timeouts, and a knob that acknowledges writes before they are durable so that a crash can lose an
// acknowledged write. Owns the model and its invariants; the fabric and nemesis are the testbed's.
//
// Protocol:
//   client → replica   {type:'add', value}          replica stores it (durably), then acks
//   replica → client   {type:'add_ok', value}
//   replica → peer     {type:'digest', have}        every gossip interval, to one random peer
//   peer → replica     {type:'entries', entries}    what the digest lacks; a digest back if the peer lacks
//                                                   something the sender has (push-pull)

import { NS_PER_MS, type Nanos } from '../../sim/kernel/time.ts';
import type { Message, NodeContext, NodeId, NodeProcess } from '../../sim/net/index.ts';
import type { World } from '../../sim/testbed/index.ts';

declare module '../../sim/kernel/trace.ts' {
  interface TraceEventMap {
    /** A replica added a value to its set (from a client, its disk, or a peer). */
    'gset.apply': { node: NodeId; origin: NodeId; seq: number; value: string; via: 'client' | 'disk' | 'gossip' };
    'gset.ack': { client: NodeId; value: string; replica: NodeId };
  }
}

export interface GossipSetOptions {
  replicas: number;
  clients: number;
  /** 'durable' acks after the disk write (correct); 'received' acks on receipt (loses writes on a crash). */
  ackAfter: 'durable' | 'received';
  diskWriteNs: Nanos;
  gossipIntervalNs: Nanos;
  writeIntervalNs: Nanos;
  clientTimeoutNs: Nanos;
  /** Clients issue no new writes from this time on (retries of outstanding ones go on). */
  writesStopAtNs: Nanos;
}

export const GOSSIP_SET_DEFAULTS: Omit<GossipSetOptions, 'writesStopAtNs'> = {
  replicas: 5,
  clients: 2,
  ackAfter: 'durable',
  diskWriteNs: 5 * NS_PER_MS,
  gossipIntervalNs: 100 * NS_PER_MS,
  writeIntervalNs: 20 * NS_PER_MS,
  clientTimeoutNs: 300 * NS_PER_MS,
};

type Digest = Record<NodeId, number>;
type Entries = Record<NodeId, { from: number; values: string[] }>;
const OWN_LOG = 'gset/own';

export class Replica implements NodeProcess {
  /** Values by origin replica, in the origin's order: entry i has sequence number i + 1. */
  private readonly logs = new Map<NodeId, string[]>();

  constructor(
    private readonly ctx: NodeContext,
    private readonly peers: NodeId[],
    private readonly options: GossipSetOptions,
  ) {
    for (const value of ctx.disk.readLog<string>(OWN_LOG)) this.apply(ctx.id, value, 'disk');
    this.scheduleGossip();
  }

  /** Every value this replica holds now. */
  values(): Set<string> {
    const out = new Set<string>();
    for (const log of this.logs.values()) for (const v of log) out.add(v);
    return out;
  }

  digest(): Digest {
    const d: Digest = {};
    for (const [origin, log] of this.logs) d[origin] = log.length;
    return d;
  }

  onMessage(from: NodeId, body: Message): void {
    switch (body.type) {
      case 'add':
        return this.onAdd(from, body.value as string);
      case 'digest':
        return this.onDigest(from, body.have as Digest);
      case 'entries':
        return this.onEntries(body.entries as Entries);
    }
  }

  private onAdd(client: NodeId, value: string): void {
    const { ctx, options } = this;
    if (options.ackAfter === 'received') ctx.send(client, { type: 'add_ok', value });
    ctx.setTimer(options.diskWriteNs, () => {
      ctx.disk.append(OWN_LOG, value);
      this.apply(ctx.id, value, 'client');
      if (options.ackAfter === 'durable') ctx.send(client, { type: 'add_ok', value });
    });
  }

  private onDigest(peer: NodeId, have: Digest): void {
    const entries: Entries = {};
    let any = false;
    for (const [origin, log] of this.logs) {
      const theirs = have[origin] ?? 0;
      if (log.length > theirs) {
        entries[origin] = { from: theirs + 1, values: log.slice(theirs) };
        any = true;
      }
    }
    if (any) this.ctx.send(peer, { type: 'entries', entries });
    const mine = this.digest();
    if (Object.keys(have).some((origin) => have[origin] > (mine[origin] ?? 0))) {
      this.ctx.send(peer, { type: 'digest', have: mine });
    }
  }

  private onEntries(entries: Entries): void {
    for (const [origin, { from, values }] of Object.entries(entries)) {
      const have = this.logs.get(origin)?.length ?? 0;
      if (from > have + 1) continue; // a gap: wait for a digest exchange that starts where we are
      for (let i = have + 1 - from; i < values.length; i++) this.apply(origin, values[i], 'gossip');
    }
  }

  private apply(origin: NodeId, value: string, via: 'client' | 'disk' | 'gossip'): void {
    let log = this.logs.get(origin);
    if (log === undefined) {
      log = [];
      this.logs.set(origin, log);
    }
    log.push(value);
    const trace = this.ctx.trace;
    if (trace.active) trace.detail('gset.apply', { node: this.ctx.id, origin, seq: log.length, value, via });
  }

  private scheduleGossip(): void {
    this.ctx.setTimer(this.options.gossipIntervalNs, () => {
      const peer = this.ctx.rng.pick(this.peers);
      this.ctx.send(peer, { type: 'digest', have: this.digest() });
      this.scheduleGossip();
    });
  }
}

export class Client implements NodeProcess {
  readonly attempted = new Set<string>();
  readonly acked = new Set<string>();
  private outstanding: { value: string; timer: number } | null = null;
  private nextValue = 1;

  constructor(
    private readonly ctx: NodeContext,
    private readonly replicas: NodeId[],
    private readonly options: GossipSetOptions,
  ) {
    this.scheduleWrite();
  }

  onMessage(from: NodeId, body: Message): void {
    if (body.type !== 'add_ok') return;
    const value = body.value as string;
    if (!this.acked.has(value)) {
      this.acked.add(value);
      this.ctx.trace.emit('gset.ack', { client: this.ctx.id, value, replica: from });
    }
    if (this.outstanding?.value === value) {
      this.ctx.cancelTimer(this.outstanding.timer);
      this.outstanding = null;
    }
  }

  private scheduleWrite(): void {
    const { ctx, options } = this;
    // Jitter of up to half an interval keeps the clients from writing in lockstep.
    const delay = options.writeIntervalNs + ctx.rng.below(options.writeIntervalNs / 2);
    if (ctx.now() + delay >= options.writesStopAtNs) return;
    ctx.setTimer(delay, () => {
      if (this.outstanding === null) this.send(`${ctx.id}-${this.nextValue++}`);
      this.scheduleWrite();
    });
  }

  private send(value: string): void {
    const { ctx, options } = this;
    this.attempted.add(value);
    ctx.send(ctx.rng.pick(this.replicas), { type: 'add', value });
    const timer = ctx.setTimer(options.clientTimeoutNs, () => this.send(value));
    this.outstanding = { value, timer };
  }
}

/**
 * Adds the replicas (r1…) and clients (c1…, protected from crashes) to the world, with the model's
 * invariants and metrics. Returns the replica ids.
 */
export function buildGossipSet(world: World, options: GossipSetOptions): NodeId[] {
  const replicaIds = Array.from({ length: options.replicas }, (_, i) => `r${i + 1}`);
  const clientIds = Array.from({ length: options.clients }, (_, i) => `c${i + 1}`);
  for (const id of replicaIds) {
    const peers = replicaIds.filter((p) => p !== id);
    world.fabric.addNode(id, (ctx) => new Replica(ctx, peers, options), { kind: 'replica' });
  }
  const clients: Client[] = [];
  for (const id of clientIds) {
    world.fabric.addNode(id, (ctx) => new Client(ctx, replicaIds, options), { kind: 'client' });
    clients.push(world.fabric.process<Client>(id)!);
    world.protect(id);
  }
  const attempted = () => new Set(clients.flatMap((c) => [...c.attempted]));
  const acked = () => clients.flatMap((c) => [...c.acked]);
  const liveReplicas = () => replicaIds.flatMap((id) => world.fabric.process<Replica>(id) ?? []);

  world.invariant({
    kind: 'safety',
    id: 'no-phantom-values',
    description: 'a replica only ever holds values some client tried to write',
    watch(violated) {
      const written = new Set<string>();
      world.trace.on('gset.apply', (e) => {
        if (e.via === 'client') written.add(e.value);
        else if (e.via === 'gossip' && !written.has(e.value)) violated(`${e.node} learned '${e.value}' from ${e.origin}, which no client wrote`);
      });
    },
    atEnd() {
      const tried = attempted();
      for (const r of liveReplicas()) for (const v of r.values()) if (!tried.has(v)) return `a replica holds '${v}', which no client wrote`;
      return true;
    },
  });
  world.invariant({
    kind: 'liveness',
    id: 'acknowledged-writes-survive',
    description: 'every write a client saw acknowledged reaches every replica',
    holds() {
      for (const id of replicaIds) {
        const r = world.fabric.process<Replica>(id);
        if (r === undefined) return `${id} is down`;
        const held = r.values();
        const missing = acked().filter((v) => !held.has(v));
        if (missing.length > 0) return `${id} lacks ${missing.length} acknowledged write(s), e.g. '${missing[0]}'`;
      }
      return true;
    },
  });
  world.invariant({
    kind: 'liveness',
    id: 'replicas-converge',
    description: 'all replicas come to hold the same set',
    holds() {
      const sets = replicaIds.map((id) => world.fabric.process<Replica>(id)?.values());
      if (sets.some((s) => s === undefined)) return 'a replica is down';
      const [first, ...rest] = sets as Set<string>[];
      for (let i = 0; i < rest.length; i++) {
        if (rest[i].size !== first.size || [...rest[i]].some((v) => !first.has(v))) {
          return `${replicaIds[0]} holds ${first.size} values, ${replicaIds[i + 1]} holds ${rest[i].size}`;
        }
      }
      return true;
    },
  });

  world.metric('writesAttempted', () => attempted().size);
  world.metric('writesAcknowledged', () => acked().length);
  world.metric('acknowledgedWritesLost', () => {
    const held = new Set(liveReplicas().flatMap((r) => [...r.values()]));
    return acked().filter((v) => !held.has(v)).length;
  });
  return replicaIds;
}
