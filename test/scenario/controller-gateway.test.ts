// A logical switch bridged to an external (unmanaged) segment through a gateway, end to end: the
// switch's localnet port binds to the gateway's physical port, so the gateway implements the switch;
// VMs reach external endpoints (ARP first) and external endpoints reach VMs, external broadcasts reach
// every VM of the switch exactly once (with and without a pool node), another tenant never sees any of
// it, and every table equals the desired flows and a from-scratch evaluation of the program.
import { describe, expect, test } from 'vitest';
import { IP_PROTO_UDP, parseIpv4, parseMac } from '../../sim/dataplane/headers.ts';
import { PHYSICAL_PORT } from '../../sim/dataplane/ports.ts';
import { ms } from '../../sim/kernel/time.ts';
import { World } from '../../sim/testbed/world.ts';
import { controllerWorld, controllerOf, expectConverged } from '../support/controller.ts';

const mac = (n: number) => parseMac(`02:00:00:00:00:${n.toString(16).padStart(2, '0')}`);
const ip = (n: number) => parseIpv4(`10.0.0.${n}`);
const LIMITED_BROADCAST = parseIpv4('255.255.255.255');

/** VMs of tenant A's switch 'pub' (bridged to 'physnet' through gw1) and of tenant B's 'priv' (same addresses). */
const PUB = [
  { name: 'v1', host: 'h1', n: 1 },
  { name: 'v2', host: 'h2', n: 2 },
  { name: 'v3', host: 'h3', n: 3 },
];
const PRIV = [
  { name: 'w1', host: 'h1', n: 1 },
  { name: 'w2', host: 'h3', n: 2 },
];
const ENDPOINTS = [
  { name: 'e1', n: 101 },
  { name: 'e2', n: 102 },
];

function build(pools: readonly string[] = []) {
  const { world, nb, dp } = controllerWorld(3, { poolNodes: pools });
  for (const h of ['h1', 'h2', 'h3']) {
    const vms = [...PUB, ...PRIV].filter((v) => v.host === h);
    dp.addHost(h, vms.map((v) => ({ name: v.name, vifId: `vif-${v.name}`, mac: mac(v.n), ip: ip(v.n) })));
  }
  dp.addExternalSegment('physnet', ENDPOINTS.map((e) => ({ name: e.name, mac: mac(e.n), ip: ip(e.n) })));
  dp.addGateway('gw1', 'physnet');
  dp.addPoolNode('p1');
  dp.meshTunnels();
  dp.setControllers(['ctl']);
  nb.createSwitch({ name: 'pub', tenant: 'A' });
  nb.createSwitch({ name: 'priv', tenant: 'B' });
  for (const [sw, vms] of [['pub', PUB], ['priv', PRIV]] as const) {
    for (const v of vms) {
      const addr = `02:00:00:00:00:0${v.n} 10.0.0.${v.n}`;
      nb.createSwitchPort({ name: v.name, switch: sw, addresses: [addr], portSecurity: [addr], vifId: `vif-${v.name}` });
    }
  }
  nb.createSwitchPort({ name: 'pub-ln', switch: 'pub', type: 'localnet', network: 'physnet', gateway: 'gw1' });
  world.scheduler.runUntil(ms(500));
  return { world, nb, dp };
}

type Built = ReturnType<typeof build>;
const cookies = (world: World, id: string) => [...new Set(controllerOf(world).desiredFlows(id).map((f) => f.cookie))].sort();
const run = (b: Built, forMs: number) => b.world.scheduler.runUntil(b.world.now + ms(forMs));


/** Receptions of packets of origin `originId`, per VM and per external endpoint. */
function receptions({ dp }: Built, originId: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of [...PUB, ...PRIV]) {
    const n = dp.host(v.host).vm(v.name).received.filter((r) => r.originId === originId).length;
    if (n > 0) out[v.name] = n;
  }
  for (const e of ENDPOINTS) {
    const n = dp.segment('physnet').endpoint(e.name).received.filter((r) => r.originId === originId).length;
    if (n > 0) out[e.name] = n;
  }
  return out;
}

const udpTo = (received: readonly { headers: { ipProto: number; l4Dst: number } }[]) => received.filter((r) => r.headers.ipProto === IP_PROTO_UDP).map((r) => r.headers.l4Dst);

describe('a logical switch bridged to an external segment through a gateway', () => {
  test('the gateway implements the bridged switch only, and every table converges', () => {
    const b = build();
    expectConverged(b.world, b.dp);
    expect(cookies(b.world, 'gw1')).toEqual(['dp:1']);
    const toPhysical = controllerOf(b.world)
      .desiredFlows('gw1')
      .filter((f) => f.actions.some((a) => a.type === 'output' && a.port === PHYSICAL_PORT));
    expect(toPhysical).toHaveLength(1); // LS_OUT_PORT_SEC for the localnet port
  });

  test('a VM reaches an external endpoint, with ARP, and the endpoint answers', () => {
    const b = build();
    b.dp.host('h2').sendIpFromVm('v2', { ipDst: ip(101), ipProto: IP_PROTO_UDP, l4Src: 5000, l4Dst: 53 }, 40);
    run(b, 500);
    const e1 = b.dp.segment('physnet').endpoint('e1');
    expect(udpTo(e1.received)).toEqual([53]);
    expect(e1.neighbour(ip(2))).toBe(mac(2)); // learned from v2's ARP request
    b.dp.segment('physnet').sendIpFromEndpoint('e1', { ipDst: ip(2), ipProto: IP_PROTO_UDP, l4Src: 53, l4Dst: 5000 }, 40);
    run(b, 500);
    expect(udpTo(b.dp.host('h2').vm('v2').received)).toEqual([5000]);
    // Tenant B has a VM with v2's very addresses: it sees nothing of this.
    expect(b.dp.host('h3').vm('w2').received).toEqual([]);
  });

  test('an external endpoint reaches a VM first (ARP broadcast in, unknown-unicast reply out)', () => {
    const b = build();
    b.dp.segment('physnet').sendIpFromEndpoint('e2', { ipDst: ip(3), ipProto: IP_PROTO_UDP, l4Src: 9, l4Dst: 99 }, 10);
    run(b, 500);
    expect(udpTo(b.dp.host('h3').vm('v3').received)).toEqual([99]);
    // Every VM of 'pub' saw the ARP request exactly once; 'priv' saw nothing.
    for (const v of PUB) expect(b.dp.host(v.host).vm(v.name).received.filter((r) => r.headers.ethType === 0x0806)).toHaveLength(1);
    for (const w of PRIV) expect(b.dp.host(w.host).vm(w.name).received).toEqual([]);
    b.dp.host('h3').sendIpFromVm('v3', { ipDst: ip(102), ipProto: IP_PROTO_UDP, l4Src: 99, l4Dst: 9 }, 10);
    run(b, 500);
    expect(udpTo(b.dp.segment('physnet').endpoint('e2').received)).toEqual([9]);
  });

  for (const pools of [[], ['p1']]) {
    test(`an external broadcast reaches every VM of the switch exactly once (pool nodes: ${pools.join(',') || 'none'})`, () => {
      const b = build(pools);
      expectConverged(b.world, b.dp);
      const origin = b.dp.segment('physnet').sendIpFromEndpoint('e1', { ipDst: LIMITED_BROADCAST, ipProto: IP_PROTO_UDP, l4Src: 67, l4Dst: 68 }, 100);
      run(b, 300);
      expect(receptions(b, origin)).toEqual({ v1: 1, v2: 1, v3: 1, e2: 1 });
      // And a VM's broadcast reaches the other VMs and both endpoints once each.
      const fromVm = b.dp.host('h1').sendIpFromVm('v1', { ipDst: LIMITED_BROADCAST, ipProto: IP_PROTO_UDP, l4Src: 68, l4Dst: 67 }, 100);
      run(b, 300);
      expect(receptions(b, fromVm)).toEqual({ v2: 1, v3: 1, e1: 1, e2: 1 });
      expect(cookies(b.world, 'p1')).toEqual(pools.length === 0 ? [] : ['dp:1', 'dp:2']);
    });
  }

  test('bridging rules: the network must be the segment the gateway is wired to; one switch per physical port', () => {
    const b = build();
    // 'priv' asks for the same wire: VLAN-less bridging gives it to the older switch only.
    b.nb.createSwitchPort({ name: 'priv-ln', switch: 'priv', type: 'localnet', network: 'physnet', gateway: 'gw1' });
    run(b, 500);
    expectConverged(b.world, b.dp);
    expect(cookies(b.world, 'gw1')).toEqual(['dp:1']);
    // 'pub' moves to a network gw1 is not wired to: unbound, and 'priv' takes the wire.
    b.nb.updateSwitchPort('pub-ln', { network: 'elsewhere' });
    run(b, 500);
    expectConverged(b.world, b.dp);
    expect(cookies(b.world, 'gw1')).toEqual(['dp:2']);
    const origin = b.dp.segment('physnet').sendIpFromEndpoint('e1', { ipDst: LIMITED_BROADCAST, ipProto: IP_PROTO_UDP, l4Src: 1, l4Dst: 2 }, 10);
    run(b, 300);
    expect(receptions(b, origin)).toEqual({ w1: 1, w2: 1, e2: 1 });
  });
});
