// The controller-cluster scenarios end to end: each holds every invariant (the NV testbed's and the
// cluster's) with its own faults, with none, and under random swarm faults; replays to the same trace; and
// shows what it is about in its metrics — the crashed or cut-off master's switches re-mastered by another
// instance within a bounded failover time. And the mastership checkers are not vacuous: two instances
// acting for one entity, a flow-mod under an epoch the CM gave to someone else, an export by a non-master
// and disagreeing CM replicas are each caught.
import { describe, expect, test } from 'vitest';
import {
  AssignmentHistory,
  exportsFromLdpsMasterInvariant,
  fencedPushesInvariant,
  replicasAgreeInvariant,
  singleMasterInvariant,
} from '../../sim/check/mastership.ts';
import type { SafetyInvariant } from '../../sim/check/invariant.ts';
import { runScenario, World, type RunResult, type Scenario } from '../../sim/testbed/index.ts';
import controllerFailover from '../../scenarios/controller-failover.ts';
import masterPartition from '../../scenarios/master-partition.ts';

const SCENARIOS: Scenario[] = [controllerFailover, masterPartition];
const SWARM_SEEDS = Number(process.env.NVSIM_PROPERTY_RUNS ?? 4);

const failures = (r: RunResult) => r.invariants.filter((i) => !i.ok).map((i) => `${i.id}: ${i.detail}`);
const metric = (r: RunResult, name: string) => r.metrics[name] as any;

describe('every cluster scenario holds its invariants', () => {
  for (const scenario of SCENARIOS) {
    test(`${scenario.name}: its own faults (seeds 1-2), no faults, and random swarm faults`, () => {
      for (const seed of [1, 2]) {
        const r = runScenario(scenario, { seed, trace: 'off' });
        expect(failures(r), `seed ${seed}`).toEqual([]);
        const { unicast, flood } = metric(r, 'expectations');
        expect(unicast.met + flood.met).toBeGreaterThan(100);
        expect(unicast.failed + flood.failed).toBe(0);
      }
      expect(failures(runScenario(scenario, { seed: 3, trace: 'off', faults: { source: 'none' } }))).toEqual([]);
      for (let seed = 1; seed <= SWARM_SEEDS; seed++) {
        const r = runScenario(scenario, { seed, trace: 'off', faults: { source: 'swarm' } });
        expect(failures(r), `swarm seed ${seed}: nvsim run scenarios/${scenario.name}.ts --seed ${seed} --faults swarm`).toEqual([]);
      }
    });
  }

  test('the same seed gives the same trace', () => {
    for (const scenario of SCENARIOS) {
      const a = runScenario(scenario, { seed: 9 });
      const b = runScenario(scenario, { seed: 9 });
      expect(b.traceHash).toBe(a.traceHash);
      expect(b.metrics).toEqual(a.metrics);
    }
  });
});

describe('what each scenario shows', () => {
  test('controller-failover: the crashed master\'s switches go to other instances, and the failover time is measured', () => {
    const r = runScenario(controllerFailover, { seed: 1, trace: 'off' });
    const [f] = metric(r, 'failovers');
    expect(f).toMatchObject({ instance: 'ctl-1', cause: 'crash' });
    expect(f.switchesMastered.length).toBeGreaterThan(0);
    // Detection (session timeout 1 s, plus a new CM leader's grace) and election, then convergence.
    expect(f.recoveredAfterMs).toBeGreaterThan(1000);
    expect(f.recoveredAfterMs).toBeLessThan(3000);
    const mastership = metric(r, 'mastership');
    for (const sw of f.switchesMastered) expect(mastership['ctl-1']).not.toContain(`switch:${sw}`);
    expect(metric(r, 'controlMessages')['raft.*']).toBeGreaterThan(0);
    expect(metric(r, 'controlMessages')['ptd.*']).toBeGreaterThan(0);
  });

  test('master-partition: only the cut-off instance fails over; its peers keep their work', () => {
    const r = runScenario(masterPartition, { seed: 1, trace: 'off' });
    const failovers = metric(r, 'failovers');
    expect(failovers.map((f: any) => f.instance)).toEqual(['ctl-1']);
    expect(failovers[0].recoveredAfterMs).toBeLessThan(3000);
  });
});

describe('the mastership checkers catch what they are for', () => {
  /** A world whose trace the test writes by hand, with one invariant watching it. */
  function watch(make: (world: World, history: AssignmentHistory) => SafetyInvariant) {
    const world = new World({ seed: 1, trace: 'off' });
    const history = new AssignmentHistory(world.trace);
    const violations: string[] = [];
    make(world, history).watch!((d) => violations.push(d));
    return { trace: world.trace, violations };
  }

  test('two instances acting as master of one switch at once', () => {
    const { trace, violations } = watch((w) => singleMasterInvariant(w.trace));
    trace.emit('cm.master', { instance: 'ctl-1', entity: 'switch:h1', epoch: 5, held: true, reason: 'test' });
    trace.emit('cm.master', { instance: 'ctl-1', entity: 'switch:h1', epoch: 5, held: false, reason: 'test' });
    trace.emit('cm.master', { instance: 'ctl-2', entity: 'switch:h1', epoch: 9, held: true, reason: 'test' });
    expect(violations).toEqual([]);
    trace.emit('cm.master', { instance: 'ctl-3', entity: 'switch:h1', epoch: 12, held: true, reason: 'test' });
    expect(violations).toEqual(['ctl-3 acts as master of switch:h1 (epoch 12) while ctl-2 does (epoch 9)']);
  });

  test('a crashed instance holds nothing', () => {
    const { trace, violations } = watch((w) => singleMasterInvariant(w.trace));
    trace.emit('cm.master', { instance: 'ctl-1', entity: 'switch:h1', epoch: 5, held: true, reason: 'test' });
    trace.emit('fault.crash', { node: 'ctl-1', incarnation: 1 });
    trace.emit('cm.master', { instance: 'ctl-2', entity: 'switch:h1', epoch: 9, held: true, reason: 'test' });
    expect(violations).toEqual([]);
  });

  test('a flow-mod accepted under an epoch the CM gave to another instance', () => {
    const { trace, violations } = watch((w, h) => fencedPushesInvariant(h, w.trace));
    trace.emit('cm.assign', { node: 'ctl-1', index: 5, entity: 'switch:h1', master: 'ctl-1', epoch: 5 });
    trace.detail('switch.flowmod', { node: 'h1', from: 'ctl-1', command: 'add', flowKey: 'k', cookie: '', generationId: 5 });
    expect(violations).toEqual([]);
    trace.detail('switch.flowmod', { node: 'h1', from: 'ctl-2', command: 'add', flowKey: 'k', cookie: '', generationId: 5 });
    expect(violations).toEqual(['h1 accepted a add from ctl-2 at epoch 5, which the CM gave to ctl-1']);
  });

  test('flows exported by an instance that does not master their LDPS', () => {
    const { trace, violations } = watch((w, h) => exportsFromLdpsMasterInvariant(h, w.trace));
    trace.emit('cm.assign', { node: 'ctl-2', index: 7, entity: 'ldps:A', master: 'ctl-2', epoch: 7 });
    trace.emit('cluster.export', { instance: 'ctl-2', ldps: 'A', switch: 'h1', dp: 1, epoch: 7, flows: 3 });
    trace.emit('cluster.export', { instance: 'ctl-1', ldps: 'A', switch: 'h1', dp: 1, epoch: 7, flows: 3 });
    expect(violations).toEqual(['ctl-1 exported flows of A for h1 at epoch 7, which the CM gave to ctl-2']);
  });

  test('CM replicas that apply different assignments at one index', () => {
    const { trace, violations } = watch((w, h) => replicasAgreeInvariant(h, w.trace));
    trace.emit('cm.assign', { node: 'ctl-1', index: 5, entity: 'switch:h1', master: 'ctl-1', epoch: 5 });
    trace.emit('cm.assign', { node: 'ctl-2', index: 5, entity: 'switch:h1', master: 'ctl-1', epoch: 5 });
    expect(violations).toEqual([]);
    trace.emit('cm.assign', { node: 'ctl-3', index: 5, entity: 'switch:h1', master: 'ctl-3', epoch: 5 });
    expect(violations).toEqual(['CM replicas disagree at log index 5 on switch:h1: ctl-1@5 vs ctl-3@5 (ctl-3)']);
  });
});
