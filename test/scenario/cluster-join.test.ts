// The controller-join scenario end to end: it holds every invariant (the NV testbed's, the cluster's and
// the join's) with its own faults, with none and under random swarm faults; replays to the same trace;
// and shows what it is about — the 'unassigned-only' join moves nothing and the newcomer gets the new
// tenant, the 'rebalance' join gets its share through two-phase moves until balanced. And the join
// checkers are not vacuous: a join that takes work from a live master, a one-step move, and an
// unbalanced cluster are each caught.
import { describe, expect, test } from 'vitest';
import controllerJoin from '../../scenarios/controller-join.ts';
import { threeTenantCluster } from '../../scenarios/models/cluster-topology.ts';
import { AssignmentChanges, JoinChecks, joinKeepsAssignmentsInvariant, twoPhaseMovesInvariant } from '../../scenarios/models/join-checks.ts';
import { NvTestbed } from '../../scenarios/models/nv-testbed.ts';
import type { SafetyInvariant } from '../../sim/check/invariant.ts';
import { toNanos } from '../../sim/kernel/time.ts';
import { runScenario, World, type RunResult } from '../../sim/testbed/index.ts';

const SWARM_SEEDS = Number(process.env.NVSIM_PROPERTY_RUNS ?? 2);

const failures = (r: RunResult) => r.invariants.filter((i) => !i.ok).map((i) => `${i.id}: ${i.detail}`);
const metric = (r: RunResult, name: string) => r.metrics[name] as any;

let seedOne: RunResult | undefined;
/** The scenario's own run at seed 1 (traced, for the determinism check), shared by the tests below. */
const runSeedOne = () => (seedOne ??= runScenario(controllerJoin, { seed: 1, trace: 'summary' }));

describe('controller-join holds its invariants', () => {
  test('its own faults (seeds 1-2), no faults, and random swarm faults', () => {
    for (const seed of [1, 2]) {
      const r = seed === 1 ? runSeedOne() : runScenario(controllerJoin, { seed, trace: 'off' });
      expect(failures(r), `seed ${seed}`).toEqual([]);
      const { unicast, flood } = metric(r, 'expectations');
      expect(unicast.met + flood.met).toBeGreaterThan(100);
      expect(unicast.failed + flood.failed).toBe(0);
    }
    expect(failures(runScenario(controllerJoin, { seed: 3, trace: 'off', faults: { source: 'none' } }))).toEqual([]);
    for (let seed = 1; seed <= SWARM_SEEDS; seed++) {
      const r = runScenario(controllerJoin, { seed, trace: 'off', faults: { source: 'swarm' } });
      expect(failures(r), `swarm seed ${seed}: nvsim run scenarios/controller-join.ts --seed ${seed} --faults swarm`).toEqual([]);
    }
  });

  test('the same seed gives the same trace', () => {
    const a = runSeedOne();
    const b = runScenario(controllerJoin, { seed: 1, trace: 'summary' });
    expect(a.traceHash).not.toBeNull();
    expect(b.traceHash).toBe(a.traceHash);
    expect(b.metrics).toEqual(a.metrics);
  });
});

describe('what the scenario shows', () => {
  test("the 'unassigned-only' join moves nothing; the new tenant goes to the newcomer", () => {
    const [join4] = metric(runSeedOne(), 'joinSteps');
    expect(join4).toMatchObject({ step: 'ctl-4 joins', policy: 'unassigned-only', moves: 0 });
    expect(join4.joinedAfterMs).toBeLessThan(1000);
    for (const id of ['ctl-1', 'ctl-2', 'ctl-3']) for (const e of join4.before[id]) expect(join4.after[id]).toContain(e);
    expect(join4.before['ctl-4']).toEqual([]);
    expect(join4.after['ctl-4']).toEqual(['ldps:D']);
  });

  test("the 'rebalance' join gets a fair share through two-phase moves, and the time to balance is measured", () => {
    const r = runSeedOne();
    const [, policy, join5] = metric(r, 'joinSteps');
    expect(policy).toMatchObject({ step: "policy -> 'rebalance'", moves: 1 });
    expect(policy.after['ctl-4']).toContain('switch:h1');
    expect(join5).toMatchObject({ step: 'ctl-5 joins', policy: 'rebalance' });
    expect(join5.before['ctl-5']).toEqual([]);
    expect(join5.after['ctl-5'].length).toBeGreaterThan(0);
    expect(join5.moves).toBeGreaterThan(0);
    expect(join5.balancedAfterMs).toBeGreaterThan(join5.joinedAfterMs);
    expect(join5.balancedAfterMs).toBeLessThan(2000);
    for (const kind of ['switch', 'ldps']) {
      const counts = Object.values(join5.after as Record<string, string[]>).map((es) => es.filter((e) => e.startsWith(`${kind}:`)).length);
      expect(Math.max(...counts) - Math.min(...counts), kind).toBeLessThanOrEqual(1);
    }
    expect(metric(r, 'moves')).toBe(policy.moves + join5.moves);
  });
});

describe('the join checkers catch what they are for', () => {
  /** A world whose trace the test writes by hand, with the invariants watching it. */
  function watch(make: (changes: AssignmentChanges) => SafetyInvariant[]) {
    const world = new World({ seed: 1, trace: 'off' });
    const violations: string[] = [];
    for (const inv of make(new AssignmentChanges(world.trace, 'unassigned-only'))) inv.watch!((d) => violations.push(`${inv.id}: ${d}`));
    return { trace: world.trace, violations };
  }
  const assign = (index: number, entity: string, master: string | null, node = 'ctl-1') => ({ node, index, entity, master, epoch: master === null ? 0 : index });

  test("under 'unassigned-only', a join that takes work from a live master", () => {
    const { trace, violations } = watch((c) => [joinKeepsAssignmentsInvariant(c)]);
    trace.emit('cm.assign', assign(5, 'switch:h1', 'ctl-1'));
    trace.emit('cm.assign', assign(6, 'switch:h2', 'ctl-2'));
    trace.emit('cm.member', { node: 'ctl-1', index: 9, member: 'ctl-4', up: true });
    trace.emit('cm.assign', assign(10, 'ldps:D', 'ctl-4')); // new work to the newcomer: fine
    trace.emit('cm.assign', assign(5, 'switch:h1', 'ctl-1', 'ctl-2')); // another replica catching up: fine
    expect(violations).toEqual([]);
    trace.emit('cm.assign', assign(11, 'switch:h1', null));
    expect(violations).toEqual(["join-keeps-assignments: switch:h1 was taken from ctl-1 (to nobody) at log index 11 under 'unassigned-only', though ctl-1 was not declared down"]);
  });

  test('failovers are allowed under either policy, and moves once the policy is rebalance', () => {
    const { trace, violations } = watch((c) => [joinKeepsAssignmentsInvariant(c), twoPhaseMovesInvariant(c)]);
    trace.emit('cm.assign', assign(5, 'switch:h1', 'ctl-1'));
    trace.emit('cm.assign', assign(6, 'switch:h2', 'ctl-2'));
    trace.emit('cm.member', { node: 'ctl-1', index: 7, member: 'ctl-2', up: false });
    trace.emit('cm.assign', assign(7, 'switch:h2', 'ctl-1'));
    trace.emit('cm.policy', { node: 'ctl-1', index: 8, electionMode: 'combined', joinPolicy: 'rebalance', backups: 1 });
    trace.emit('cm.assign', assign(9, 'switch:h1', null));
    trace.emit('cm.assign', assign(10, 'switch:h1', 'ctl-4'));
    expect(violations).toEqual([]);
  });

  test('a move in one entry, without a revoke first', () => {
    const { trace, violations } = watch((c) => [twoPhaseMovesInvariant(c)]);
    trace.emit('cm.assign', assign(5, 'switch:h1', 'ctl-1'));
    trace.emit('cm.assign', assign(9, 'switch:h1', 'ctl-4'));
    expect(violations).toEqual(['moves-two-phase: switch:h1 passed from ctl-1 to ctl-4 in one entry (log index 9) while ctl-1 was up']);
  });

  test('an unbalanced cluster is reported until a rebalance evens it out', () => {
    const world = new World({ seed: 4, trace: 'off' });
    const t = threeTenantCluster(world, { instances: 3, joiners: [{ at: '2s' }] });
    const checks = new JoinChecks(t, 'unassigned-only');
    world.scheduler.runUntil(toNanos('2600ms'));
    expect(t.runningInstances()).toEqual(['ctl-1', 'ctl-2', 'ctl-3', 'ctl-4']);
    expect(checks.balanced()).toMatch(/^switches are not balanced: .*ctl-4 0/);
    expect(t.setClusterPolicy({ joinPolicy: 'rebalance' })).toBe(true);
    world.scheduler.runUntil(toNanos('4s'));
    expect(checks.balanced()).toBe(true);
    expect(t.instance('ctl-4')!.cm.state.policy.joinPolicy).toBe('rebalance');
  });

  test('bad joiner declarations and policies are refused with one line', () => {
    const build = (cluster: any) => threeTenantCluster(new World({ seed: 1, trace: 'off' }), cluster);
    expect(() => build({ instances: 3, joiners: [{ at: 'soon' }] })).toThrow(/^nv-testbed: cluster\.joiners\[0\]\.at: /);
    expect(() => build({ instances: 3, joiners: [{ at: 0 }] })).toThrow('nv-testbed: cluster.joiners[0].at must be a time after the start, got 0');
    const world = new World({ seed: 1, trace: 'off' });
    const t = new NvTestbed(world, { cluster: { instances: 2 } }).host('h1').start();
    expect(() => t.setClusterPolicy({ joinPolicy: 'sometimes' as never })).toThrow(/^cm policy: joinPolicy must be one of/);
  });
});
