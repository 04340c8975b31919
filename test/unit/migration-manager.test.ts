// The VM migration managers end to end in a tiny world (hosts h1, h2, h3 with fake elements and state
// sharing managers, a controller that only fetches): the four variants of seed 001 §2 move a VM's state
// exactly once (ACK-gated resume with SSMs, the gap policy set when detected, cleanup by delete and by
// TTL), a VM never runs on two hosts, duplicates and message loss change nothing, placement refusals
// move nothing, and a source restarted while the VM is stunned stuns it again and finishes.
import { describe, expect, test } from 'vitest';
import { fc } from '@fast-check/vitest';
import { parseIpv4, parseMac } from '../../sim/dataplane/headers.ts';
import type { HostNode } from '../../sim/dataplane/host-node.ts';
import { DataplaneBuilder } from '../../sim/dataplane/topology-builder.ts';
import type { VmSpec } from '../../sim/dataplane/vm.ts';
import { NS_PER_MS, NS_PER_S } from '../../sim/kernel/time.ts';
import type { TraceRecord } from '../../sim/kernel/trace.ts';
import { DEFAULT_LINK } from '../../sim/net/link.ts';
import { NetworkManagerNode } from '../../sim/migration/network-manager.ts';
import { migrationManagerFactory, type MigrateOptions, type MigrationManager } from '../../sim/migration/migration-manager.ts';
import { World } from '../../sim/testbed/world.ts';
import { FakeElement, FakeSsm, FetchingController, TAG } from './migration-fakes.ts';

const RUNS = Number(process.env.NVSIM_PROPERTY_RUNS ?? 12);
const HOSTS = ['h1', 'h2', 'h3'];
const VM: VmSpec = { name: 'v1', vifId: 'vif-v1', mac: parseMac('02:00:00:00:00:01'), ip: parseIpv4('10.0.0.1') };
const OTHER: VmSpec = { name: 'v2', vifId: 'vif-v2', mac: parseMac('02:00:00:00:00:02'), ip: parseIpv4('10.0.0.2') };
const VM_KEY = 11;
/** A small VM so pre-copy takes a few ms: 64 MiB at 1.25 GB/s. */
const MODEL = { memoryBytes: 64 * 1_048_576, dirtyRateBytesPerSec: 100_000_000, stopCopyBytes: 1_048_576 };

interface Options {
  seed?: number;
  loss?: number;
  duplicate?: number;
  ackDelayNs?: number;
  nm?: boolean;
}

function lab(o: Options = {}) {
  const world = new World({ seed: o.seed ?? 1, trace: 'full' });
  const elements = new Map(HOSTS.map((h) => [h, new FakeElement()]));
  const ssms = new Map<string, FakeSsm>();
  for (const h of HOSTS) ssms.set(h, new FakeSsm(elements.get(h)!, ssms, o.ackDelayNs ?? 20 * NS_PER_MS));
  const dp = new DataplaneBuilder(world);
  dp.shared.hostService = migrationManagerFactory((ctx) => {
    ssms.get(ctx.id)!.ctx = ctx;
    return { element: elements.get(ctx.id)!, ssm: ssms.get(ctx.id)!, nm: o.nm === true ? 'nm' : null };
  });
  dp.addHost('h1', [VM, OTHER]);
  dp.addHost('h2');
  dp.addHost('h3');
  world.fabric.addNode('ctl', (ctx) => new FetchingController(ctx), { kind: 'controller' });
  dp.setControllers(['ctl']);
  if (o.nm === true) world.fabric.addNode('nm', (ctx) => new NetworkManagerNode(ctx), { kind: 'nm' });
  const bad = { ...DEFAULT_LINK, lossProbability: o.loss ?? 0, duplicateProbability: o.duplicate ?? 0 };
  for (const a of [...HOSTS, 'ctl']) for (const b of [...HOSTS, 'ctl']) if (a < b) world.fabric.setLink(a, b, bad);
  elements.get('h1')!.serve(VM_KEY, VM.vifId, 3, [{ key: 'health/10.2.0.21:80', value: 1 }]);
  elements.get('h1')!.serve(12, OTHER.vifId, 2);

  const events: TraceRecord[] = [];
  const running = (): string[] => HOSTS.filter((h) => host(h)?.hasVm(VM.name) === true && host(h)!.vm(VM.name).runState === 'running');
  let twoRunning = 0;
  world.trace.on('*', (e) => {
    if (e.type !== 'dp.pipeline' && e.type !== 'dp.drop') events.push(e);
    if (running().length > 1) twoRunning++;
  });
  function host(id: string): HostNode | undefined {
    try {
      return dp.host(id);
    } catch {
      return undefined;
    }
  }
  const manager = (id: string) => dp.host(id).service as MigrationManager;
  const of = (type: string) => events.filter((e) => e.type === type) as unknown as (TraceRecord & Record<string, any>)[];
  return { world, dp, elements, ssms, manager, host, of, running, twoRunning: () => twoRunning, events };
}

const variants: [string, Partial<MigrateOptions>][] = [
  ['A: pre-notified', { handoff: 'prenotify' }],
  ['B: detected', { handoff: 'detected', gapPolicy: 'buffer' }],
  ['C: pre-notified with SSMs', { handoff: 'prenotify', ssm: true }],
  ['D: detected with SSMs', { handoff: 'detected', ssm: true, gapPolicy: 'new' }],
];

describe('the four variants', () => {
  for (const [name, options] of variants) {
    test(`${name}: the VM moves, its state is installed once at h2 and deleted at h1`, () => {
      const l = lab();
      const id = l.manager('h1').migrate('v1', 'h2', { ...options, model: MODEL });
      // Traffic during pre-copy: a new connection the pre-notified variants stream as a delta.
      l.world.scheduler.after(1 * NS_PER_MS, () => l.elements.get('h1')!.open(VM_KEY, 9));
      l.world.scheduler.runFor(2 * NS_PER_S);

      const record = l.manager('h1').migrations().find((m) => m.id === id)!;
      expect(record.phase).toBe('done');
      expect(record.to).toBe('h2');
      expect(record.variant).toBe({ 'A: pre-notified': 'prenotify', 'B: detected': 'detected', 'C: pre-notified with SSMs': 'prenotify-ssm', 'D: detected with SSMs': 'detected-ssm' }[name]);
      expect(l.host('h1')!.hasVm('v1')).toBe(false);
      expect(l.host('h2')!.vm('v1').runState).toBe('running');
      expect(l.host('h2')!.switch.ports.vif(VM.vifId)?.origin).toBeUndefined();
      expect(l.twoRunning()).toBe(0);

      const dst = l.elements.get('h2')!;
      const src = l.elements.get('h1')!;
      expect(dst.installs).toHaveLength(1);
      expect(dst.vms.get(VM_KEY)!.connections.map((c) => c.tuple.srcPort).sort()).toEqual([40001, 40002, 40003, 40009]);
      expect(dst.vms.get(VM_KEY)!.shared).toEqual([{ key: 'health/10.2.0.21:80', value: 1 }]);
      expect(src.vms.has(VM_KEY)).toBe(false); // deleted
      expect(src.vms.get(12)!.connections).toHaveLength(2); // the other VM's state is untouched
      expect(dst.vms.has(12)).toBe(false);
      expect(src.calls).toContain('fence');
      expect(record.stateBytes).toBeGreaterThan(0);
      expect(record.downtimeNs).toBeGreaterThan(0);
      expect(record.rounds.length).toBeGreaterThan(1);
      expect(l.of('mig.precopy').map((e) => e.round)).toEqual(record.rounds.map((r) => r.round));

      // Stun precedes the destination's resume; the VM resumes only after its state is in (pre-notified).
      const at = (type: string) => l.of(type)[0]?.t as number;
      expect(at('mig.stun')).toBeLessThan(at('mig.resume'));
      if (options.handoff === 'prenotify') expect(at('mig.state.installed')).toBeLessThanOrEqual(at('mig.resume'));
      else {
        // Detected: the VM starts after the modelled resume, whether or not its state has arrived.
        expect(at('mig.resume') - at('mig.provision')).toBe(5 * NS_PER_MS);
        expect(dst.calls).toContain(`expect:${options.gapPolicy}`);
        expect(l.of('mig.fetch').filter((e) => e.fresh)).toHaveLength(1);
      }
      if (options.ssm === true) {
        const ssm = l.ssms.get('h1')!;
        expect(ssm.pushes).toEqual([{ peer: 'h2', tag: TAG, vmKey: VM_KEY }]);
        expect(l.ssms.get('h2')!.calls).toEqual(['deliver']);
        // The managers carried only local-only state: type-1 went SSM to SSM.
        expect(dst.installs[0].state.slices.flatMap((s) => s.shared)).toEqual([{ key: 'health/10.2.0.21:80', value: 1 }]);
        expect(src.calls.filter((c) => c.startsWith('gather'))).toEqual(['gather:local-only']);
      } else {
        expect(src.calls.filter((c) => c.startsWith('gather'))).toEqual(['gather:all']);
      }
      if (options.ssm === true && options.handoff === 'prenotify') {
        // ACK-gated: resume waits for the SSM's ACK (20 ms after deliver) plus the modelled resume.
        expect(at('mig.resume') - at('mig.provision')).toBeGreaterThanOrEqual(20 * NS_PER_MS);
      }
    });
  }

  test('TTL cleanup leaves the source state to expire; gap packets come from the destination element', () => {
    const l = lab();
    l.elements.get('h2')!.gaps.set(VM_KEY, 4);
    const id = l.manager('h1').migrate('v1', 'h2', { handoff: 'detected', cleanup: 'ttl', ttlNs: 5 * NS_PER_S, model: MODEL });
    l.world.scheduler.runFor(2 * NS_PER_S);
    const record = l.manager('h1').migrations().find((m) => m.id === id)!;
    expect(record.phase).toBe('done');
    expect(record.gapPackets).toBe(4);
    expect(l.elements.get('h1')!.expiring.get(VM_KEY)).toBe(5 * NS_PER_S);
    expect(l.elements.get('h1')!.calls).not.toContain('remove');
    expect(l.of('mig.cleanup').map((e) => e.cause)).toEqual(['ttl']);
  });

  test('cold migration: no pre-copy, and the boot time is in the downtime', () => {
    const l = lab();
    const id = l.manager('h1').migrate('v1', 'h2', { mode: 'cold', model: { ...MODEL, bootNs: 3 * NS_PER_S } });
    l.world.scheduler.runFor(5 * NS_PER_S);
    const record = l.manager('h1').migrations().find((m) => m.id === id)!;
    expect(record.phase).toBe('done');
    expect(record.rounds).toEqual([]);
    expect(record.downtimeNs).toBeGreaterThanOrEqual(3 * NS_PER_S);
    expect(record.modelDowntimeNs).toBeGreaterThanOrEqual(3 * NS_PER_S);
  });
});

describe('duplicates, loss and restarts', () => {
  test('a repeated fetch after the handoff neither gathers nor sends the state again', () => {
    const l = lab();
    l.manager('h1').migrate('v1', 'h2', { handoff: 'detected', model: MODEL });
    l.world.scheduler.runFor(2 * NS_PER_S);
    const gathers = l.elements.get('h1')!.calls.filter((c) => c.startsWith('gather')).length;
    l.world.scheduler.after(0, () => l.manager('h1').onMessage('ctl', { type: 'mig.fetch', vifId: VM.vifId, vm: 'v1', to: 'h2' }));
    l.world.scheduler.runFor(1 * NS_PER_S);
    expect(l.elements.get('h1')!.calls.filter((c) => c.startsWith('gather')).length).toBe(gathers);
    expect(l.elements.get('h2')!.installs).toHaveLength(1);
    expect(l.of('mig.fetch').map((e) => e.fresh)).toEqual([true, false]);
  });

  test('property: under loss and duplication every variant moves the state exactly once and never runs two copies', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.constantFrom(0, 1, 2, 3), fc.double({ min: 0, max: 0.4, noNaN: true }), (seed, v, loss) => {
        const l = lab({ seed, loss, duplicate: 0.3 });
        const id = l.manager('h1').migrate('v1', 'h2', { ...variants[v][1], model: MODEL });
        l.world.scheduler.runFor(20 * NS_PER_S);
        const record = l.manager('h1').migrations().find((m) => m.id === id)!;
        expect(record.phase).toBe('done');
        expect(l.twoRunning()).toBe(0);
        expect(l.elements.get('h2')!.installs).toHaveLength(1);
        expect(l.host('h2')!.vm('v1').runState).toBe('running');
        expect(l.host('h1')!.hasVm('v1')).toBe(false);
        expect(l.of('mig.provision')).toHaveLength(1);
        expect(l.of('mig.resume')).toHaveLength(1);
      }),
      { numRuns: RUNS },
    );
  });

  test('a source that restarts while the VM is stunned stuns it again and finishes the move', () => {
    const l = lab();
    const id = l.manager('h1').migrate('v1', 'h2', { model: { ...MODEL, bandwidthBytesPerSec: 100_000_000, dirtyRateBytesPerSec: 10_000_000 } });
    let crashed = false;
    l.world.trace.on('mig.stun', () => {
      if (crashed) return;
      crashed = true;
      l.world.scheduler.after(1, () => l.world.fabric.crash('h1'));
      l.world.scheduler.after(5 * NS_PER_MS, () => l.world.fabric.restart('h1'));
    });
    l.world.scheduler.runFor(5 * NS_PER_S);
    expect(crashed).toBe(true);
    const record = l.manager('h1').migrations().find((m) => m.id === id)!;
    expect(record.phase).toBe('done');
    expect(l.twoRunning()).toBe(0);
    expect(l.host('h1')!.hasVm('v1')).toBe(false);
    expect(l.host('h2')!.vm('v1').runState).toBe('running');
  });
});

describe('placement and refusals', () => {
  function withNm() {
    const l = lab({ nm: true });
    const nm = l.world.fabric.process<NetworkManagerNode>('nm')!;
    nm.setZone('tz1', ['h1', 'h2', 'h3']);
    nm.defineNetwork('ls-a', 'tz1');
    nm.defineSwitch('h1', { tzs: ['tz1'], capacity: 8 });
    nm.defineSwitch('h2', { tzs: ['tz1'], capacity: 8, status: 'unavailable' });
    nm.defineSwitch('h3', { tzs: ['tz1'], capacity: 8 });
    nm.pullBack('ls-a', 'h3');
    l.world.scheduler.runFor(100 * NS_PER_MS);
    return { ...l, nm };
  }

  test('a destination without the network or with an unavailable switch refuses, and nothing moves', () => {
    const l = withNm();
    const id = l.manager('h1').migrate('v1', ['h3', 'h2'], { networks: ['ls-a'], model: MODEL });
    l.world.scheduler.runFor(1 * NS_PER_S);
    const record = l.manager('h1').migrations().find((m) => m.id === id)!;
    expect(record.phase).toBe('refused');
    expect(record.refused).toBe('no-candidate');
    expect(record.placementRefused).toEqual([{ host: 'h3', reason: 'no-network' }, { host: 'h2', reason: 'switch-unavailable' }]);
    expect(l.host('h1')!.vm('v1').runState).toBe('running');
    expect(l.host('h2')!.hasVm('v1')).toBe(false);
    expect(l.of('mig.stun')).toHaveLength(0);
    expect(l.of('mig.placement')[0]).toMatchObject({ chosen: null });
  });

  test('the first candidate that accepts is chosen; a full switch refuses with no-free-port', () => {
    const l = withNm();
    l.nm.restore('ls-a', 'h3');
    l.nm.defineSwitch('h2', { tzs: ['tz1'], capacity: 0 });
    l.world.scheduler.runFor(100 * NS_PER_MS);
    const id = l.manager('h1').migrate('v1', ['h2', 'h3'], { networks: ['ls-a'], model: MODEL });
    l.world.scheduler.runFor(2 * NS_PER_S);
    const record = l.manager('h1').migrations().find((m) => m.id === id)!;
    expect(record.to).toBe('h3');
    expect(record.phase).toBe('done');
    expect(l.of('mig.placement')[0]).toMatchObject({ chosen: 'h3', refused: [{ host: 'h2', reason: 'no-free-port' }] });
    expect(l.host('h3')!.vm('v1').runState).toBe('running');
  });

  test('bad requests throw one clear line and start nothing', () => {
    const l = lab();
    const m = l.manager('h1');
    expect(() => m.migrate('nope', 'h2')).toThrow(/has no VM 'nope'/);
    expect(() => m.migrate('v1', 'h1')).toThrow(/another host/);
    expect(() => m.migrate('v1', 'h2', { mode: 'warm' as 'live' })).toThrow(/mode must be/);
    expect(() => m.migrate('v1', 'h2', { cleanup: 'ttl', ttlNs: 0 })).toThrow(/ttlNs/);
    expect(() => m.migrate('v1', 'h2', { model: { bandwidthBytesPerSec: -1 } })).toThrow(/bandwidthBytesPerSec/);
    expect(m.migrations()).toEqual([]);
    m.migrate('v1', 'h2', { model: MODEL });
    expect(() => m.migrate('v1', 'h3')).toThrow(/already migrating/);
  });
});

describe('run state', () => {
  test('a stunned VM sends nothing and loses what reaches it', () => {
    const l = lab();
    const h1 = l.host('h1')!;
    h1.stun('v1');
    l.world.scheduler.after(0, () => h1.sendIpFromVm('v1', { ipDst: parseIpv4('10.0.0.2'), ipProto: 17, l4Src: 1, l4Dst: 2 }, 10));
    l.world.scheduler.runFor(10 * NS_PER_MS);
    expect(h1.vm('v1').droppedSends).toBeGreaterThan(0);
    expect(l.of('dp.vm.send').filter((e) => e.vm === 'v1')).toHaveLength(0);
    h1.resume('v1');
    expect(h1.vm('v1').runState).toBe('running');
  });
});
