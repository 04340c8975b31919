// The stale-flowmod scenario: a deposed master's flow-mods, held in the network past its lease, reach the
// switch after the new master wrote to it under a higher epoch and are refused as stale — with every
// invariant holding, the refusal traced and counted, and the same trace for the same seed. And the
// staging matters: when the new master's claim reaches the switch, the old master is demoted and its late
// writes are refused as a slave's instead, so the generation check is never reached.
import { describe, expect, test } from 'vitest';
import { parseFaultSchedule } from '../../sim/faults/schedule.ts';
import { runScenario, type RunResult } from '../../sim/testbed/index.ts';
import staleFlowmod from '../../scenarios/stale-flowmod.ts';

const failures = (r: RunResult) => r.invariants.filter((i) => !i.ok).map((i) => `${i.id}: ${i.detail}`);

/** Runs the scenario keeping its journal lines of the given types. */
function runKeeping(seed: number, types: readonly string[], faults?: Parameters<typeof runScenario>[1]['faults']) {
  const events: Array<Record<string, unknown>> = [];
  const result = runScenario(staleFlowmod, {
    seed,
    trace: 'summary',
    faults,
    traceSink: {
      write(line) {
        const e = JSON.parse(line);
        if (types.includes(e.type)) events.push(e);
      },
    },
  });
  return { result, events };
}

describe('stale-flowmod', () => {
  test('seeds 1-2: every invariant holds and the deposed master\'s held flow-mods are refused as stale', () => {
    for (const seed of [1, 2]) {
      const { result, events } = runKeeping(seed, ['switch.flowmod.reject-stale', 'cm.assign']);
      expect(failures(result), `seed ${seed}`).toEqual([]);
      const rejected = result.metrics.staleWritesRejected as number;
      expect(rejected, `seed ${seed}`).toBeGreaterThan(0);
      const refusals = events.filter((e) => e.type === 'switch.flowmod.reject-stale');
      expect(refusals).toHaveLength(rejected);
      // Each refusal is of ctl-1's writes to h1, under its old epoch, after the CM gave h1 to another
      // instance at the higher epoch the switch had seen.
      for (const r of refusals) {
        expect(r).toMatchObject({ node: 'h1', from: 'ctl-1' });
        expect(r.generationId as number).toBeLessThan(r.highest as number);
        const assigned = events.find((e) => e.type === 'cm.assign' && e.entity === 'switch:h1' && e.epoch === r.highest);
        expect(assigned?.master).toMatch(/^ctl-[23]$/);
      }
    }
  });

  test('the same seed gives the same trace and metrics', () => {
    const a = runScenario(staleFlowmod, { seed: 7 });
    const b = runScenario(staleFlowmod, { seed: 7 });
    expect(b.traceHash).toBe(a.traceHash);
    expect(b.metrics).toEqual(a.metrics);
    expect(a.metrics.staleWritesRejected).toBeGreaterThan(0);
  });

  test('when the new master\'s claim reaches the switch, the old master is fenced as a slave instead', () => {
    const schedule = parseFaultSchedule([
      { at: '2500ms', verb: 'degrade', id: 'held-to-h1', from: ['ctl-1'], to: ['h1'], symmetric: false, link: { latency: { kind: 'constant', ns: 4_000_000_000 } } },
      { at: '3s', verb: 'partition', id: 'split-brain', groups: [['ctl-1'], ['ctl-2', 'ctl-3']] },
      { at: '6s', verb: 'heal', id: 'split-brain' },
      { at: '6s', verb: 'restore', id: 'held-to-h1' },
    ]);
    const { result, events } = runKeeping(1, ['switch.flowmod.reject-slave'], { source: 'given', schedule });
    expect(failures(result)).toEqual([]);
    expect(result.metrics.staleWritesRejected).toBe(0);
    expect(events.some((e) => e.node === 'h1' && e.from === 'ctl-1')).toBe(true);
  });
});
