// The worker's side of running a scenario, in Node: every scenario file is in the registry, a run's chunks
// put together are its whole trace, and that trace hashes to what the CLI's code path reports.

import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TraceHash } from '../../sim/kernel/trace-hash.ts';
import { runScenario } from '../../sim/testbed/index.ts';
import { firstLineOf } from '../../viz/src/run/first-line.ts';
import { runScenarioJob } from '../../viz/src/run/run-scenario-job.ts';
import { scenarioRegistry } from '../../viz/src/run/scenario-registry.ts';
import { parseSeed } from '../../viz/src/run/seed-text.ts';
import { TraceChunker } from '../../viz/src/run/trace-chunker.ts';

describe('scenario registry', () => {
  it('lists every scenario file in scenarios/, sorted, each with a description', () => {
    const files = readdirSync(new URL('../../scenarios', import.meta.url))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => f.slice(0, -3))
      .sort();
    const { catalog, find } = scenarioRegistry();
    expect(catalog.map((s) => s.name)).toEqual(files);
    for (const s of catalog) {
      expect(s.description.trim()).not.toBe('');
      expect(find(s.name)?.name).toBe(s.name);
    }
    expect(find('no-such-scenario')).toBeUndefined();
  });
});

describe('runScenarioJob', () => {
  it('hands out the whole trace in chunks of whole lines, with the hash of the plain run', () => {
    const scenario = scenarioRegistry().find('gossip-partition')!;
    const chunks: string[] = [];
    const progress: number[] = [];
    const outcome = runScenarioJob(scenario, 2, { traceChunk: (text) => chunks.push(text), progress: (nowNs) => progress.push(nowNs) }, 64 * 1024);
    const text = chunks.join('');
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(chunk.endsWith('\n')).toBe(true);
    expect(text.split('\n').length - 1).toBe(outcome.traceLines);
    const hash = new TraceHash();
    hash.update(text);
    expect(outcome.traceHash).toBe(hash.digest());

    const lines: string[] = [];
    const plain = runScenario(scenario, { seed: 2, trace: 'full', traceSink: { write: (line) => lines.push(line) } });
    expect(outcome.traceHash).toBe(plain.traceHash);
    expect(text).toBe(lines.join(''));
    expect(outcome.ok).toBe(plain.ok);
    expect(outcome.invariants).toEqual(plain.invariants);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(plain.virtualEndNs);
  });
});

describe('TraceChunker', () => {
  it('emits once a chunk reaches its size and keeps the rest for flush', () => {
    const out: string[] = [];
    const chunker = new TraceChunker((text) => out.push(text), 10);
    chunker.write('abcd\n');
    chunker.write('efgh\n');
    chunker.write('ij\n');
    expect(out).toEqual(['abcd\nefgh\n']);
    chunker.flush();
    chunker.flush();
    expect(out).toEqual(['abcd\nefgh\n', 'ij\n']);
  });
});

describe('parseSeed', () => {
  it('takes what nvsim run --seed takes', () => {
    expect(parseSeed('7')).toBe(7);
    expect(parseSeed(' -3 ')).toBe(-3);
    for (const bad of ['', '1.5', '1e3', 'x', '9007199254740993']) expect(() => parseSeed(bad)).toThrow(/the seed must be an integer/);
  });
});

describe('firstLineOf', () => {
  it('keeps the first non-blank line, trimmed and bounded', () => {
    expect(firstLineOf(new Error('\n  first \nsecond'))).toBe('first');
    expect(firstLineOf('plain')).toBe('plain');
    expect(firstLineOf('x'.repeat(500), 10)).toBe(`${'x'.repeat(9)}…`);
  });
});
