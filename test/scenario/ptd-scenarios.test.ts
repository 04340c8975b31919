// The PTD scenarios end to end. ptd-replication (FIG. 43, S24): every invariant holds with its own faults
// under both orders, the eight stages are seen for writes that originate on slaves and on the PTD-less
// instance, and the stage checker is not vacuous (told the wrong order, it objects). ptd-ordering-ablation:
// its invariants hold, 'ack-then-write' loses no acknowledged write under either commit policy, the numbers
// for 'write-then-notify' are whatever they are (reported, with the window they fell in), and `nvsim run`
// writes them to summary.json with the same trace hash as an in-process run of the same seed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { defineScenario, runScenario, type RunResult, type Scenario } from '../../sim/testbed/index.ts';
import ptdReplication, { PTD_HOLDERS, PTD_LESS, setupPtdReplication } from '../../scenarios/ptd-replication.ts';
import ptdOrderingAblation, { POLICIES } from '../../scenarios/ptd-ordering-ablation.ts';
import { threeTenantCluster } from '../../scenarios/models/cluster-topology.ts';
import { PtdStageChecks } from '../../scenarios/models/ptd-stage-checks.ts';
import { nvsim, tempDir } from '../support/cli.ts';

const failures = (r: RunResult) => r.invariants.filter((i) => !i.ok).map((i) => `${i.id}: ${i.detail}`);
const metric = (r: RunResult, name: string) => r.metrics[name] as any;

const withKnobs = (order: 'ack-then-write' | 'write-then-notify', commit: 'all' | 'majority'): Scenario =>
  defineScenario({ ...ptdReplication, name: `ptd-replication-${order}-${commit}`, setup: (world) => setupPtdReplication(world, { order, commit }) });

describe('ptd-replication: FIG. 43 with two slaves, the master and a PTD-less instance', () => {
  test('its invariants hold (seeds 1-2), and the eight stages are seen for writes from slaves and the PTD-less instance', () => {
    for (const seed of [1, 2]) {
      const r = runScenario(ptdReplication, { seed, trace: 'off' });
      expect(failures(r), `seed ${seed}`).toEqual([]);
      const stages = metric(r, 'ptdStages');
      expect(stages.order).toBe('write-then-notify');
      expect(PTD_HOLDERS).toContain(stages.masters[0].node);
      // The restarted ctl-2 was a slave, not the master.
      expect(stages.masters.map((m: any) => m.node)).not.toContain('ctl-2');
      for (const role of ['slave', 'ptd-less']) {
        expect(stages.byRole[role].issued, role).toBeGreaterThan(10);
        expect(stages.byRole[role].written, role).toBe(stages.byRole[role].issued);
        expect(stages.byRole[role].allEightStages, role).toBeGreaterThan(5);
      }
      const example = stages.exampleSlaveWrite;
      expect(example.origin).not.toBe(example.master);
      const stageOf = (n: number) => example.stages.filter((s: any) => s.stage === n);
      expect(stageOf(8).map((s: any) => s.node).sort()).toEqual(['ctl-1', 'ctl-2', 'ctl-3', 'ctl-4']);
      expect(stageOf(8).map((s: any) => s.node)).toContain(PTD_LESS);
      expect(stageOf(6).map((s: any) => s.node).sort()).toEqual(PTD_HOLDERS.filter((id) => id !== example.master).sort());
    }
  });

  test("under FIG. 42's ack-then-write, with either commit policy, too", () => {
    for (const commit of ['majority', 'all'] as const) {
      const r = runScenario(withKnobs('ack-then-write', commit), { seed: 1, trace: 'off' });
      expect(failures(r), commit).toEqual([]);
      const example = metric(r, 'ptdStages').exampleSlaveWrite;
      const first = (n: number) => Math.min(...example.stages.map((s: any, i: number) => (s.stage === n ? i : Infinity)));
      const written = example.stages.findIndex((s: any) => s.what === 'written to the master PTD');
      expect(written, 'the master writes after a slave ack').toBeGreaterThan(first(7));
      expect(first(8)).toBeGreaterThan(written);
    }
  });

  test('the same seed gives the same trace', () => {
    const a = runScenario(ptdReplication, { seed: 9, trace: 'summary' });
    const b = runScenario(ptdReplication, { seed: 9, trace: 'summary' });
    expect(a.traceHash).not.toBeNull();
    expect(b.traceHash).toBe(a.traceHash);
    expect(b.metrics).toEqual(a.metrics);
  });

  test('the stage checker objects when the run’s order is not the one it is told', () => {
    const mismatched = (actual: 'ack-then-write' | 'write-then-notify', told: 'ack-then-write' | 'write-then-notify') =>
      defineScenario({
        name: 'ptd-stage-mismatch',
        description: 'a cluster with one order, checked for the other',
        duration: '3s',
        setup(world) {
          const t = threeTenantCluster(world, { instances: 4, ptdHolders: PTD_HOLDERS, ptdOrder: actual });
          new PtdStageChecks(world, { order: told, commit: 'majority', replicas: PTD_HOLDERS, importers: t.instances, ptdOf: (id) => t.instance(id)?.ptd }).installInvariants();
        },
      });
    const verdict = (r: RunResult) => r.invariants.find((i) => i.id === 'ptd-stage-order')!;
    const early = runScenario(mismatched('write-then-notify', 'ack-then-write'), { seed: 1, trace: 'off' });
    expect(verdict(early).ok).toBe(false);
    expect(verdict(early).detail).toMatch(/^ack-then-write: ctl-\d wrote index \d+ with acks from 0 slave/);
    const late = runScenario(mismatched('ack-then-write', 'write-then-notify'), { seed: 1, trace: 'off' });
    expect(verdict(late).ok).toBe(false);
    expect(verdict(late).detail).toMatch(/^write-then-notify: ctl-\d sent .* before writing its own PTD/);
  });
});

describe('ptd-ordering-ablation: one crash schedule under every PTD policy', () => {
  /** Seed 1 with a trace hash, run once: the CLI test compares its own run with it. */
  let seed1: RunResult | undefined;
  const ablation = (seed: number) => (seed === 1 ? (seed1 ??= runScenario(ptdOrderingAblation, { seed, trace: 'summary' })) : runScenario(ptdOrderingAblation, { seed, trace: 'off' }));

  test('invariants hold (seeds 1-2); ack-then-write loses no acknowledged write; the losses are measured and reported', () => {
    for (const seed of [1, 2]) {
      const r = ablation(seed);
      expect(failures(r), `seed ${seed}`).toEqual([]);
      for (const policy of POLICIES) {
        const m = metric(r, policy.id);
        expect(m.acknowledgedWritesLost, `${policy.id} seed ${seed}`).not.toBeNull();
        expect(m.acked + m.failed + m.unanswered).toBe(m.submitted);
        expect(m.acked, policy.id).toBeGreaterThan(m.submitted / 2);
        expect(m.failed, `${policy.id}: writes time out while the crashed master is still named`).toBeGreaterThan(0);
        if (policy.order === 'ack-then-write') expect(m.acknowledgedWritesLost, `${policy.id} seed ${seed}`).toBe(0);
        else {
          // A crash alone loses nothing (the master's appends are already on the wire when it answers);
          // a master cut off from its slaves acknowledges writes that its successor never sees.
          expect(m.lostByWindow.masterCrash, `${policy.id} seed ${seed}`).toBe(0);
          expect(m.lostByWindow.masterCutOff, `${policy.id} seed ${seed}`).toBeGreaterThan(0);
        }
      }
    }
  });

  test('`nvsim run` reports acknowledgedWritesLost per policy, with the in-process trace hash for the seed', () => {
    const inProcess = ablation(1);
    const out = tempDir();
    const r = nvsim(['run', 'scenarios/ptd-ordering-ablation.ts', '--seed', '1', '--trace', 'summary', '--out', out, '--no-progress']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.traceHash).toBe(inProcess.traceHash);
    for (const policy of POLICIES) {
      expect(summary.metrics[policy.id]).toEqual(metric(inProcess, policy.id));
      expect(typeof summary.metrics[policy.id].acknowledgedWritesLost).toBe('number');
    }
  });
});
