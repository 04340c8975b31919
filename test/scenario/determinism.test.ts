// Reproducibility: the same scenario and seed give the same trace hash, in one process and across
// processes; the hash is the hash of trace.jsonl's text; tracing never changes what happens.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { TraceHash } from '../../sim/kernel/trace-hash.ts';
import { runScenario, type FaultChoice } from '../../sim/testbed/index.ts';
import gossipLostAck from '../../scenarios/gossip-lost-ack.ts';
import gossipPartition from '../../scenarios/gossip-partition.ts';
import { nvsim, tempDir } from '../support/cli.ts';

const faultChoices: FaultChoice[] = [{ source: 'scenario' }, { source: 'swarm' }, { source: 'none' }];

describe('same scenario and seed, same trace', () => {
  for (const scenario of [gossipPartition, gossipLostAck]) {
    for (const faults of faultChoices) {
      test(`${scenario.name}, faults ${faults.source}: twice in one process`, () => {
        for (const seed of [1, 2, 3]) {
          const a = runScenario(scenario, { seed, faults });
          const b = runScenario(scenario, { seed, faults });
          expect(a.traceHash).toMatch(/^[0-9a-f]{16}$/);
          expect(b.traceHash).toBe(a.traceHash);
          expect(b.events).toBe(a.events);
          expect(b.traceLines).toBe(a.traceLines);
        }
      });
    }
  }

  test('different seeds give different traces', () => {
    const hashes = new Set([1, 2, 3, 4, 5].map((seed) => runScenario(gossipPartition, { seed }).traceHash));
    expect(hashes.size).toBe(5);
  });

  test('the trace level changes what is recorded, never what happens', () => {
    const runs = (['off', 'summary', 'full'] as const).map((trace) => runScenario(gossipLostAck, { seed: 4, trace, faults: { source: 'swarm' } }));
    for (const r of runs.slice(1)) {
      expect(r.events).toBe(runs[0].events);
      expect(r.invariants).toEqual(runs[0].invariants);
      expect(r.metrics).toEqual(runs[0].metrics);
      expect(r.virtualEndNs).toBe(runs[0].virtualEndNs);
    }
    expect(runs[0].traceHash).toBeNull();
    expect(runs[1].traceLines).toBeLessThan(runs[2].traceLines);
  });
});

describe('across processes', () => {
  test('two nvsim processes and this process agree on the hash, and it is the hash of trace.jsonl', () => {
    const inProcess = runScenario(gossipPartition, { seed: 11, faults: { source: 'swarm' } });
    const hashes = [tempDir(), tempDir()].map((out) => {
      const r = nvsim(['run', 'scenarios/gossip-partition.ts', '--seed', '11', '--faults', 'swarm', '--out', out, '--no-progress']);
      expect(r.status, r.stderr).toBe(0);
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
      const fileHash = new TraceHash();
      fileHash.update(readFileSync(join(out, 'trace.jsonl'), 'utf8'));
      expect(fileHash.digest()).toBe(summary.traceHash);
      return summary.traceHash as string;
    });
    expect(hashes[0]).toBe(inProcess.traceHash);
    expect(hashes[1]).toBe(inProcess.traceHash);
  });
});
