// Isolation, exactly-once delivery, placement and replication over random multi-tenant networks: fast-check
// draws hosts, tenants (one logical switch, or two behind a router) whose VMs reuse each other's MACs and
// IPs, port security on or off, "unknown"-address ports, ACLs, an optional pool node, an optional external
// network bridged to one tenant's switch through a gateway, and random traffic (also from outside) —
// IP sends, broadcasts, unknown destinations, frames aimed at other tenants' addresses, spoofed sources.
// After convergence every send is judged by the reference model in scenarios/models/nv-testbed.ts (with
// the ACLs' meaning computed independently below), and every receipt by the isolation policy. A failure
// prints fast-check's seed and the shrunk case.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { EndpointKey } from '../../sim/check/isolation.ts';
import { ETH_TYPE_IPV4, IP_PROTO_TCP, IP_PROTO_UDP, type Headers } from '../../sim/dataplane/headers.ts';
import { ms } from '../../sim/kernel/time.ts';
import { World } from '../../sim/testbed/index.ts';
import { NvTestbed, type Probe } from '../../scenarios/models/nv-testbed.ts';

const RUNS = Number(process.env.NVSIM_PROPERTY_RUNS ?? 100);

interface VmCase {
  readonly idx: number;
  readonly sw: number;
  readonly host: number;
  readonly portSecurity: boolean;
  readonly unknown: boolean;
}
interface AclCase {
  readonly sw: number;
  readonly direction: 'from-lport' | 'to-lport';
  readonly priority: number;
  readonly action: 'allow' | 'drop';
  readonly proto: 'udp' | 'tcp';
  readonly l4Dst: number | null;
  /** A VM index of the tenant whose address the ACL matches as source, or null for any. */
  readonly srcIdx: number | null;
}
interface TenantCase {
  readonly switches: number;
  readonly vms: readonly VmCase[];
  readonly acls: readonly AclCase[];
}
type ProbeCase =
  | { readonly kind: 'ip'; readonly from: number; readonly to: number; readonly proto: 'udp' | 'tcp'; readonly port: number }
  | { readonly kind: 'broadcast' | 'unknown-unicast'; readonly from: number }
  | { readonly kind: 'frame'; readonly from: number; readonly to: number; readonly spoofMacOf: number | null; readonly spoofIpOf: number | null };
interface NetCase {
  readonly hosts: number;
  readonly pool: boolean;
  readonly tenants: readonly TenantCase[];
  /** Tenant 0's first switch bridged through gateway gw1 to segment 'ext' with this many hosts (0: none). */
  readonly externalHosts: number;
  /** `from`/`to` index the VMs, then the external hosts. */
  readonly probes: readonly ProbeCase[];
}

const PORTS = [7, 80];

function tenantArb(hosts: number, withAcls: boolean): fc.Arbitrary<TenantCase> {
  return fc.integer({ min: 1, max: 2 }).chain((switches) =>
    fc.record({
      switches: fc.constant(switches),
      // (switch, index) pairs are unique: MACs and IPs are unique within a switch.
      vms: fc.uniqueArray(
        fc.record({
          idx: fc.integer({ min: 1, max: 5 }),
          sw: fc.integer({ min: 0, max: switches - 1 }),
          host: fc.integer({ min: 0, max: hosts - 1 }),
          portSecurity: fc.boolean(),
          unknown: fc.boolean(),
        }),
        { minLength: 1, maxLength: 5, selector: (v) => `${v.sw}/${v.idx}` },
      ),
      acls: withAcls
        ? fc.array(
            fc.record({
              sw: fc.integer({ min: 0, max: switches - 1 }),
              direction: fc.constantFrom('from-lport' as const, 'to-lport' as const),
              priority: fc.integer({ min: 1, max: 3 }).map((p) => p * 100),
              action: fc.constantFrom('allow' as const, 'drop' as const),
              proto: fc.constantFrom('udp' as const, 'tcp' as const),
              l4Dst: fc.option(fc.constantFrom(...PORTS), { nil: null }),
              srcIdx: fc.option(fc.integer({ min: 1, max: 5 }), { nil: null }),
            }),
            { maxLength: 4 },
          )
        : fc.constant([]),
    }),
  );
}

function netArb(options: { withAcls: boolean; probeKinds: readonly ProbeCase['kind'][]; maxProbes: number }): fc.Arbitrary<NetCase> {
  return fc.record({ hosts: fc.integer({ min: 2, max: 4 }), pool: fc.boolean(), externalHosts: fc.constantFrom(0, 0, 1, 2) }).chain(({ hosts, pool, externalHosts }) =>
    fc.array(tenantArb(hosts, options.withAcls), { minLength: 1, maxLength: 3 }).chain((tenants) => {
      const vmCount = tenants.reduce((n, t) => n + t.vms.length, 0);
      const vm = fc.integer({ min: 0, max: vmCount + externalHosts - 1 });
      const probe: fc.Arbitrary<ProbeCase> = fc.constantFrom(...options.probeKinds).chain((kind): fc.Arbitrary<ProbeCase> => {
        if (kind === 'ip') return fc.record({ kind: fc.constant(kind), from: vm, to: vm, proto: fc.constantFrom('udp' as const, 'tcp' as const), port: fc.constantFrom(...PORTS) });
        if (kind === 'frame') return fc.record({ kind: fc.constant(kind), from: vm, to: vm, spoofMacOf: fc.option(vm, { nil: null }), spoofIpOf: fc.option(vm, { nil: null }) });
        return fc.record({ kind: fc.constant(kind), from: vm });
      });
      return fc.record({ hosts: fc.constant(hosts), pool: fc.constant(pool), tenants: fc.constant(tenants), externalHosts: fc.constant(externalHosts), probes: fc.array(probe, { minLength: 1, maxLength: options.maxProbes }) });
    }),
  );
}

const vmName = (t: number, v: VmCase) => `t${t}s${v.sw}v${v.idx}`;
const mac = (v: VmCase) => `02:00:00:00:00:${v.idx.toString(16).padStart(2, '0')}`;
const ip = (sw: number, idx: number) => `10.0.${sw}.${idx}`;
const ipNum = (sw: number, idx: number) => (10 << 24) + (sw << 8) + idx;

/** The ACLs' meaning, written from relations.ts's description, not from the controller's rules. */
function aclIntent(c: NetCase): (from: EndpointKey, to: EndpointKey, h: Headers) => boolean {
  const where = new Map<string, { tenant: number; sw: number }>();
  c.tenants.forEach((t, ti) => t.vms.forEach((v) => where.set(`vm:${vmName(ti, v)}`, { tenant: ti, sw: v.sw })));
  // External hosts sit behind the localnet port of tenant 0's first switch: its ACLs see their traffic.
  for (let k = 0; k < c.externalHosts; k++) where.set(`ext:ext/x${k}`, { tenant: 0, sw: 0 });
  const decides = (acls: readonly AclCase[], sw: number, direction: AclCase['direction'], h: Headers): boolean => {
    const matching = acls.filter(
      (a) =>
        a.sw === sw &&
        a.direction === direction &&
        h.ethType === ETH_TYPE_IPV4 &&
        h.ipProto === (a.proto === 'tcp' ? IP_PROTO_TCP : IP_PROTO_UDP) &&
        (a.l4Dst === null || h.l4Dst === a.l4Dst) &&
        (a.srcIdx === null || h.ipSrc === ipNum(sw, a.srcIdx)),
    );
    if (matching.length === 0) return true;
    const top = Math.max(...matching.map((a) => a.priority));
    return !matching.some((a) => a.priority === top && a.action === 'drop');
  };
  return (from, to, h) => {
    const a = where.get(from);
    const b = where.get(to);
    if (a === undefined || b === undefined || a.tenant !== b.tenant) return true;
    if (from.startsWith('ext:') && to.startsWith('ext:')) return true; // on the segment itself
    const acls = c.tenants[a.tenant].acls;
    // Same switch: its ingress and egress ACLs. Routed: both directions of both switches.
    const switches = a.sw === b.sw ? [a.sw] : [a.sw, b.sw];
    return switches.every((sw) => decides(acls, sw, 'from-lport', h) && decides(acls, sw, 'to-lport', h));
  };
}

/** Probes start once the network is converged and the VMs' stacks have been quiet for an ARP timeout. */
const START_MS = 1200;

/** Builds the case on a fresh world, sends its probes after convergence, runs, and returns the testbed. */
function runCase(c: NetCase, seed = 1): NvTestbed {
  const world = new World({ seed, trace: 'off' });
  const t = new NvTestbed(world);
  for (let h = 0; h < c.hosts; h++) t.host(`h${h}`);
  if (c.pool) t.poolNode('p1');
  const external = Array.from({ length: c.externalHosts }, (_, k) => ({ name: `x${k}`, mac: `02:00:00:00:00:${(0x65 + k).toString(16)}`, ip: `10.0.0.${101 + k}` }));
  if (external.length > 0) t.externalNetwork('ext', 'gw1', external);
  const names: string[] = [];
  c.tenants.forEach((tc, ti) => {
    for (let sw = 0; sw < tc.switches; sw++) t.logicalSwitch(`t${ti}s${sw}`, `T${ti}`, `10.0.${sw}.0/24`);
    if (tc.switches === 2) {
      t.router(`t${ti}r`, `T${ti}`, [0, 1].map((sw) => ({ switch: `t${ti}s${sw}`, mac: `02:00:00:00:ff:0${sw + 1}`, ip: `10.0.${sw}.254/24` })));
    }
    tc.acls.forEach((a, k) =>
      t.acl({
        name: `t${ti}acl${k}`,
        switch: `t${ti}s${a.sw}`,
        priority: a.priority,
        direction: a.direction,
        action: a.action,
        match: { ipProto: a.proto, ...(a.l4Dst !== null && { l4Dst: a.l4Dst }), ...(a.srcIdx !== null && { ipSrc: ip(a.sw, a.srcIdx) }) },
      }),
    );
    for (const v of tc.vms) {
      const name = vmName(ti, v);
      names.push(name);
      t.vm(name, {
        host: `h${v.host}`,
        switch: `t${ti}s${v.sw}`,
        mac: mac(v),
        ip: ip(v.sw, v.idx),
        portSecurity: v.portSecurity,
        unknown: v.unknown,
        ...(tc.switches === 2 && { gateway: `10.0.${v.sw}.254` }),
      });
    }
  });
  if (external.length > 0) t.bridge('t0s0', 'ext', 'gw1');
  for (const e of external) names.push(`ext/${e.name}`);
  t.setAclIntent(aclIntent(c)).start().installInvariants({ trafficAfterHeal: false });
  c.probes.forEach((p, i) => {
    const from = names[p.from];
    let probe: Probe;
    if (p.kind === 'ip') probe = { kind: 'ip', from, to: names[p.to], proto: p.proto, dstPort: p.port };
    else if (p.kind === 'frame') {
      const to = names[p.to];
      probe = {
        kind: 'frame',
        from,
        ethDst: t.macOf(to),
        ipDst: t.ipOf(to),
        ...(p.spoofMacOf !== null && { ethSrc: t.macOf(names[p.spoofMacOf]) }),
        ...(p.spoofIpOf !== null && { ipSrc: t.ipOf(names[p.spoofIpOf]) }),
      };
    } else probe = { kind: p.kind, from };
    world.scheduler.at(ms(START_MS + 15 * i), () => t.send(probe, t.steady()));
  });
  world.scheduler.runUntil(ms(START_MS + 15 * c.probes.length + 500));
  return t;
}

function verdicts(t: NvTestbed): string[] {
  return t.world.invariants.results().flatMap((r) => (r.ok ? [] : [`${r.id}: ${r.detail}`]));
}

describe('isolation and exactly-once over random multi-tenant networks', () => {
  test('no packet reaches another tenant or an ACL-denied port; every allowed packet arrives exactly once; placement holds', () => {
    let sent = 0;
    let judged = 0;
    fc.assert(
      fc.property(netArb({ withAcls: true, probeKinds: ['ip', 'ip', 'broadcast', 'unknown-unicast', 'frame'], maxProbes: 25 }), fc.integer({ min: 1, max: 1000 }), (c, seed) => {
        const t = runCase(c, seed);
        const bad = verdicts(t);
        if (bad.length > 0) throw new Error(bad.join('\n'));
        sent += c.probes.length;
        judged += t.expectations.stats.met + t.floodExpectations.stats.met;
      }),
      { numRuns: RUNS },
    );
    // Not vacuous: most sends were predicted by the reference model and delivered as predicted (the rest are
    // routed to external hosts, which the model does not predict, and are checked for isolation only).
    expect(judged).toBeGreaterThan(0.8 * sent);
  });
});

describe('replication', () => {
  test('a broadcast reaches each other VM of its logical switch exactly once (with or without a pool node)', () => {
    fc.assert(
      fc.property(netArb({ withAcls: false, probeKinds: ['broadcast', 'broadcast', 'unknown-unicast'], maxProbes: 10 }), (c) => {
        const t = runCase(c);
        const bad = verdicts(t);
        if (bad.length > 0) throw new Error(bad.join('\n'));
        const s = t.floodExpectations.stats;
        if (s.met !== c.probes.length) throw new Error(`only ${s.met} of ${c.probes.length} floods judged and met (${JSON.stringify(s)})`);
      }),
      { numRuns: RUNS },
    );
  });
});
