// The state sharing manager (seed 001 §1.4, §2.C, §2.D): its four calls, push and pull between hosts over
// a lossy, duplicating fabric, type-1 state only ever crossing SSM to SSM, and the migration middleman
// role (local-only state out; at the destination, install with the held type-1 state, then ACK).
import { describe, expect, test } from 'vitest';
import { ETH_TYPE_IPV4, IP_PROTO_TCP, parseCidr, parseIpv4, type Headers } from '../../sim/dataplane/headers.ts';
import { DEFAULT_LINK } from '../../sim/net/link.ts';
import type { Message, NodeId } from '../../sim/net/message.ts';
import type { NodeContext, NodeProcess } from '../../sim/net/node.ts';
import { World } from '../../sim/testbed/world.ts';
import { createMiddleboxHost, middleboxHookFactory, type MiddleboxHost } from '../../sim/middlebox/middlebox-host.ts';
import { encodeMiddleboxRecord } from '../../sim/middlebox/records.ts';
import type { SharedSliceState } from '../../sim/middlebox/state-sharing-manager.ts';

const ip = parseIpv4;

class HostProc implements NodeProcess {
  readonly host: MiddleboxHost;
  readonly received: Message[] = [];
  constructor(ctx: NodeContext) {
    this.host = createMiddleboxHost(ctx, { ssm: { retransmitNs: 5_000_000 } });
  }
  onMessage(from: NodeId, body: Message): void {
    this.received.push(body);
    this.host.onMessage(from, body);
  }
}

const LB_CONFIG = [
  encodeMiddleboxRecord({ r: 'slice', tag: 3, kind: 'lb', name: 'web-lb', tenant: 'acme', defaultAction: 'allow' }),
  ...['10.0.0.10', '10.0.0.20'].map((b) =>
    encodeMiddleboxRecord({ r: 'rule', tag: 3, rule: 1, name: 'vip', priority: 1, action: 'lb', match: { ipDst: parseCidr('10.9.9.9/32'), ipProto: IP_PROTO_TCP, l4Dst: [80, 80] }, toIp: 0, toPortMin: 0, toPortMax: 0, backends: [{ ip: ip(b), port: 80 }] }),
  ),
  encodeMiddleboxRecord({ r: 'vm', tag: 3, vmKey: 1, vifId: 'vif-1' }),
  encodeMiddleboxRecord({ r: 'slice', tag: 9, kind: 'ids', name: 'ids', tenant: 'acme', defaultAction: 'allow' }),
  encodeMiddleboxRecord({ r: 'rule', tag: 9, rule: 1, name: 'all', priority: 1, action: 'alert', match: {}, toIp: 0, toPortMin: 0, toPortMax: 0, backends: [] }),
];

function syn(sport: number): Headers {
  return { ethSrc: 1, ethDst: 2, ethType: ETH_TYPE_IPV4, ipSrc: ip('10.1.0.1'), ipDst: ip('10.9.9.9'), ipProto: IP_PROTO_TCP, ipTtl: 64, l4Src: sport, l4Dst: 80, tcpFlags: 0x02 };
}

function build(seed = 1, lossy = false) {
  const world = new World({ seed, trace: 'summary' });
  for (const id of ['a', 'b']) world.fabric.addNode(id, (ctx) => new HostProc(ctx), { kind: 'host' });
  if (lossy) world.fabric.setLink('a', 'b', { ...DEFAULT_LINK, lossProbability: 0.5, duplicateProbability: 0.3, reorderProbability: 0.3 });
  const proc = (id: string) => world.fabric.process<HostProc>(id)!;
  for (const id of ['a', 'b']) proc(id).host.configure(LB_CONFIG);
  const exchanges: unknown[] = [];
  world.trace.on('ssm.exchange', (r) => exchanges.push({ from: r.from, to: r.to, vmKey: r.vmKey, entries: r.entries }));
  return { world, a: proc('a'), b: proc('b'), exchanges };
}

describe('the four calls', () => {
  test('share, get, remove and config', () => {
    const { a } = build();
    const ssm = a.host.ssm;
    ssm.share(3, 0, [{ key: 'health/10.0.0.10:80', value: 0 }]);
    ssm.share(3, 1, [{ key: 'alerts/1.2.3.4', value: 2 }]);
    ssm.share(3, 1, [{ key: 'alerts/1.2.3.4', value: 5 }]);
    expect(ssm.get(3)).toEqual([{ key: 'health/10.0.0.10:80', value: 0 }]);
    expect(ssm.get(3, 1)).toEqual([
      { key: 'alerts/1.2.3.4', value: 5 },
      { key: 'health/10.0.0.10:80', value: 0 },
    ]);
    ssm.remove(3, 1);
    expect(ssm.get(3, 1)).toEqual([{ key: 'health/10.0.0.10:80', value: 0 }]);
    expect(ssm.config(3)).toMatchObject({ kind: 'lb', name: 'web-lb', tenant: 'acme', rules: [{ rule: 1, backends: [{ ip: ip('10.0.0.10'), port: 80 }, { ip: ip('10.0.0.20'), port: 80 }] }] });
    expect(ssm.config(4)).toBeNull();
    expect(() => ssm.share(-1, 0, [])).toThrow(/needs a slice tag/);
  });

  test('the element pushes its type-1 state to its SSM as it changes', () => {
    const { a } = build();
    a.host.element.setBackendHealth(3, ip('10.0.0.20'), 80, false);
    a.host.process(9, 1, 'copy', syn(1), true);
    a.host.process(9, 1, 'copy', syn(2), true);
    expect(a.host.ssm.held()).toEqual([
      { tag: 3, vmKey: 0, entries: [{ key: 'health/10.0.0.20:80', value: 0 }] },
      { tag: 9, vmKey: 1, entries: [{ key: 'alerts/10.1.0.1', value: 2 }] },
    ]);
  });

  test('bad factory options throw before any node starts', () => {
    expect(() => middleboxHookFactory({ element: { gapTimeoutNs: -1 } })).toThrow(/gapTimeoutNs/);
    expect(() => middleboxHookFactory({ ssm: { retransmit: 1 } as never })).toThrow(/unknown option 'retransmit'/);
    expect(() => middleboxHookFactory({ elements: {} } as never)).toThrow(/unknown option 'elements'/);
  });
});

describe('exchange between hosts', () => {
  test.each([1, 2, 3, 4, 5])('push and pull complete over a lossy, duplicating link (seed %i)', (seed) => {
    const { world, a, b, exchanges } = build(seed, true);
    a.host.element.setBackendHealth(3, ip('10.0.0.10'), 80, false);
    a.host.process(9, 1, 'copy', syn(1), true);
    a.host.process(3, 1, 'inspect', syn(2), true);
    a.host.ssm.pushTo('b', 3, 0);
    let pulled: readonly SharedSliceState[] | null = null;
    let calls = 0;
    b.host.ssm.pull('a', 1, (s) => {
      pulled = s;
      calls++;
    });
    world.scheduler.runFor(2_000_000_000);
    expect(calls).toBe(1);
    expect(pulled).toEqual([
      { tag: 3, entries: [{ key: 'health/10.0.0.10:80', value: 0 }] },
      { tag: 9, entries: [{ key: 'alerts/10.1.0.1', value: 1 }] },
    ]);
    // The pushed health reaches b's element: its load balancer skips the backend a saw down.
    const v = b.host.process(3, 2, 'inspect', syn(3), true);
    expect(v.verdict === 'pass' && v.headers.ipDst).toBe(ip('10.0.0.20'));
    expect(exchanges.filter((e) => (e as { to: string }).to === 'b').length).toBe(2);
    // Nothing is left outstanding: no more sends once answered.
    world.scheduler.runUntilQuiescent();
  });

  test("pushing a VM's slice carries the slice-wide state too; the VM's own entries only fill in", () => {
    const { world, a, b } = build(2, true);
    a.host.element.setBackendHealth(3, ip('10.0.0.10'), 80, false);
    a.host.process(9, 1, 'copy', syn(1), true);
    a.host.process(9, 1, 'copy', syn(2), true);
    a.host.process(9, 2, 'copy', syn(3), true);
    b.host.process(9, 1, 'copy', syn(4), true); // VM 1 already counted one alert at b
    b.host.ssm.share(9, 1, [{ key: 'alerts/9.9.9.9', value: 1 }]);
    for (const tag of [3, 9]) a.host.ssm.pushTo('b', tag, 1);
    world.scheduler.runFor(2_000_000_000);
    expect(b.host.ssm.get(3, 1)).toEqual([{ key: 'health/10.0.0.10:80', value: 0 }]);
    expect(b.host.ssm.get(9, 1)).toEqual([
      { key: 'alerts/10.1.0.1', value: 1 },
      { key: 'alerts/9.9.9.9', value: 1 },
    ]);
    expect(b.host.element.sharedOf(1)).toEqual([{ tag: 9, entries: [{ key: 'alerts/10.1.0.1', value: 1 }] }]);
    expect(b.host.ssm.get(9, 2)).toEqual([]);
  });

  test('connection (type-2) state never crosses SSM to SSM', () => {
    const { world, a, b } = build(7, true);
    for (let p = 1; p <= 5; p++) a.host.process(3, 1, 'inspect', syn(p), true);
    a.host.process(9, 1, 'copy', syn(9), true);
    a.host.ssm.pushTo('b', 3, 1);
    a.host.ssm.pushTo('b', 9, 1);
    b.host.ssm.pull('a', 1, () => {});
    world.scheduler.runFor(2_000_000_000);
    const wire = JSON.stringify([...a.received, ...b.received]);
    expect(wire).not.toMatch(/tuple|translated|connections|phase/);
    expect(b.host.element.connections()).toEqual([]);
    expect(a.host.element.connections(1).length).toBe(5);
  });
});

describe('migration middleman', () => {
  test('local-only state out; at the destination it is installed with the held type-1 state before the ACK', () => {
    const { world, a, b } = build(3);
    for (let p = 1; p <= 3; p++) a.host.process(3, 1, 'inspect', syn(p), true);
    a.host.process(9, 1, 'copy', syn(1), true);
    a.host.element.setBackendHealth(3, ip('10.0.0.20'), 80, false);
    const local = a.host.ssm.prepareMigration(1, 'vif-1');
    expect(local.slices.every((s) => s.shared.length === 0)).toBe(true);
    expect(local.slices.flatMap((s) => s.connections).length).toBe(3);

    b.host.element.expectState(1, 'drop');
    for (const s of local.slices) a.host.ssm.pushTo('b', s.tag, 1);
    world.scheduler.runFor(1_000_000_000);
    let installedAtAck = -1;
    b.host.ssm.deliver(local, [], () => (installedAtAck = b.host.element.connections(1).length));
    expect(installedAtAck).toBe(3);
    expect(b.host.element.gather(1, 'vif-1', 'all')).toEqual(a.host.element.gather(1, 'vif-1', 'all'));
    // The established connections keep their backends at the destination.
    for (let p = 1; p <= 3; p++) {
      const est = { ...syn(p), tcpFlags: 0x10 };
      expect(b.host.process(3, 1, 'inspect', est, false)).toEqual(a.host.process(3, 1, 'inspect', est, false));
    }
    expect(b.host.element.stats().gapPackets).toBe(0);
  });
});
