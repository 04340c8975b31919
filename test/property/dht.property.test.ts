// DHT properties under random workloads and fault schedules, with the test playing the coordination
// manager: at random times it recomputes the range list from the live members and hands it to each live
// instance after its own small delay (so views differ for a while). Safety: every range list partitions
// the space (invariant 22) and no request is answered twice. After the faults stop and one final list
// reaches everyone: every request of a surviving incarnation was answered exactly once (27), gets from
// every instance agree (25), and every key lives exactly on its replica set with equal copies (23). Without
// faults and with a stable list, a get sees every put confirmed before it was issued (24). The same seed
// and case give the same full trace. A failing run's arguments (seed, workload, view changes, fault
// schedule) are its replay.
import { describe, expect } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { faultScheduleArbitrary } from '../../sim/faults/arbitrary.ts';
import type { FaultSchedule } from '../../sim/faults/schedule.ts';
import { FAULT_KINDS, type FaultSpace } from '../../sim/faults/windows.ts';
import { NS_PER_MS } from '../../sim/kernel/time.ts';
import type { Message, NodeId } from '../../sim/net/message.ts';
import type { NodeContext, NodeProcess } from '../../sim/net/node.ts';
import { DhtInstance, type DhtResult, type DhtView } from '../../sim/store/dht.ts';
import { hash48 } from '../../sim/store/hash.ts';
import { checkPartition, computeRanges, replicasOf } from '../../sim/store/range-list.ts';
import { World } from '../../sim/testbed/world.ts';

const runs = (fallback: number) => Number(process.env.NVSIM_PROPERTY_RUNS ?? fallback);

const FAULT_END_NS = 300 * NS_PER_MS;
const KEYS = ['Node1.port1.state', 'Node2.port1.state', 'Link4789.stats', 'Link12.stats', 'Switch7.flows', 'Host3.vifs'];

interface Op {
  ms: number;
  node: number;
  kind: 'put' | 'get' | 'delete';
  key: number;
  value: number;
  /** put: the triggers option; get: 'self' watches, anything else does not. */
  triggers: 'self' | 'all' | 'none';
}

interface ViewChange {
  ms: number;
  /** Per node, how many ms after the change it learns of it. */
  lagMs: number[];
}

interface Case {
  nodes: NodeId[];
  replicationFactor: number;
  ops: Op[];
  viewChanges: ViewChange[];
  schedule: FaultSchedule;
}

function opArbitrary(n: number, maxMs: number): fc.Arbitrary<Op> {
  return fc.record({
    ms: fc.nat({ max: maxMs }),
    node: fc.nat({ max: n - 1 }),
    kind: fc.constantFrom('put', 'get', 'delete'),
    key: fc.nat({ max: KEYS.length - 1 }),
    value: fc.nat({ max: 99 }),
    triggers: fc.constantFrom('self', 'all', 'none'),
  });
}

const faultyCase: fc.Arbitrary<Case> = fc
  .record({ n: fc.integer({ min: 3, max: 5 }), replicationFactor: fc.constantFrom(1, 2) })
  .chain(({ n, replicationFactor }) => {
    const nodes = Array.from({ length: n }, (_, i) => `c${i + 1}`);
    const space: FaultSpace = {
      nodes,
      protectedNodes: [],
      kinds: FAULT_KINDS,
      startNs: 0,
      endNs: FAULT_END_NS,
      durationMinNs: NS_PER_MS,
      durationMaxNs: 150 * NS_PER_MS,
      maxFaults: 6,
      maxCrashed: n - 1,
    };
    const viewChange = fc.record({ ms: fc.nat({ max: FAULT_END_NS / NS_PER_MS - 1 }), lagMs: fc.array(fc.nat({ max: 20 }), { minLength: n, maxLength: n }) });
    return fc.record({
      nodes: fc.constant(nodes),
      replicationFactor: fc.constant(replicationFactor),
      ops: fc.array(opArbitrary(n, FAULT_END_NS / NS_PER_MS), { maxLength: 40 }),
      viewChanges: fc.array(viewChange, { maxLength: 6 }),
      schedule: faultScheduleArbitrary(space),
    });
  });

class DhtNode implements NodeProcess {
  readonly dht: DhtInstance;
  constructor(ctx: NodeContext, view: () => DhtView, replicationFactor: number) {
    this.dht = new DhtInstance(ctx, { view, replicationFactor, onTrigger: () => {} });
  }
  onMessage(from: NodeId, body: Message): void {
    if (!this.dht.onMessage(from, body)) throw new Error(`unexpected message '${body.type}'`);
  }
}

interface Issued {
  op: Op;
  node: NodeId;
  incarnation: number;
  answers: DhtResult[];
}

/** The world, the harness's coordination manager, and the workload scheduled on it. */
function setUp(seed: number, c: Case, trace: 'off' | 'full' = 'off') {
  const world = new World({ seed, trace });
  const fabric = world.fabric;
  const violations: string[] = [];
  const views = new Map<NodeId, DhtView>();
  let viewVersion = 0;
  const initial: DhtView = { ranges: computeRanges(c.nodes), version: viewVersion };
  for (const id of c.nodes) {
    views.set(id, initial);
    fabric.addNode(id, (ctx) => new DhtNode(ctx, () => views.get(id)!, c.replicationFactor), { kind: 'controller' });
  }
  const dht = (id: NodeId) => fabric.process<DhtNode>(id)!.dht;

  /** Gives `id` the view unless it already has a newer one (a late delivery must not undo the final list). */
  const deliverView = (id: NodeId, view: DhtView) => {
    if (!fabric.isUp(id) || views.get(id)!.version >= view.version) return;
    views.set(id, view);
    dht(id).onViewChange();
  };
  const newView = (): DhtView | null => {
    const live = c.nodes.filter((id) => fabric.isUp(id));
    if (live.length === 0) return null;
    const ranges = computeRanges(live);
    const why = checkPartition(ranges);
    if (why !== null) violations.push(`t=${world.now}: range list of ${live.join(',')} does not partition the space: ${why}`);
    return { ranges, version: ++viewVersion };
  };
  for (const change of c.viewChanges) {
    world.scheduler.at(change.ms * NS_PER_MS, () => {
      const view = newView();
      if (view === null) return;
      c.nodes.forEach((id, i) => world.scheduler.after(change.lagMs[i] * NS_PER_MS, () => deliverView(id, view)));
    });
  }

  const issued: Issued[] = [];
  for (const op of c.ops) {
    world.scheduler.at(op.ms * NS_PER_MS, () => {
      const node = c.nodes[op.node];
      if (!fabric.isUp(node)) return;
      const entry: Issued = { op, node, incarnation: fabric.info(node).incarnation, answers: [] };
      issued.push(entry);
      const done = (r: DhtResult) => {
        entry.answers.push(r);
        if (entry.answers.length > 1) violations.push(`t=${world.now}: ${op.kind} '${KEYS[op.key]}' from ${node} answered ${entry.answers.length} times`);
      };
      const key = KEYS[op.key];
      if (op.kind === 'put') dht(node).put(key, op.value, done, { triggers: op.triggers });
      else if (op.kind === 'delete') dht(node).delete(key, done);
      else dht(node).get(key, done, { watch: op.triggers === 'self' });
    });
  }
  world.nemesis.load(c.schedule);

  /** The liveness phase: faults end, one final list reaches every instance at once, and the world settles. */
  const settle = () => {
    world.scheduler.runUntil(FAULT_END_NS);
    world.nemesis.quiesce();
    const view = newView()!;
    for (const id of c.nodes) deliverView(id, view);
    world.scheduler.runUntilQuiescent();
    return view;
  };
  return { world, fabric, dht, violations, issued, settle };
}

describe('DHT under faults', () => {
  /** Found by this property: a replica copy sent under one list that lands after the next. */
  const lateReplicaCopy: [number, Case] = [
    0,
    {
      nodes: ['c1', 'c2', 'c3', 'c4'],
      replicationFactor: 2,
      ops: [{ ms: 0, node: 0, kind: 'put', key: 0, value: 0, triggers: 'self' }],
      viewChanges: [{ ms: 290, lagMs: [10, 0, 0, 0] }],
      schedule: [
        { at: 159 * NS_PER_MS, verb: 'crash', node: 'c2' },
        { at: 290 * NS_PER_MS, verb: 'restart', node: 'c2' },
      ],
    },
  ];

  test.prop([fc.integer(), faultyCase], { numRuns: runs(100), examples: [lateReplicaCopy] })(
    'ranges partition the space; one answer per request; after quiescence gets agree and keys sit on their replica sets',
    (seed, c) => {
      const { world, fabric, dht, violations, issued, settle } = setUp(seed, c);
      const view = settle();

      for (const i of issued) {
        const survived = fabric.isUp(i.node) && fabric.info(i.node).incarnation === i.incarnation;
        if (survived && i.answers.length !== 1) violations.push(`${i.op.kind} '${KEYS[i.op.key]}' from ${i.node} at ${i.op.ms}ms got ${i.answers.length} answers`);
      }

      for (const key of KEYS) {
        const answers = new Map<NodeId, DhtResult>();
        for (const id of c.nodes) dht(id).get(key, (r) => answers.set(id, r), { watch: false });
        world.scheduler.runUntilQuiescent();
        const distinct = new Set([...answers.values()].map((r) => JSON.stringify(r)));
        if (answers.size !== c.nodes.length || distinct.size !== 1 || ![...answers.values()][0].ok) {
          violations.push(`gets for '${key}' disagree or fail: ${[...answers].map(([id, r]) => `${id}=${JSON.stringify(r)}`).join(' ')}`);
        }

        const holders = c.nodes.filter((id) => dht(id).localRecords().has(key));
        const expected = replicasOf(view.ranges, hash48(key), c.replicationFactor).sort();
        if (holders.length > 0 && JSON.stringify(holders) !== JSON.stringify(expected)) {
          violations.push(`'${key}' is held by [${holders.join(',')}], its replica set is [${expected.join(',')}]`);
        }
        const copies = new Set(holders.map((id) => JSON.stringify(dht(id).localRecords().get(key))));
        if (copies.size > 1) violations.push(`'${key}' has different copies: ${[...copies].join(' ')}`);
      }
      expect(violations).toEqual([]);
    },
  );

  test.prop([fc.integer(), faultyCase], { numRuns: runs(5) })('the same seed and case give the same full trace', (seed, c) => {
    const hashOf = () => {
      const { world, settle } = setUp(seed, c, 'full');
      settle();
      return world.trace.hash();
    };
    expect(hashOf()).toBe(hashOf());
  });
});

const calmCase = fc.record({
  n: fc.integer({ min: 2, max: 5 }),
  replicationFactor: fc.constantFrom(1, 2, 3),
  ops: fc.array(
    fc.record({ ms: fc.nat({ max: 100 }), node: fc.nat({ max: 4 }), put: fc.boolean(), key: fc.nat({ max: KEYS.length - 1 }), value: fc.nat({ max: 99 }) }),
    { maxLength: 60 },
  ),
});

describe('DHT without faults', () => {
  test.prop([fc.integer(), calmCase], { numRuns: runs(100) })(
    'read-your-write: a get returns at least the latest put confirmed before it was issued, from any instance',
    (seed, c) => {
      const nodes = Array.from({ length: c.n }, (_, i) => `c${i + 1}`);
      const world = new World({ seed, trace: 'off' });
      const view: DhtView = { ranges: computeRanges(nodes), version: 1 };
      for (const id of nodes) world.fabric.addNode(id, (ctx) => new DhtNode(ctx, () => view, c.replicationFactor));
      const dht = (id: NodeId) => world.fabric.process<DhtNode>(id)!.dht;

      /** Events in the order they happened, so "confirmed before issued" is exact even at equal times. */
      let clock = 0;
      const confirmed: { key: string; version: number; value: number; at: number }[] = [];
      const gets: { key: string; issuedAt: number; result?: DhtResult }[] = [];
      const violations: string[] = [];
      for (const op of c.ops) {
        world.scheduler.at(op.ms * NS_PER_MS, () => {
          const node = nodes[op.node % c.n];
          const key = KEYS[op.key];
          if (op.put) {
            dht(node).put(key, op.value, (r) => {
              if (!r.ok || r.record === null) violations.push(`put '${key}' from ${node} failed: ${JSON.stringify(r)}`);
              else confirmed.push({ key, version: r.record.version, value: r.record.value as number, at: ++clock });
            });
          } else {
            const get: { key: string; issuedAt: number; result?: DhtResult } = { key, issuedAt: ++clock };
            gets.push(get);
            dht(node).get(key, (r) => (get.result = r));
          }
        });
      }
      world.scheduler.runUntilQuiescent();

      const versions = new Map<string, number>();
      for (const p of confirmed) {
        const id = `${p.key}@${p.version}`;
        if (versions.has(id)) violations.push(`two confirmed puts of '${p.key}' share version ${p.version}`);
        versions.set(id, p.value);
      }
      for (const g of gets) {
        const floor = Math.max(0, ...confirmed.filter((p) => p.key === g.key && p.at < g.issuedAt).map((p) => p.version));
        const r = g.result;
        if (r === undefined || !r.ok) {
          violations.push(`get '${g.key}' was not answered with a record: ${JSON.stringify(r)}`);
          continue;
        }
        const version = r.record?.version ?? 0;
        if (version < floor) violations.push(`get '${g.key}' returned version ${version}, but version ${floor} was confirmed before it was issued`);
        if (r.record !== null && versions.get(`${g.key}@${version}`) !== r.record.value) {
          violations.push(`get '${g.key}' returned ${JSON.stringify(r.record)}, which no confirmed put wrote`);
        }
      }
      expect(violations).toEqual([]);
    },
  );
});
