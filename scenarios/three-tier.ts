// A three-tier tenant (seed 000 FIG. 5's L2 + L3 + ACL pipeline): web, app and db logical switches behind
// one distributed logical router, with ACLs between the tiers — web may reach app only on tcp/8080, app
// may reach db only on tcp/5432, web may not reach db at all; replies and traffic within a tier pass.
// Another tenant reuses the web subnet and addresses and must see none of it. Traffic that must pass and
// traffic that must be dropped is sent every round and judged by the reference model (with the ACL
// intent below). During the run a web VM is added and removed, an app VM moves between hosts, and host h3
// crashes and restarts. Needs logical routers and ACLs in the controller (router-rules.ts, acl-rules.ts).

import { ETH_TYPE_IPV4, IP_PROTO_TCP, type Headers } from '../sim/dataplane/headers.ts';
import { parseFaultSchedule } from '../sim/faults/schedule.ts';
import { defineScenario } from '../sim/testbed/index.ts';
import { NvTestbed, type Probe } from './models/nv-testbed.ts';

const WEB = ['web1', 'web2', 'web3'];
const APP = ['app1', 'app2'];
const DB = ['db1'];
const TIER: Record<string, 'web' | 'app' | 'db'> = Object.fromEntries([...WEB.map((n) => [n, 'web']), ...APP.map((n) => [n, 'app']), ...DB.map((n) => [n, 'db'])]);

/** What the tenant's ACLs mean: web → app tcp/8080 only, app → db tcp/5432 only, web → db never. */
export function threeTierIntent(from: string, to: string, h: Headers): boolean {
  const a = TIER[from.slice(3)];
  const b = TIER[to.slice(3)];
  if (a === undefined || b === undefined || h.ethType !== ETH_TYPE_IPV4) return true;
  if (a === 'web' && b === 'db') return false;
  if (a === 'web' && b === 'app') return h.ipProto === IP_PROTO_TCP && h.l4Dst === 8080;
  if (a === 'app' && b === 'db') return h.ipProto === IP_PROTO_TCP && h.l4Dst === 5432;
  return true;
}

export default defineScenario({
  name: 'three-tier',
  description: 'web/app/db switches behind a logical router with ACLs between tiers; traffic that must pass and must drop',
  duration: '10s',
  liveness: { from: '7s', within: '3s' },
  setup(world) {
    const t = new NvTestbed(world);
    for (const id of ['h1', 'h2', 'h3', 'h4']) t.host(id);
    t.logicalSwitch('web', 'T', '10.0.1.0/24').logicalSwitch('app', 'T', '10.0.2.0/24').logicalSwitch('db', 'T', '10.0.3.0/24');
    t.router('r1', 'T', [
      { switch: 'web', mac: '02:00:00:00:01:01', ip: '10.0.1.1/24' },
      { switch: 'app', mac: '02:00:00:00:02:01', ip: '10.0.2.1/24' },
      { switch: 'db', mac: '02:00:00:00:03:01', ip: '10.0.3.1/24' },
    ]);
    // Web → app: tcp/8080 only. App → db: tcp/5432 only. Web → db: nothing (dropped as it leaves web).
    t.acl({ name: 'app-from-web-8080', switch: 'app', priority: 1000, direction: 'to-lport', action: 'allow', match: { ipSrc: '10.0.1.0/24', ipProto: 'tcp', l4Dst: 8080 } })
      .acl({ name: 'app-from-web-other', switch: 'app', priority: 900, direction: 'to-lport', action: 'drop', match: { ipSrc: '10.0.1.0/24' } })
      .acl({ name: 'db-from-app-5432', switch: 'db', priority: 1000, direction: 'to-lport', action: 'allow', match: { ipSrc: '10.0.2.0/24', ipProto: 'tcp', l4Dst: 5432 } })
      .acl({ name: 'db-from-app-other', switch: 'db', priority: 900, direction: 'to-lport', action: 'drop', match: { ipSrc: '10.0.2.0/24' } })
      .acl({ name: 'db-from-web', switch: 'db', priority: 900, direction: 'to-lport', action: 'drop', match: { ipSrc: '10.0.1.0/24' } })
      .acl({ name: 'web-to-db', switch: 'web', priority: 1000, direction: 'from-lport', action: 'drop', match: { ipDst: '10.0.3.0/24' } })
      .setAclIntent(threeTierIntent);
    const at = (sw: string, gw: string) => ({ switch: sw, gateway: gw });
    t.vm('web1', { host: 'h1', ...at('web', '10.0.1.1'), mac: '02:00:00:00:01:0a', ip: '10.0.1.10' })
      .vm('web2', { host: 'h2', ...at('web', '10.0.1.1'), mac: '02:00:00:00:01:0b', ip: '10.0.1.11' })
      .vm('app1', { host: 'h2', ...at('app', '10.0.2.1'), mac: '02:00:00:00:02:0a', ip: '10.0.2.10' })
      .vm('app2', { host: 'h3', ...at('app', '10.0.2.1'), mac: '02:00:00:00:02:0b', ip: '10.0.2.11' })
      .vm('db1', { host: 'h4', ...at('db', '10.0.3.1'), mac: '02:00:00:00:03:0a', ip: '10.0.3.10' });
    // Tenant U reuses the web subnet and web1's very addresses, on the same host.
    t.logicalSwitch('u-web', 'U', '10.0.1.0/24')
      .vm('u1', { host: 'h1', switch: 'u-web', mac: '02:00:00:00:01:0a', ip: '10.0.1.10' })
      .vm('u2', { host: 'h4', switch: 'u-web', mac: '02:00:00:00:01:0c', ip: '10.0.1.11' })
      .start();

    t.at('2s', () => t.addVm('web3', { host: 'h4', ...at('web', '10.0.1.1'), mac: '02:00:00:00:01:0c', ip: '10.0.1.12' }))
      .at('4s', () => t.moveVm('app1', 'h4'))
      .at('5s', () => t.removeVm('web3'))
      .at('5500ms', () => t.moveVm('app1', 'h1'));

    t.traffic({
      from: '500ms',
      until: '9800ms',
      every: '250ms',
      probes: () => {
        const tenantT = t.attachedVms([...WEB, ...APP, ...DB]);
        const probes: Probe[] = [
          ...NvTestbed.allPairs(tenantT, 'udp', 7), // within tiers and replies pass; web → app/db udp dropped
          ...NvTestbed.allPairs(t.attachedVms(['u1', 'u2'])),
        ];
        for (const w of t.attachedVms(WEB)) {
          for (const a of t.attachedVms(APP)) probes.push({ kind: 'ip', from: w, to: a, proto: 'tcp', dstPort: 8080 }, { kind: 'ip', from: w, to: a, proto: 'tcp', dstPort: 22 });
          for (const d of DB) probes.push({ kind: 'ip', from: w, to: d, proto: 'tcp', dstPort: 5432 });
        }
        for (const a of t.attachedVms(APP)) for (const d of DB) probes.push({ kind: 'ip', from: a, to: d, proto: 'tcp', dstPort: 5432 }, { kind: 'ip', from: a, to: d, proto: 'tcp', dstPort: 3306 });
        probes.push({ kind: 'broadcast', from: 'web1' }, { kind: 'broadcast', from: 'u1' });
        // Tenant U tries web2's addresses and the router's MAC with a db destination.
        probes.push({ kind: 'frame', from: 'u1', ethDst: t.macOf('web2'), ipDst: t.ipOf('web2') });
        probes.push({ kind: 'frame', from: 'u2', ethDst: 0x0200_0000_0101, ipDst: t.ipOf('db1') });
        return probes;
      },
    });
    t.installInvariants().installMetrics();
  },
  faults: () =>
    parseFaultSchedule([
      { at: '3s', verb: 'crash', node: 'h3' },
      { at: '3300ms', verb: 'restart', node: 'h3' },
    ]),
});
