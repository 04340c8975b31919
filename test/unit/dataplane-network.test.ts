// The data plane on the fabric: tunnels (encapsulation size, latency, logical context, decapsulation
// port, drops under partition and crash), a hand-written two-host flow set that delivers VM to VM and
// drops everything else, ARP, flooding and packet identity, gateway bridging to an external segment,
// VIF attach/detach, and what-if traces against real runs.
import { describe, expect, test } from 'vitest';
import { ARP_OP_REPLY, arpRequest } from '../../sim/dataplane/arp.ts';
import { flowKey, type Action, type Flow, type Match } from '../../sim/dataplane/flow.ts';
import { udpHeaders } from '../../sim/dataplane/header-builder.ts';
import { ETH_TYPE_ARP, IP_PROTO_UDP, MAC_BROADCAST, TUNNEL_OVERHEAD_BYTES, headerBytes, parseIpv4, parseMac } from '../../sim/dataplane/headers.ts';
import { PHYSICAL_PORT, TUNNEL_PORT_BASE } from '../../sim/dataplane/ports.ts';
import { DataplaneBuilder } from '../../sim/dataplane/topology-builder.ts';
import type { VmSpec } from '../../sim/dataplane/vm.ts';
import type { TraceRecord } from '../../sim/kernel/trace.ts';
import { NS_PER_MS } from '../../sim/kernel/time.ts';
import { DEFAULT_LINK } from '../../sim/net/link.ts';
import { World } from '../../sim/testbed/world.ts';

const mac = (n: number) => parseMac(`02:00:00:00:00:${n.toString(16).padStart(2, '0')}`);
const ip = (n: number) => parseIpv4(`10.0.0.${n}`);
const vmSpec = (n: number, extra: Partial<VmSpec> = {}): VmSpec => ({ name: `vm${n}`, vifId: `vif-${n}`, mac: mac(n), ip: ip(n), ...extra });
const flow = (table: number, priority: number, match: Match, actions: Action[], cookie = 'ls-a'): Flow => ({ table, priority, match, actions, cookie });
const VNI = 5;

/** h1 (vm1) and h2 (vm2) with a tunnel each way; each host's tunnel port toward the other is TUNNEL_PORT_BASE. */
function twoHosts() {
  const world = new World({ seed: 1, trace: 'off' });
  const dp = new DataplaneBuilder(world);
  dp.addHost('h1', [vmSpec(1)]);
  dp.addHost('h2', [vmSpec(2)]);
  dp.meshTunnels();
  const events: TraceRecord[] = [];
  world.trace.on('*', (e) => events.push(e));
  return { world, dp, events, of: (type: string) => events.filter((e) => e.type === type) as any[] };
}

/**
 * One logical switch over two hosts, written by hand: table 0 classifies by in_port (VIF → logical
 * datapath VNI with reg6 = logical ingress; tunnel with the VNI → logical context from tunMeta), table 1
 * forwards by destination MAC (local VIF, or tunnel to the other host with tunMeta), broadcasts go to
 * every other port. Anything else misses.
 */
function installLogicalSwitch(dp: DataplaneBuilder) {
  const hosts: [string, number][] = [['h1', 1], ['h2', 2]];
  for (const [host, n] of hosts) {
    const sw = dp.host(host).switch;
    const other = n === 1 ? 2 : 1;
    const tunnel = TUNNEL_PORT_BASE;
    const flows = [
      flow(0, 100, { inPort: 1 }, [{ type: 'set', field: 'metadata', value: VNI }, { type: 'set', field: 'reg6', value: n }, { type: 'resubmit', table: 1 }]),
      flow(0, 100, { inPort: tunnel, tunKey: VNI }, [{ type: 'set', field: 'metadata', value: VNI }, { type: 'resubmit', table: 2 }]),
      flow(1, 100, { metadata: VNI, ethDst: mac(n) }, [{ type: 'output', port: 1 }]),
      flow(1, 100, { metadata: VNI, ethDst: mac(other) }, [{ type: 'set', field: 'tunKey', value: VNI }, { type: 'set', field: 'tunMeta', value: (n << 16) | other }, { type: 'output', port: tunnel }]),
      flow(1, 90, { metadata: VNI, ethDstGroup: true }, [{ type: 'set', field: 'tunKey', value: VNI }, { type: 'set', field: 'tunMeta', value: (n << 16) | 0xffff }, { type: 'output', port: tunnel }]),
      // From the tunnel: only deliver when the logical egress is ours (or a broadcast).
      flow(2, 100, { metadata: VNI, tunMeta: (other << 16) | n }, [{ type: 'output', port: 1 }]),
      flow(2, 100, { metadata: VNI, tunMeta: (other << 16) | 0xffff }, [{ type: 'output', port: 1 }]),
    ];
    for (const f of flows) sw.flows.add(f);
  }
}

describe('tunnels', () => {
  test('a VM-to-VM packet crosses the tunnel: encapsulated size, link latency, logical context, decapsulation port', () => {
    const { world, dp, of } = twoHosts();
    world.fabric.setLink('h1', 'h2', { ...DEFAULT_LINK, latency: { kind: 'constant', ns: 3 * NS_PER_MS } });
    installLogicalSwitch(dp);
    const h = udpHeaders({ ethSrc: mac(1), ethDst: mac(2), ipSrc: ip(1), ipDst: ip(2), l4Src: 7, l4Dst: 53 });
    const id = dp.host('h1').sendFromVm('vm1', h, 100);
    world.scheduler.runUntilQuiescent();
    const got = dp.host('h2').vm('vm2').received;
    expect(got.map((r) => [r.packetId, r.originId, r.atNs, r.payloadBytes])).toEqual([[id, id, 3 * NS_PER_MS, 100]]);
    expect(got[0].headers).toEqual(h);
    const [send] = of('dp.tunnel.send');
    expect(send).toMatchObject({ src: 'h1', dst: 'h2', packetId: id, tunKey: VNI, tunMeta: (1 << 16) | 2, bytes: headerBytes(h) + 100 + TUNNEL_OVERHEAD_BYTES });
    const [frame] = of('net.send').filter((e) => e.body.type === 'dp.tunnel');
    expect(frame.body.sizeBytes).toBe(headerBytes(h) + 100 + TUNNEL_OVERHEAD_BYTES);
    const h2pass = of('dp.pipeline').find((e) => e.node === 'h2');
    expect(h2pass).toMatchObject({ inPort: TUNNEL_PORT_BASE, packetId: id, outputs: [1], drop: null });
    expect(h2pass.hits.map((x: any) => x.flowKey)).toEqual([
      flowKey({ table: 0, priority: 100, match: { inPort: TUNNEL_PORT_BASE, tunKey: VNI } }),
      flowKey({ table: 2, priority: 100, match: { metadata: VNI, tunMeta: (1 << 16) | 2 } }),
    ]);
    expect(dp.host('h1').switch.flows.dump().reduce((n, e) => n + e.packets, 0)).toBe(2);
  });

  test('the hand-written flows drop anything they do not cover', () => {
    const { world, dp, of } = twoHosts();
    installLogicalSwitch(dp);
    // Unknown destination MAC: table 1 misses on h1; a wrong VNI or logical egress misses on h2.
    dp.host('h1').sendFromVm('vm1', udpHeaders({ ethSrc: mac(1), ethDst: mac(9) }), 0);
    world.scheduler.runUntilQuiescent();
    expect(dp.host('h2').vm('vm2').received).toHaveLength(0);
    expect(of('dp.drop').map((e) => [e.node, e.reason, e.table])).toEqual([['h1', 'no-flow', 1]]);
    // A frame with the right MAC but sent on a VNI h2 does not serve.
    dp.host('h1').switch.flows.add(flow(1, 200, { metadata: VNI, ethDst: mac(2), l4Dst: 666 }, [{ type: 'set', field: 'tunKey', value: 6 }, { type: 'output', port: TUNNEL_PORT_BASE }]));
    dp.host('h1').sendFromVm('vm1', udpHeaders({ ethSrc: mac(1), ethDst: mac(2), l4Dst: 666 }), 0);
    world.scheduler.runUntilQuiescent();
    expect(dp.host('h2').vm('vm2').received).toHaveLength(0);
    expect(of('dp.drop').at(-1)).toMatchObject({ node: 'h2', reason: 'no-flow', table: 0 });
  });

  test('tunnel frames are lost across a partition and to a crashed host, and flow again after', () => {
    const { world, dp, of } = twoHosts();
    installLogicalSwitch(dp);
    const h = udpHeaders({ ethSrc: mac(1), ethDst: mac(2) });
    world.fabric.partition('p', [['h1'], ['h2']]);
    dp.host('h1').sendFromVm('vm1', h, 0);
    world.scheduler.runUntilQuiescent();
    expect(of('net.drop.partition')).toHaveLength(1);
    world.fabric.heal('p');
    world.fabric.crash('h2');
    dp.host('h1').sendFromVm('vm1', h, 0);
    world.scheduler.runUntilQuiescent();
    expect(of('net.drop.crashed')).toHaveLength(1);
    world.fabric.restart('h2');
    // The restarted switch came back with its ports and VMs but no flows: the frame misses there.
    expect(dp.host('h2').switch.flows.size).toBe(0);
    expect(dp.host('h2').vm('vm2').port).toBe(1);
    installLogicalSwitch(dp);
    const id = dp.host('h1').sendFromVm('vm1', h, 0);
    world.scheduler.runUntilQuiescent();
    expect(dp.host('h2').vm('vm2').received.map((r) => r.packetId)).toEqual([id]);
  });

  test('a frame from a node without a tunnel port toward it is dropped', () => {
    const { world, dp, of } = twoHosts();
    dp.addHost('h3', [vmSpec(3)]);
    dp.host('h3').addTunnels(['h1']);
    dp.host('h3').switch.flows.add(flow(0, 1, {}, [{ type: 'output', port: TUNNEL_PORT_BASE }]));
    dp.host('h3').sendFromVm('vm3', udpHeaders({}), 0);
    world.scheduler.runUntilQuiescent();
    expect(of('dp.drop').at(-1)).toMatchObject({ node: 'h1', reason: 'no-tunnel-port' });
  });
});

describe('ARP', () => {
  test('a VM answers an ARP request for its IP with a real reply, and sendIp resolves through ARP', () => {
    const { world, dp } = twoHosts();
    installLogicalSwitch(dp);
    const id = dp.host('h1').sendIpFromVm('vm1', { ipDst: ip(2), ipProto: IP_PROTO_UDP, l4Src: 1, l4Dst: 2 }, 10);
    world.scheduler.runUntilQuiescent();
    const vm1 = dp.host('h1').vm('vm1');
    const vm2 = dp.host('h2').vm('vm2');
    // vm2 got the broadcast request, then the data packet once vm1 learned its MAC from the reply.
    expect(vm2.received.map((r) => [r.headers.ethType, r.headers.ethDst])).toEqual([[ETH_TYPE_ARP, MAC_BROADCAST], [0x0800, mac(2)]]);
    expect(vm2.received[1].packetId).toBe(id);
    expect(vm1.received.map((r) => [r.headers.ipProto, r.headers.ipSrc, r.headers.ethSrc, r.headers.ethDst])).toEqual([[ARP_OP_REPLY, ip(2), mac(2), mac(1)]]);
    expect(vm1.stack.neighbour(ip(2))).toBe(mac(2));
    // vm2 also learned vm1 from the request, so its answer needs no ARP of its own.
    expect(vm2.stack.neighbour(ip(1))).toBe(mac(1));
    dp.host('h2').sendIpFromVm('vm2', { ipDst: ip(1), ipProto: IP_PROTO_UDP }, 0);
    world.scheduler.runUntilQuiescent();
    expect(vm1.received.at(-1)!.headers.ethType).toBe(0x0800);
  });

  test('ARP requests for other IPs get no answer; unresolved sends are dropped after the timeout', () => {
    const { world, dp, of } = twoHosts();
    installLogicalSwitch(dp);
    dp.host('h1').sendFromVm('vm1', arpRequest(mac(1), ip(1), ip(77)), 0);
    const id = dp.host('h1').sendIpFromVm('vm1', { ipDst: ip(77), ipProto: IP_PROTO_UDP }, 0);
    world.scheduler.runUntilQuiescent();
    expect(dp.host('h1').vm('vm1').received).toHaveLength(0);
    expect(of('dp.drop').filter((e) => e.reason === 'arp-unresolved').map((e) => e.packetId)).toEqual([id]);
    expect(world.now).toBeGreaterThanOrEqual(1_000_000_000);
  });

  test('static neighbours and off-subnet gateways skip or redirect ARP', () => {
    const world = new World({ seed: 1, trace: 'off' });
    const dp = new DataplaneBuilder(world);
    const gw = parseIpv4('10.0.0.254');
    dp.addHost('h1', [vmSpec(1, { gateway: gw, staticNeighbours: [[gw, mac(254)]] })]);
    const sw = dp.host('h1').switch;
    sw.flows.add(flow(0, 1, {}, [{ type: 'output', port: 1 }]));
    const seen: any[] = [];
    world.trace.on('dp.vm.send', (e) => seen.push(e.headers));
    dp.host('h1').sendIpFromVm('vm1', { ipDst: parseIpv4('192.168.1.1'), ipProto: IP_PROTO_UDP }, 0);
    world.scheduler.runUntilQuiescent();
    expect(seen.map((h) => [h.ethDst, h.ipDst])).toEqual([[mac(254), parseIpv4('192.168.1.1')]]);
  });
});

describe('flooding and packet identity', () => {
  test('one packet output to several ports: the first copy keeps its id, the others are new copies naming it', () => {
    const world = new World({ seed: 1, trace: 'off' });
    const dp = new DataplaneBuilder(world);
    dp.addHost('h1', [vmSpec(1), vmSpec(2), vmSpec(3)]);
    dp.host('h1').switch.flows.add(flow(0, 1, { inPort: 1, ethDstGroup: true }, [{ type: 'output', port: 2 }, { type: 'output', port: 3 }, { type: 'output', port: 1 }]));
    const id = dp.host('h1').sendFromVm('vm1', udpHeaders({ ethSrc: mac(1), ethDst: MAC_BROADCAST }), 0);
    world.scheduler.runUntilQuiescent();
    const got = ['vm1', 'vm2', 'vm3'].map((n) => dp.host('h1').vm(n).received[0]);
    expect(got.map((r) => r.originId)).toEqual([id, id, id]);
    expect(got[1].packetId).toBe(id);
    expect(new Set(got.map((r) => r.packetId)).size).toBe(3);
  });

  test('an output to a missing port is dropped with its reason', () => {
    const { world, dp, of } = twoHosts();
    dp.host('h1').switch.flows.add(flow(0, 1, {}, [{ type: 'output', port: 42 }]));
    dp.host('h1').sendFromVm('vm1', udpHeaders({}), 0);
    world.scheduler.runUntilQuiescent();
    expect(of('dp.drop')).toEqual([expect.objectContaining({ node: 'h1', reason: 'no-port', port: 42 })]);
  });
});

describe('gateway and external segment', () => {
  test('a gateway bridges a VM to an external endpoint and back; the segment learns and floods', () => {
    const world = new World({ seed: 1, trace: 'off' });
    const dp = new DataplaneBuilder(world);
    dp.addHost('h1', [vmSpec(1)]);
    dp.addExternalSegment('ext', [{ name: 'db', mac: mac(0x50), ip: ip(0x50) }, { name: 'nas', mac: mac(0x51), ip: ip(0x51) }]);
    dp.addGateway('gw', 'ext');
    dp.meshTunnels();
    // h1: everything from the VM to the gateway; from the gateway to the VM.
    dp.host('h1').switch.flows.add(flow(0, 1, { inPort: 1 }, [{ type: 'set', field: 'tunKey', value: VNI }, { type: 'output', port: TUNNEL_PORT_BASE }]));
    dp.host('h1').switch.flows.add(flow(0, 1, { inPort: TUNNEL_PORT_BASE, tunKey: VNI }, [{ type: 'output', port: 1 }]));
    // gw: bridge the tunnel and the physical port.
    dp.gateway('gw').switch.flows.add(flow(0, 1, { inPort: TUNNEL_PORT_BASE, tunKey: VNI }, [{ type: 'output', port: PHYSICAL_PORT }]));
    dp.gateway('gw').switch.flows.add(flow(0, 1, { inPort: PHYSICAL_PORT }, [{ type: 'set', field: 'tunKey', value: VNI }, { type: 'output', port: TUNNEL_PORT_BASE }]));
    const id = dp.host('h1').sendIpFromVm('vm1', { ipDst: ip(0x50), ipProto: IP_PROTO_UDP, l4Dst: 5432 }, 64);
    world.scheduler.runUntilQuiescent();
    const db = dp.segment('ext').endpoint('db');
    const nas = dp.segment('ext').endpoint('nas');
    // The ARP broadcast was flooded to both endpoints; the data packet went only to db (learned by then).
    expect(nas.received.map((r) => r.headers.ethType)).toEqual([ETH_TYPE_ARP]);
    expect(db.received.map((r) => r.headers.ethType)).toEqual([ETH_TYPE_ARP, 0x0800]);
    expect(db.received[1].packetId).toBe(id);
    // And back: db answers the VM.
    dp.segment('ext').sendIpFromEndpoint('db', { ipDst: ip(1), ipProto: IP_PROTO_UDP }, 0);
    world.scheduler.runUntilQuiescent();
    expect(dp.host('h1').vm('vm1').received.map((r) => r.headers.ethType)).toEqual([ETH_TYPE_ARP, 0x0800]);
    // Trace: a VM → db packet crosses h1, then gw, then is delivered to db only.
    const t = dp.traceFromVm('h1', 'vm1', udpHeaders({ ethSrc: mac(1), ethDst: mac(0x50) }));
    expect(t.switches.map((s) => s.node)).toEqual(['h1', 'gw']);
    expect(t.delivered.map((d) => [d.kind, d.name])).toEqual([['endpoint', 'db']]);
  });
});

describe('VIF attach and detach', () => {
  test('ports are numbered in attach order and never reused; a detached VM receives nothing', () => {
    const world = new World({ seed: 1, trace: 'off' });
    const dp = new DataplaneBuilder(world);
    const h = dp.addHost('h1', [vmSpec(1), vmSpec(2)]);
    expect(h.vmList().map((v) => v.port)).toEqual([1, 2]);
    h.detachVm('vm1');
    expect(h.attachVm(vmSpec(3)).port).toBe(3);
    expect(h.switch.ports.list().map((p) => p.number)).toEqual([2, 3]);
    expect(() => h.attachVm(vmSpec(2))).toThrow(/already has a VM/);
    expect(() => h.attachVm({ ...vmSpec(4), vifId: 'vif-3' })).toThrow(/already attached/);
    h.switch.flows.add(flow(0, 1, {}, [{ type: 'output', port: 1 }]));
    const drops: any[] = [];
    world.trace.on('dp.drop', (e) => drops.push(e));
    h.sendFromVm('vm2', udpHeaders({}), 0);
    world.scheduler.runUntilQuiescent();
    expect(drops.map((d) => d.reason)).toEqual(['no-port']);
  });
});

describe('what-if traces', () => {
  test('the trace lists each switch and its flows, changes no counter, uses no packet id, and matches the real run', () => {
    const { world, dp } = twoHosts();
    installLogicalSwitch(dp);
    const h = udpHeaders({ ethSrc: mac(1), ethDst: MAC_BROADCAST });
    const before = dp.shared.packetIds.issued;
    const t = dp.traceFromVm('h1', 'vm1', h, 20);
    expect(dp.shared.packetIds.issued).toBe(before);
    expect(dp.host('h1').switch.flows.dump().every((e) => e.packets === 0)).toBe(true);
    expect(t.switches.map((s) => [s.node, s.hits.map((x) => x.table)])).toEqual([['h1', [0, 1]], ['h2', [0, 2]]]);
    expect(t.delivered.map((d) => `${d.node}/${d.name}`)).toEqual(['h2/vm2']);
    const id = dp.host('h1').sendFromVm('vm1', h, 20);
    world.scheduler.runUntilQuiescent();
    expect(dp.host('h2').vm('vm2').received.map((r) => r.originId)).toEqual([id]);
  });

  test('the trace reports copies the network would not carry now', () => {
    const { world, dp } = twoHosts();
    installLogicalSwitch(dp);
    const h = udpHeaders({ ethSrc: mac(1), ethDst: mac(2) });
    world.fabric.partition('p', [['h1'], ['h2']]);
    expect(dp.traceFromVm('h1', 'vm1', h).lost).toEqual([{ from: 'h1', to: 'h2', why: 'partitioned' }]);
    world.fabric.heal();
    world.fabric.crash('h2');
    expect(dp.traceFromVm('h1', 'vm1', h).lost).toEqual([{ from: 'h1', to: 'h2', why: 'down' }]);
  });

  test('a forwarding loop is cut at the hop limit', () => {
    const { dp } = twoHosts();
    for (const host of ['h1', 'h2']) dp.host(host).switch.flows.add(flow(0, 1, {}, [{ type: 'output', port: TUNNEL_PORT_BASE }]));
    const t = dp.traceFromVm('h1', 'vm1', udpHeaders({}));
    expect(t.truncated).toBe(true);
    expect(t.delivered).toEqual([]);
  });
});

describe('pool node', () => {
  test('an edge sends a broadcast once to the pool node, which replicates it to every other host', () => {
    const world = new World({ seed: 1, trace: 'off' });
    const dp = new DataplaneBuilder(world);
    for (const n of [1, 2, 3]) dp.addHost(`h${n}`, [vmSpec(n)]);
    dp.addPoolNode('pool');
    dp.meshTunnels();
    // Tunnel ports in mesh order: on h1 → h2, h3, pool; on the pool → h1, h2, h3.
    const pool = dp.pool('pool');
    const toHost = (h: string) => pool.switch.ports.tunnelTo(h)!.number;
    const fromHost = toHost; // one tunnel port per remote, used both ways
    for (const src of ['h1', 'h2', 'h3']) {
      const others = ['h1', 'h2', 'h3'].filter((h) => h !== src);
      pool.switch.flows.add(flow(0, 10, { inPort: fromHost(src), tunKey: VNI, ethDstGroup: true }, others.map((h) => ({ type: 'output' as const, port: toHost(h) }))));
    }
    for (const n of [1, 2, 3]) {
      const sw = dp.host(`h${n}`).switch;
      const toPool = sw.ports.tunnelTo('pool')!.number;
      sw.flows.add(flow(0, 10, { inPort: 1, ethDstGroup: true }, [{ type: 'set', field: 'tunKey', value: VNI }, { type: 'output', port: toPool }]));
      sw.flows.add(flow(0, 10, { inPort: toPool, tunKey: VNI }, [{ type: 'output', port: 1 }]));
    }
    const tunnelSends: any[] = [];
    world.trace.on('dp.tunnel.send', (e) => tunnelSends.push(e));
    const id = dp.host('h1').sendFromVm('vm1', udpHeaders({ ethSrc: mac(1), ethDst: MAC_BROADCAST }), 0);
    world.scheduler.runUntilQuiescent();
    expect(tunnelSends.map((e) => `${e.src}->${e.dst}`)).toEqual(['h1->pool', 'pool->h2', 'pool->h3']);
    expect([1, 2, 3].map((n) => dp.host(`h${n}`).vm(`vm${n}`).received.map((r) => r.originId))).toEqual([[], [id], [id]]);
    const t = dp.traceFromVm('h1', 'vm1', udpHeaders({ ethSrc: mac(1), ethDst: MAC_BROADCAST }));
    expect(t.switches.map((s) => s.node)).toEqual(['h1', 'pool', 'h2', 'h3']);
    expect(t.delivered.map((d) => d.name).sort()).toEqual(['vm2', 'vm3']);
  });
});

describe('determinism', () => {
  test('the same seed and traffic give the same full trace hash', () => {
    const hashes = [1, 2].map(() => {
      const world = new World({ seed: 11, trace: 'full' });
      const dp = new DataplaneBuilder(world);
      dp.addHost('h1', [vmSpec(1)]);
      dp.addHost('h2', [vmSpec(2)]);
      dp.meshTunnels();
      world.fabric.setLink('h1', 'h2', { ...DEFAULT_LINK, latency: { kind: 'uniform', minNs: NS_PER_MS, maxNs: 5 * NS_PER_MS } });
      installLogicalSwitch(dp);
      for (let i = 0; i < 20; i++) world.scheduler.at(i * NS_PER_MS, () => dp.host('h1').sendIpFromVm('vm1', { ipDst: ip(2), ipProto: IP_PROTO_UDP, l4Dst: i }, i));
      world.scheduler.runUntilQuiescent();
      expect(dp.host('h2').vm('vm2').received.length).toBe(21);
      return world.trace.hash();
    });
    expect(hashes[0]).toBe(hashes[1]);
  });
});
