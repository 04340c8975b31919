// The migration-placement scenario (seed 003 §003.4 invariants 1–2, Q14, Q17): without faults every
// invariant holds and each migration ends as the seed says — a1 skips h5 (outside the transport zone) and
// h6 (unavailable switch) for h4; a2 skips h3 (no free port) for h2; a1 is refused by h2 while ls-a-cli is
// pulled back from it and keeps running on h4, then moves once it is restored; a3 is refused by h1 once
// h1's switch is unavailable. The same seed replays to the same trace. Under random faults (crashes,
// partitions, degraded links over every node, the network manager included) the migration invariants
// hold; the outcomes are not judged then. And placement-outcomes catches a migration that did not happen.
// NVSIM_PROPERTY_RUNS overrides the property's runs.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import placement from '../../scenarios/migration-placement.ts';
import { ms } from '../../sim/kernel/time.ts';
import { runScenario, type RunResult } from '../../sim/testbed/index.ts';
import { assertScenarioHolds, PROPERTY_RUNS } from '../support/scenario-property.ts';

const RUNS = PROPERTY_RUNS ?? 2;
const SEARCH_AND_SHRINK_MS = RUNS * 20_000 + 60_000;

interface MigrationMetric {
  vm: string;
  from: string;
  to: string | null;
  phase: string;
  refused: string | null;
  placementRefused: string;
  downtimeNs: number | null;
}

const failures = (r: RunResult) => r.invariants.filter((i) => !i.ok).map((i) => `${i.id}: ${i.detail}`);

describe('migration-placement without faults', () => {
  test('seeds 1-2: every invariant holds, each migration is placed or refused as seed 003 says, and a seed replays to the same trace', () => {
    const hashes: string[] = [];
    for (const seed of [1, 2, 1]) {
      const r = runScenario(placement, { seed, trace: 'summary', faults: { source: 'none' } });
      expect(failures(r), `seed ${seed}`).toEqual([]);
      expect(r.invariants.map((i) => i.id)).toEqual(expect.arrayContaining(['placement-outcomes', 'placed-with-network', 'one-running-copy']));
      const migrations = r.metrics.migrations as unknown as MigrationMetric[];
      expect(migrations.map((m) => [m.vm, m.from, m.phase, m.to, m.refused, m.placementRefused])).toEqual([
        ['a1', 'h1', 'done', 'h4', null, 'h5:no-network h6:switch-unavailable'],
        ['a2', 'h1', 'done', 'h2', null, 'h3:no-free-port'],
        ['a1', 'h4', 'refused', null, 'no-network', 'h2:no-network'],
        ['a1', 'h4', 'done', 'h2', null, ''],
        ['a3', 'h2', 'refused', null, 'switch-unavailable', 'h1:switch-unavailable'],
      ]);
      // A refused migration never stunned its VM; a completed one did, briefly.
      for (const m of migrations) {
        if (m.phase === 'refused') expect(m.downtimeNs).toBeNull();
        else expect(m.downtimeNs).toBeGreaterThan(0);
      }
      hashes.push(r.traceHash!);
    }
    expect(hashes[0]).toMatch(/^[0-9a-f]{16}$/);
    expect(hashes[2]).toBe(hashes[0]);
    expect(hashes[1]).not.toBe(hashes[0]);
  }, 60_000);

  test("placement-outcomes is not vacuous: a run cut short before a1's last move reports the first missing migration", () => {
    const r = runScenario(placement, { seed: 1, trace: 'off', faults: { source: 'none' }, untilNs: ms(4500) });
    expect(failures(r)).toEqual(['placement-outcomes: migration 4: expected a1 h4 → [h2]: done on h2; refused by none, got none']);
  }, 30_000);
});

describe('migration-placement under random faults', () => {
  beforeAll(() => fc.configureGlobal({ ...fc.readConfigureGlobal(), interruptAfterTimeLimit: SEARCH_AND_SHRINK_MS }));
  afterAll(() => fc.resetConfigureGlobal());
  test('the migration invariants hold for any seed and fault schedule', () => assertScenarioHolds(placement, { file: 'scenarios/migration-placement.ts', numRuns: RUNS }), SEARCH_AND_SHRINK_MS + 30_000);
});
