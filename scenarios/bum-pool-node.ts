// Broadcast and unknown unicast through a pool node (seed 000 §1.10's non-leaf switch; notes §6 S32):
// logical switches spanning five hosts, with the controller told to use p1 as its pool node, so the first
// hop sends one copy of a flooded frame to p1 and p1 replicates it to every other chassis of the switch.
// Every broadcast must reach each other live VM of its switch exactly once (never the sender, never
// another tenant, never twice), unknown unicast exactly the ports that take unknown addresses (a6, a
// "sniffer"), and ordinary unicast its destination. During the run a port is added and removed and a VIF
// moves; the pool node itself crashes and restarts, and later a host does. Needs the pool-node
// replication rules (replication-rules.ts) for the replication to go through p1.

import { parseFaultSchedule } from '../sim/faults/schedule.ts';
import { defineScenario } from '../sim/testbed/index.ts';
import { NvTestbed, type Probe } from './models/nv-testbed.ts';

const A = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7'];
const B = ['b1', 'b2', 'b3'];

export default defineScenario({
  name: 'bum-pool-node',
  description: 'broadcast and unknown unicast replicated by a pool node: each other VM of the switch exactly once',
  duration: '10s',
  liveness: { from: '7s', within: '3s' },
  setup(world) {
    const t = new NvTestbed(world);
    for (const id of ['h1', 'h2', 'h3', 'h4', 'h5']) t.host(id);
    t.poolNode('p1');
    t.logicalSwitch('ls-a', 'A', '10.0.0.0/24').logicalSwitch('ls-b', 'B', '10.0.0.0/24');
    const vm = (name: string, host: string, sw: string, n: number, unknown = false) =>
      t.vm(name, { host, switch: sw, mac: `02:00:00:00:00:${n.toString(16).padStart(2, '0')}`, ip: `10.0.0.${n}`, unknown });
    vm('a1', 'h1', 'ls-a', 1);
    vm('a2', 'h1', 'ls-a', 2);
    vm('a3', 'h2', 'ls-a', 3);
    vm('a4', 'h3', 'ls-a', 4);
    vm('a5', 'h4', 'ls-a', 5);
    vm('a6', 'h5', 'ls-a', 6, true);
    // Tenant B reuses a1..a3's addresses on some of the same hosts.
    vm('b1', 'h1', 'ls-b', 1);
    vm('b2', 'h3', 'ls-b', 2);
    vm('b3', 'h4', 'ls-b', 3);
    t.start();

    t.at('2s', () => t.addVm('a7', { host: 'h2', switch: 'ls-a', mac: '02:00:00:00:00:07', ip: '10.0.0.7' }))
      .at('4s', () => t.moveVm('a4', 'h5'))
      .at('5s', () => t.removeVm('a7'))
      .at('5500ms', () => t.moveVm('a4', 'h3'));

    t.traffic({
      from: '500ms',
      until: '9800ms',
      every: '250ms',
      probes: () => {
        const a = t.attachedVms(A);
        const b = t.attachedVms(B);
        const probes: Probe[] = [];
        for (const v of [...a, ...b]) probes.push({ kind: 'broadcast', from: v });
        for (const v of ['a1', 'a3', 'b2']) probes.push({ kind: 'unknown-unicast', from: v });
        probes.push(...NvTestbed.allPairs(['a1', 'a5', 'b1', 'b3']));
        // A frame to a B MAC that A does not use: unknown in A, so it goes to a6 only.
        probes.push({ kind: 'frame', from: 'a2', ethDst: 0x0200_0000_00ff, ipDst: t.ipOf('b2') });
        return probes;
      },
    });
    t.installInvariants().installMetrics();
  },
  faults: () =>
    parseFaultSchedule([
      { at: '3s', verb: 'crash', node: 'p1' },
      { at: '3300ms', verb: 'restart', node: 'p1' },
      { at: '6s', verb: 'crash', node: 'h4' },
      { at: '6300ms', verb: 'restart', node: 'h4' },
    ]),
});
