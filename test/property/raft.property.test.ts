// Raft under random fault schedules (crash/restart, partitions both ways and one way, slow, flaky,
// duplicating and reordering links) plus partitions aimed at whoever leads, on a jittery, lossy,
// duplicating, reordering network, with random proposals at random nodes; timing, pre-vote and batch size
// vary by case. Safety phase: faults for FAULT_END_MS; liveness phase: the nemesis quiesces
// (heals, restores, restarts) and within LIVENESS_MS a leader must get a fresh proposal applied everywhere.
// Checked: one leader per term; contiguous, in-order applies per incarnation; every node that applies
// index i applies the same (term, command); a proposal applied by a majority of voters is applied by every
// node at the end; learners never stand. A failing run's arguments (seed and case) are its replay.
import { describe, expect } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import type { RaftOptions } from '../../sim/coord/raft.ts';
import { faultScheduleArbitrary } from '../../sim/faults/arbitrary.ts';
import type { FaultSchedule } from '../../sim/faults/schedule.ts';
import { FAULT_KINDS, type FaultSpace } from '../../sim/faults/windows.ts';
import { NS_PER_MS, NS_PER_US } from '../../sim/kernel/time.ts';
import type { LinkConfig } from '../../sim/net/link.ts';
import type { NodeId } from '../../sim/net/message.ts';
import { raftWorld, type Applied } from '../support/raft-world.ts';

const RUNS = Number(process.env.NVSIM_PROPERTY_RUNS ?? 20);

const FAULT_END_MS = 3000;
const LIVENESS_MS = 2000;
const LEARNER = 'l1';

const JITTERY_LOSSY: LinkConfig = {
  latency: { kind: 'uniform', minNs: 100 * NS_PER_US, maxNs: 5 * NS_PER_MS },
  lossProbability: 0.05,
  duplicateProbability: 0.05,
  reorderProbability: 0.1,
  reorderDelay: { kind: 'uniform', minNs: 0, maxNs: 5 * NS_PER_MS },
};

interface Proposal {
  atMs: number;
  /** Index into the node list, or null for "whichever node claims leadership with the highest term". */
  node: number | null;
}

/**
 * Election and heartbeat timing: the defaults, or tight — elections five times as often, with the minimum
 * timeout still above a heartbeat interval plus the worst delay of a healthy link (5 ms + 5 ms held back).
 */
const TIMINGS = {
  default: {},
  tight: { electionTimeoutNs: [30 * NS_PER_MS, 60 * NS_PER_MS], heartbeatNs: 5 * NS_PER_MS },
} satisfies Record<string, Partial<RaftOptions<string>>>;

interface Case {
  voters: NodeId[];
  timing: keyof typeof TIMINGS;
  preVote: boolean;
  maxBatch: number;
  proposals: Proposal[];
  /** Cuts whoever claims leadership off from everyone else: the schedule cannot aim at leaders, this does. */
  leaderIsolations: { atMs: number; forMs: number }[];
  schedule: FaultSchedule;
}

const caseArbitrary: fc.Arbitrary<Case> = fc.constantFrom(3, 5).chain((n) => {
  const voters = Array.from({ length: n }, (_, i) => `c${i + 1}`);
  const nodes = [...voters, LEARNER];
  const space: FaultSpace = {
    nodes,
    protectedNodes: [],
    kinds: FAULT_KINDS,
    startNs: 0,
    endNs: FAULT_END_MS * NS_PER_MS,
    durationMinNs: NS_PER_MS,
    durationMaxNs: 1000 * NS_PER_MS,
    maxFaults: 24,
    maxCrashed: nodes.length - 1,
  };
  // Half the proposals go to whoever claims leadership, so that a good share of them commit.
  const proposal = fc.record({ atMs: fc.nat({ max: FAULT_END_MS }), node: fc.oneof(fc.constant(null), fc.nat({ max: nodes.length - 1 })) });
  return fc.record({
    voters: fc.constant(voters),
    timing: fc.constantFrom('default', 'tight'),
    preVote: fc.boolean(),
    maxBatch: fc.constantFrom(1, 4, 64),
    proposals: fc.array(proposal, { minLength: 5, maxLength: 60 }),
    leaderIsolations: fc.array(fc.record({ atMs: fc.nat({ max: FAULT_END_MS - 1 }), forMs: fc.integer({ min: 1, max: 500 }) }), { maxLength: 8 }),
    schedule: faultScheduleArbitrary(space),
  });
});

/** Plays one case through both phases and returns what every incarnation applied and reported. */
function play(seed: number, c: Case) {
  const { world, nodes, peer, incarnations, states } = raftWorld({
    voters: c.voters,
    learners: [LEARNER],
    seed,
    tuning: { ...TIMINGS[c.timing], preVote: c.preVote, maxBatch: c.maxBatch },
    defaultLink: JITTERY_LOSSY,
  });
  const applied = new Map(nodes.map((id) => [id, incarnations(id)]));
  /** The node claiming leadership with the highest term, if any. */
  const claimedLeader = () => {
    let best: NodeId | null = null;
    for (const id of nodes) {
      const p = peer(id);
      if (p?.isLeader && (best === null || p.term > peer(best)!.term)) best = id;
    }
    return best;
  };

  let serial = 0;
  for (const p of c.proposals) {
    world.scheduler.at(p.atMs * NS_PER_MS, () => {
      const target = p.node === null ? claimedLeader() : nodes[p.node];
      if (target !== null) peer(target)?.propose(`p${++serial}`);
    });
  }
  c.leaderIsolations.forEach(({ atMs, forMs }, i) => {
    world.scheduler.at(atMs * NS_PER_MS, () => {
      const leader = claimedLeader();
      if (leader === null) return;
      const id = `isolate${i}`;
      world.fabric.partition(id, [[leader], nodes.filter((n) => n !== leader)]);
      // The nemesis's quiesce heals every partition, this one included, if it is still up by then.
      world.scheduler.after(forMs * NS_PER_MS, () => world.fabric.activePartitions().includes(id) && world.fabric.heal(id));
    });
  });
  world.nemesis.load(c.schedule);
  world.scheduler.runUntil(FAULT_END_MS * NS_PER_MS);
  world.nemesis.quiesce();

  // Liveness: keep offering a fresh command to the current leader until every node has applied one.
  const finals = new Set<string>();
  const appliedEverywhere = () => [...finals].some((f) => nodes.every((id) => applied.get(id)!.at(-1)!.some((a) => a.command === f)));
  let leaderSeen = false;
  let offered: { node: NodeId; term: number } | null = null;
  const offer = () => {
    if (appliedEverywhere()) return;
    const leader = claimedLeader();
    leaderSeen ||= leader !== null;
    if (leader !== null && (offered === null || offered.node !== leader || offered.term !== peer(leader)!.term)) {
      const f = `final${finals.size + 1}`;
      finals.add(f);
      peer(leader)!.propose(f);
      offered = { node: leader, term: peer(leader)!.term };
    }
    world.scheduler.after(10 * NS_PER_MS, offer);
  };
  offer();
  world.scheduler.runUntil((FAULT_END_MS + LIVENESS_MS) * NS_PER_MS);
  return { nodes, applied, states, leaderSeen, recovered: appliedEverywhere() };
}

function check(c: Case, r: ReturnType<typeof play>): void {
  // Election safety.
  const leaderOf = new Map<number, NodeId>();
  for (const s of r.states) {
    if (s.role !== 'leader') continue;
    const before = leaderOf.get(s.term);
    expect(before === undefined || before === s.node, `two leaders in term ${s.term}: ${before} and ${s.node}`).toBe(true);
    leaderOf.set(s.term, s.node);
  }
  expect(r.states.filter((s) => s.node === LEARNER && s.role !== 'learner')).toEqual([]);

  // Applies are 1, 2, 3, … within every incarnation; and every node agrees on every index.
  const atIndex = new Map<number, Applied>();
  for (const [node, incarnations] of r.applied) {
    for (const list of incarnations) {
      expect(list.map((a) => a.index), `${node} applies in order from 1`).toEqual(list.map((_, i) => i + 1));
      for (const a of list) {
        const seen = atIndex.get(a.index);
        if (seen === undefined) atIndex.set(a.index, a);
        else expect(a, `${node} disagrees at index ${a.index}`).toEqual(seen);
      }
    }
  }

  // Durability: what a majority of voters applied, every node has applied by the end.
  const appliedBy = new Map<number, Set<NodeId>>();
  for (const node of c.voters) for (const list of r.applied.get(node)!) for (const a of list) appliedBy.set(a.index, (appliedBy.get(a.index) ?? new Set()).add(node));
  const majority = Math.floor(c.voters.length / 2) + 1;
  for (const [index, by] of appliedBy) {
    if (by.size < majority) continue;
    for (const node of r.nodes) expect(r.applied.get(node)!.at(-1)![index - 1], `${node} lost index ${index}`).toEqual(atIndex.get(index));
  }

  // Liveness.
  expect(r.leaderSeen, 'a leader after the faults stop').toBe(true);
  expect(r.recovered, 'a fresh proposal applied on every node').toBe(true);
}

describe('raft under random faults', () => {
  test.prop([fc.integer(), caseArbitrary], { numRuns: RUNS })(
    'one leader per term, one value per index, majority-applied entries survive, and the group recovers',
    (seed, c) => check(c, play(seed, c)),
  );

  // Guards the property against passing vacuously: over a fixed sample, proposals commit, leadership moves
  // and nodes restart and replay.
  test('the random cases commit proposals, change leaders and replay after restarts', () => {
    let committed = 0;
    let maxTerm = 0;
    let replays = 0;
    for (const [seed, c] of fc.sample(fc.tuple(fc.integer(), caseArbitrary), { seed: 42, numRuns: 8 })) {
      const r = play(seed, c);
      const mostApplied = Math.max(...r.nodes.map((n) => r.applied.get(n)!.at(-1)!.filter((a) => a.command?.startsWith('p')).length));
      committed += mostApplied;
      maxTerm = Math.max(maxTerm, ...r.states.map((s) => s.term));
      for (const n of r.nodes) replays += r.applied.get(n)!.length - 1;
    }
    expect(committed).toBeGreaterThan(20);
    expect(maxTerm).toBeGreaterThan(3);
    expect(replays).toBeGreaterThan(3);
  });
});
