// A logical switch bridged to an unmanaged external network through a gateway (seed 000 §1.10's fourth
// non-leaf duty; notes §6 S32): tenant A's switch 'pub' has a localnet port bound to gateway gw1, whose
// physical port is wired to segment 'physnet' with two external hosts. VMs and external hosts reach each
// other both ways (ARP through the bridge first), broadcasts from either side reach every VM of 'pub' and
// every external host exactly once, and tenant B (same addresses, not bridged) never sees any of it nor
// reaches the outside. During the run a VM is added and removed and a VIF moves; the gateway crashes and
// restarts. Needs the gateway rules (gateway-rules.ts).

import { parseFaultSchedule } from '../sim/faults/schedule.ts';
import { defineScenario } from '../sim/testbed/index.ts';
import { NvTestbed, type Probe } from './models/nv-testbed.ts';

const PUB = ['v1', 'v2', 'v3', 'v4'];
const EXT = ['physnet/x1', 'physnet/x2'];

export default defineScenario({
  name: 'gateway',
  description: 'a logical switch bridged to an external network through a gateway; VM <-> external traffic both ways',
  duration: '10s',
  liveness: { from: '7s', within: '3s' },
  setup(world) {
    const t = new NvTestbed(world);
    for (const id of ['h1', 'h2', 'h3']) t.host(id);
    t.externalNetwork('physnet', 'gw1', [
      { name: 'x1', mac: '02:00:00:00:00:65', ip: '10.0.0.101' },
      { name: 'x2', mac: '02:00:00:00:00:66', ip: '10.0.0.102' },
    ]);
    t.logicalSwitch('pub', 'A', '10.0.0.0/24').logicalSwitch('priv', 'B', '10.0.0.0/24').bridge('pub', 'physnet', 'gw1');
    t.vm('v1', { host: 'h1', switch: 'pub', mac: '02:00:00:00:00:01', ip: '10.0.0.1' })
      .vm('v2', { host: 'h2', switch: 'pub', mac: '02:00:00:00:00:02', ip: '10.0.0.2' })
      .vm('v3', { host: 'h3', switch: 'pub', mac: '02:00:00:00:00:03', ip: '10.0.0.3' })
      // Tenant B: the same addresses, and one that claims an external host's.
      .vm('w1', { host: 'h1', switch: 'priv', mac: '02:00:00:00:00:01', ip: '10.0.0.1' })
      .vm('w2', { host: 'h3', switch: 'priv', mac: '02:00:00:00:00:65', ip: '10.0.0.101' })
      .start();

    t.at('2s', () => t.addVm('v4', { host: 'h3', switch: 'pub', mac: '02:00:00:00:00:04', ip: '10.0.0.4' }))
      .at('4s', () => t.moveVm('v2', 'h3'))
      .at('5s', () => t.removeVm('v4'))
      .at('5500ms', () => t.moveVm('v2', 'h1'));

    t.traffic({
      from: '500ms',
      until: '9800ms',
      every: '250ms',
      probes: () => {
        const pub = t.attachedVms(PUB);
        const probes: Probe[] = [];
        for (const v of pub) for (const x of EXT) probes.push({ kind: 'ip', from: v, to: x, proto: 'udp', dstPort: 53 }, { kind: 'ip', from: x, to: v, proto: 'tcp', dstPort: 80 });
        probes.push(...NvTestbed.allPairs(pub), ...NvTestbed.allPairs(['w1', 'w2']));
        probes.push({ kind: 'broadcast', from: 'v1' }, { kind: 'broadcast', from: 'physnet/x2' }, { kind: 'broadcast', from: 'w1' });
        probes.push({ kind: 'unknown-unicast', from: 'v3' }, { kind: 'unknown-unicast', from: 'physnet/x1' });
        // Tenant B aims at the external hosts' MAC and IP: it must stay inside 'priv'.
        probes.push({ kind: 'frame', from: 'w1', ethDst: 0x0200_0000_0066, ipDst: 0x0a00_0066 });
        return probes;
      },
    });
    t.installInvariants().installMetrics();
  },
  faults: () =>
    parseFaultSchedule([
      { at: '3s', verb: 'crash', node: 'gw1' },
      { at: '3300ms', verb: 'restart', node: 'gw1' },
    ]),
});
