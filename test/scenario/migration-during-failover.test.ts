// The migration-during-failover scenario: the master of the destination switch crashes as the first VM is
// stunned. Without injected faults every invariant holds, including that each migration's state was
// fetched by a surviving instance and installed at the destination; the crashed master's switch loses the
// moved VM's traffic for about a session timeout, and later migrations less. The same seed gives the same
// trace; under random faults the migration and cluster invariants hold (the failure report names the
// seed, the shrunk schedule and the replay command).
import { describe, expect, test } from 'vitest';
import duringFailover from '../../scenarios/migration-during-failover.ts';
import { runScenario } from '../../sim/testbed/index.ts';
import { assertScenarioHolds, PROPERTY_RUNS } from '../support/scenario-property.ts';

const RUNS = PROPERTY_RUNS ?? 2;
/** The cluster's session timeout (ClusterInstance's default): how long the dead master goes unnoticed. */
const SESSION_TIMEOUT_MS = 1000;

describe('migration-during-failover', () => {
  test('seeds 1-2: every invariant holds; a surviving instance fetches every state; the first VM is cut off for about a session timeout', () => {
    for (const seed of [1, 2]) {
      const result = runScenario(duringFailover, { seed, trace: 'off' });
      expect(result.invariants.filter((i) => !i.ok).map((i) => `${i.id}: ${i.detail}`), `seed ${seed}`).toEqual([]);
      const f = result.metrics.failover as Record<string, string | number>;
      expect(f.crashed).toMatch(/^ctl-\d$/);
      for (const vm of ['a1', 'b1', 'c1']) {
        expect(f[`${vm}FetchedBy`]).toMatch(/^ctl-\d$/);
        expect(f[`${vm}FetchedBy`]).not.toBe(f.crashed);
        expect(f[`${vm}StateInstalledAtMs`]).toBeGreaterThan(f.crashedAtMs as number);
      }
      // a1 moved just as its destination lost its master: nothing there carried its traffic until the
      // session timeout deposed the master and a new one took the switch.
      expect(f.a1OutageMs).toBeGreaterThan(SESSION_TIMEOUT_MS);
      expect(f.a1OutageMs).toBeLessThan(3 * SESSION_TIMEOUT_MS);
      // c1 moved half a second later, into an outage half a second shorter.
      expect(f.c1OutageMs).toBeLessThan(f.a1OutageMs as number);
      const migrations = result.metrics.migrations as { vm: string; phase: string }[];
      expect(migrations.map((m) => [m.vm, m.phase])).toEqual([['a1', 'done'], ['b1', 'done'], ['c1', 'done']]);
    }
  }, 60_000);

  test('the same seed gives the same trace', () => {
    const a = runScenario(duringFailover, { seed: 3, trace: 'summary' });
    const b = runScenario(duringFailover, { seed: 3, trace: 'summary' });
    expect(a.traceHash).not.toBeNull();
    expect(b.traceHash).toBe(a.traceHash);
  }, 60_000);

  test('every invariant holds for any seed and fault schedule', () => assertScenarioHolds(duringFailover, { file: 'scenarios/migration-during-failover.ts', numRuns: RUNS }), RUNS * 30_000 + 60_000);
});
