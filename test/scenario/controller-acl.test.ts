// ACLs end to end through the controller: from-lport and to-lport ACLs on ports, prefixes, protocols
// and L4 ranges, priorities and the restrictive tie-break, to-lport ACLs evaluated on the remote chassis
// and per destination of a flood (matching inport too: the tunnel carries the logical ingress port), and
// ACL changes taking effect incrementally — with every switch's
// table equal to the controller's desired flows and to a from-scratch evaluation of the program.
import { describe, expect, test } from 'vitest';
import { aclFlowPriority } from '../../sim/control/rules/acl-rules.ts';
import { TABLE } from '../../sim/control/pipeline.ts';
import { formatFlow } from '../../sim/dataplane/flow.ts';
import { ETH_TYPE_IPV4, IP_PROTO_ICMP, IP_PROTO_TCP, IP_PROTO_UDP, MAC_BROADCAST, parseIpv4, parseMac } from '../../sim/dataplane/headers.ts';
import type { IpSend } from '../../sim/dataplane/ip-stack.ts';
import { ms } from '../../sim/kernel/time.ts';
import type { AclSpec } from '../../sim/logical/api-types.ts';
import { LogicalNetworks } from '../../sim/logical/logical-networks.ts';
import { controllerWorld, expectConverged } from '../support/controller.ts';

const mac = (n: number) => parseMac(`02:00:00:00:00:0${n}`);
const ip = (n: number) => parseIpv4(`10.0.0.${n}`);
/** VM n is on host VM_HOST[n]: v1 and v2 share h1, v3 is on h2, v4 on h3; h4 hosts nothing. */
const VM_HOST: Record<number, string> = { 1: 'h1', 2: 'h1', 3: 'h2', 4: 'h3' };

function build(seed = 1) {
  const { world, nb, dp } = controllerWorld(seed);
  // Every VM knows every other's MAC, so ACLs on IP traffic are not confused with ARP going missing.
  const neighbours = [1, 2, 3, 4].map((n) => [ip(n), mac(n)] as const);
  const vm = (n: number) => ({ name: `v${n}`, vifId: `vif-${n}`, mac: mac(n), ip: ip(n), staticNeighbours: neighbours });
  dp.addHost('h1', [vm(1), vm(2)]);
  dp.addHost('h2', [vm(3)]);
  dp.addHost('h3', [vm(4)]);
  dp.addHost('h4', []);
  dp.meshTunnels();
  dp.setControllers(['ctl']);
  nb.createSwitch({ name: 'ls', tenant: 'T', subnet: '10.0.0.0/24' });
  for (const n of [1, 2, 3, 4]) {
    const address = `02:00:00:00:00:0${n} 10.0.0.${n}`;
    nb.createSwitchPort({ name: `p${n}`, switch: 'ls', addresses: [address], portSecurity: [address], vifId: `vif-${n}` });
  }
  world.scheduler.runUntil(ms(500));
  let now = 500;
  /** Sends from VM `from` and reports whether VM `to` received that very packet. */
  const delivered = (from: number, to: number, spec: Omit<IpSend, 'ipDst'>): boolean => {
    const id = dp.host(VM_HOST[from]).sendIpFromVm(`v${from}`, { ipDst: ip(to), ...spec }, 10);
    now += 100;
    world.scheduler.runUntil(ms(now));
    return dp.host(VM_HOST[to]).vm(`v${to}`).received.some((r) => r.originId === id);
  };
  /** Applies a northbound change and lets it reach the switches. */
  const change = (fn: (net: LogicalNetworks) => void): void => {
    fn(nb);
    now += 200;
    world.scheduler.runUntil(ms(now));
  };
  const acl = (spec: Omit<AclSpec, 'switch'>) => change((net) => net.createAcl({ switch: 'ls', ...spec }));
  return { world, nb, dp, delivered, change, acl };
}

const udp = (l4Dst: number, l4Src = 5000) => ({ ipProto: IP_PROTO_UDP, l4Src, l4Dst });
const tcp = (l4Dst: number, l4Src = 5000) => ({ ipProto: IP_PROTO_TCP, l4Src, l4Dst });
const icmp = { ipProto: IP_PROTO_ICMP, l4Src: 8, l4Dst: 0 };

describe('ACLs through the controller', () => {
  test('with no ACL everything passes; a from-lport drop on a port stops only that port, locally and remotely', () => {
    const { world, dp, delivered, acl } = build();
    expect(delivered(1, 2, udp(53))).toBe(true);
    expect(delivered(1, 3, udp(53))).toBe(true);
    acl({ name: 'no-v1', priority: 100, direction: 'from-lport', action: 'drop', match: { inport: 'p1' } });
    expect(delivered(1, 2, udp(53))).toBe(false); // same chassis
    expect(delivered(1, 3, udp(53))).toBe(false); // would have been tunnelled
    expect(delivered(2, 3, udp(53))).toBe(true);
    expect(delivered(3, 1, udp(53))).toBe(true); // inport is v3's, not v1's
    expectConverged(world, dp);
  });

  test('prefix, protocol and L4 port range', () => {
    const { world, dp, delivered, acl } = build();
    acl({ name: 'udp-1000s', priority: 100, direction: 'from-lport', action: 'drop', match: { ipProto: 'udp', l4Dst: [1000, 1999] } });
    expect(delivered(1, 3, udp(999))).toBe(true);
    expect(delivered(1, 3, udp(1000))).toBe(false);
    expect(delivered(1, 3, udp(1999))).toBe(false);
    expect(delivered(1, 3, udp(2000))).toBe(true);
    expect(delivered(1, 3, tcp(1500))).toBe(true); // another protocol
    acl({ name: 'tcp-from-22', priority: 100, direction: 'from-lport', action: 'drop', match: { ipProto: 'tcp', l4Src: 22 } });
    expect(delivered(1, 3, tcp(80, 22))).toBe(false);
    expect(delivered(1, 3, tcp(80, 23))).toBe(true);
    acl({ name: 'from-v2-to-v4', priority: 100, direction: 'to-lport', action: 'drop', match: { ipSrc: '10.0.0.2', ipDst: '10.0.0.4/32' } });
    expect(delivered(2, 4, tcp(80))).toBe(false);
    expect(delivered(1, 4, tcp(80))).toBe(true);
    expect(delivered(2, 3, tcp(80))).toBe(true);
    acl({ name: 'no-icmp-low', priority: 100, direction: 'from-lport', action: 'reject', match: { ipSrc: '10.0.0.0/31', ipProto: 'icmp' } });
    expect(delivered(1, 3, icmp)).toBe(false); // 10.0.0.1 is in 10.0.0.0/31
    expect(delivered(2, 3, icmp)).toBe(true); // 10.0.0.2 is not
    expect(delivered(1, 4, udp(53))).toBe(true);
    expectConverged(world, dp);
  });

  test('the highest priority decides; at equal priority the restrictive action wins', () => {
    const { world, dp, delivered, acl } = build();
    acl({ name: 'deny-ip', priority: 100, direction: 'from-lport', action: 'drop', match: { ethType: 'ipv4' } });
    acl({ name: 'allow-udp', priority: 200, direction: 'from-lport', action: 'allow', match: { ipProto: 'udp' } });
    expect(delivered(1, 3, udp(53))).toBe(true);
    expect(delivered(1, 3, tcp(80))).toBe(false);
    // Equal priority: reject beats allow, drop beats allow-related, whatever the order of creation.
    acl({ name: 'allow-dns', priority: 300, direction: 'from-lport', action: 'allow', match: { ipProto: 'udp', l4Dst: 53 } });
    acl({ name: 'reject-dns', priority: 300, direction: 'from-lport', action: 'reject', match: { ipProto: 'udp', l4Dst: 53 } });
    expect(delivered(1, 3, udp(53))).toBe(false);
    acl({ name: 'drop-ntp', priority: 300, direction: 'from-lport', action: 'drop', match: { ipProto: 'udp', l4Dst: 123 } });
    acl({ name: 'related-ntp', priority: 300, direction: 'from-lport', action: 'allow-related', match: { ipProto: 'udp', l4Dst: 123 } });
    expect(delivered(1, 3, udp(123))).toBe(false);
    expect(delivered(1, 3, udp(124))).toBe(true); // only allow-udp at 200 matches
    // A higher priority allow overrides the equal-priority pair.
    acl({ name: 'allow-ntp-v1', priority: 301, direction: 'from-lport', action: 'allow-related', match: { inport: 'p1', ipProto: 'udp', l4Dst: 123 } });
    expect(delivered(1, 3, udp(123))).toBe(true);
    expect(delivered(2, 3, udp(123))).toBe(false);
    // The mapping itself: order by ACL priority, then deny over permit; all within OpenFlow's range.
    expect(aclFlowPriority(300, 'reject')).toBe(aclFlowPriority(300, 'drop'));
    expect(aclFlowPriority(300, 'drop')).toBeGreaterThan(aclFlowPriority(300, 'allow-related'));
    expect(aclFlowPriority(300, 'allow-related')).toBe(aclFlowPriority(300, 'allow'));
    expect(aclFlowPriority(301, 'allow')).toBeGreaterThan(aclFlowPriority(300, 'reject'));
    expect(aclFlowPriority(32767, 'reject')).toBe(65535);
    expectConverged(world, dp);
  });

  test('a to-lport ACL for a remote port runs on that port\'s chassis, after the tunnel', () => {
    const { world, dp, delivered, acl } = build();
    acl({ name: 'protect-v3', priority: 100, direction: 'to-lport', action: 'drop', match: { outport: 'p3', ipProto: 'tcp', l4Dst: 22 } });
    expect(delivered(1, 3, tcp(22))).toBe(false);
    expect(delivered(1, 3, tcp(80))).toBe(true);
    expect(delivered(1, 4, tcp(22))).toBe(true); // another destination port
    // The flow is on h2 (v3's chassis) and on every chassis of the switch, and h1 tunnels the packet to h2.
    const headers = { ethSrc: mac(1), ethDst: mac(3), ethType: ETH_TYPE_IPV4, ipSrc: ip(1), ipDst: ip(3), ipProto: IP_PROTO_TCP, ipTtl: 64, l4Src: 5000, l4Dst: 22, tcpFlags: 0 };
    const trace = dp.traceFromVm('h1', 'v1', headers);
    expect(trace.delivered).toEqual([]);
    expect(trace.switches.map((s) => s.node)).toEqual(['h1', 'h2']);
    const h2Tables = trace.switches[1].hits.map((h) => h.table);
    expect(h2Tables).toEqual([TABLE.PHYSICAL_IN, TABLE.LS_FROM_TUNNEL, TABLE.LS_OUT_ACL]);
    expectConverged(world, dp);
  });

  test('a to-lport drop in a flood stops only that destination\'s copy', () => {
    const { world, dp, acl } = build();
    acl({ name: 'quiet-v2', priority: 100, direction: 'to-lport', action: 'drop', match: { outport: 'p2' } });
    acl({ name: 'quiet-v4', priority: 100, direction: 'to-lport', action: 'drop', match: { outport: 'p4' } });
    const headers = { ethSrc: mac(1), ethDst: MAC_BROADCAST, ethType: ETH_TYPE_IPV4, ipSrc: ip(1), ipDst: 0xffff_ffff, ipProto: IP_PROTO_UDP, ipTtl: 64, l4Src: 68, l4Dst: 67, tcpFlags: 0 };
    const trace = dp.traceFromVm('h1', 'v1', headers);
    expect(trace.delivered.map((d) => d.name)).toEqual(['v3']);
    const id = dp.host('h1').sendFromVm('v1', headers, 10);
    world.scheduler.runUntil(ms(1000));
    const got = (h: string, v: string) => dp.host(h).vm(v).received.filter((r) => r.originId === id).length;
    expect([got('h1', 'v2'), got('h2', 'v3'), got('h3', 'v4')]).toEqual([0, 1, 0]);
    expectConverged(world, dp);
  });

  test('a to-lport ACL matching inport holds on the remote chassis: the tunnel carries the ingress port', () => {
    const { world, dp, delivered, acl } = build();
    acl({ name: 'v3-not-from-v1', priority: 100, direction: 'to-lport', action: 'drop', match: { inport: 'p1', outport: 'p3' } });
    expect(delivered(1, 3, udp(53))).toBe(false); // h1 -> h2: judged on h2, where reg6 must still be p1
    expect(delivered(2, 3, udp(53))).toBe(true); // same source chassis, another inport
    expect(delivered(4, 3, udp(53))).toBe(true); // from h3
    expect(delivered(1, 4, udp(53))).toBe(true); // another outport
    acl({ name: 'nothing-from-v4', priority: 100, direction: 'to-lport', action: 'drop', match: { inport: 'p4' } });
    expect(delivered(4, 1, udp(53))).toBe(false);
    expect(delivered(4, 3, udp(53))).toBe(false);
    expect(delivered(3, 1, udp(53))).toBe(true);
    // h2 splits tunMeta into reg6 = p1's key and reg7 = p3's key, and the ACL flow is the last one hit.
    const headers = { ethSrc: mac(1), ethDst: mac(3), ethType: ETH_TYPE_IPV4, ipSrc: ip(1), ipDst: ip(3), ipProto: IP_PROTO_UDP, ipTtl: 64, l4Src: 5000, l4Dst: 53, tcpFlags: 0 };
    const trace = dp.traceFromVm('h1', 'v1', headers);
    expect(trace.delivered).toEqual([]);
    expect(trace.switches.map((s) => s.node)).toEqual(['h1', 'h2']);
    const last = trace.switches[1].hits.at(-1)!;
    expect(last.table).toBe(TABLE.LS_OUT_ACL);
    expect(last.flowKey).toContain('reg6=1,reg7=3');
    expectConverged(world, dp);
  });

  test('a to-lport ACL matching inport holds for every flooded copy, on the first hop and after the tunnel', () => {
    const { world, dp, acl } = build();
    acl({ name: 'v3-not-from-v1', priority: 100, direction: 'to-lport', action: 'drop', match: { inport: 'p1', outport: 'p3' } });
    acl({ name: 'v2-not-from-v4', priority: 100, direction: 'to-lport', action: 'drop', match: { inport: 'p4', outport: 'p2' } });
    const broadcast = (n: number) => {
      const headers = { ethSrc: mac(n), ethDst: MAC_BROADCAST, ethType: ETH_TYPE_IPV4, ipSrc: ip(n), ipDst: 0xffff_ffff, ipProto: IP_PROTO_UDP, ipTtl: 64, l4Src: 68, l4Dst: 67, tcpFlags: 0 };
      const id = dp.host(VM_HOST[n]).sendFromVm(`v${n}`, headers, 10);
      world.scheduler.runUntil(world.now + ms(200));
      return [1, 2, 3, 4].filter((m) => dp.host(VM_HOST[m]).vm(`v${m}`).received.some((r) => r.originId === id));
    };
    expect(broadcast(1)).toEqual([2, 4]); // v3's copy is dropped on h2
    expect(broadcast(2)).toEqual([1, 3, 4]);
    expect(broadcast(4)).toEqual([1, 3]); // v2's copy is dropped on h1, v1's (same chassis) passes
    expectConverged(world, dp);
  });

  test('ACL create, update and delete take effect incrementally and the tables stay converged', () => {
    const { world, dp, delivered, acl, change } = build();
    const flowsBefore = dp.switchNode('h2').switch.flows.flows().map(formatFlow).sort();
    acl({ name: 'web-only', priority: 100, direction: 'to-lport', action: 'drop', match: { outport: 'p3', ipProto: 'tcp', l4Dst: [0, 79] } });
    expect(delivered(1, 3, tcp(22))).toBe(false);
    expect(delivered(1, 3, tcp(80))).toBe(true);
    expectConverged(world, dp);
    change((net) => net.updateAcl('web-only', { match: { outport: 'p3', ipProto: 'tcp', l4Dst: [0, 1023] } }));
    expect(delivered(1, 3, tcp(80))).toBe(false);
    expect(delivered(1, 3, tcp(8080))).toBe(true);
    change((net) => net.updateAcl('web-only', { action: 'allow' }));
    expect(delivered(1, 3, tcp(80))).toBe(true);
    change((net) => net.updateAcl('web-only', { action: 'drop', direction: 'from-lport', match: { inport: 'p1' } }));
    expect(delivered(1, 3, tcp(80))).toBe(false);
    expect(delivered(2, 3, tcp(80))).toBe(true);
    expectConverged(world, dp);
    change((net) => net.deleteAcl('web-only'));
    expect(delivered(1, 3, tcp(80))).toBe(true);
    // Back to exactly the flows of the start: nothing left behind.
    expect(dp.switchNode('h2').switch.flows.flows().map(formatFlow).sort()).toEqual(flowsBefore);
    expectConverged(world, dp);
    // The host without VMs never received a flow.
    expect(dp.switchNode('h4').switch.flows.flows()).toEqual([]);
  });
});
