// The synthetic trace (test/viz/support/synthetic-trace.ts) and the model at scale: the generator is
// deterministic and its trace reads as the world it describes; a thousand hosts (about a million records)
// load and answer a hundred scrubs. The time bound is a sanity check only, ten times and more above what
// this takes on a loaded two-core machine; speed is measured by benchmarks, not by tests.

import { describe, expect, test } from 'vitest';
import { loadTrace } from '../../viz/src/model/index.ts';
import { parseLines, referenceViewAt } from './support/reference-view.ts';
import { syntheticTrace } from './support/synthetic-trace.ts';

const S = 1_000_000_000;

describe('a small synthetic trace', () => {
  const options = { hosts: 12, controllers: 3, seconds: 8, seed: 7 };
  const text = syntheticTrace(options);
  const model = loadTrace(text);

  test('the same options give the same text; another seed another', () => {
    expect(syntheticTrace(options)).toBe(text);
    expect(syntheticTrace({ ...options, seed: 8 })).not.toBe(text);
  });

  test('each line is the JSON text JSON.stringify makes of it, as in a trace the simulator writes', () => {
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    for (const line of lines) expect(JSON.stringify(JSON.parse(line))).toBe(line);
  });

  test('every host and controller starts; a VM per host; a tunnel ring', () => {
    expect(model.nodes.filter((n) => n.role === 'host')).toHaveLength(12);
    expect(model.nodes.filter((n) => n.role === 'controller')).toHaveLength(3);
    expect(model.viewAt(S).nodes.vms).toHaveLength(12);
    expect(model.tunnels).toHaveLength(12);
    expect(model.meta).toMatchObject({ scenario: 'synthetic', seed: 7, endNs: 8 * S });
  });

  test('masters spread over the controllers; ctl-1 crashes half-way and its switches are taken over', () => {
    const before = model.viewAt(3.9 * S);
    expect(Object.keys(before.masterOf)).toHaveLength(12);
    expect(new Set(Object.values(before.masterOf))).toEqual(new Set(['ctl-1', 'ctl-2', 'ctl-3']));
    expect(model.viewAt(4 * S).crashed).toEqual(['ctl-1']);
    expect(Object.values(model.viewAt(4 * S).masterOf)).not.toContain('ctl-1');
    const after = model.viewAt(5.5 * S);
    expect(Object.keys(after.masterOf)).toHaveLength(12);
    expect(Object.values(after.masterOf)).not.toContain('ctl-1');
    expect(model.charts.failovers).toEqual([{ node: 'ctl-1', crashedAt: 4 * S, recoveredAfterNs: S + 20_000_000 }]);
    expect(model.viewAt(5.6 * S).crashed).toEqual([]);
  });

  test('vm1 migrates to h2; a partition comes and goes; packets cross the ring', () => {
    expect(model.viewAt(2 * S).vmHost['vm1']).toBe('h1');
    expect(model.viewAt(2.405 * S).vmHost['vm1']).toBe('h2');
    expect(model.viewAt(6.1 * S).partitions.map((p) => p.id)).toEqual(['edge-cut']);
    expect(model.viewAt(6.4 * S).partitions).toEqual([]);
    const path = model.packetPath(model.packets[0].packetId);
    expect(path.map((h) => h.kind)).toEqual(['send', 'pipeline', 'tunnel', 'pipeline', expect.stringMatching(/^(receive|drop)$/)]);
    expect(new Set(path.map((h) => h.node)).size).toBe(2);
    expect(model.timeline.map((e) => e.kind)).toEqual(expect.arrayContaining(['fault', 'election', 'epoch', 'migration', 'config']));
  });

  test('viewAt agrees with a replay from the start', () => {
    const records = parseLines(text.split('\n'));
    for (let t = 0; t <= 8 * S; t += S / 4) {
      const view = model.viewAt(t);
      const reference = referenceViewAt(records, t);
      expect({ ...view.masterOf }).toEqual(reference.masterOf);
      expect({ ...view.vmHost }).toEqual(reference.vmHost);
      expect([...view.crashed]).toEqual(reference.crashed);
    }
  });
});

test('a thousand hosts, three controllers, ten seconds: about a million records load and scrub', () => {
  const text = syntheticTrace({ hosts: 1000, controllers: 3, seconds: 10, seed: 1 });
  const started = performance.now();
  const model = loadTrace(text);
  const views = Array.from({ length: 100 }, (_, k) => model.viewAt((k * model.meta.endNs) / 99));
  const elapsedMs = performance.now() - started;

  expect(model.meta.lines).toBeGreaterThan(1_000_000);
  expect(views[0].nodes.switches).toHaveLength(1000);
  const recovered = model.viewAt(6.5 * S);
  expect(Object.keys(recovered.masterOf)).toHaveLength(1000);
  expect(Object.values(recovered.masterOf)).not.toContain('ctl-1');
  // Expected: well under 10 s here; the bound only catches something gone badly wrong.
  expect(elapsedMs).toBeLessThan(120_000);
});
