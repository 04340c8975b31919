// Seed 000 FIG. 6/7 (notes §6 S4): edge-only control of two tenants. Four edge switches (hosts e1..e4)
// and two interior switches (i1, i2: managed, tunnelled to every edge, never hosting a VM). Tenant A has
// VMs on e1, e2 and e4, tenant B on e1, e3 and e4, with overlapping addresses (a1 and b1 share MAC and IP
// on one host). Traffic within each tenant, and attempts across (frames to the other tenant's MACs,
// spoofed sources). During the run a port is added and removed, a VIF moves away and back, and edge e4
// crashes and restarts; the control channel to e3 is cut for a while. Invariants: isolation and
// exactly-once delivery, interior switches never get a tenant flow, e2 never a B flow and e3 never an A
// flow (FIG. 7), placement and flow convergence at quiescence.

import { forbiddenFlowsInvariant } from '../sim/check/placement.ts';
import { parseFaultSchedule } from '../sim/faults/schedule.ts';
import { defineScenario } from '../sim/testbed/index.ts';
import { NvTestbed, type Probe } from './models/nv-testbed.ts';

const A = ['a1', 'a2', 'a3', 'a4'];
const B = ['b1', 'b2', 'b3'];

export default defineScenario({
  name: 'two-tenants-edge',
  description: 'FIG. 6/7: two tenants on four edge switches, two interior switches with no tenant flows; moves, a crash',
  duration: '10s',
  liveness: { from: '7s', within: '3s' },
  setup(world) {
    const t = new NvTestbed(world);
    for (const id of ['e1', 'e2', 'e3', 'e4']) t.host(id);
    t.interior('i1').interior('i2');
    t.logicalSwitch('ls-a', 'A', '10.0.0.0/24').logicalSwitch('ls-b', 'B', '10.0.0.0/24');
    t.vm('a1', { host: 'e1', switch: 'ls-a', mac: '02:00:00:00:00:01', ip: '10.0.0.1' })
      .vm('a2', { host: 'e2', switch: 'ls-a', mac: '02:00:00:00:00:02', ip: '10.0.0.2' })
      .vm('a3', { host: 'e4', switch: 'ls-a', mac: '02:00:00:00:00:03', ip: '10.0.0.3' })
      // B reuses A's addresses: b1 is a1's twin on the same host; b2 and b3 reuse IPs with other MACs.
      .vm('b1', { host: 'e1', switch: 'ls-b', mac: '02:00:00:00:00:01', ip: '10.0.0.1' })
      .vm('b2', { host: 'e3', switch: 'ls-b', mac: '02:00:00:00:00:12', ip: '10.0.0.2' })
      .vm('b3', { host: 'e4', switch: 'ls-b', mac: '02:00:00:00:00:13', ip: '10.0.0.3' })
      .start();

    // Configuration changes: a port comes and goes, a VIF moves away and back.
    t.at('2s', () => t.addVm('a4', { host: 'e2', switch: 'ls-a', mac: '02:00:00:00:00:04', ip: '10.0.0.4' }))
      .at('4s', () => t.moveVm('a3', 'e2'))
      .at('5s', () => t.removeVm('a4'))
      .at('5500ms', () => t.moveVm('a3', 'e4'));

    t.traffic({
      from: '500ms',
      until: '9800ms',
      every: '250ms',
      probes: () => {
        const probes: Probe[] = [...NvTestbed.allPairs(t.attachedVms(A)), ...NvTestbed.allPairs(t.attachedVms(B), 'tcp', 80)];
        // Across tenants: frames to the other tenant's MACs and IPs, and a spoofed source.
        probes.push({ kind: 'frame', from: 'a1', ethDst: t.macOf('b2'), ipDst: t.ipOf('b2') });
        probes.push({ kind: 'frame', from: 'a2', ethDst: t.macOf('b3'), ipDst: t.ipOf('b3') });
        probes.push({ kind: 'frame', from: 'b2', ethDst: t.macOf('a2'), ipDst: t.ipOf('a2') });
        probes.push({ kind: 'frame', from: 'a2', ethDst: t.macOf('a1'), ipDst: t.ipOf('a1'), ethSrc: t.macOf('b2') });
        probes.push({ kind: 'broadcast', from: 'a1' }, { kind: 'broadcast', from: 'b3' }, { kind: 'unknown-unicast', from: 'b1' });
        return probes;
      },
    });

    t.installInvariants().installMetrics();
    const tenant = (dp: number) => t.tenantOfDatapath(dp);
    world.invariant(
      forbiddenFlowsInvariant(world.trace, (node, dp) => (t.interiorSwitches.includes(node) ? `interior switch, datapath of tenant ${tenant(dp)}` : undefined), () => t.installedTables(), {
        id: 'interior-no-tenant-flows',
        description: 'interior switches i1 and i2 never receive a tenant flow',
      }),
    );
    world.invariant(
      forbiddenFlowsInvariant(world.trace, (node, dp) => (node === 'e2' && tenant(dp) === 'B' ? 'e2 hosts no VM of tenant B' : undefined), () => t.installedTables(), {
        id: 'e2-no-tenant-b-flows',
        description: 'edge e2 (only tenant A) never receives a flow of tenant B',
      }),
    );
    world.invariant(
      forbiddenFlowsInvariant(world.trace, (node, dp) => (node === 'e3' && tenant(dp) === 'A' ? 'e3 hosts no VM of tenant A' : undefined), () => t.installedTables(), {
        id: 'e3-no-tenant-a-flows',
        description: 'edge e3 (only tenant B) never receives a flow of tenant A',
      }),
    );
  },
  faults: () =>
    parseFaultSchedule([
      { at: '3s', verb: 'crash', node: 'e4' },
      { at: '3300ms', verb: 'restart', node: 'e4' },
      { at: '6s', verb: 'partition', id: 'e3-cut', groups: [['ctl'], ['e3']] },
      { at: '6400ms', verb: 'heal', id: 'e3-cut' },
    ]),
});
