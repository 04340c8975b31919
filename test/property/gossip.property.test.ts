// Whole-scenario properties: fast-check draws the seed and a fault schedule. The correct replicated set
// keeps every invariant under any schedule; the one that acks before its disk write does not, and the
// failure is reported with its seed and shrunk schedule, and replays exactly through `nvsim run`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import gossipLostAck from '../../scenarios/gossip-lost-ack.ts';
import gossipPartition from '../../scenarios/gossip-partition.ts';
import { nvsim, tempDir } from '../support/cli.ts';
import { assertScenarioHolds, findScenarioCounterexample } from '../support/scenario-property.ts';

describe('gossip-partition under random faults', () => {
  test('every invariant holds for any seed and fault schedule', () => {
    assertScenarioHolds(gossipPartition, { file: 'scenarios/gossip-partition.ts', numRuns: 40 });
  });
});

describe('a failing property is reported with its seed and shrunk schedule, and replays', () => {
  // fast-check's own seed is fixed so this test finds the same counterexample on every run.
  const found = findScenarioCounterexample(gossipLostAck, { file: 'scenarios/gossip-lost-ack.ts', numRuns: 100, fcSeed: 20261120 });

  test('the property fails and shrinks toward fewer faults', () => {
    expect(found).not.toBeNull();
    const { schedule, result, report } = found!;
    expect(result?.ok).toBe(false);
    expect(result!.invariants.find((i) => i.id === 'acknowledged-writes-survive')?.ok).toBe(false);
    // Only a crash can lose a write acknowledged before it was durable; shrinking leaves that crash and
    // its restart, and nothing else.
    expect(schedule.map((s) => s.verb)).toEqual(['crash', 'restart']);
    expect(report).toContain(`seed ${found!.seed}`);
    expect(report).toMatch(/^ {2}\d+ms crash r\d$/m);
    expect(report).toContain(`replay: nvsim run scenarios/gossip-lost-ack.ts --seed ${found!.seed} --faults ${found!.replayFile}`);
  });

  test('nvsim run replays it: the same invariant fails with the same events', () => {
    const { seed, replayFile, result } = found!;
    const out = tempDir();
    const r = nvsim(['run', 'scenarios/gossip-lost-ack.ts', '--seed', String(seed), '--faults', replayFile, '--out', out, '--no-progress']);
    expect(r.status).toBe(1);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.invariants).toEqual(result!.invariants);
    expect(summary.events).toBe(result!.events);
    expect(summary.metrics).toEqual(result!.metrics);
  });
});
