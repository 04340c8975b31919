// The control plane at scale, end to end through the simulated system: H hypervisor hosts with V VMs
// spread over them at random, S logical switches each with ports on several hosts (VM i is on switch
// i mod S, on a host drawn from a fixed xorshift32 stream), one northbound database and one controller.
// Measures, in wall time around the simulation:
//   cold start     from "configuration loaded" (topology built, every logical switch and port in the
//                  northbound database) until every switch holds its desired table: the controller
//                  starts, switches say hello, it computes every flow and installs them;
//   incremental    adding one logical port (a new VM on a host that already serves the switch, and its
//                  bound port) until every switch is in sync again; the median of --samples ports.
// "In sync" means the switch manager reports every switch in sync and the switches' tables together hold
// exactly the controller's flows. Tunnels: by default only between hosts that share a logical switch
// (--tunnels shared), since a full mesh of 1000 hosts is a million tunnel ports; --tunnels mesh builds it.
//
// Usage: npm run bench:controlplane -- --hosts 1000 --vms 10000 --switches 1000 [--samples 5] [--tunnels shared|mesh]
// Prints: coldstart_s=<s> flows=<n> incremental_port_s=<median s> rss_mb=<peak>   (details on stderr)

import { ControllerNode, DEFAULT_CONTROLLER_OPTIONS } from '../sim/control/controller-node.ts';
import { NorthboundNode } from '../sim/control/northbound-node.ts';
import { parseIpv4, parseMac } from '../sim/dataplane/headers.ts';
import { DataplaneBuilder } from '../sim/dataplane/topology-builder.ts';
import { NS_PER_MS, NS_PER_S } from '../sim/kernel/time.ts';
import { LogicalNetworks } from '../sim/logical/logical-networks.ts';
import { World } from '../sim/testbed/world.ts';
import { benchArgs } from './bench-args.ts';

const args = benchArgs('bench:controlplane', {
  hosts: { type: 'string', default: '1000' },
  vms: { type: 'string', default: '10000' },
  switches: { type: 'string', default: '1000' },
  samples: { type: 'string', default: '5' },
  tunnels: { type: 'string', default: 'shared' },
});
const hostCount = args.positiveInteger('hosts');
const vmCount = args.positiveInteger('vms');
const switchCount = args.positiveInteger('switches');
const samples = args.positiveInteger('samples');
const tunnels = args.tunnels;
if (tunnels !== 'shared' && tunnels !== 'mesh') args.fail(`--tunnels must be shared or mesh, got '${tunnels}'`);
if (vmCount / switchCount > 250) args.fail('at most 250 VMs per logical switch (one /24 each)');

let state = 2463534242 | 0;
function below(n: number): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) % n;
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
/** A MAC and an IP for the k-th port of switch s: unique within the switch (tenants reuse the IPs). */
const macOf = (s: number, k: number) => `02:${hex(s >> 16, 2)}:${hex((s >> 8) & 255, 2)}:${hex(s & 255, 2)}:${hex(k >> 8, 2)}:${hex(k & 255, 2)}`;
const ipOf = (k: number) => `10.0.0.${k + 1}`;

// ---- the configuration ------------------------------------------------------------------------------
const t0 = performance.now();
const world = new World({ seed: 1, trace: 'off' });
const nb = new LogicalNetworks();
world.fabric.addNode('nb', (ctx) => new NorthboundNode(ctx, nb), { kind: 'northbound' });
const dp = new DataplaneBuilder(world);
const hostIds = Array.from({ length: hostCount }, (_, h) => `h${h}`);
const vmsOnHost: { name: string; vifId: string; mac: number; ip: number }[][] = hostIds.map(() => []);
const portsOf: number[] = new Array(switchCount).fill(0);
const hostsOfSwitch: Set<number>[] = Array.from({ length: switchCount }, () => new Set());
const portSpecs: { name: string; switch: string; addresses: string[]; portSecurity: string[]; vifId: string }[] = [];
for (let i = 0; i < vmCount; i++) {
  const s = i % switchCount;
  const k = portsOf[s]++;
  const h = below(hostCount);
  hostsOfSwitch[s].add(h);
  const name = `vm${i}`;
  const entry = `${macOf(s, k)} ${ipOf(k)}`;
  vmsOnHost[h].push({ name, vifId: `vif-${name}`, mac: parseMac(macOf(s, k)), ip: parseIpv4(ipOf(k)) });
  portSpecs.push({ name, switch: `ls${s}`, addresses: [entry], portSecurity: [entry], vifId: `vif-${name}` });
}
for (let h = 0; h < hostCount; h++) dp.addHost(hostIds[h], vmsOnHost[h]);
let tunnelPorts = 0;
if (tunnels === 'mesh') {
  dp.meshTunnels();
  tunnelPorts = hostCount * (hostCount - 1);
} else {
  const peers: Set<number>[] = hostIds.map(() => new Set());
  for (const hs of hostsOfSwitch) for (const a of hs) for (const b of hs) if (a !== b) peers[a].add(b);
  for (let h = 0; h < hostCount; h++) {
    const remotes = [...peers[h]].sort((a, b) => a - b).map((p) => hostIds[p]);
    dp.switchNode(hostIds[h]).addTunnels(remotes);
    tunnelPorts += remotes.length;
  }
}
nb.transaction((net) => {
  for (let s = 0; s < switchCount; s++) net.createSwitch({ name: `ls${s}`, tenant: `t${s % 100}`, subnet: '10.0.0.0/24' });
  for (const spec of portSpecs) net.createSwitchPort(spec);
});
const spans = hostsOfSwitch.map((hs) => hs.size);
process.stderr.write(
  `controlplane: hosts=${hostCount} vms=${vmCount} switches=${switchCount} tunnels=${tunnels} tunnel_ports=${tunnelPorts} ` +
    `hosts_per_switch=${(spans.reduce((a, b) => a + b, 0) / switchCount).toFixed(1)} (min ${Math.min(...spans)}, max ${Math.max(...spans)}) ` +
    `build_s=${((performance.now() - t0) / 1000).toFixed(2)}\n`,
);

// ---- cold start ---------------------------------------------------------------------------------------
const coldStart = performance.now();
const virtualStart = world.now;
world.fabric.addNode('ctl', (ctx) => new ControllerNode(ctx, { ...DEFAULT_CONTROLLER_OPTIONS, northbound: 'nb' }), { kind: 'controller' });
dp.setControllers(['ctl']);
const ctl = () => world.fabric.process<ControllerNode>('ctl')!;
const installedTotal = () => {
  let n = 0;
  for (const id of hostIds) n += dp.switchNode(id).switch.flows.size;
  return n;
};
runUntilInSync('cold start');
const coldstartS = (performance.now() - coldStart) / 1000;
const flows = installedTotal();
process.stderr.write(`  cold start: ${coldstartS.toFixed(3)}s wall, ${((world.now - virtualStart) / NS_PER_MS).toFixed(0)}ms virtual, ${flows} flows installed\n`);

// ---- incremental: one port at a time --------------------------------------------------------------------
const times: number[] = [];
for (let n = 0; n < samples; n++) {
  const s = below(switchCount);
  const h = [...hostsOfSwitch[s]][0];
  const k = portsOf[s]++;
  const name = `extra${n}`;
  const entry = `${macOf(s, k)} ${ipOf(k)}`;
  const before = installedTotal();
  const started = performance.now();
  dp.host(hostIds[h]).attachVm({ name, vifId: `vif-${name}`, mac: parseMac(macOf(s, k)), ip: parseIpv4(ipOf(k)) });
  nb.createSwitchPort({ name, switch: `ls${s}`, addresses: [entry], portSecurity: [entry], vifId: `vif-${name}` });
  runUntilInSync(`port ${name}`);
  const seconds = (performance.now() - started) / 1000;
  times.push(seconds);
  process.stderr.write(`  port ${name} on ls${s} (${hostsOfSwitch[s].size} hosts) at h${h}: ${(seconds * 1000).toFixed(2)}ms wall, flows ${before} -> ${installedTotal()}\n`);
}
times.sort((a, b) => a - b);
const incrementalS = times[Math.floor(times.length / 2)];
const rssMb = Math.round(process.resourceUsage().maxRSS / 1024);
process.stderr.write(`  incremental/coldstart = 1/${Math.round(coldstartS / incrementalS)}\n`);
console.log(`coldstart_s=${coldstartS.toFixed(3)} flows=${flows} incremental_port_s=${incrementalS.toFixed(5)} rss_mb=${rssMb}`);

/**
 * Runs the simulation a virtual millisecond at a time until the switch manager has every switch in sync
 * and the switches hold exactly the controller's flows (none in flight).
 */
function runUntilInSync(what: string): void {
  const deadline = world.now + 60 * NS_PER_S;
  const program = () => ctl().program;
  for (;;) {
    world.scheduler.runUntil(world.now + NS_PER_MS);
    const c = world.fabric.process<ControllerNode>('ctl');
    if (c !== undefined && c.switches.allInSync() && installedTotal() === program().engine.size(program().physicalFlow)) return;
    if (world.now > deadline) args.fail(`${what}: not in sync after 60s of virtual time`);
  }
}


