// The world the middlebox-migration scenarios share (seed 001 FIG. 1–6, seed 003 D14/D15): a three-instance
// controller cluster, four edge hosts in one transport zone plus h5 outside it and h6 whose switch the
// network manager marks unavailable, and three tenants whose routers each carry one distributed
// middlebox, attached out of band by policy routing:
//   A  firewall (default drop; clients may open TCP to the servers' port 80) and a passive IDS;
//   B  DNAT (public 10.9.0.10:80 → server 10.2.0.21:8080) and SNAT of its clients (→ 10.8.0.20, a port
//      block per client address) toward server 10.2.0.22, with the same client addresses as A;
//   C  load balancer (VIP 10.4.0.100:80 → two backends), and an inline firewall on c1's wire that lets c1
//      reach only the VIP.
// Clients on h1 and h2 hold long-lived connections to servers on h3 and h4 (connection-workload.ts). At
// 3 s A's allow rule is withdrawn, so A's established connections live on connection state alone and
// every new one is refused. One client per tenant then migrates h1 → h2 with the variant under test.
// Owns the declaration, the migrations' schedule and the checks and metrics every migration scenario
// shares; the system is sim/middlebox, sim/migration and sim/control's.

import type { Verdict } from '../../sim/check/invariant.ts';
import {
  configScopedInvariant,
  noStaleStateUseInvariant,
  oneRunningCopyInvariant,
  onlyMigratedStateMovesInvariant,
  placedWithNetworkInvariant,
  type HostDatabaseView,
  type MigrationView,
} from '../../sim/check/migration.ts';
import { vmKeyOf } from '../../sim/control/pipeline.ts';
import type { HostNode } from '../../sim/dataplane/host-node.ts';
import { HOST_DB_TABLE } from '../../sim/dataplane/middlebox-hook.ts';
import { decodeMiddleboxRecord } from '../../sim/middlebox/records.ts';
import { NS_PER_MS, toNanos, type Nanos } from '../../sim/kernel/time.ts';
import type { NodeId } from '../../sim/net/message.ts';
import type { MetricValue, World } from '../../sim/testbed/index.ts';
import { ConnectionWorkload } from './connection-workload.ts';
import { ClusterChecks } from './cluster-checks.ts';
import { NvTestbed } from './nv-testbed.ts';
import type { MigrateOptions } from '../../sim/migration/migration-manager.ts';

export const EDGE_HOSTS = ['h1', 'h2', 'h3', 'h4'];
/** Outside the transport zone: has none of the tenants' networks. */
export const HOST_WITHOUT_NETWORK = 'h5';
/** In the transport zone, but its switch is unavailable. */
export const HOST_UNAVAILABLE = 'h6';
export const TRANSPORT_ZONE = 'tz-overlay';
/** Tenant B's clients reach its second server from this address (distributed SNAT). */
export const SNAT_ADDRESS = '10.8.0.20';

/** Where the A allow rule is withdrawn: from then on only connection state admits A's connections. */
export const TIGHTEN_AT = '3s';
/** The VMs that migrate h1 → h2, one per tenant, and when. */
export const MIGRATIONS: readonly { readonly vm: string; readonly at: string }[] = [
  { vm: 'a1', at: '5s' },
  { vm: 'b1', at: '5500ms' },
  { vm: 'c1', at: '6s' },
];

/** Where every migration of the handoff variants goes. */
export const MIGRATION_DESTINATION = 'h2';

/** How long after a migration completes its connections must be answered again. */
const RECOVERY_NS = 1000 * NS_PER_MS;

export interface LabOptions {
  readonly cluster?: Omit<NonNullable<ConstructorParameters<typeof NvTestbed>[1]>['cluster'], 'instances'>;
  readonly trafficUntil?: string;
  /** How long after its migration's start each fast connection keeps sending (default 700 ms: past the stun and the resume). */
  readonly fastConnectionForNs?: Nanos;
}

export interface Lab {
  readonly t: NvTestbed;
  readonly workload: ConnectionWorkload;
  readonly checks: ClusterChecks;
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** Builds the lab's world: cluster, hosts, tenants, middleboxes, connections. Migrations are the scenario's. */
export function buildLab(world: World, options: LabOptions = {}): Lab {
  const t = new NvTestbed(world, { cluster: { instances: 3, ...options.cluster }, middlebox: {}, migration: {} });
  for (const h of [...EDGE_HOSTS, HOST_WITHOUT_NETWORK, HOST_UNAVAILABLE]) t.host(h);
  const tenants = [
    { tenant: 'A', index: 1, cli: '10.1.0', srv: '10.2.0' },
    { tenant: 'B', index: 2, cli: '10.1.0', srv: '10.2.0' },
    { tenant: 'C', index: 3, cli: '10.3.0', srv: '10.4.0' },
  ];
  for (const { tenant, index, cli, srv } of tenants) {
    const l = tenant.toLowerCase();
    t.logicalSwitch(`ls-${l}-cli`, tenant, `${cli}.0/24`);
    t.logicalSwitch(`ls-${l}-srv`, tenant, `${srv}.0/24`);
    t.router(`r${l}`, tenant, [
      { switch: `ls-${l}-cli`, mac: `02:0${index}:00:00:01:01`, ip: `${cli}.1/24` },
      { switch: `ls-${l}-srv`, mac: `02:0${index}:00:00:02:01`, ip: `${srv}.1/24` },
    ]);
    const vm = (name: string, host: NodeId, sw: 'cli' | 'srv', last: number): void => {
      const net = sw === 'cli' ? cli : srv;
      t.vm(name, { host, switch: `ls-${l}-${sw}`, mac: `02:0${index}:00:00:0${sw === 'cli' ? 1 : 2}:${hex(last)}`, ip: `${net}.${last}`, gateway: `${net}.1` });
    };
    vm(`${l}1`, 'h1', 'cli', 11);
    vm(`${l}2`, 'h1', 'cli', 12);
    vm(`${l}3`, 'h2', 'cli', 13);
    vm(`${l}s1`, 'h3', 'srv', 21);
    vm(`${l}s2`, 'h4', 'srv', 22);
  }
  const nb = t.nb;
  // A: a stateful firewall for clients' traffic, and an IDS watching it.
  nb.createMiddlebox({ name: 'fw-a', kind: 'firewall', router: 'ra', defaultAction: 'drop' });
  nb.createMiddleboxPolicy({ name: 'fw-a-clients', middlebox: 'fw-a', priority: 10, match: { ipSrc: '10.1.0.0/24' } });
  nb.createMiddleboxRule({ name: 'fw-a-web', middlebox: 'fw-a', priority: 100, action: 'allow', match: { ipDst: '10.2.0.0/24', ipProto: 'tcp', l4Dst: 80 } });
  nb.createMiddlebox({ name: 'ids-a', kind: 'ids', router: 'ra' });
  nb.createMiddleboxPolicy({ name: 'ids-a-clients', middlebox: 'ids-a', priority: 10, match: { ipSrc: '10.1.0.0/24' } });
  nb.createMiddleboxRule({ name: 'ids-a-web', middlebox: 'ids-a', priority: 10, action: 'alert', match: { ipProto: 'tcp', l4Dst: 80 } });
  // B: destination NAT of a public address.
  nb.createMiddlebox({ name: 'nat-b', kind: 'nat', router: 'rb' });
  nb.createMiddleboxPolicy({ name: 'nat-b-public', middlebox: 'nat-b', priority: 10, match: { ipDst: '10.9.0.0/24' } });
  nb.createMiddleboxRule({ name: 'nat-b-web', middlebox: 'nat-b', priority: 10, action: 'dnat', match: { ipDst: '10.9.0.10', ipProto: 'tcp', l4Dst: 80 }, to: '10.2.0.21:8080' });
  // ...and source NAT of the clients toward the second server: each client address owns a block of ports.
  nb.createMiddleboxPolicy({ name: 'nat-b-clients', middlebox: 'nat-b', priority: 5, match: { ipSrc: '10.1.0.0/24' } });
  nb.createMiddleboxRule({ name: 'nat-b-hide', middlebox: 'nat-b', priority: 5, action: 'snat', match: { ipSrc: '10.1.0.0/24', ipDst: '10.2.0.22', ipProto: 'tcp' }, to: `${SNAT_ADDRESS}:1024-65535` });
  // C: a load-balanced VIP.
  nb.createMiddlebox({ name: 'lb-c', kind: 'lb', router: 'rc' });
  nb.createMiddleboxPolicy({ name: 'lb-c-vip', middlebox: 'lb-c', priority: 10, match: { ipDst: '10.4.0.100' } });
  nb.createMiddleboxRule({ name: 'lb-c-web', middlebox: 'lb-c', priority: 10, action: 'lb', match: { ipDst: '10.4.0.100', ipProto: 'tcp', l4Dst: 80 }, backends: ['10.4.0.21:80', '10.4.0.22:80'] });
  // ...and an inline firewall on c1's wire, which lets it reach only the VIP: it sees c1's packets before
  // the load balancer and the answers after it, so both times with the VIP's address.
  nb.createMiddlebox({ name: 'fw-c1', kind: 'firewall', wire: 'c1', defaultAction: 'drop' });
  nb.createMiddleboxRule({ name: 'fw-c1-vip', middlebox: 'fw-c1', priority: 10, action: 'allow', match: { ipDst: '10.4.0.100', ipProto: 'tcp', l4Dst: 80 } });

  t.networkManager({ zones: { [TRANSPORT_ZONE]: [...EDGE_HOSTS, HOST_UNAVAILABLE] }, unavailable: [HOST_UNAVAILABLE] });
  t.start();
  t.at(TIGHTEN_AT, () => void nb.deleteMiddleboxRule('fw-a-web'));

  const workload = new ConnectionWorkload(t, { from: '1500ms', until: options.trafficUntil ?? '9800ms', every: '100ms' });
  let port = 40000;
  for (const client of ['a1', 'a2', 'a3']) workload.connection({ id: `${client}-web`, client, to: `10.2.0.2${client === 'a2' ? 2 : 1}:80`, clientPort: port++ });
  // Opened after the rule is withdrawn: must never get through.
  workload.connection({ id: 'a1-late', client: 'a1', to: '10.2.0.22:80', clientPort: port++, from: '4s' });
  for (const client of ['b1', 'b2', 'b3']) workload.connection({ id: `${client}-web`, client, to: '10.9.0.10:80', clientPort: port++ });
  for (const client of ['b1', 'b2']) workload.connection({ id: `${client}-snat`, client, to: '10.2.0.22:80', clientPort: port++ });
  for (const client of ['c1', 'c1', 'c2', 'c3']) workload.connection({ id: `${client}-vip-${port}`, client, to: '10.4.0.100:80', clientPort: port++ });

  // A fast connection from each migrating client around its migration, so packets meet the stun window and
  // any state gap (the slow ones above show whether connections outlive it).
  for (const m of MIGRATIONS) {
    const at = toNanos(m.at); // opened before A's rule is withdrawn, so A's too is established
    const to = m.vm === 'a1' ? '10.2.0.22:80' : m.vm === 'b1' ? '10.9.0.10:80' : '10.4.0.100:80';
    const until = at + (options.fastConnectionForNs ?? 700 * NS_PER_MS);
    workload.connection({ id: `${m.vm}-fast`, client: m.vm, to, clientPort: port++, from: '2500ms', until: `${until / NS_PER_MS}ms`, every: '2ms' });
  }
  t.installInvariants({ trafficAfterHeal: false }).installMetrics();
  const checks = new ClusterChecks(t).installInvariants().installMetrics();
  return { t, workload, checks };
}

/**
 * The connection checks every migration scenario makes: translations never change; connections answered
 * before a migration are answered again within `recoveryNs` of its end (default RECOVERY_NS); A's late connection never gets
 * through; answers always come from the address the client sent to.
 */
export function installConnectionChecks(lab: Lab, options: { readonly expectContinuity: boolean; readonly recoveryNs?: Nanos }): void {
  const recoveryNs = options.recoveryNs ?? RECOVERY_NS;
  const { t, workload } = lab;
  const w = t.world;
  // Connection state is volatile: a host or link fault the nemesis injects may lose it or the packets that
  // keep it alive, so continuity is judged on runs with the scenario's own events only. The migration
  // invariants (installMigrationChecks) and isolation hold under every fault.
  const judged = (): boolean => options.expectContinuity && w.nemesis.applied.length === 0;
  w.invariant({
    kind: 'safety',
    id: 'translations-unchanged',
    description: 'every connection reaches one server from one source address for its whole life (same DNAT target, same load-balancer backend)',
    atEnd: () => {
      if (!judged()) return true;
      const bad = workload.records().filter((c) => c.seenAt.length > 1);
      return bad.length === 0 ? true : bad.map((c) => `${c.decl.id} seen as ${c.seenAt.join(', ')}`).join('; ');
    },
  });
  w.invariant({
    kind: 'safety',
    id: 'refused-stays-refused',
    description: 'a connection opened after the firewall rule was withdrawn never reaches its server',
    atEnd: () => {
      // Under injected faults the withdrawal itself may reach h1 late, and a connection admitted meanwhile
      // is then rightly kept by its state.
      if (w.nemesis.applied.length > 0) return true;
      const late = workload.record('a1-late');
      return late.reached === 0 ? true : `a1-late reached its server ${late.reached} times`;
    },
  });
  w.invariant({
    kind: 'safety',
    id: 'answers-from-the-address-sent-to',
    description: 'every answer reaches the client from the address it sent to (reverse translation)',
    atEnd: () => {
      if (!judged()) return true;
      const bad = workload.records().filter((c) => c.wrongSource > 0);
      return bad.length === 0 ? true : bad.map((c) => `${c.decl.id}: ${c.wrongSource}`).join(', ');
    },
  });
  w.invariant({
    kind: 'safety',
    id: 'connections-survive-migration',
    description: `a connection answered before its client migrated, and still sending, is answered again within ${recoveryNs / NS_PER_MS} ms of the migration ending`,
    atEnd: (): Verdict => {
      if (!judged()) return true;
      const problems: string[] = [];
      for (const m of t.migrations()) {
        const start = m.times.start;
        const resumed = m.times.resume;
        if (start === undefined || resumed === undefined) continue;
        for (const c of workload.records().filter((r) => r.decl.client === m.vm && r.decl.id !== 'a1-late')) {
          const before = workload.answeredBetween(c.decl.id, 0, start);
          // A connection that stopped sending before the VM resumed has nothing left to show.
          const sentAfter = workload.sentBetween(c.decl.id, resumed, resumed + recoveryNs);
          const after = workload.answeredBetween(c.decl.id, resumed, resumed + recoveryNs);
          if (before > 0 && sentAfter > 0 && after === 0) problems.push(`${c.decl.id} (answered ${before} before, none of ${sentAfter} sends in the ${recoveryNs / NS_PER_MS} ms after resume)`);
        }
      }
      return problems.length === 0 ? true : problems.join('; ');
    },
  });
  w.invariant({
    kind: 'safety',
    id: 'bystanders-unaffected',
    description: "every send of a client that does not migrate, made while others migrate, is answered: moving one VM's state leaves the rest",
    atEnd: (): Verdict => {
      if (!judged()) return true;
      const moves = t.migrations().filter((m) => m.times.start !== undefined);
      if (moves.length === 0) return true;
      const from = Math.min(...moves.map((m) => m.times.start!));
      // Sends in the run's last recoveryNs are not judged: their answers may still be on the way.
      const to = Math.min(Math.max(...moves.map((m) => m.times.done ?? m.times.resume ?? m.times.start!)) + recoveryNs, w.now - recoveryNs);
      const migrating = new Set(moves.map((m) => m.vm));
      const problems: string[] = [];
      for (const c of workload.records().filter((r) => !migrating.has(r.decl.client))) {
        const sent = workload.sentBetween(c.decl.id, from, to);
        const answered = workload.answeredBetween(c.decl.id, from, to);
        if (answered < sent) problems.push(`${c.decl.id} (${sent - answered} of ${sent} unanswered)`);
      }
      return problems.length === 0 ? true : problems.join('; ');
    },
  });
  w.metric('connections', () => {
    const out: Record<string, MetricValue> = {};
    for (const c of workload.records()) out[c.decl.id] = { sent: c.sent, reached: c.reached, answered: c.answered, seenAt: c.seenAt.join(' ') };
    return out;
  });
}

export { RECOVERY_NS, toNanos, type Nanos };


/**
 * A handoff-variant scenario's setup (seed 001 §2.A–D): the lab, the three migrations with `options`, the
 * connection checks (continuity is promised unless the detected variant treats the gap's packets as new),
 * and the per-migration metrics summary.json reports.
 */
export function setupHandoffVariant(world: World, options: Partial<MigrateOptions>, { recoveryNs, ...labOptions }: LabOptions & { readonly recoveryNs?: Nanos } = {}): Lab {
  const lab = buildLab(world, labOptions);
  const { t } = lab;
  for (const m of MIGRATIONS) t.at(m.at, () => t.migrate(m.vm, MIGRATION_DESTINATION, options));
  installConnectionChecks(lab, { expectContinuity: options.handoff !== 'detected' || options.gapPolicy !== 'new', recoveryNs });
  installMigrationChecks(lab);
  installMigrationMetrics(lab);
  return lab;
}

/** Per migration: variant, downtime, pre-copy rounds, state bytes moved, packets that met the state gap. */
export function installMigrationMetrics(lab: Lab): void {
  const { t } = lab;
  t.world.metric('migrations', () =>
    t.migrations().map((m) => ({
      id: m.id,
      vm: m.vm,
      from: m.from,
      to: m.to,
      variant: m.variant,
      phase: m.phase,
      rounds: m.rounds.length,
      downtimeNs: m.downtimeNs,
      modelDowntimeNs: m.modelDowntimeNs,
      stateBytes: m.stateBytes,
      gapPackets: m.gapPackets,
      refused: m.refused,
      placementRefused: m.placementRefused.map((r) => `${r.host}:${r.reason}`).join(' '),
    })),
  );
}

/** The migration invariants of sim/check/migration.ts, over this lab's world. */
export function installMigrationChecks(lab: Lab): void {
  const { t } = lab;
  const w = t.world;
  const hosts = [...EDGE_HOSTS, HOST_WITHOUT_NETWORK, HOST_UNAVAILABLE];
  const up = (id: NodeId): boolean => w.fabric.isUp(id);
  const view: MigrationView = {
    runningHostsOf: (vm) =>
      hosts.filter((h) => {
        const host = w.fabric.process<HostNode>(h);
        return host !== undefined && host.hasVm(vm) && host.vm(vm).runState === 'running';
      }),
    placementVerdict: (vm, host) => {
      const publication = t.networkManagerPublication(host);
      const network = t.nb.getSwitchPort(vm)?.switch;
      if (network === undefined || !publication.networks.some((n) => n.uuid === network)) return `the network manager does not publish ${network ?? '?'} to ${host}`;
      const sw = publication.switches.find((s) => s.host === host);
      if (sw === undefined || sw.status !== 'healthy') return `${host}'s switch is ${sw?.status ?? 'not published'}`;
      const vifs = t.dp.host(host).switch.ports.list().filter((p) => p.kind === 'vif').length;
      return vifs <= sw.capacity ? true : `${host}'s switch has ${vifs} VIFs for ${sw.capacity} ports`;
    },
    vmKeyOf: (vm) => {
      const port = t.nb.getSwitchPort(vm);
      return port === undefined ? undefined : vmKeyOf(port.dp, port.port);
    },
  };
  w.invariant(oneRunningCopyInvariant(w.trace, view));
  w.invariant(placedWithNetworkInvariant(w.trace, view));
  w.invariant(noStaleStateUseInvariant(w.trace, view));
  w.invariant(onlyMigratedStateMovesInvariant(w.trace, view));
  const db: HostDatabaseView = {
    switches: () => t.dp.switches.filter(up),
    records: (id) => {
      const slices: number[] = [];
      const vms: { tag: number; vifId: string }[] = [];
      for (const f of t.dp.switchNode(id).switch.flows.flows()) {
        if (f.table !== HOST_DB_TABLE) continue;
        for (const a of f.actions) {
          if (a.type !== 'note') continue;
          const rec = decodeMiddleboxRecord(a.text);
          if (rec.r === 'slice') slices.push(rec.tag);
          if (rec.r === 'vm') vms.push({ tag: rec.tag, vifId: rec.vifId });
        }
      }
      return { slices, vms };
    },
    vifs: (id) => t.dp.switchNode(id).switch.ports.list().flatMap((p) => (p.kind === 'vif' ? [p.vifId] : [])),
    isHost: (id) => hosts.includes(id),
  };
  w.invariant(configScopedInvariant(db));
}
