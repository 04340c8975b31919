// Fabric properties under random topologies, traffic and fault schedules: nothing is delivered across an
// active partition or to a crashed node, every message (and every duplicate) meets exactly one fate,
// everything gets through again after the nemesis quiesces, and link loss/duplication rates match their
// settings. A failing run's arguments (seed, topology, traffic, schedule) are the replay.
import { describe, expect } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { faultScheduleArbitrary } from '../../sim/faults/arbitrary.ts';
import type { FaultSchedule } from '../../sim/faults/schedule.ts';
import { FAULT_KINDS, type FaultSpace } from '../../sim/faults/windows.ts';
import { NS_PER_MS, NS_PER_US } from '../../sim/kernel/time.ts';
import { DEFAULT_LINK, type LinkConfig } from '../../sim/net/link.ts';
import type { Message, NodeId } from '../../sim/net/message.ts';
import type { NodeContext, NodeProcess } from '../../sim/net/node.ts';
import { World } from '../../sim/testbed/world.ts';

const runs = (fallback: number) => Number(process.env.NVSIM_PROPERTY_RUNS ?? fallback);

const FAULT_END_NS = 200 * NS_PER_MS;
const TRAFFIC_END_NS = 300 * NS_PER_MS;


interface Send {
  t: number;
  src: number;
  dst: number;
  /** How many more times the message is forwarded on arrival, to a node the receiver picks. */
  hops: number;
}

interface Case {
  nodes: NodeId[];
  traffic: Send[];
  schedule: FaultSchedule;
}

const caseArbitrary: fc.Arbitrary<Case> = fc.integer({ min: 3, max: 7 }).chain((n) => {
  const nodes = Array.from({ length: n }, (_, i) => `n${i}`);
  const space: FaultSpace = {
    nodes,
    protectedNodes: [],
    kinds: FAULT_KINDS,
    startNs: 0,
    endNs: FAULT_END_NS,
    durationMinNs: NS_PER_MS,
    durationMaxNs: 100 * NS_PER_MS,
    maxFaults: 8,
    maxCrashed: n - 1,
  };
  const send = fc.record({ t: fc.nat({ max: TRAFFIC_END_NS }), src: fc.nat({ max: n - 1 }), dst: fc.nat({ max: n - 1 }), hops: fc.nat({ max: 3 }) });
  return fc.record({ nodes: fc.constant(nodes), traffic: fc.array(send, { maxLength: 60 }), schedule: faultScheduleArbitrary(space) });
});

/** Forwards a message `hops` more times, each to a node picked from its own stream. */
class Forwarder implements NodeProcess {
  constructor(
    private readonly ctx: NodeContext,
    private readonly nodes: NodeId[],
    private readonly received: { to: NodeId; from: NodeId; body: Message }[],
  ) {}
  onMessage(from: NodeId, body: Message): void {
    this.received.push({ to: this.ctx.id, from, body });
    const hops = body.hops as number;
    if (body.type === 'hop' && hops > 0) this.ctx.send(this.ctx.rng.pick(this.nodes), { type: 'hop', hops: hops - 1 });
  }
}

type Fate = 'delivered' | 'loss' | 'partition' | 'crashed';

/**
 * Journal-driven checker: tracks cut pairs and down nodes from fault events, and the fate of every message
 * id from net events. Records violations instead of throwing so a run finishes and reports them all.
 */
function watch(world: World) {
  const violations: string[] = [];
  const cutBy = new Map<string, string[]>(); // partition id -> directed pair keys
  const cutCount = new Map<string, number>();
  const down = new Set<NodeId>();
  const originals = new Set<number>();
  const copies = new Set<number>();
  const fate = new Map<number, Fate>();
  const key = (a: NodeId, b: NodeId) => `${a}>${b}`;
  const isCut = (a: NodeId, b: NodeId) => (cutCount.get(key(a, b)) ?? 0) > 0;
  const t = world.trace;

  t.on('fault.partition', (e) => {
    const pairs: string[] = [];
    if (e.mode === 'groups') {
      e.groups.forEach((g, i) => e.groups.forEach((h, j) => i !== j && g.forEach((a) => h.forEach((b) => pairs.push(key(a, b))))));
    } else {
      for (const a of e.groups[0]) for (const b of e.groups[1]) pairs.push(key(a, b));
    }
    cutBy.set(e.id, pairs);
    for (const p of pairs) cutCount.set(p, (cutCount.get(p) ?? 0) + 1);
  });
  t.on('fault.heal', (e) => {
    for (const p of cutBy.get(e.id) ?? []) cutCount.set(p, cutCount.get(p)! - 1);
    cutBy.delete(e.id);
  });
  t.on('fault.crash', (e) => down.add(e.node));
  t.on('node.start', (e) => down.delete(e.node));

  t.on('net.send', (e) => {
    if (originals.has(e.id) || copies.has(e.id)) violations.push(`message id ${e.id} sent twice`);
    if (down.has(e.src)) violations.push(`t=${world.now}: ${e.src} sent ${e.id} while down`);
    originals.add(e.id);
  });
  t.on('net.duplicate', (e) => {
    if (originals.has(e.id) || copies.has(e.id)) violations.push(`duplicate ${e.id} reuses an id`);
    if (!originals.has(e.copyOf)) violations.push(`duplicate ${e.id} of unknown message ${e.copyOf}`);
    copies.add(e.id);
  });
  const settle = (id: number, f: Fate) => {
    if (!originals.has(id) && !copies.has(id)) violations.push(`message ${id} settled (${f}) but never sent`);
    const before = fate.get(id);
    if (before !== undefined) violations.push(`message ${id} settled twice: ${before}, then ${f}`);
    fate.set(id, f);
  };
  t.on('net.deliver', (e) => {
    if (isCut(e.src, e.dst)) violations.push(`t=${world.now}: message ${e.id} delivered across a partition ${e.src}->${e.dst}`);
    if (down.has(e.dst)) violations.push(`t=${world.now}: message ${e.id} delivered to crashed ${e.dst}`);
    settle(e.id, 'delivered');
  });
  t.on('net.drop.loss', (e) => settle(e.id, 'loss'));
  t.on('net.drop.partition', (e) => {
    if (!isCut(e.src, e.dst)) violations.push(`t=${world.now}: message ${e.id} dropped for a partition ${e.src}->${e.dst} that is not there`);
    settle(e.id, 'partition');
  });
  t.on('net.drop.crashed', (e) => {
    if (!down.has(e.dst)) violations.push(`t=${world.now}: message ${e.id} dropped for a crash but ${e.dst} is up`);
    settle(e.id, 'crashed');
  });

  /** Checks, once the queue is empty, that every message and copy met exactly one fate. */
  const unsettled = () => [...originals, ...copies].filter((id) => !fate.has(id));
  const count = (f: Fate) => [...fate.values()].filter((x) => x === f).length;
  return { violations, unsettled, originals, copies, count, fate };
}

/** Builds the world, plays the traffic and loads the schedule; the caller runs it. */
function setUp(seed: number, c: Case, defaultLink: LinkConfig) {
  const world = new World({ seed, trace: 'off', defaultLink });
  const checker = watch(world);
  const received: { to: NodeId; from: NodeId; body: Message }[] = [];
  const contexts = new Map<NodeId, NodeContext>();
  for (const id of c.nodes) {
    world.fabric.addNode(id, (ctx) => {
      contexts.set(id, ctx);
      return new Forwarder(ctx, c.nodes, received);
    });
  }
  for (const s of c.traffic) {
    world.scheduler.at(s.t, () => contexts.get(c.nodes[s.src])!.send(c.nodes[s.dst], { type: 'hop', hops: s.hops }));
  }
  world.nemesis.load(c.schedule);
  return { world, checker, received, contexts };
}

const JITTERY_LOSSY: LinkConfig = {
  latency: { kind: 'uniform', minNs: 100 * NS_PER_US, maxNs: 5 * NS_PER_MS },
  lossProbability: 0.05,
  duplicateProbability: 0.05,
  reorderProbability: 0.1,
  reorderDelay: { kind: 'uniform', minNs: 0, maxNs: 5 * NS_PER_MS },
};

describe('fabric under random faults', () => {
  test.prop([fc.integer(), caseArbitrary], { numRuns: runs(40) })(
    'never delivers across a partition or to a crashed node, and every message meets exactly one fate',
    (seed, c) => {
      const { world, checker, received } = setUp(seed, c, JITTERY_LOSSY);
      world.scheduler.runUntilQuiescent();
      expect(checker.violations).toEqual([]);
      expect(checker.unsettled()).toEqual([]);
      expect(world.nemesis.applied).toEqual(c.schedule);
      // The journal agrees with what processes saw and with the fabric's own counters.
      const stats = world.fabric.stats;
      expect(received.length).toBe(checker.count('delivered'));
      expect(stats.sent).toBe(checker.originals.size);
      expect(stats.duplicated).toBe(checker.copies.size);
      expect(stats.delivered).toBe(checker.count('delivered'));
      expect(stats.droppedLoss).toBe(checker.count('loss'));
      expect(stats.droppedPartition).toBe(checker.count('partition'));
      expect(stats.droppedCrashed).toBe(checker.count('crashed'));
    },
  );

  test.prop([fc.integer(), caseArbitrary, fc.nat({ max: FAULT_END_NS })], { numRuns: runs(40) })(
    'after the nemesis quiesces, every node reaches every other again (loss 0)',
    (seed, c, quiesceAt) => {
      const lossless: LinkConfig = { ...JITTERY_LOSSY, lossProbability: 0, duplicateProbability: 0 };
      const { world, checker, received, contexts } = setUp(seed, c, lossless);
      world.scheduler.runUntil(quiesceAt);
      world.nemesis.quiesce();
      expect(world.fabric.activePartitions()).toEqual([]);
      expect(world.fabric.activeDegradations()).toEqual([]);
      expect(world.fabric.nodes().every((n) => n.up)).toBe(true);
      for (const a of c.nodes) for (const b of c.nodes) if (a !== b) contexts.get(a)!.send(b, { type: 'probe', from: a });
      world.scheduler.runUntilQuiescent();
      expect(checker.violations).toEqual([]);
      expect(checker.unsettled()).toEqual([]);
      const probes = received.filter((r) => r.body.type === 'probe').map((r) => `${r.from}>${r.to}`);
      const expected = c.nodes.flatMap((a) => c.nodes.filter((b) => b !== a).map((b) => `${a}>${b}`));
      expect(probes.sort()).toEqual(expected.sort());
    },
  );
});

describe('the random cases exercise every fate', () => {
  // Guards the properties above against passing vacuously: over a fixed sample, every fault kind is applied
  // and every fate occurs.
  test('every fault verb and every message fate shows up', () => {
    const verbs = new Set<string>();
    const fates = new Map<Fate, number>();
    for (const [seed, c] of fc.sample(fc.tuple(fc.integer(), caseArbitrary), { seed: 42, numRuns: 30 })) {
      const { world, checker } = setUp(seed, c, JITTERY_LOSSY);
      world.scheduler.runUntilQuiescent();
      for (const step of world.nemesis.applied) verbs.add(step.verb);
      for (const f of checker.fate.values()) fates.set(f, (fates.get(f) ?? 0) + 1);
    }
    expect([...verbs].sort()).toEqual(['crash', 'degrade', 'heal', 'partition', 'partition-one-way', 'restart', 'restore']);
    for (const f of ['delivered', 'loss', 'partition', 'crashed'] as const) expect(fates.get(f) ?? 0).toBeGreaterThan(0);
  });
});

describe('link statistics', () => {
  const MESSAGES = 20_000;
  const probability = fc.double({ min: 0.01, max: 0.5, noNaN: true });

  test.prop([fc.integer(), probability, probability], { numRuns: runs(10) })(
    'measured loss and duplication rates lie within 5 standard deviations of their settings',
    (seed, p, q) => {
      const world = new World({ seed, trace: 'off', defaultLink: { ...DEFAULT_LINK, lossProbability: p, duplicateProbability: q } });
      let ctxA: NodeContext | undefined;
      let delivered = 0;
      world.fabric.addNode('a', (ctx) => {
        ctxA = ctx;
        return { onMessage() {} };
      });
      world.fabric.addNode('b', () => ({ onMessage: () => void delivered++ }));
      for (let i = 0; i < MESSAGES; i++) ctxA!.send('b', { type: 'x' });
      world.scheduler.runUntilQuiescent();
      const { sent, droppedLoss, duplicated } = world.fabric.stats;
      expect(sent).toBe(MESSAGES);
      const within = (measured: number, expected: number) =>
        expect(Math.abs(measured / MESSAGES - expected)).toBeLessThanOrEqual(5 * Math.sqrt((expected * (1 - expected)) / MESSAGES));
      within(droppedLoss, p);
      within(duplicated, q);
      expect(delivered).toBe(MESSAGES - droppedLoss + duplicated);
    },
  );
});
