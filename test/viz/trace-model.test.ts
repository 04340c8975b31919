// The trace model over real traces made in-process: the same hash as the run, the nodes and masters of
// controller-failover before its crash and after recovery, a migrated VM changing host when it resumes,
// one packet's hops across two hosts with the flows it hit, and viewAt agreeing with a naive replay from
// the start at random times over random scenarios, seeds and fault schedules.

import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { runScenario, type FaultChoice, type Scenario } from '../../sim/testbed/index.ts';
import controllerFailover from '../../scenarios/controller-failover.ts';
import controllerJoin from '../../scenarios/controller-join.ts';
import gossipPartition from '../../scenarios/gossip-partition.ts';
import masterPartition from '../../scenarios/master-partition.ts';
import migrationPrenotify from '../../scenarios/migration-prenotify.ts';
import twoTenantsEdge from '../../scenarios/two-tenants-edge.ts';
import { loadTrace, type TraceModel, type ViewState } from '../../viz/src/model/index.ts';
import { parseLines, referenceViewAt } from './support/reference-view.ts';

const S = 1_000_000_000;

function traceOf(scenario: Scenario, seed: number, level: 'summary' | 'full', faults: FaultChoice = { source: 'scenario' }) {
  const chunks: string[] = [];
  const result = runScenario(scenario, { seed, trace: level, faults, traceSink: { write: (line) => void chunks.push(line) } });
  return { text: chunks.join(''), result };
}

/** The parts of a view the reference replay also computes, as plain values. */
function comparable(view: ViewState) {
  return {
    controllers: [...view.nodes.controllers],
    switches: [...view.nodes.switches],
    vms: [...view.nodes.vms],
    masterOf: { ...view.masterOf },
    ldpsMasterOf: { ...view.ldpsMasterOf },
    crashed: [...view.crashed],
    partitions: view.partitions.map((p) => ({ id: p.id, mode: p.mode, groups: p.groups.map((g) => [...g]) })),
    vmHost: { ...view.vmHost },
    violations: view.violations.map((v) => ({ ...v })),
  };
}

describe('controller-failover (seed 1, full trace)', () => {
  let text: string;
  let model: TraceModel;
  let traceHash: string | null;

  beforeAll(() => {
    const run = traceOf(controllerFailover, 1, 'full');
    text = run.text;
    traceHash = run.result.traceHash;
    model = loadTrace(text);
  });

  test('the model hashes the text as the run did, and reads its scenario and seed', () => {
    expect(model.meta.hash).toBe(traceHash);
    expect(model.meta).toMatchObject({ scenario: 'controller-failover', seed: 1, lines: text.split('\n').length - 1 });
  });

  test('nodes: four hosts, three controllers, the northbound node; nine VMs before the crash', () => {
    expect(model.nodes.filter((n) => n.role === 'host')).toHaveLength(4);
    expect(model.nodes.filter((n) => n.role === 'controller').map((n) => n.id)).toEqual(['ctl-1', 'ctl-2', 'ctl-3']);
    expect(model.nodes.filter((n) => n.role === 'northbound')).toHaveLength(1);
    const view = model.viewAt(2.9 * S);
    expect(view.nodes.controllers).toEqual(['ctl-1', 'ctl-2', 'ctl-3']);
    expect(view.nodes.switches).toEqual(['h1', 'h2', 'h3', 'h4']);
    expect(view.nodes.vms).toHaveLength(9);
    // Every host runs a switch on the tunnel mesh.
    expect(model.tunnels).toHaveLength(6);
    expect(model.ldpses).toEqual(['A', 'B', 'C']);
  });

  test('before the crash each instance masters switches; after recovery the crashed ctl-1 masters nothing', () => {
    const before = model.viewAt(2.9 * S);
    expect(Object.keys(before.masterOf).sort()).toEqual(['h1', 'h2', 'h3', 'h4']);
    expect(new Set(Object.values(before.masterOf))).toEqual(new Set(['ctl-1', 'ctl-2', 'ctl-3']));
    expect(before.crashed).toEqual([]);
    expect(model.viewAt(4 * S).crashed).toEqual(['ctl-1']);

    const after = model.viewAt(6 * S);
    expect(Object.keys(after.masterOf).sort()).toEqual(['h1', 'h2', 'h3', 'h4']);
    expect(Object.values(after.masterOf)).not.toContain('ctl-1');
    expect(Object.values(after.ldpsMasterOf)).not.toContain('ctl-1');
    expect(comparable(after)).toEqual(referenceViewAt(parseLines(text.split('\n')), 6 * S));
  });

  test('the failover chart times the takeover of what ctl-1 mastered', () => {
    const takeovers = model.timeline.filter((e) => e.kind === 'epoch' && /member-down/.test(text.split('\n')[e.line]));
    expect(takeovers.length).toBeGreaterThan(0);
    const lastTakeover = Math.max(...takeovers.filter((e) => e.label.includes('switch')).map((e) => e.t));
    expect(model.charts.failovers).toEqual([{ node: 'ctl-1', crashedAt: 3 * S, recoveredAfterNs: lastTakeover - 3 * S }]);
  });

  test('the timeline has the crash, the restart and the elections, each one line of text', () => {
    const labels = model.timeline.map((e) => `${e.kind}: ${e.label}`);
    expect(labels).toContain('fault: ctl-1 crashes');
    expect(labels).toContain('fault: ctl-1 restarts (incarnation 2)');
    expect(labels.some((l) => /^epoch: ctl-\d masters switch h\d \(epoch \d+\)$/.test(l))).toBe(true);
    expect(labels.some((l) => /^election: ctl-\d declares ctl-1 down/.test(l))).toBe(true);
    for (const e of model.timeline) expect(e.label).not.toMatch(/\n/);
    const lines = text.split('\n');
    for (const e of model.timeline) expect(JSON.parse(lines[e.line]).t).toBe(e.t);
  });

  test('a packet crosses two hosts: its hops in order, with the flows each pipeline hit', () => {
    const lines = parseLines(text.split('\n'));
    const crossing = model.packets.find((p) => {
      const hops = model.packetPath(p.packetId);
      return new Set(hops.map((h) => h.node)).size >= 2 && hops.some((h) => h.kind === 'receive');
    });
    expect(crossing).toBeDefined();
    const hops = model.packetPath(crossing!.packetId);
    expect(hops[0].kind).toBe('send');
    expect(hops.map((h) => h.kind)).toEqual(expect.arrayContaining(['pipeline', 'tunnel', 'receive']));
    const pipelines = lines.filter((r) => r.type === 'dp.pipeline' && r.packetId === crossing!.packetId);
    expect(hops.filter((h) => h.kind === 'pipeline' && !h.detail.includes('copy')).map((h) => h.flows)).toEqual(
      pipelines.map((r) => r.hits.map((hit: { flowKey: string }) => hit.flowKey)),
    );
    for (const flow of hops.flatMap((h) => h.flows)) expect(flow).toMatch(/^\d+\/\d+\//);
    for (let i = 1; i < hops.length; i++) expect(hops[i].t).toBeGreaterThanOrEqual(hops[i - 1].t);
    // Each tunnel hop names where it sends, as the trace's tunnel record does.
    const tunnels = lines.filter((r) => r.type === 'dp.tunnel.send' && r.packetId === crossing!.packetId);
    expect(hops.filter((h) => h.kind === 'tunnel' && !h.detail.includes('copy')).map((h) => [h.node, h.to])).toEqual(tunnels.map((r) => [r.src, r.dst]));
  });

  test('charts: a point per second of messages, flow counts per switch', () => {
    expect(model.charts.messagesPerSecond).toHaveLength(11);
    const sends = text.split('\n').filter((l) => l.includes('"type":"net.send"')).length;
    expect(model.charts.messagesPerSecond.reduce((n, p) => n + p.value, 0)).toBe(sends);
    expect(Object.keys(model.charts.flowsPerSwitch).sort()).toEqual(['h1', 'h2', 'h3', 'h4']);
    for (const points of Object.values(model.charts.flowsPerSwitch)) expect(points.at(-1)!.value).toBeGreaterThan(0);
  });
});

test('migration-prenotify: a1 runs on its old host until it resumes on the new one', () => {
  const { text, result } = traceOf(migrationPrenotify, 1, 'summary');
  const model = loadTrace(text);
  expect(model.meta.hash).toBe(result.traceHash);
  const resume = model.timeline.find((e) => e.kind === 'migration' && e.label.startsWith('a1 resumes on '));
  expect(resume).toBeDefined();
  const to = resume!.label.slice('a1 resumes on '.length);
  const from = model.viewAt(0).vmHost['a1'];
  expect(to).not.toBe(from);
  expect(model.viewAt(resume!.t - 1).vmHost['a1']).toBe(from);
  expect(model.viewAt(resume!.t).vmHost['a1']).toBe(to);
  expect(model.viewAt(model.meta.endNs).vmHost['a1']).toBe(to);
});

describe('viewAt agrees with a replay from the start', () => {
  const scenarios = { controllerFailover, masterPartition, twoTenantsEdge, gossipPartition, controllerJoin } as const;

  test('at random times, over random scenarios, seeds and fault schedules', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...(Object.keys(scenarios) as (keyof typeof scenarios)[])),
        fc.integer({ min: 1, max: 10_000 }),
        fc.constantFrom<FaultChoice['source']>('scenario', 'swarm'),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 5, maxLength: 15 }),
        (name, seed, source, fractions) => {
          const { text, result } = traceOf(scenarios[name], seed, 'summary', { source } as FaultChoice);
          const model = loadTrace(text);
          expect(model.meta.hash).toBe(result.traceHash);
          const records = parseLines(text.split('\n'));
          // Random instants, and the instants where records change things (and just before them).
          const recordTimes = fractions.map((f) => records[Math.floor(f * (records.length - 1))].t);
          const times = [...fractions.map((f) => Math.floor(f * model.meta.endNs)), ...recordTimes, ...recordTimes.map((t) => t - 1)];
          for (const t of times) {
            const clamped = Math.max(0, t);
            expect(comparable(model.viewAt(t)), `${name} seed ${seed} (${source} faults) at ${t}`).toEqual(referenceViewAt(records, clamped));
          }
        },
      ),
      { numRuns: 10 },
    );
  });
});
