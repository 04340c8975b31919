// Distributed logical routers end to end through the controller: VMs on different hosts and switches
// reach each other through a router (ARP for the gateway answered by the switch, TTL decremented, MACs
// rewritten), the router answers pings to its addresses, static routes (through a next-hop VM, with and
// without a named output port) follow longest-prefix match, a three-tier tenant's ACLs hold on routed
// traffic, and after every change each switch's table equals the controller's desired flows and a
// from-scratch evaluation of the program.
import { describe, expect, test } from 'vitest';
import { TABLE } from '../../sim/control/pipeline.ts';
import { IP_PROTO_ICMP, IP_PROTO_TCP, IP_PROTO_UDP, parseIpv4, parseMac } from '../../sim/dataplane/headers.ts';
import type { IpSend } from '../../sim/dataplane/ip-stack.ts';
import type { VmSpec } from '../../sim/dataplane/vm.ts';
import { ms } from '../../sim/kernel/time.ts';
import { LogicalNetworks } from '../../sim/logical/logical-networks.ts';
import { controllerWorld, expectConverged } from '../support/controller.ts';

interface VmAt {
  readonly host: string;
  readonly name: string;
  readonly sw: string;
  readonly ip: string;
  readonly gateway: string;
}

/**
 * A tenant: switches (name → subnet, router port IP), VMs, one router "lr" joining the switches. MACs:
 * VM i gets 02:00:00:00:00:<i>, router port j 02:00:00:00:ff:<j>.
 */
function build(switches: Record<string, { subnet: string; routerIp: string }>, vms: readonly VmAt[], hosts: readonly string[]) {
  const { world, nb, dp } = controllerWorld(1);
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  const vmMac = (i: number) => `02:00:00:00:00:${hex(i + 1)}`;
  for (const h of hosts) {
    const specs: VmSpec[] = vms.flatMap((v, i) => (v.host === h ? [{ name: v.name, vifId: `vif-${v.name}`, mac: parseMac(vmMac(i)), ip: parseIpv4(v.ip), gateway: parseIpv4(v.gateway) }] : []));
    dp.addHost(h, specs);
  }
  dp.meshTunnels();
  dp.setControllers(['ctl']);
  nb.createRouter({ name: 'lr', tenant: 'T' });
  Object.entries(switches).forEach(([name, { subnet, routerIp }], j) => {
    nb.createSwitch({ name, tenant: 'T', subnet });
    nb.connectRouter({ router: 'lr', switch: name, name: `lr-${name}`, mac: `02:00:00:00:ff:${hex(j + 1)}`, ip: `${routerIp}/${subnet.split('/')[1]}` });
  });
  vms.forEach((v, i) => {
    const address = `${vmMac(i)} ${v.ip}`;
    nb.createSwitchPort({ name: v.name, switch: v.sw, addresses: [address], portSecurity: [address], vifId: `vif-${v.name}` });
  });
  let now = 500;
  world.scheduler.runUntil(ms(now));
  const hostOf = (vm: string) => vms.find((v) => v.name === vm)!.host;
  const vmOf = (vm: string) => dp.host(hostOf(vm)).vm(vm);
  const run = (msMore: number) => {
    now += msMore;
    world.scheduler.runUntil(ms(now));
  };
  /** Sends IP from `from` to `ipDst` (ARP first, as the VM's stack does) and returns what `to` got of it. */
  const send = (from: string, ipDst: string, to: string, spec: Omit<IpSend, 'ipDst'>) => {
    const id = dp.host(hostOf(from)).sendIpFromVm(from, { ipDst: parseIpv4(ipDst), ...spec }, 10);
    run(200);
    return vmOf(to).received.filter((r) => r.originId === id);
  };
  const change = (fn: (net: LogicalNetworks) => void) => {
    fn(nb);
    run(300);
  };
  return { world, nb, dp, vmOf, send, run, change };
}

const udp = (l4Dst: number) => ({ ipProto: IP_PROTO_UDP, l4Src: 4000, l4Dst });
const tcp = (l4Dst: number) => ({ ipProto: IP_PROTO_TCP, l4Src: 4000, l4Dst });

// Two switches behind one router: a1 on h1 (only switch A there), a2 and b1 on h2, b2 on h3 (only B).
const TWO = {
  switches: { 'ls-a': { subnet: '10.0.1.0/24', routerIp: '10.0.1.1' }, 'ls-b': { subnet: '10.0.2.0/24', routerIp: '10.0.2.1' } },
  vms: [
    { host: 'h1', name: 'a1', sw: 'ls-a', ip: '10.0.1.10', gateway: '10.0.1.1' },
    { host: 'h2', name: 'a2', sw: 'ls-a', ip: '10.0.1.11', gateway: '10.0.1.1' },
    { host: 'h2', name: 'b1', sw: 'ls-b', ip: '10.0.2.10', gateway: '10.0.2.1' },
    { host: 'h3', name: 'b2', sw: 'ls-b', ip: '10.0.2.11', gateway: '10.0.2.1' },
  ],
  hosts: ['h1', 'h2', 'h3', 'h4'],
};
const twoSwitches = () => build(TWO.switches, TWO.vms, TWO.hosts);
const ROUTER_MAC_A = parseMac('02:00:00:00:ff:01');
const ROUTER_MAC_B = parseMac('02:00:00:00:ff:02');

describe('distributed logical routers through the controller', () => {
  test('UDP across the router between hosts that each hold only one of the switches; ARP for the gateway; TTL and MACs', () => {
    const { world, dp, vmOf, send } = twoSwitches();
    const got = send('a1', '10.0.2.11', 'b2', udp(53));
    expect(got.length).toBe(1);
    const h = got[0].headers;
    expect(h.ipTtl).toBe(63);
    expect(h.ethSrc).toBe(ROUTER_MAC_B);
    expect(h.ethDst).toBe(parseMac('02:00:00:00:00:04'));
    expect([h.ipSrc, h.ipDst]).toEqual([parseIpv4('10.0.1.10'), parseIpv4('10.0.2.11')]);
    // The switch answered a1's ARP for its gateway with the router port's MAC.
    expect(vmOf('a1').stack.neighbour(parseIpv4('10.0.1.1'))).toBe(ROUTER_MAC_A);
    // And back, from the host that holds only switch B to the one that holds only switch A.
    const back = send('b2', '10.0.1.10', 'a1', tcp(80));
    expect(back.map((r) => [r.headers.ipTtl, r.headers.ethSrc])).toEqual([[63, ROUTER_MAC_A]]);
    // Locally routed (a2 and b1 share h2), and a VM of the same switch is still reached directly.
    expect(send('a2', '10.0.2.10', 'b1', udp(7)).map((r) => r.headers.ipTtl)).toEqual([63]);
    expect(send('a1', '10.0.1.11', 'a2', udp(7)).map((r) => r.headers.ipTtl)).toEqual([64]);
    // h4 implements nothing of the tenant; h1 has the router's flows and switch B's, to route into B.
    expect(dp.switchNode('h4').switch.flows.flows()).toEqual([]);
    const cookies = new Set(dp.switchNode('h1').switch.flows.flows().map((f) => f.cookie));
    expect([...cookies].sort()).toEqual(['dp:1', 'dp:2', 'dp:3']);
    expectConverged(world, dp, TWO.hosts);
  });

  test('a packet whose TTL runs out at the router is dropped; the router answers pings to any of its addresses', () => {
    const { world, dp, vmOf, send, run } = twoSwitches();
    expect(send('a1', '10.0.2.11', 'b2', { ...udp(9), ipTtl: 1 })).toEqual([]);
    expect(send('a1', '10.0.2.11', 'b2', { ...udp(9), ipTtl: 2 }).map((r) => r.headers.ipTtl)).toEqual([1]);
    for (const target of ['10.0.1.1', '10.0.2.1']) {
      const before = vmOf('a1').received.length;
      dp.host('h1').sendIpFromVm('a1', { ipDst: parseIpv4(target), ipProto: IP_PROTO_ICMP, l4Src: 8, l4Dst: 0 }, 56);
      run(200);
      const replies = vmOf('a1').received.slice(before).filter((r) => r.headers.ipProto === IP_PROTO_ICMP);
      expect(replies.map((r) => [r.headers.ipSrc, r.headers.l4Src, r.headers.ethSrc])).toEqual([[parseIpv4(target), 0, ROUTER_MAC_A]]);
    }
    // An address on the router's network that no port owns is dropped at next-hop resolution.
    const trace = dp.traceFromVm('h1', 'a1', { ethSrc: parseMac('02:00:00:00:00:01'), ethDst: ROUTER_MAC_A, ethType: 0x0800, ipSrc: parseIpv4('10.0.1.10'), ipDst: parseIpv4('10.0.2.99'), ipProto: IP_PROTO_UDP, ipTtl: 64, l4Src: 1, l4Dst: 2, tcpFlags: 0 });
    expect(trace.delivered).toEqual([]);
    expect(trace.switches.map((s) => s.drop)).toEqual([{ reason: 'drop-action', table: TABLE.LR_IN_ARP_RESOLVE }]);
    expectConverged(world, dp, TWO.hosts);
  });

  test('static routes: through a next-hop VM, longest prefix first, connected before static, added and removed incrementally', () => {
    const { world, dp, send, change } = twoSwitches();
    // Nothing routes 192.168.0.0/16 yet.
    expect(send('a1', '192.168.5.5', 'b1', udp(1))).toEqual([]);
    change((net) => net.createStaticRoute({ router: 'lr', prefix: '192.168.0.0/16', nexthop: '10.0.2.10' }));
    const via = send('a1', '192.168.5.5', 'b1', udp(1));
    expect(via.map((r) => [r.headers.ipDst, r.headers.ethDst, r.headers.ipTtl])).toEqual([[parseIpv4('192.168.5.5'), parseMac('02:00:00:00:00:03'), 63]]);
    // A longer prefix through a named port wins for its addresses only.
    change((net) => net.createStaticRoute({ router: 'lr', prefix: '192.168.7.0/24', nexthop: '10.0.1.11', outputPort: 'lr-ls-a' }));
    expect(send('a1', '192.168.7.7', 'a2', udp(2)).length).toBe(1);
    expect(send('a1', '192.168.8.8', 'b1', udp(2)).length).toBe(1);
    // A static route for a connected network loses to it; a longer one inside it wins.
    change((net) => net.createStaticRoute({ router: 'lr', prefix: '10.0.2.0/24', nexthop: '10.0.1.11' }));
    expect(send('a1', '10.0.2.11', 'b2', udp(3)).length).toBe(1);
    change((net) => net.createStaticRoute({ router: 'lr', prefix: '10.0.2.0/25', nexthop: '10.0.1.11' }));
    expect(send('b2', '10.0.2.10', 'b1', udp(3)).length).toBe(1); // same switch: no router involved
    expect(send('a1', '10.0.2.11', 'a2', udp(3)).length).toBe(1);
    expectConverged(world, dp, TWO.hosts);
    // Changing and deleting routes takes effect and leaves nothing behind.
    change((net) => net.updateStaticRoute('lr', '192.168.0.0/16', { nexthop: '10.0.2.11' }));
    expect(send('a1', '192.168.5.5', 'b2', udp(4)).length).toBe(1);
    const before = TWO.hosts.map((h) => dp.switchNode(h).switch.flows.flows().length);
    change((net) => {
      net.deleteStaticRoute('lr', '10.0.2.0/25');
      net.deleteStaticRoute('lr', '10.0.2.0/24');
      net.deleteStaticRoute('lr', '192.168.7.0/24');
      net.deleteStaticRoute('lr', '192.168.0.0/16');
    });
    expect(send('a1', '10.0.2.11', 'b2', udp(5)).length).toBe(1);
    expect(send('a1', '192.168.5.5', 'b2', udp(5))).toEqual([]);
    expect(TWO.hosts.map((h) => dp.switchNode(h).switch.flows.flows().length)).not.toEqual(before);
    expectConverged(world, dp, TWO.hosts);
  });

  test('a to-lport ACL matching the router-type inport holds on the chassis a routed packet is tunnelled to', () => {
    const { world, dp, send, change } = twoSwitches();
    // After LR_OUT_DELIVER, reg6 is B's router-type port; the tunnel must carry it to b2's chassis (h3).
    change((net) =>
      net.createAcl({ name: 'b2-no-routed-dns', switch: 'ls-b', priority: 100, direction: 'to-lport', action: 'drop', match: { inport: 'lr-ls-b-peer', outport: 'b2', ipProto: 'udp', l4Dst: 53 } }),
    );
    expect(send('a1', '10.0.2.11', 'b2', udp(53))).toEqual([]); // routed on h1, tunnelled h1 -> h3
    expect(send('a2', '10.0.2.11', 'b2', udp(53))).toEqual([]); // routed on h2, tunnelled h2 -> h3
    expect(send('a1', '10.0.2.11', 'b2', udp(54)).length).toBe(1);
    expect(send('b1', '10.0.2.11', 'b2', udp(53)).length).toBe(1); // switched, not routed: inport is b1's
    expect(send('a2', '10.0.2.10', 'b1', udp(53)).length).toBe(1); // another outport
    const headers = { ethSrc: parseMac('02:00:00:00:00:01'), ethDst: ROUTER_MAC_A, ethType: 0x0800, ipSrc: parseIpv4('10.0.1.10'), ipDst: parseIpv4('10.0.2.11'), ipProto: IP_PROTO_UDP, ipTtl: 64, l4Src: 1, l4Dst: 53, tcpFlags: 0 };
    const trace = dp.traceFromVm('h1', 'a1', headers);
    expect(trace.delivered).toEqual([]);
    expect(trace.switches.map((s) => s.node)).toEqual(['h1', 'h3']);
    expect(trace.switches[1].hits.map((h) => h.table)).toEqual([TABLE.PHYSICAL_IN, TABLE.LS_FROM_TUNNEL, TABLE.LS_OUT_ACL]);
    expectConverged(world, dp, TWO.hosts);
  });

  test('topology changes: a router port goes away and comes back, a VM is unbound', () => {
    const { world, nb, dp, send, change } = twoSwitches();
    const [lr, lsA, lsB] = [nb.getRouter('lr')!.dp, nb.getSwitch('ls-a')!.dp, nb.getSwitch('ls-b')!.dp].map((k) => `dp:${k}`);
    expect(send('a1', '10.0.2.11', 'b2', udp(1)).length).toBe(1);
    change((net) => net.deleteRouterPort('lr-ls-b'));
    expect(send('a1', '10.0.2.11', 'b2', udp(1))).toEqual([]);
    // With B detached, h3 (only B) has no router flows, and h1 (only A) none of B's.
    const cookies = (h: string) => [...new Set(dp.switchNode(h).switch.flows.flows().map((f) => f.cookie))].sort();
    expect(cookies('h1')).toEqual([lr, lsA].sort());
    expect(cookies('h3')).toEqual([lsB]);
    expectConverged(world, dp, TWO.hosts);
    change((net) => net.connectRouter({ router: 'lr', switch: 'ls-b', name: 'lr-ls-b', mac: '02:00:00:00:ff:02', ip: '10.0.2.1/24' }));
    expect(send('a1', '10.0.2.11', 'b2', udp(2)).length).toBe(1);
    // Unbinding the only A port on h1 takes every tenant flow off h1.
    change((net) => net.unbindPort('a1'));
    expect(dp.switchNode('h1').switch.flows.flows()).toEqual([]);
    expectConverged(world, dp, TWO.hosts);
  });

  test('three tiers behind one router: web→app and app→db pass, everything else toward db and db→web is dropped', () => {
    const switches = {
      web: { subnet: '10.1.0.0/24', routerIp: '10.1.0.1' },
      app: { subnet: '10.2.0.0/24', routerIp: '10.2.0.1' },
      db: { subnet: '10.3.0.0/24', routerIp: '10.3.0.1' },
    };
    const vms = [
      { host: 'h1', name: 'web1', sw: 'web', ip: '10.1.0.10', gateway: '10.1.0.1' },
      { host: 'h3', name: 'web2', sw: 'web', ip: '10.1.0.11', gateway: '10.1.0.1' },
      { host: 'h2', name: 'app1', sw: 'app', ip: '10.2.0.10', gateway: '10.2.0.1' },
      { host: 'h3', name: 'db1', sw: 'db', ip: '10.3.0.10', gateway: '10.3.0.1' },
    ];
    const hosts = ['h1', 'h2', 'h3'];
    const { world, dp, send, change } = build(switches, vms, hosts);
    change((net) => {
      // app accepts (to-lport) only from web; db only from app; web refuses (from-lport, entering from the
      // router) anything that comes from db.
      net.createAcl({ name: 'app-from-web', switch: 'app', priority: 200, direction: 'to-lport', action: 'allow', match: { ipSrc: '10.1.0.0/24', ipDst: '10.2.0.0/24' } });
      net.createAcl({ name: 'app-default', switch: 'app', priority: 100, direction: 'to-lport', action: 'drop', match: { ipDst: '10.2.0.0/24' } });
      net.createAcl({ name: 'db-from-app', switch: 'db', priority: 200, direction: 'to-lport', action: 'allow', match: { ipSrc: '10.2.0.0/24', ipDst: '10.3.0.0/24', ipProto: 'tcp', l4Dst: 5432 } });
      net.createAcl({ name: 'db-default', switch: 'db', priority: 100, direction: 'to-lport', action: 'drop', match: { ipDst: '10.3.0.0/24' } });
      net.createAcl({ name: 'web-not-from-db', switch: 'web', priority: 100, direction: 'from-lport', action: 'drop', match: { inport: 'lr-web-peer', ipSrc: '10.3.0.0/24' } });
    });
    expect(send('web1', '10.2.0.10', 'app1', tcp(8080)).length).toBe(1);
    expect(send('web2', '10.2.0.10', 'app1', tcp(8080)).length).toBe(1);
    expect(send('app1', '10.3.0.10', 'db1', tcp(5432)).length).toBe(1);
    expect(send('app1', '10.3.0.10', 'db1', tcp(22))).toEqual([]);
    expect(send('web1', '10.3.0.10', 'db1', tcp(5432))).toEqual([]);
    expect(send('web2', '10.3.0.10', 'db1', tcp(5432))).toEqual([]); // same host, still routed and checked
    expect(send('db1', '10.1.0.10', 'web1', tcp(80))).toEqual([]);
    expect(send('db1', '10.1.0.11', 'web2', tcp(80))).toEqual([]);
    expect(send('db1', '10.2.0.10', 'app1', tcp(80))).toEqual([]);
    expect(send('app1', '10.1.0.10', 'web1', tcp(80)).length).toBe(1); // web only refuses db
    // Within a tier nothing changes: web1 and web2 talk directly.
    expect(send('web1', '10.1.0.11', 'web2', udp(9)).length).toBe(1);
    expectConverged(world, dp, hosts);
    // Opening db to web takes effect at once.
    change((net) => net.createAcl({ name: 'db-from-web', switch: 'db', priority: 150, direction: 'to-lport', action: 'allow', match: { ipSrc: '10.1.0.0/24' } }));
    expect(send('web1', '10.3.0.10', 'db1', tcp(5432)).length).toBe(1);
    expectConverged(world, dp, hosts);
  });
});
