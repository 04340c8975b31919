// BUM traffic end to end through the controller: broadcasts and unknown unicast on logical switches that
// span five hosts, replicated through a pool node (one copy leaves the first hop; the pool node fans it
// out to every other chassis of the switch, never back to the sender) or, with no pool node configured,
// at the source. Counts receptions per packet origin, so "exactly once" and "never another tenant" are
// checked directly, and compares every table with the controller's desired flows and with a from-scratch
// evaluation of the whole program.
import { describe, expect, test } from 'vitest';
import { IP_PROTO_UDP, MAC_BROADCAST, parseIpv4, parseMac } from '../../sim/dataplane/headers.ts';
import { ms } from '../../sim/kernel/time.ts';
import { World } from '../../sim/testbed/world.ts';
import { controllerWorld, controllerOf, expectConverged } from '../support/controller.ts';

const HOSTS = ['h1', 'h2', 'h3', 'h4', 'h5'];
const macText = (n: number) => `02:00:00:00:00:${n.toString(16).padStart(2, '0')}`;
const ipText = (n: number) => `10.0.0.${n}`;

/**
 * Tenant A (switch ls-a, dp 1): a1, a2 on h1; a3 h2; a4 h3; a5 h4; a6 h5 (a6 also takes unknown MACs).
 * Tenant B (ls-b, dp 2): b1 h1, b2 h3, b3 h4 — reusing a1..a3's MACs and IPs.
 * Tenant C (ls-c, dp 3): c1 alone on h2, so it needs no replication at all.
 */
const VMS: { name: string; host: string; sw: string; n: number; unknown?: boolean }[] = [
  { name: 'a1', host: 'h1', sw: 'ls-a', n: 1 },
  { name: 'a2', host: 'h1', sw: 'ls-a', n: 2 },
  { name: 'a3', host: 'h2', sw: 'ls-a', n: 3 },
  { name: 'a4', host: 'h3', sw: 'ls-a', n: 4 },
  { name: 'a5', host: 'h4', sw: 'ls-a', n: 5 },
  { name: 'a6', host: 'h5', sw: 'ls-a', n: 6, unknown: true },
  { name: 'b1', host: 'h1', sw: 'ls-b', n: 1 },
  { name: 'b2', host: 'h3', sw: 'ls-b', n: 2 },
  { name: 'b3', host: 'h4', sw: 'ls-b', n: 3 },
  { name: 'c1', host: 'h2', sw: 'ls-c', n: 7 },
];

function build(pools: readonly string[], poolNodes: readonly string[] = ['p1', 'p2']) {
  const { world, nb, dp } = controllerWorld(1, { poolNodes: pools });
  for (const h of HOSTS) {
    dp.addHost(
      h,
      VMS.filter((v) => v.host === h).map((v) => ({ name: v.name, vifId: `vif-${v.name}`, mac: parseMac(macText(v.n)), ip: parseIpv4(ipText(v.n)) })),
    );
  }
  for (const p of poolNodes) dp.addPoolNode(p);
  dp.meshTunnels();
  dp.setControllers(['ctl']);
  for (const sw of ['ls-a', 'ls-b', 'ls-c']) nb.createSwitch({ name: sw, tenant: sw.slice(3).toUpperCase() });
  for (const v of VMS) {
    const addr = `${macText(v.n)} ${ipText(v.n)}`;
    nb.createSwitchPort({ name: v.name, switch: v.sw, addresses: v.unknown ? [addr, 'unknown'] : [addr], portSecurity: [addr], vifId: `vif-${v.name}` });
  }
  const tunnelSends: { src: string; dst: string; tunKey: number; tunMeta: number }[] = [];
  world.trace.on('dp.tunnel.send', (e) => tunnelSends.push({ src: e.src, dst: e.dst, tunKey: e.tunKey, tunMeta: e.tunMeta }));
  world.scheduler.runUntil(ms(500));
  return { world, nb, dp, tunnelSends };
}

type Built = ReturnType<typeof build>;
const cookies = (world: World, id: string) => [...new Set(controllerOf(world).desiredFlows(id).map((f) => f.cookie))].sort();

/** Every VM's receptions of packets that originated as `originId`. */
function receptions({ dp }: Built, originId: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of VMS) {
    const n = dp.host(v.host).vm(v.name).received.filter((r) => r.originId === originId).length;
    if (n > 0) out[v.name] = n;
  }
  return out;
}

/** A raw frame from a VM (its own source addresses, so port security passes). */
function sendFrame(b: Built, vm: string, ethDst: number): number {
  const v = VMS.find((x) => x.name === vm)!;
  const headers = { ethSrc: parseMac(macText(v.n)), ethDst, ethType: 0x0800, ipSrc: parseIpv4(ipText(v.n)), ipDst: parseIpv4('10.0.0.200'), ipProto: IP_PROTO_UDP, ipTtl: 64, l4Src: 1, l4Dst: 2, tcpFlags: 0 };
  b.tunnelSends.length = 0;
  const id = b.dp.host(v.host).sendFromVm(vm, headers, 64);
  b.world.scheduler.runUntil(b.world.now + ms(200));
  return id;
}

describe('broadcast and unknown unicast through a pool node', () => {
  test('tables converge; the pool node carries flows only for the switches it serves', () => {
    const b = build(['p1']);
    expectConverged(b.world, b.dp);
    expect(cookies(b.world, 'p1')).toEqual(['dp:1', 'dp:2']); // ls-c lives on one chassis: nothing to replicate
    expect(cookies(b.world, 'p2')).toEqual([]); // not configured as a pool node
    // b2 and b3 leave: ls-b now lives on h1 alone, and the pool node drops its flows.
    b.nb.unbindPort('b2');
    b.nb.unbindPort('b3');
    b.world.scheduler.runUntil(ms(1000));
    expectConverged(b.world, b.dp);
    expect(cookies(b.world, 'p1')).toEqual(['dp:1']);
  });

  test('a broadcast reaches every other VM of its switch exactly once, and no other tenant', () => {
    const b = build(['p1']);
    const origin = sendFrame(b, 'a1', MAC_BROADCAST);
    expect(receptions(b, origin)).toEqual({ a2: 1, a3: 1, a4: 1, a5: 1, a6: 1 });
    // One copy leaves the first hop, to the pool node, which sends one to each other host of ls-a.
    const fromH1 = b.tunnelSends.filter((s) => s.src === 'h1');
    // tunMeta: a1's port key (1) as the logical ingress port, above the flood marker.
    expect(fromH1).toEqual([{ src: 'h1', dst: 'p1', tunKey: 1, tunMeta: (1 << 16) | 0xffff }]);
    // The pool node passes the ingress port on unchanged.
    expect(new Set(b.tunnelSends.map((s) => s.tunMeta))).toEqual(new Set([(1 << 16) | 0xffff]));
    expect(b.tunnelSends.filter((s) => s.src === 'p1').map((s) => s.dst).sort()).toEqual(['h2', 'h3', 'h4', 'h5']);
    expect(b.tunnelSends).toHaveLength(5);
    // Tenant B, same MACs: h3 is the first hop, the pool node fans out to h1 and h4 only.
    const originB = sendFrame(b, 'b2', MAC_BROADCAST);
    expect(receptions(b, originB)).toEqual({ b1: 1, b3: 1 });
    expect(b.tunnelSends.filter((s) => s.src === 'h3').map((s) => s.dst)).toEqual(['p1']);
    expect(b.tunnelSends.filter((s) => s.src === 'p1').map((s) => s.dst).sort()).toEqual(['h1', 'h4']);
  });

  test('unknown unicast goes to the unknown-address port only, through the pool node', () => {
    const b = build(['p1']);
    const origin = sendFrame(b, 'a3', parseMac('02:00:00:00:00:99'));
    expect(receptions(b, origin)).toEqual({ a6: 1 });
    expect(b.tunnelSends.map((s) => `${s.src}>${s.dst}:${s.tunMeta.toString(16)}`)).toEqual(['h2>p1:3fffe', 'p1>h5:3fffe']); // inport a3 (key 3) | OUT_UNKNOWN
    // A switch without unknown-address ports drops it on the first hop.
    const originB = sendFrame(b, 'b1', parseMac('02:00:00:00:00:99'));
    expect(receptions(b, originB)).toEqual({});
    expect(b.tunnelSends).toEqual([]);
    // From the host of the unknown-address port itself: delivered there, nothing leaves.
    const local = sendFrame(b, 'a6', parseMac('02:00:00:00:00:98'));
    expect(receptions(b, local)).toEqual({});
    expect(b.tunnelSends).toEqual([]);
  });

  test('two pool nodes: each switch uses one of them (dp mod the sorted list), still exactly once', () => {
    const b = build(['p2', 'p1']);
    expectConverged(b.world, b.dp);
    expect(cookies(b.world, 'p2')).toEqual(['dp:1']); // dp 1 -> ['p1','p2'][1]
    expect(cookies(b.world, 'p1')).toEqual(['dp:2']); // dp 2 -> ['p1','p2'][0]
    const origin = sendFrame(b, 'a5', MAC_BROADCAST);
    expect(receptions(b, origin)).toEqual({ a1: 1, a2: 1, a3: 1, a4: 1, a6: 1 });
    expect(b.tunnelSends.filter((s) => s.src === 'h4').map((s) => s.dst)).toEqual(['p2']);
    const originB = sendFrame(b, 'b3', MAC_BROADCAST);
    expect(receptions(b, originB)).toEqual({ b1: 1, b2: 1 });
    expect(b.tunnelSends.filter((s) => s.src === 'h4').map((s) => s.dst)).toEqual(['p1']);
  });

  test('ARP and unicast between VMs still work with a pool node', () => {
    const b = build(['p1']);
    b.dp.host('h1').sendIpFromVm('a1', { ipDst: parseIpv4(ipText(5)), ipProto: IP_PROTO_UDP, l4Src: 7, l4Dst: 9 }, 10);
    b.world.scheduler.runUntil(ms(1000));
    const udp = b.dp.host('h4').vm('a5').received.filter((r) => r.headers.ipProto === IP_PROTO_UDP);
    expect(udp.map((r) => r.headers.l4Dst)).toEqual([9]);
    expect(b.dp.host('h4').vm('b3').received).toEqual([]);
  });
});

describe('without a pool node: replication at the source', () => {
  test('a broadcast reaches every other VM once, with one tunnel copy per other host', () => {
    const b = build([]);
    expectConverged(b.world, b.dp);
    expect(cookies(b.world, 'p1')).toEqual([]);
    const origin = sendFrame(b, 'a1', MAC_BROADCAST);
    expect(receptions(b, origin)).toEqual({ a2: 1, a3: 1, a4: 1, a5: 1, a6: 1 });
    expect(b.tunnelSends.map((s) => `${s.src}>${s.dst}`).sort()).toEqual(['h1>h2', 'h1>h3', 'h1>h4', 'h1>h5']);
  });

  test('unknown unicast goes straight to the host of the unknown-address port', () => {
    const b = build([]);
    const origin = sendFrame(b, 'a1', parseMac('02:00:00:00:00:99'));
    expect(receptions(b, origin)).toEqual({ a6: 1 });
    expect(b.tunnelSends.map((s) => `${s.src}>${s.dst}:${s.tunMeta.toString(16)}`)).toEqual(['h1>h5:1fffe']); // inport a1 (key 1) | OUT_UNKNOWN
  });

  test('incremental equals from scratch after ports come and go', () => {
    const b = build([]);
    b.nb.updateSwitchPort('a6', { addresses: [`${macText(6)} ${ipText(6)}`] }); // no longer takes unknown MACs
    b.nb.unbindPort('b3');
    b.nb.createSwitchPort({ name: 'a7', switch: 'ls-a', addresses: ['unknown'], vifId: 'vif-b3' }); // h4's NIC joins ls-a
    b.world.scheduler.runUntil(ms(1000));
    expectConverged(b.world, b.dp);
    const origin = sendFrame(b, 'a1', parseMac('02:00:00:00:00:99'));
    expect(receptions(b, origin)).toEqual({ b3: 1 }); // the VM behind vif-b3, now port a7 of ls-a
    expect(b.tunnelSends.map((s) => `${s.src}>${s.dst}`)).toEqual(['h1>h4']);
  });
});

// The tunnel carries the logical ingress port (tunMeta's high half) through the first hop's replication
// and through the pool node, so a to-lport ACL that matches inport judges every copy on its receiving
// chassis. Three replicators: the source, a dedicated pool node, and a host (h5, holding a6) that is the
// pool node itself and so both relays copies and delivers them to its own port.
describe.each([
  { name: 'at the source', pools: [] as string[] },
  { name: 'through pool node p1', pools: ['p1'] },
  { name: 'through host h5 as the pool node', pools: ['h5'] },
])('to-lport ACLs matching inport on replicated copies, $name', ({ pools }) => {
  const withAcls = () => {
    const b = build(pools);
    const drop = (name: string, inport: string, outport: string) =>
      b.nb.createAcl({ name, switch: 'ls-a', priority: 100, direction: 'to-lport', action: 'drop', match: { inport, outport } });
    drop('a4-not-from-a1', 'a1', 'a4');
    drop('a6-not-from-a1', 'a1', 'a6');
    drop('a6-not-from-a3', 'a3', 'a6');
    drop('a5-not-from-a1', 'a1', 'a5');
    b.world.scheduler.runUntil(b.world.now + ms(300));
    return b;
  };

  test('a broadcast loses exactly the denied copies, on every receiving chassis', () => {
    const b = withAcls();
    expect(receptions(b, sendFrame(b, 'a1', MAC_BROADCAST))).toEqual({ a2: 1, a3: 1 });
    expect(receptions(b, sendFrame(b, 'a2', MAC_BROADCAST))).toEqual({ a1: 1, a3: 1, a4: 1, a5: 1, a6: 1 });
    expect(receptions(b, sendFrame(b, 'a3', MAC_BROADCAST))).toEqual({ a1: 1, a2: 1, a4: 1, a5: 1 });
    // Tenant B is untouched by ls-a's ACLs.
    expect(receptions(b, sendFrame(b, 'b1', MAC_BROADCAST))).toEqual({ b2: 1, b3: 1 });
    // Every copy of a1's broadcast carried a1's port key above the marker.
    sendFrame(b, 'a1', MAC_BROADCAST);
    expect(new Set(b.tunnelSends.map((s) => s.tunMeta))).toEqual(new Set([(1 << 16) | 0xffff]));
    const firstHop = b.tunnelSends.filter((s) => s.src === 'h1').map((s) => s.dst);
    expect(firstHop).toEqual(pools.length === 0 ? ['h2', 'h3', 'h4', 'h5'] : pools); // one copy to the pool node
    expectConverged(b.world, b.dp);
  });

  test('unknown unicast and unicast are judged on the destination chassis too', () => {
    const b = withAcls();
    const unknownMac = parseMac('02:00:00:00:00:99');
    expect(receptions(b, sendFrame(b, 'a3', unknownMac))).toEqual({});
    expect(receptions(b, sendFrame(b, 'a4', unknownMac))).toEqual({ a6: 1 });
    expect(receptions(b, sendFrame(b, 'a1', parseMac(macText(5))))).toEqual({});
    expect(receptions(b, sendFrame(b, 'a2', parseMac(macText(5))))).toEqual({ a5: 1 });
    expectConverged(b.world, b.dp);
  });
});
