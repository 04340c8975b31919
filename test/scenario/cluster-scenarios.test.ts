// The controller-cluster scenarios end to end: each holds every invariant (the NV testbed's and the
// cluster's) with its own faults, with none, and under random swarm faults; replays to the same trace; and
// shows what it is about in its metrics — the crashed or cut-off master's switches re-mastered by another
// instance within a bounded failover time. And the mastership checkers are not vacuous: two instances
// acting for one entity, a flow-mod under an epoch the CM gave to someone else, an export by a non-master
// and disagreeing CM replicas are each caught; so are a request decided twice or by a non-master, and one
// left unanswered. cross-master-write gets the verdict FIG. 33 prescribes for each of its requests.
import { describe, expect, test } from 'vitest';
import {
  AssignmentHistory,
  exportsFromLdpsMasterInvariant,
  fencedPushesInvariant,
  replicasAgreeInvariant,
  singleMasterInvariant,
} from '../../sim/check/mastership.ts';
import type { SafetyInvariant } from '../../sim/check/invariant.ts';
import { everyRequestAnsweredInvariant, oneDecisionPerRequestInvariant, type StoredResponse } from '../../sim/check/requests.ts';
import type { SwitchNode } from '../../sim/dataplane/switch-node.ts';
import type { TraceEventMap } from '../../sim/kernel/trace.ts';
import { runScenario, ScenarioRun, World, type RunResult, type Scenario } from '../../sim/testbed/index.ts';
import controllerFailover from '../../scenarios/controller-failover.ts';
import masterPartition from '../../scenarios/master-partition.ts';
import crossMasterWrite from '../../scenarios/cross-master-write.ts';

const SCENARIOS: Scenario[] = [controllerFailover, masterPartition, crossMasterWrite];
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

  test('cross-master-write: each request gets its verdict from the LDPS master, and only the switch master pushes the change', () => {
    for (const seed of [1, 2]) {
      const run = new ScenarioRun(crossMasterWrite, { seed, trace: 'off' });
      const decisions: TraceEventMap['request.decide'][] = [];
      const pushes: TraceEventMap['switch.flowmod'][] = [];
      run.world.trace.on('request.decide', (e) => decisions.push(e));
      run.world.trace.on('switch.flowmod', (e) => pushes.push(e));
      const r = run.finish();
      expect(failures(r)).toEqual([]);
      expect(metric(r, 'requests').map((q: any) => q.got)).toEqual(['ack', 'deny stale', 'deny no-rights', 'ack', 'deny locked', 'ack', 'ack', 'ack']);
      const cast = metric(r, 'cast');
      expect(new Set([cast.y, cast.r, cast.u]).size).toBe(3);
      // The first six are decided by Y; the one Y's crash left pending by its successor, at a newer epoch.
      expect(decisions).toHaveLength(8);
      expect(new Set(decisions.slice(0, 6).map((d) => d.master))).toEqual(new Set([cast.y]));
      expect(decisions[6].master).not.toBe(cast.y);
      expect(decisions[6].epoch).toBeGreaterThan(decisions[5].epoch);
      // The app flow reached S, pushed by S's master alone (flowmods-from-epoch-master held), and stays.
      const installs = pushes.filter((e) => e.node === cast.s && e.command === 'add' && e.flowKey.includes('50000'));
      expect(installs.length).toBeGreaterThan(0);
      const s = run.world.fabric.process<SwitchNode>(cast.s)!;
      expect(s.switch.flows.flows().some((f) => f.priority === 50000 && f.match.ethType === 0x88cc)).toBe(true);
      expect(s.switch.flows.flows().some((f) => f.priority === 50003)).toBe(false);
    }
  });
});

describe('the request-list checkers catch what they are for', () => {
  test('a request decided twice, or by an instance that does not master its LDPS', () => {
    const world = new World({ seed: 1, trace: 'off' });
    const history = new AssignmentHistory(world.trace);
    const violations: string[] = [];
    oneDecisionPerRequestInvariant(history, world.trace).watch!((d) => violations.push(d));
    const trace = world.trace;
    trace.emit('cm.assign', { node: 'ctl-1', index: 4, entity: 'ldps:A', master: 'ctl-1', epoch: 4 });
    trace.emit('request.decide', { request: 'ctl-2.1.1', ldps: 'A', master: 'ctl-1', epoch: 4, verdict: 'ack', reason: null });
    expect(violations).toEqual([]);
    trace.emit('request.decide', { request: 'ctl-2.1.1', ldps: 'A', master: 'ctl-1', epoch: 4, verdict: 'ack', reason: null });
    trace.emit('request.decide', { request: 'ctl-2.1.2', ldps: 'A', master: 'ctl-3', epoch: 4, verdict: 'deny', reason: 'stale' });
    expect(violations).toEqual([
      'request ctl-2.1.1 decided twice: by ctl-1@4, then by ctl-1@4',
      'ctl-3 decided request ctl-2.1.2 under epoch 4 of ldps:A, which the CM gave to ctl-1',
    ]);
  });

  test('a request left without a response, unheard, or heard differently from the NIB', () => {
    const world = new World({ seed: 1, trace: 'off' });
    const stored = new Map<string, StoredResponse>();
    const up = new Set(['ctl-2']);
    const pending: string[] = [];
    const inv = everyRequestAnsweredInvariant(world.trace, { response: (id) => stored.get(id), pending: () => pending, isUp: (id) => up.has(id) });
    world.trace.emit('request.submit', { request: 'ctl-2.1.1', origin: 'ctl-2', ldps: 'A', op: 'put' });
    expect(inv.holds()).toBe('request ctl-2.1.1 has no response');
    pending.push('ctl-2.1.1');
    expect(inv.holds()).toBe('request ctl-2.1.1 is still pending');
    pending.pop();
    stored.set('ctl-2.1.1', { verdict: 'deny', reason: 'stale' });
    expect(inv.holds()).toBe('ctl-2 has not heard the response to ctl-2.1.1');
    world.trace.emit('request.answered', { request: 'ctl-2.1.1', origin: 'ctl-2', verdict: 'ack', reason: null, app: 'told' });
    expect(inv.holds()).toBe('ctl-2 heard ack/null for ctl-2.1.1, but the NIB says deny/stale');
    stored.set('ctl-2.1.1', { verdict: 'ack', reason: null });
    expect(inv.holds()).toBe(true);
    // An app whose instance crashed before its request reached the list asked for nothing the list knows.
    world.trace.emit('request.submit', { request: 'ctl-3.1.1', origin: 'ctl-3', ldps: 'A', op: 'lock' });
    expect(inv.holds()).toBe('request ctl-3.1.1 has no response');
    world.trace.emit('fault.crash', { node: 'ctl-3', incarnation: 1 });
    expect(inv.holds()).toBe(true);
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
