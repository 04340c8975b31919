// The coordination manager under random fault schedules (crash/restart, partitions both ways and one way,
// slow and lossy links) on a jittery network, for every election mode and join policy: four instances
// (three CM voters and a learner) register six switches and three LDPSs as they would on hellos and
// configuration. Checked throughout: at no instant do two instances act as master of one entity; every CM
// replica applies the same assignment at each index. Checked once faults stop (within LIVENESS_MS): every
// entity has exactly one master, it is live and acting on it, and the live replicas' states agree and
// name no dead instance. A failing run prints its seed and shrunk case (its replay).
import { describe, expect } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { AssignmentHistory, singleMasterInvariant } from '../../sim/check/mastership.ts';
import { ldpsEntity, switchEntity, type CmPolicy } from '../../sim/coord/cm-state.ts';
import { CoordinationManager } from '../../sim/coord/coordination-manager.ts';
import { faultScheduleArbitrary } from '../../sim/faults/arbitrary.ts';
import type { FaultSchedule } from '../../sim/faults/schedule.ts';
import { FAULT_KINDS, type FaultSpace } from '../../sim/faults/windows.ts';
import { NS_PER_MS, NS_PER_US } from '../../sim/kernel/time.ts';
import type { LinkConfig } from '../../sim/net/link.ts';
import type { Message, NodeId } from '../../sim/net/message.ts';
import type { NodeContext, NodeProcess } from '../../sim/net/node.ts';
import { World } from '../../sim/testbed/world.ts';

const RUNS = Number(process.env.NVSIM_PROPERTY_RUNS ?? 15);
const FAULT_END_MS = 4000;
const LIVENESS_MS = 4000;
const VOTERS = ['c1', 'c2', 'c3'];
const NODES = [...VOTERS, 'c4'];
const ENTITIES = [...['s1', 's2', 's3', 's4', 's5', 's6'].map(switchEntity), ...['A', 'B', 'C'].map(ldpsEntity)];

const JITTERY: LinkConfig = {
  latency: { kind: 'uniform', minNs: 100 * NS_PER_US, maxNs: 3 * NS_PER_MS },
  lossProbability: 0.02,
  duplicateProbability: 0.02,
  reorderProbability: 0.05,
  reorderDelay: { kind: 'uniform', minNs: 0, maxNs: 3 * NS_PER_MS },
};

class CmNode implements NodeProcess {
  readonly cm: CoordinationManager;
  constructor(ctx: NodeContext, policy: CmPolicy) {
    this.cm = new CoordinationManager(ctx, { voters: VOTERS, learners: ['c4'], hasPtd: true, hasDht: true, policy });
    // As an instance does on switch hellos and on reading the configuration.
    for (const entity of ENTITIES) this.cm.propose({ kind: 'register', entity }, (s) => s.masters.has(entity));
  }
  onMessage(from: NodeId, body: Message): void {
    this.cm.onMessage(from, body);
  }
}

interface Case {
  policy: CmPolicy;
  schedule: FaultSchedule;
}

const space: FaultSpace = {
  nodes: NODES,
  protectedNodes: [],
  kinds: FAULT_KINDS,
  startNs: 0,
  endNs: FAULT_END_MS * NS_PER_MS,
  durationMinNs: 10 * NS_PER_MS,
  durationMaxNs: 2000 * NS_PER_MS,
  maxFaults: 10,
  maxCrashed: 2,
};

const caseArbitrary: fc.Arbitrary<Case> = fc.record({
  policy: fc.record({ electionMode: fc.constantFrom('combined' as const, 'separate' as const), joinPolicy: fc.constantFrom('rebalance' as const, 'unassigned-only' as const), backups: fc.constantFrom(1, 2) }),
  schedule: faultScheduleArbitrary(space),
});

function play(seed: number, c: Case) {
  const world = new World({ seed, trace: 'off', defaultLink: JITTERY });
  const violations: string[] = [];
  singleMasterInvariant(world.trace).watch!((d) => violations.push(d));
  const history = new AssignmentHistory(world.trace);
  world.trace.on('cm.assign', () => {
    const d = history.takeDisagreement();
    if (d !== null) violations.push(d);
  });
  for (const id of NODES) world.fabric.addNode(id, (ctx) => new CmNode(ctx, c.policy), { kind: 'controller' });
  world.nemesis.load(c.schedule);
  world.scheduler.runUntil(FAULT_END_MS * NS_PER_MS);
  world.nemesis.quiesce();
  const cm = (id: NodeId) => world.fabric.process<CmNode>(id)!.cm;
  const settled = (): string | true => {
    for (const entity of ENTITIES) {
      const holders = NODES.filter((id) => cm(id).epochOf(entity) !== null);
      if (holders.length !== 1) return `${entity} is held by [${holders.join(', ')}]`;
    }
    const states = NODES.map((id) => JSON.stringify([[...cm(id).state.masters].sort(), cm(id).state.upMembers(), cm(id).state.ptdMaster]));
    if (new Set(states).size !== 1) return 'the replicas disagree';
    return cm('c1').state.check() ?? true;
  };
  let verdict: string | true = 'never checked';
  let settledAtMs: number | null = null;
  const poll = () => {
    verdict = settled();
    if (verdict === true) settledAtMs = world.now / NS_PER_MS - FAULT_END_MS;
    else world.scheduler.after(10 * NS_PER_MS, poll);
  };
  poll();
  world.scheduler.runUntil((FAULT_END_MS + LIVENESS_MS) * NS_PER_MS);
  const held = NODES.map((id) => cm(id).heldEntities().size);
  return { violations, verdict, settledAtMs, held };
}

describe('coordination manager under random faults', () => {
  test.prop([fc.integer({ min: 0, max: 2 ** 31 - 1 }), caseArbitrary], { numRuns: RUNS })('one master per entity at every instant; exactly one live master each after faults stop', (seed, c) => {
    const r = play(seed, c);
    expect(r.violations).toEqual([]);
    expect(r.verdict).toBe(true);
  });

  test('without faults every entity has one master by the end of the first phase, and a rebalance spreads them over all four instances', () => {
    const r = play(1, { policy: { electionMode: 'combined', joinPolicy: 'rebalance', backups: 1 }, schedule: [] });
    expect(r.violations).toEqual([]);
    expect(r.verdict).toBe(true);
    expect(r.settledAtMs).toBe(0); // settled before faults would have stopped
    for (const n of r.held) expect(n).toBeGreaterThanOrEqual(1);
  });
});
