// The live-migration cost model (pre-copy rounds shrink and converge, or stop at maxRounds; downtime grows
// with the dirty rate and comes from the model), placement's refusals, and the network manager publishing
// read-only constructs to its zones' hosts (versioned, retransmitted through loss, pull-back, refused writes).
import { describe, expect, test } from 'vitest';
import { fc } from '@fast-check/vitest';
import { HostConstructs, type Publication } from '../../sim/migration/constructs.ts';
import { DEFAULT_LIVE_MIGRATION, modelDowntimeNs, planColdMigration, planLiveMigration, type LiveMigrationParams } from '../../sim/migration/live-migration-model.ts';
import { NetworkManagerNode } from '../../sim/migration/network-manager.ts';
import { placeVm } from '../../sim/migration/placement.ts';
import { NS_PER_MS } from '../../sim/kernel/time.ts';
import type { Message, NodeContext, NodeId } from '../../sim/net/index.ts';
import { DEFAULT_LINK } from '../../sim/net/link.ts';
import { World } from '../../sim/testbed/world.ts';

const RUNS = Number(process.env.NVSIM_PROPERTY_RUNS ?? 100);
const params = (p: Partial<LiveMigrationParams>): LiveMigrationParams => ({ ...DEFAULT_LIVE_MIGRATION, ...p });

describe('live-migration model', () => {
  test('round 1 sends all memory and later rounds shrink until the dirty set is small', () => {
    const plan = planLiveMigration(params({ memoryBytes: 1e9, dirtyRateBytesPerSec: 1e8, bandwidthBytesPerSec: 1e9, stopCopyBytes: 1e6, maxRounds: 30 }));
    expect(plan.rounds[0].bytes).toBe(1e9);
    expect(plan.rounds[0].durationNs).toBe(1e9);
    expect(plan.rounds[1].bytes).toBe(1e8); // dirtied during round 1's second
    for (let i = 1; i < plan.rounds.length; i++) expect(plan.rounds[i].bytes).toBeLessThan(plan.rounds[i - 1].bytes);
    expect(plan.converged).toBe(true);
    expect(plan.stopCopyBytes).toBeLessThanOrEqual(1e6);
  });

  test('a VM dirtying memory as fast as the link sends stops at maxRounds', () => {
    const plan = planLiveMigration(params({ memoryBytes: 1e8, dirtyRateBytesPerSec: 2e9, bandwidthBytesPerSec: 1e9, stopCopyBytes: 1e6, maxRounds: 5 }));
    expect(plan.rounds).toHaveLength(5);
    expect(plan.converged).toBe(false);
    expect(plan.stopCopyBytes).toBe(1e8); // never more than all of memory
  });

  test('downtime is the stop-and-copy plus state transfer plus resume; cold is a boot', () => {
    const p = params({ bandwidthBytesPerSec: 1e9, resumeNs: 5 * NS_PER_MS, bootNs: 60e9 });
    const plan = planLiveMigration(p);
    expect(modelDowntimeNs('live', plan, 1000, p)).toBe(Math.ceil((plan.stopCopyBytes + 1000)) + 5 * NS_PER_MS);
    const cold = planColdMigration(p);
    expect(cold.rounds).toEqual([]);
    expect(modelDowntimeNs('cold', cold, 0, p)).toBe(60e9);
  });

  test('downtime grows with the dirty rate', () => {
    const downtime = (dirty: number) => {
      const p = params({ memoryBytes: 2e9, dirtyRateBytesPerSec: dirty, bandwidthBytesPerSec: 1e9, stopCopyBytes: 1e6, maxRounds: 3 });
      return modelDowntimeNs('live', planLiveMigration(p), 0, p);
    };
    const series = [1e8, 3e8, 6e8, 9e8].map(downtime);
    for (let i = 1; i < series.length; i++) expect(series[i]).toBeGreaterThan(series[i - 1]);
  });

  // Pre-copy stops at a threshold, so a faster-dirtying VM can stop one round later with less left; with
  // the same number of rounds, more dirtying always leaves more to copy while stunned.
  test('property: rounds never grow, and with as many rounds a higher dirty rate never shortens the downtime', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4096 }).map((mb) => mb * 1_048_576),
        fc.integer({ min: 1, max: 2000 }).map((r) => r * 1e6),
        fc.integer({ min: 1, max: 2000 }).map((r) => r * 1e6),
        fc.integer({ min: 1, max: 50 }),
        (memoryBytes, dirty, extra, maxRounds) => {
          const p = params({ memoryBytes, dirtyRateBytesPerSec: dirty, maxRounds, bandwidthBytesPerSec: 1.25e9, stopCopyBytes: 4 * 1_048_576 });
          const plan = planLiveMigration(p);
          expect(plan.rounds.length).toBeLessThanOrEqual(maxRounds);
          for (const r of plan.rounds) expect(r.bytes).toBeLessThanOrEqual(memoryBytes);
          if (dirty < p.bandwidthBytesPerSec) for (let i = 1; i < plan.rounds.length; i++) expect(plan.rounds[i].bytes).toBeLessThanOrEqual(plan.rounds[i - 1].bytes);
          const faster = planLiveMigration({ ...p, dirtyRateBytesPerSec: dirty + extra });
          if (faster.rounds.length === plan.rounds.length) expect(modelDowntimeNs('live', faster, 0, p)).toBeGreaterThanOrEqual(modelDowntimeNs('live', plan, 0, p));
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('bad parameters throw one clear line', () => {
    expect(() => planLiveMigration(params({ bandwidthBytesPerSec: 0 }))).toThrow(/bandwidthBytesPerSec must be > 0/);
    expect(() => planLiveMigration(params({ maxRounds: 0 }))).toThrow(/maxRounds/);
    expect(() => planLiveMigration(params({ memoryBytes: -1 }))).toThrow(/memoryBytes/);
  });
});

describe('placement', () => {
  const publication: Publication = {
    version: 1,
    networks: [{ uuid: 'ls-a', tz: 'tz1' }],
    switches: [
      { uuid: 'lfe-h2', host: 'h2', tzs: ['tz1'], status: 'unavailable', capacity: 8 },
      { uuid: 'lfe-h4', host: 'h4', tzs: ['tz1'], status: 'healthy', capacity: 2 },
      { uuid: 'lfe-h5', host: 'h5', tzs: ['tz1'], status: 'healthy', capacity: 1 },
    ],
  };

  test('picks the first host with the network and a healthy switch with a free port, and says why the others failed', () => {
    const decision = placeVm(['ls-a'], [
      { host: 'h3', published: { version: 1, networks: [], switches: [] }, usedPorts: 0 },
      { host: 'h2', published: publication, usedPorts: 0 },
      { host: 'h5', published: publication, usedPorts: 1 },
      { host: 'h6', published: null, usedPorts: 0 },
      { host: 'h4', published: publication, usedPorts: 1 },
    ]);
    expect(decision.chosen).toBe('h4');
    expect(decision.refused).toEqual([
      { host: 'h3', reason: 'no-network' },
      { host: 'h2', reason: 'switch-unavailable' },
      { host: 'h5', reason: 'no-free-port' },
      { host: 'h6', reason: 'no-network' },
    ]);
  });

  test('no candidate qualifies: nothing is chosen', () => {
    expect(placeVm(['ls-b'], [{ host: 'h4', published: publication, usedPorts: 0 }])).toEqual({ chosen: null, refused: [{ host: 'h4', reason: 'no-network' }] });
  });
});

/** A host that only keeps the NM's read-only copy. */
class CopyHost {
  readonly copy: HostConstructs;
  constructor(ctx: NodeContext) {
    this.copy = new HostConstructs(ctx, 'nm');
  }
  onMessage(from: NodeId, body: Message): void {
    this.copy.onMessage(from, body);
  }
}

describe('network manager', () => {
  function world(loss = 0) {
    const w = new World({ seed: 7, trace: 'summary' });
    w.fabric.addNode('nm', (ctx) => new NetworkManagerNode(ctx), { kind: 'nm' });
    for (const h of ['h1', 'h2', 'h3', 'rogue']) w.fabric.addNode(h, (ctx) => new CopyHost(ctx), { kind: 'host' });
    if (loss > 0) for (const h of ['h1', 'h2', 'h3']) w.fabric.setLink('nm', h, { ...DEFAULT_LINK, lossProbability: loss, duplicateProbability: 0.2 });
    const nm = () => w.fabric.process<NetworkManagerNode>('nm')!;
    const copy = (h: string) => w.fabric.process<CopyHost>(h)!.copy.current;
    return { w, nm, copy };
  }

  test('publishes a zone\'s networks and switches to its hosts only, through loss, and pulls a network back', () => {
    const { w, nm, copy } = world(0.5);
    nm().setZone('tz1', ['h1', 'h2']);
    nm().defineNetwork('ls-a', 'tz1');
    nm().defineSwitch('h1', { tzs: ['tz1'], capacity: 4 });
    nm().defineSwitch('h2', { tzs: ['tz1'], capacity: 4 });
    w.scheduler.runFor(5_000 * NS_PER_MS);
    for (const h of ['h1', 'h2']) {
      expect(copy(h)?.version).toBe(nm().version);
      expect(copy(h)?.networks.map((n) => n.uuid)).toEqual(['ls-a']);
      expect(copy(h)?.switches.map((s) => s.uuid)).toEqual(['lfe-h1', 'lfe-h2']);
      expect(nm().ackedBy(h)).toBe(nm().version);
    }
    expect(copy('h3')).toBeNull();

    nm().pullBack('ls-a', 'h2');
    nm().joinZone('tz1', 'h3');
    w.scheduler.runFor(5_000 * NS_PER_MS);
    expect(copy('h1')?.networks.map((n) => n.uuid)).toEqual(['ls-a']);
    expect(copy('h2')?.networks).toEqual([]);
    expect(copy('h3')?.networks.map((n) => n.uuid)).toEqual(['ls-a']);
  });

  test('a host refuses a write to its copy from anyone but the NM', () => {
    const { w, nm, copy } = world();
    nm().setZone('tz1', ['h1']);
    w.scheduler.runFor(100 * NS_PER_MS);
    const before = copy('h1');
    const refused: unknown[] = [];
    w.trace.on('nm.refused', (e) => refused.push(e));
    // A node that is not the NM sends a publication with a higher version.
    w.fabric.process<CopyHost>('h1')!.copy.onMessage('rogue', { type: 'nm.publish', version: 99, networks: [{ uuid: 'evil', tz: 'tz1' }], switches: [] });
    expect(copy('h1')).toEqual(before);
    expect(refused).toHaveLength(1);
  });

  test('bad configuration throws and changes nothing', () => {
    const { nm } = world();
    expect(() => nm().defineNetwork('ls-a', 'nope')).toThrow(/no transport zone 'nope'/);
    expect(() => nm().pullBack('ls-x', 'h1')).toThrow(/no logical network/);
    expect(nm().version).toBe(0);
  });
});
