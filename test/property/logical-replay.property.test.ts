// Properties of the logical model under random sequences of valid and invalid calls (small name and
// address pools, so collisions, dangling references and conflicts are common):
//   - a failed call or transaction changes nothing and delivers nothing;
//   - every change set is a proper set difference (deletes present, inserts absent, no repeats);
//   - the change stream replayed from empty equals snapshot() after every call;
//   - the model stays referentially consistent (ports on live datapaths, peers paired, unique MACs/IPs
//     per switch, one VIF per port, ACLs and routes naming live ports, middleboxes on live routers or
//     VIF wires with their policies and rules naming them);
//   - a middlebox tag names one middlebox for good: never reused after its middlebox is deleted;
//   - the same calls give the same keys, change sets and snapshots.
import { describe, expect } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { LogicalNetworks, RELATION_ORDER, type Delta, type RelationName, type Snapshot } from '../../sim/logical/index.ts';

const runs = (fallback: number) => Number(process.env.NVSIM_PROPERTY_RUNS ?? fallback);

const SWITCHES = ['s0', 's1', 's2'];
const PORTS = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'];
const ROUTERS = ['r0', 'r1', 'r2'];
const ROUTER_PORTS = ['rp0', 'rp1', 'rp2', 'rp3'];
const ACLS = ['a0', 'a1', 'a2'];
const TENANTS = ['T0', 'T1'];
const VIFS = ['v0', 'v1', 'v2'];
const MACS = ['02:00:00:00:00:01', '02:00:00:00:00:02', '02:00:00:00:00:03', '02:00:00:00:00:04', '02:00:00:00:00:05', '02:00:00:00:00:06', '01:00:00:00:00:01', 'bogus'];
const IPS = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.1.1', '10.0.1.2', '300.0.0.1'];
const SUBNETS = ['10.0.0.0/24', '10.0.1.0/24', '10.0.0.0/16', '10.0.0.1/24'];
const ROUTER_IPS = ['10.0.0.254/24', '10.0.1.254/24', '10.0.0.253/24', '10.0.1.253/24', '10.0.0.254/16', '192.168.0.1/30', '10.0.0.0/24'];
const PREFIXES = ['0.0.0.0/0', '10.9.0.0/16', '10.0.0.0/8', '10.0.0.1/8'];
const NEXTHOPS = ['10.0.0.9', '10.0.1.9', '192.168.0.2', '0.0.0.0'];
const MIDDLEBOXES = ['m0', 'm1', 'm2'];
const KINDS = ['firewall', 'nat', 'lb', 'ids'] as const;
const MB_ACTIONS = ['allow', 'drop', 'snat', 'dnat', 'lb', 'alert'] as const;
const NAT_TARGETS = ['10.0.9.1', '10.0.9.1:80', '10.0.9.1:1024-2047', '10.0.9.1:0'];
const BACKENDS = ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.1:8080', 'bogus'];

const pick = <T,>(xs: readonly T[]) => fc.constantFrom(...xs);
const maybe = <T,>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
/** Mostly absent: for optional fields that usually make a call fail when given. */
const rarely = <T,>(a: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: a });
const addressEntry = fc.oneof(
  fc.constant('unknown'),
  fc.tuple(pick(MACS), fc.array(pick(IPS), { maxLength: 2 })).map(([mac, ips]) => [mac, ...ips].join(' ')),
);

type Op =
  | { kind: 'createSwitch'; name: string; tenant: string; subnet?: string }
  | { kind: 'updateSwitch'; name: string; subnet: string | null; rename?: string }
  | { kind: 'deleteSwitch'; name: string; cascade: boolean }
  | { kind: 'createPort'; name: string; sw: string; localnet: boolean; addresses: string[]; portSecurity: string[]; vifId?: string }
  | { kind: 'updatePort'; name: string; addresses?: string[]; portSecurity?: string[]; rename?: string }
  | { kind: 'deletePort'; name: string; cascade: boolean }
  | { kind: 'bind'; name: string; vifId: string }
  | { kind: 'unbind'; name: string }
  | { kind: 'createRouter'; name: string; tenant: string }
  | { kind: 'deleteRouter'; name: string; cascade: boolean }
  | { kind: 'connect'; router: string; sw: string; name: string; mac: string; ip: string }
  | { kind: 'updateRouterPort'; name: string; mac?: string; ip?: string }
  | { kind: 'deleteRouterPort'; name: string; cascade: boolean }
  | { kind: 'createRoute'; router: string; prefix: string; nexthop: string; outputPort?: string }
  | { kind: 'updateRoute'; router: string; prefix: string; nexthop: string; outputPort?: string | null }
  | { kind: 'deleteRoute'; router: string; prefix: string }
  | { kind: 'createAcl'; name: string; sw: string; priority: number; direction: 'from-lport' | 'to-lport'; inport?: string; outport?: string; l4Dst?: number }
  | { kind: 'updateAcl'; name: string; priority?: number; direction?: 'from-lport' | 'to-lport' }
  | { kind: 'deleteAcl'; name: string }
  | { kind: 'createMiddlebox'; name: string; mbKind: (typeof KINDS)[number]; router?: string; wire?: string; drop: boolean }
  | { kind: 'updateMiddlebox'; name: string; rename?: string; drop?: boolean }
  | { kind: 'deleteMiddlebox'; name: string; cascade: boolean }
  | { kind: 'createPolicy'; name: string; middlebox: string; priority: number; ipSrc?: string; l4Dst?: number }
  | { kind: 'updatePolicy'; name: string; middlebox?: string; priority?: number }
  | { kind: 'deletePolicy'; name: string }
  | { kind: 'createRule'; name: string; middlebox: string; action: (typeof MB_ACTIONS)[number]; vip: boolean; to?: string; backends?: readonly string[] }
  | { kind: 'updateRule'; name: string; priority?: number; to?: string; backends?: string[] }
  | { kind: 'deleteRule'; name: string };

type Step = Op | { kind: 'tx'; ops: Op[]; fail: boolean };

/** Names the setup creates come up more often in calls that need an existing entity. */
const SOME_SWITCH = pick(['s0', 's1', 's0', 's1', 's2']);
const SOME_PORT = pick(['p0', 'p1', 'p2', 'p0', 'p1', 'p2', 'p3', 'p4']);
const SOME_ROUTER = pick(['r0', 'r1', 'r2']);
const SOME_ROUTER_PORT = pick(['rp0', 'rp1', 'rp0', 'rp1', 'rp2', 'rp3']);
const SOME_ACL = pick(['a0', 'a0', 'a1', 'a2']);
const SOME_PREFIX = pick(['10.9.0.0/16', '10.9.0.0/16', ...PREFIXES]);
const SOME_NEXTHOP = pick(['10.0.0.9', '10.0.0.7', '10.0.1.9', ...NEXTHOPS]);
const SOME_MIDDLEBOX = pick(['m0', 'm0', 'm1', 'm2']);
const SOME_POLICY = pick(['mp0', 'mp0', 'mp1']);
const SOME_RULE = pick(['mr0', 'mr0', 'mr0', 'mr0', 'mr1', 'mr2', 'mr3']);
/** A middlebox goes on a router or a wire; now and then on both or neither, which must fail. */
const placementArb = fc.oneof(
  { weight: 4, arbitrary: SOME_ROUTER.map((router) => ({ router })) },
  { weight: 4, arbitrary: SOME_PORT.map((wire) => ({ wire })) },
  { weight: 1, arbitrary: fc.record({ router: SOME_ROUTER, wire: SOME_PORT }) },
  { weight: 1, arbitrary: fc.constant({}) },
);
const middleboxCreateArb: fc.Arbitrary<Op> = fc.oneof(
  fc
    .record({ name: pick(MIDDLEBOXES), mbKind: pick(KINDS), placement: placementArb, drop: fc.boolean().chain((b) => (b ? fc.boolean() : fc.constant(false))) })
    .map(({ placement, ...rest }) => ({ kind: 'createMiddlebox' as const, ...rest, ...placement })),
  fc.record({ kind: fc.constant('createPolicy' as const), name: pick(['mp0', 'mp1']), middlebox: SOME_MIDDLEBOX, priority: fc.constantFrom(1, 100, 32768), ipSrc: maybe(pick(['10.0.0.0/24', '10.0.0.1'])), l4Dst: maybe(fc.constant(80)) }),
  fc.record({
    kind: fc.constant('createRule' as const),
    name: pick(['mr0', 'mr1', 'mr2']),
    middlebox: SOME_MIDDLEBOX,
    action: pick(MB_ACTIONS),
    vip: fc.boolean(),
    to: rarely(pick(NAT_TARGETS)),
    backends: rarely(fc.array(pick(BACKENDS), { maxLength: 2 })),
  }),
);

const createArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('createSwitch' as const), name: pick(SWITCHES), tenant: pick(TENANTS), subnet: maybe(pick(SUBNETS)) }),
  fc.record({
    kind: fc.constant('createPort' as const),
    name: pick(PORTS),
    sw: SOME_SWITCH,
    localnet: fc.boolean(),
    addresses: fc.array(addressEntry, { maxLength: 2 }),
    portSecurity: fc.array(fc.tuple(pick(MACS), fc.array(pick(IPS), { maxLength: 1 })).map(([m, ips]) => [m, ...ips].join(' ')), { maxLength: 1 }),
    vifId: maybe(pick(VIFS)),
  }),
  fc.record({ kind: fc.constant('createRouter' as const), name: pick(ROUTERS), tenant: pick(TENANTS) }),
  fc.record({ kind: fc.constant('connect' as const), router: SOME_ROUTER, sw: SOME_SWITCH, name: pick(ROUTER_PORTS), mac: pick(MACS), ip: pick(ROUTER_IPS) }),
  fc.record({ kind: fc.constant('createRoute' as const), router: SOME_ROUTER, prefix: pick(PREFIXES), nexthop: SOME_NEXTHOP, outputPort: maybe(SOME_ROUTER_PORT) }),
  fc.record({
    kind: fc.constant('createAcl' as const),
    name: pick(ACLS),
    sw: SOME_SWITCH,
    priority: fc.constantFrom(0, 100, 32767, 32768),
    direction: pick(['from-lport', 'to-lport'] as const),
    inport: maybe(SOME_PORT),
    outport: maybe(SOME_PORT),
    l4Dst: maybe(fc.constantFrom(22, 22, 70000)),
  }),
);

/** Calls with a good chance of succeeding, where independent random choices would nearly always fail. */
const likelyArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('connect' as const),
    router: pick(['r1', 'r1', 'r2']),
    sw: SOME_SWITCH,
    name: pick(['rp2', 'rp3']),
    mac: pick(['02:00:00:00:00:05', '02:00:00:00:00:06']),
    ip: pick(['10.0.0.253/24', '10.0.1.253/24', '192.168.0.1/30']),
  }),
  fc.record({ kind: fc.constant('createRoute' as const), router: pick(['r0', 'r1']), prefix: pick(['0.0.0.0/0', '10.8.0.0/16', '10.0.0.0/8']), nexthop: pick(['10.0.0.9', '10.0.1.9']), outputPort: maybe(pick(['rp0', 'rp1', 'rp2'])) }),
  fc
    .record({ name: pick(['m1', 'm2']), mbKind: pick(KINDS), placement: fc.oneof(fc.constant({ router: 'r1' }), pick(['p0', 'p1', 'p2', 'p3']).map((wire) => ({ wire }))) })
    .map(({ placement, ...rest }) => ({ kind: 'createMiddlebox' as const, ...rest, ...placement, drop: false })),
  fc.record({ kind: fc.constant('createPolicy' as const), name: fc.constant('mp1'), middlebox: pick(['m0', 'm1', 'm2']), priority: fc.constant(1) }),
  fc
    .record({
      name: pick(['mr1', 'mr2', 'mr3']),
      // m0 is the setup's firewall; m1 and m2, when they exist, may be of any kind, so try each kind's rule.
      target: fc.oneof(
        fc.constant({ middlebox: 'm0', action: 'drop' as const, vip: false }),
        fc.tuple(
          pick(['m1', 'm2']),
          fc.constantFrom(
            { action: 'drop' as const, vip: false },
            { action: 'dnat' as const, vip: false, to: '10.0.9.1:8080' },
            { action: 'lb' as const, vip: true, backends: ['10.0.0.2:80', '10.0.0.1:80'] },
            { action: 'alert' as const, vip: false },
          ),
        ).map(([middlebox, body]) => ({ middlebox, ...body })),
      ),
    })
    .map(({ name, target }) => ({ kind: 'createRule' as const, name, ...target })),
  fc.record({
    kind: fc.constant('createAcl' as const),
    name: pick(['a1', 'a2']),
    sw: fc.constant('s0'),
    priority: fc.constantFrom(0, 100, 32767),
    direction: fc.constant('to-lport' as const),
    inport: maybe(pick(['p0', 'p1', 'rp0-peer'])),
    outport: maybe(pick(['p0', 'p1'])),
    l4Dst: maybe(fc.constant(22)),
  }),
);

const updateArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('updateSwitch' as const), name: SOME_SWITCH, subnet: fc.option(pick(SUBNETS), { nil: null }), rename: maybe(pick(SWITCHES)) }),
  fc.record({ kind: fc.constant('updatePort' as const), name: SOME_PORT, addresses: maybe(fc.array(addressEntry, { maxLength: 2 })), portSecurity: maybe(fc.constant([] as string[])), rename: maybe(pick(PORTS)) }),
  fc.record({ kind: fc.constant('bind' as const), name: SOME_PORT, vifId: pick(VIFS) }),
  fc.record({ kind: fc.constant('unbind' as const), name: SOME_PORT }),
  fc.record({ kind: fc.constant('updateRouterPort' as const), name: SOME_ROUTER_PORT, mac: maybe(pick(MACS)), ip: maybe(pick(ROUTER_IPS)) }),
  fc.record({ kind: fc.constant('updateRoute' as const), router: SOME_ROUTER, prefix: SOME_PREFIX, nexthop: SOME_NEXTHOP, outputPort: fc.option(SOME_ROUTER_PORT, { nil: null }) }),
  fc.record({ kind: fc.constant('updateAcl' as const), name: SOME_ACL, priority: maybe(fc.constantFrom(5, 5, -1)), direction: maybe(pick(['from-lport', 'to-lport'] as const)) }),
  fc.record({ kind: fc.constant('updateMiddlebox' as const), name: SOME_MIDDLEBOX, rename: rarely(pick(MIDDLEBOXES)), drop: maybe(fc.boolean()) }),
  fc.record({ kind: fc.constant('updatePolicy' as const), name: SOME_POLICY, middlebox: rarely(SOME_MIDDLEBOX), priority: maybe(fc.constantFrom(7, 7, -1)) }),
  fc.record({ kind: fc.constant('updateRule' as const), name: SOME_RULE, priority: maybe(fc.constantFrom(7, 7, 40000)), to: rarely(pick(NAT_TARGETS)), backends: rarely(fc.array(pick(BACKENDS), { maxLength: 2 })) }),
);

const deleteArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('deleteSwitch' as const), name: SOME_SWITCH, cascade: fc.boolean() }),
  fc.record({ kind: fc.constant('deletePort' as const), name: fc.oneof(SOME_PORT, pick(ROUTER_PORTS.map((p) => `${p}-peer`))), cascade: fc.boolean() }),
  fc.record({ kind: fc.constant('deleteRouter' as const), name: SOME_ROUTER, cascade: fc.boolean() }),
  fc.record({ kind: fc.constant('deleteRouterPort' as const), name: SOME_ROUTER_PORT, cascade: fc.boolean() }),
  fc.record({ kind: fc.constant('deleteRoute' as const), router: SOME_ROUTER, prefix: SOME_PREFIX }),
  fc.record({ kind: fc.constant('deleteAcl' as const), name: SOME_ACL }),
  fc.record({ kind: fc.constant('deleteMiddlebox' as const), name: SOME_MIDDLEBOX, cascade: fc.boolean() }),
  fc.record({ kind: fc.constant('deletePolicy' as const), name: SOME_POLICY }),
  fc.record({ kind: fc.constant('deleteRule' as const), name: SOME_RULE }),
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: createArb },
  { weight: 2, arbitrary: likelyArb },
  { weight: 2, arbitrary: middleboxCreateArb },
  { weight: 4, arbitrary: updateArb },
  { weight: 1, arbitrary: deleteArb },
);

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: opArb },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('tx' as const), ops: fc.array(opArb, { minLength: 1, maxLength: 3 }), fail: fc.boolean().chain((b) => (b ? fc.boolean() : fc.constant(false))) }),
  },
);

/**
 * A populated start, so random calls mostly meet existing entities: tenant T0's switches s0 and s1 joined
 * by router r0 (with a route, an ACL, and firewall m0 with a policy and a rule), load balancer m1 inline
 * on p1's wire with a rule, and an empty router r1. s2, r2, p3..p5, rp2, rp3, a1 and a2
 * are left for the random calls to create (with either tenant).
 */
const SETUP: Step[] = [
  { kind: 'createSwitch', name: 's0', tenant: 'T0', subnet: '10.0.0.0/24' },
  { kind: 'createSwitch', name: 's1', tenant: 'T0', subnet: '10.0.1.0/24' },
  { kind: 'createRouter', name: 'r0', tenant: 'T0' },
  { kind: 'createRouter', name: 'r1', tenant: 'T0' },
  { kind: 'createPort', name: 'p0', sw: 's0', localnet: false, addresses: ['02:00:00:00:00:01 10.0.0.1'], portSecurity: ['02:00:00:00:00:01 10.0.0.1'], vifId: 'v0' },
  { kind: 'createPort', name: 'p1', sw: 's0', localnet: false, addresses: ['02:00:00:00:00:02 10.0.0.2', 'unknown'], portSecurity: [] },
  { kind: 'createPort', name: 'p2', sw: 's1', localnet: false, addresses: ['02:00:00:00:00:01 10.0.1.1'], portSecurity: [], vifId: 'v1' },
  { kind: 'connect', router: 'r0', sw: 's0', name: 'rp0', mac: '02:00:00:00:00:03', ip: '10.0.0.254/24' },
  { kind: 'connect', router: 'r0', sw: 's1', name: 'rp1', mac: '02:00:00:00:00:04', ip: '10.0.1.254/24' },
  { kind: 'createRoute', router: 'r0', prefix: '10.9.0.0/16', nexthop: '10.0.0.9', outputPort: 'rp0' },
  { kind: 'createAcl', name: 'a0', sw: 's0', priority: 100, direction: 'to-lport', outport: 'p0', l4Dst: 22 },
  { kind: 'createMiddlebox', name: 'm0', mbKind: 'firewall', router: 'r0', drop: true },
  { kind: 'createPolicy', name: 'mp0', middlebox: 'm0', priority: 100, ipSrc: '10.0.0.0/24' },
  { kind: 'createRule', name: 'mr0', middlebox: 'm0', action: 'drop', vip: false },
  { kind: 'createMiddlebox', name: 'm1', mbKind: 'lb', wire: 'p1', drop: false },
  { kind: 'createRule', name: 'mr1', middlebox: 'm1', action: 'lb', vip: true, backends: ['10.0.0.1:80'] },
];

const stepsArb = (maxLength: number) => fc.array(stepArb, { minLength: 5, maxLength }).map((steps) => [...SETUP, ...steps]);

function apply(net: LogicalNetworks, op: Op): void {
  switch (op.kind) {
    case 'createSwitch':
      net.createSwitch({ name: op.name, tenant: op.tenant, ...(op.subnet !== undefined && { subnet: op.subnet }) });
      return;
    case 'updateSwitch':
      net.updateSwitch(op.name, { subnet: op.subnet, ...(op.rename !== undefined && { name: op.rename }) });
      return;
    case 'deleteSwitch':
      net.deleteSwitch(op.name, { cascade: op.cascade });
      return;
    case 'createPort':
      net.createSwitchPort(
        op.localnet
          ? { name: op.name, switch: op.sw, type: 'localnet', network: 'physnet', gateway: 'gw' }
          : { name: op.name, switch: op.sw, addresses: op.addresses, portSecurity: op.portSecurity, ...(op.vifId !== undefined && { vifId: op.vifId }) },
      );
      return;
    case 'updatePort':
      net.updateSwitchPort(op.name, {
        ...(op.addresses !== undefined && { addresses: op.addresses }),
        ...(op.portSecurity !== undefined && { portSecurity: op.portSecurity }),
        ...(op.rename !== undefined && { name: op.rename }),
      });
      return;
    case 'deletePort':
      net.deleteSwitchPort(op.name, { cascade: op.cascade });
      return;
    case 'bind':
      net.bindPort(op.name, op.vifId);
      return;
    case 'unbind':
      net.unbindPort(op.name);
      return;
    case 'createRouter':
      net.createRouter({ name: op.name, tenant: op.tenant });
      return;
    case 'deleteRouter':
      net.deleteRouter(op.name, { cascade: op.cascade });
      return;
    case 'connect':
      net.connectRouter({ router: op.router, switch: op.sw, name: op.name, mac: op.mac, ip: op.ip });
      return;
    case 'updateRouterPort':
      net.updateRouterPort(op.name, { ...(op.mac !== undefined && { mac: op.mac }), ...(op.ip !== undefined && { ip: op.ip }) });
      return;
    case 'deleteRouterPort':
      net.deleteRouterPort(op.name, { cascade: op.cascade });
      return;
    case 'createRoute':
      net.createStaticRoute({ router: op.router, prefix: op.prefix, nexthop: op.nexthop, ...(op.outputPort !== undefined && { outputPort: op.outputPort }) });
      return;
    case 'updateRoute':
      net.updateStaticRoute(op.router, op.prefix, { nexthop: op.nexthop, ...(op.outputPort !== undefined && { outputPort: op.outputPort }) });
      return;
    case 'deleteRoute':
      net.deleteStaticRoute(op.router, op.prefix);
      return;
    case 'createAcl':
      net.createAcl({
        name: op.name,
        switch: op.sw,
        priority: op.priority,
        direction: op.direction,
        action: 'drop',
        match: {
          ...(op.inport !== undefined && { inport: op.inport }),
          ...(op.outport !== undefined && { outport: op.outport }),
          ...(op.l4Dst !== undefined && { ipProto: 'tcp' as const, l4Dst: op.l4Dst }),
        },
      });
      return;
    case 'updateAcl':
      net.updateAcl(op.name, { ...(op.priority !== undefined && { priority: op.priority }), ...(op.direction !== undefined && { direction: op.direction }) });
      return;
    case 'deleteAcl':
      net.deleteAcl(op.name);
      return;
    case 'createMiddlebox':
      net.createMiddlebox({
        name: op.name,
        kind: op.mbKind,
        ...(op.router !== undefined && { router: op.router }),
        ...(op.wire !== undefined && { wire: op.wire }),
        ...(op.drop && { defaultAction: 'drop' as const }),
      });
      return;
    case 'updateMiddlebox':
      net.updateMiddlebox(op.name, { ...(op.rename !== undefined && { name: op.rename }), ...(op.drop !== undefined && { defaultAction: op.drop ? 'drop' : 'allow' }) });
      return;
    case 'deleteMiddlebox':
      net.deleteMiddlebox(op.name, { cascade: op.cascade });
      return;
    case 'createPolicy':
      net.createMiddleboxPolicy({
        name: op.name,
        middlebox: op.middlebox,
        priority: op.priority,
        match: { ...(op.ipSrc !== undefined && { ipSrc: op.ipSrc }), ...(op.l4Dst !== undefined && { ipProto: 'tcp' as const, l4Dst: op.l4Dst }) },
      });
      return;
    case 'updatePolicy':
      net.updateMiddleboxPolicy(op.name, { ...(op.middlebox !== undefined && { middlebox: op.middlebox }), ...(op.priority !== undefined && { priority: op.priority }) });
      return;
    case 'deletePolicy':
      net.deleteMiddleboxPolicy(op.name);
      return;
    case 'createRule':
      net.createMiddleboxRule({
        name: op.name,
        middlebox: op.middlebox,
        priority: 10,
        action: op.action,
        // `vip`: the match the action needs (an lb VIP; an snat source prefix whose addresses share the ports).
        ...(op.vip && { match: op.action === 'snat' ? { ipSrc: '10.0.0.0/24', ipProto: 'tcp' as const } : { ipDst: '10.0.0.100', ipProto: 'tcp' as const, l4Dst: 80 } }),
        ...(op.to !== undefined && { to: op.to }),
        ...(op.backends !== undefined && { backends: op.backends }),
      });
      return;
    case 'updateRule':
      net.updateMiddleboxRule(op.name, {
        ...(op.priority !== undefined && { priority: op.priority }),
        ...(op.to !== undefined && { to: op.to }),
        ...(op.backends !== undefined && { backends: op.backends }),
      });
      return;
    case 'deleteRule':
      net.deleteMiddleboxRule(op.name);
      return;
  }
}

function applyStep(net: LogicalNetworks, step: Step): void {
  if (step.kind !== 'tx') return apply(net, step);
  net.transaction((t) => {
    for (const op of step.ops) apply(t, op);
    if (step.fail) throw new Error('transaction abandoned');
  });
}

/** The relations as sets of JSON tuples, replayed from change sets; throws on a malformed change set. */
class Replay {
  readonly rows = new Map<RelationName, Map<string, unknown>>(RELATION_ORDER.map((r) => [r, new Map()]));
  apply(set: readonly Delta[]): void {
    for (const d of set) {
      const rel = this.rows.get(d.relation)!;
      const key = JSON.stringify(d.tuple);
      if (d.op === 'insert') {
        if (rel.has(key)) throw new Error(`insert of a present tuple: ${d.relation} ${key}`);
        rel.set(key, d.tuple);
      } else {
        if (!rel.has(key)) throw new Error(`delete of an absent tuple: ${d.relation} ${key}`);
        rel.delete(key);
      }
    }
  }
  keys(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const r of RELATION_ORDER) out[r] = [...this.rows.get(r)!.keys()].sort();
    return out;
  }
}

/** Which middlebox (datapath and key) each tag has named; fails when a tag comes back for another. */
class TagHistory {
  private readonly owner = new Map<number, string>();
  private readonly live = new Set<number>();
  observe(s: Snapshot): void {
    const now = new Set<number>();
    for (const t of s.middlebox) {
      const who = `${t.dp}/${t.mb}`;
      const was = this.owner.get(t.tag);
      if (was !== undefined && was !== who) throw new Error(`tag ${t.tag} reused: was ${was}, now ${who}`);
      if (was !== undefined && !this.live.has(t.tag)) throw new Error(`tag ${t.tag} of deleted middlebox ${was} came back`);
      this.owner.set(t.tag, who);
      now.add(t.tag);
    }
    this.live.clear();
    for (const tag of now) this.live.add(tag);
  }
}

function snapshotKeys(s: Snapshot): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of RELATION_ORDER) out[r] = (s[r] as unknown[]).map((t) => JSON.stringify(t)).sort();
  return out;
}

/** Referential consistency and uniqueness of a snapshot; returns the problems found. */
function integrityProblems(s: Snapshot): string[] {
  const problems: string[] = [];
  const switchDps = new Set(s.logical_switch.map((t) => t.dp));
  const routerDps = new Set(s.logical_router.map((t) => t.dp));
  const lsp = new Map(s.logical_switch_port.map((t) => [`${t.dp}/${t.port}`, t]));
  const lrp = new Map(s.logical_router_port.map((t) => [`${t.dp}/${t.port}`, t]));
  const unique = (what: string, keys: string[]) => {
    if (new Set(keys).size !== keys.length) problems.push(`${what} not unique`);
  };
  for (const t of s.logical_switch_subnet) if (!switchDps.has(t.dp)) problems.push(`subnet of missing switch ${t.dp}`);
  for (const t of s.logical_switch_port) if (!switchDps.has(t.dp)) problems.push(`port ${t.name} on missing switch ${t.dp}`);
  for (const t of s.logical_router_port) {
    if (!routerDps.has(t.dp)) problems.push(`router port ${t.name} on missing router`);
    if (lsp.get(`${t.peer_dp}/${t.peer_port}`)?.type !== 'router') problems.push(`router port ${t.name} without a router-type peer`);
  }
  for (const t of s.logical_switch_port_peer) {
    const rp = lrp.get(`${t.peer_dp}/${t.peer_port}`);
    if (rp === undefined || rp.peer_dp !== t.dp || rp.peer_port !== t.port) problems.push(`switch port ${t.dp}/${t.port} peer not paired`);
  }
  for (const r of ['port_address_mac', 'port_address_ip', 'port_address_unknown', 'port_security', 'port_security_mac', 'port_security_ip', 'port_binding_request', 'localnet_port'] as const) {
    for (const t of s[r]) if (!lsp.has(`${t.dp}/${t.port}`)) problems.push(`${r} of missing port ${t.dp}/${t.port}`);
  }
  unique('port_security per port', s.port_security.map((t) => `${t.dp}/${t.port}`));
  if (s.port_security.length !== s.logical_switch_port.length) problems.push('port_security missing for some port');
  const securedPorts = new Set(s.port_security_mac.map((t) => `${t.dp}/${t.port}`));
  for (const t of s.port_security) if ((t.enabled === 1) !== securedPorts.has(`${t.dp}/${t.port}`)) problems.push(`port_security.enabled wrong for ${t.dp}/${t.port}`);
  unique('MAC within a switch', s.port_address_mac.map((t) => `${t.dp}/${t.mac}`));
  unique('IP within a switch', s.port_address_ip.map((t) => `${t.dp}/${t.ip}`));
  unique('VIF binding', s.port_binding_request.map((t) => t.vif_id));
  unique('switch names', s.logical_switch.map((t) => t.name));
  unique('router names', s.logical_router.map((t) => t.name));
  unique('switch port names', s.logical_switch_port.map((t) => t.name));
  unique('router port names', s.logical_router_port.map((t) => t.name));
  unique('ACL names', s.acl.map((t) => t.name));
  unique('datapath keys', [...s.logical_switch, ...s.logical_router].map((t) => String(t.dp)));
  for (const t of s.static_route) {
    if (!routerDps.has(t.dp)) problems.push('route on missing router');
    if (t.out_port !== 0 && !lrp.has(`${t.dp}/${t.out_port}`)) problems.push(`route via missing router port ${t.dp}/${t.out_port}`);
  }
  for (const t of s.acl) {
    if (!switchDps.has(t.dp)) problems.push(`ACL ${t.name} on missing switch`);
    for (const p of [t.inport, t.outport]) if (p !== 0 && !lsp.has(`${t.dp}/${p}`)) problems.push(`ACL ${t.name} names missing port ${p}`);
    if (t.direction === 'from-lport' && t.outport !== 0) problems.push(`from-lport ACL ${t.name} matches outport`);
    if (t.priority < 0 || t.priority > 32767) problems.push(`ACL ${t.name} priority ${t.priority}`);
  }
  const lspTypes = new Map(s.logical_switch_port.map((t) => [`${t.dp}/${t.port}`, t.type]));
  const tenantOf = new Map([...s.logical_switch, ...s.logical_router].map((t) => [t.dp, t.tenant]));
  const wires = new Map(s.middlebox_wire.map((t) => [`${t.dp}/${t.mb}`, t]));
  const mbs = new Map(s.middlebox.map((t) => [`${t.dp}/${t.mb}`, t]));
  const actionsOf: Record<string, string[]> = { firewall: ['allow', 'drop', 'reject'], nat: ['snat', 'dnat'], lb: ['lb'], ids: ['alert'] };
  for (const t of s.middlebox) {
    const inline = wires.has(`${t.dp}/${t.mb}`);
    if (inline ? !switchDps.has(t.dp) : !routerDps.has(t.dp)) problems.push(`middlebox ${t.name} not on a live ${inline ? 'switch' : 'router'}`);
    if (tenantOf.get(t.dp) !== t.tenant) problems.push(`middlebox ${t.name} tenant ${t.tenant} differs from its datapath's`);
    if (t.default_action === 'drop' && t.kind !== 'firewall') problems.push(`${t.kind} middlebox ${t.name} drops by default`);
  }
  for (const t of s.middlebox_wire) {
    if (!mbs.has(`${t.dp}/${t.mb}`)) problems.push(`wire of missing middlebox ${t.dp}/${t.mb}`);
    if (lspTypes.get(`${t.dp}/${t.port}`) !== 'vif') problems.push(`middlebox ${t.dp}/${t.mb} on the wire of a missing or non-VIF port`);
  }
  unique('middlebox per wire', s.middlebox_wire.map((t) => `${t.dp}/${t.port}`));
  unique('active middlebox per router', s.middlebox.filter((t) => t.kind !== 'ids' && routerDps.has(t.dp)).map((t) => String(t.dp)));
  unique('middlebox names', s.middlebox.map((t) => t.name));
  unique('middlebox tags', s.middlebox.map((t) => String(t.tag)));
  for (const t of s.middlebox_policy) {
    if (!routerDps.has(t.dp) || !mbs.has(`${t.dp}/${t.mb}`) || wires.has(`${t.dp}/${t.mb}`)) problems.push(`policy ${t.dp}/${t.policy} not on a router-attached middlebox`);
  }
  const rules = new Map(s.middlebox_rule.map((t) => [`${t.dp}/${t.rule}`, t]));
  const backendCount = new Map<string, number>();
  for (const t of s.middlebox_backend) {
    const key = `${t.dp}/${t.rule}`;
    if (rules.get(key)?.action !== 'lb') problems.push(`backend of missing or non-lb rule ${key}`);
    backendCount.set(key, (backendCount.get(key) ?? 0) + 1);
  }
  for (const t of s.middlebox_rule) {
    const mb = mbs.get(`${t.dp}/${t.mb}`);
    if (mb === undefined) problems.push(`rule ${t.name} of a missing middlebox`);
    else if (!actionsOf[mb.kind].includes(t.action)) problems.push(`rule ${t.name}: ${t.action} on a ${mb.kind}`);
    if ((t.action === 'snat' || t.action === 'dnat') !== (t.to_ip !== 0)) problems.push(`rule ${t.name}: NAT target wrong for ${t.action}`);
    if (t.action === 'lb' && ((backendCount.get(`${t.dp}/${t.rule}`) ?? 0) === 0 || t.ip_dst_len !== 32 || t.l4_dst_min !== t.l4_dst_max)) problems.push(`lb rule ${t.name} without a VIP or pool`);
  }
  unique('middlebox rule names', s.middlebox_rule.map((t) => t.name));
  // Router port networks on one router never overlap.
  for (const a of s.logical_router_port) {
    for (const b of s.logical_router_port) {
      if (a.dp !== b.dp || a.port >= b.port) continue;
      const len = Math.min(a.net_len, b.net_len);
      const mask = len === 0 ? 0 : (0xffff_ffff << (32 - len)) >>> 0;
      if (((a.net_addr & mask) >>> 0) === ((b.net_addr & mask) >>> 0)) problems.push(`router ports ${a.name} and ${b.name} overlap`);
    }
  }
  return problems;
}

function run(steps: Step[]): { log: Delta[][]; snapshot: Snapshot; outcomes: string[] } {
  const net = new LogicalNetworks();
  const log: Delta[][] = [];
  net.subscribe((d) => log.push([...d]));
  const outcomes = steps.map((step) => {
    try {
      applyStep(net, step);
      return 'ok';
    } catch (e) {
      return (e as Error).message;
    }
  });
  return { log, snapshot: net.snapshot(), outcomes };
}

describe('LogicalNetworks under random call sequences', () => {
  test.prop([stepsArb(60)], { numRuns: runs(150) })(
    'failed calls change nothing; change sets replay to the snapshot; the model stays consistent',
    (steps) => {
      const net = new LogicalNetworks();
      const replay = new Replay();
      const tags = new TagHistory();
      tags.observe(net.snapshot());
      let delivered: Delta[][] = [];
      net.subscribe((d) => delivered.push([...d]));
      for (const step of steps) {
        const before = JSON.stringify(net.snapshot());
        delivered = [];
        let failed = false;
        try {
          applyStep(net, step);
        } catch (e) {
          failed = true;
          expect((e as Error).message).not.toMatch(/[\n\r]/);
          expect((e as Error).message).not.toMatch(/^internal|Cannot read|undefined is not/);
        }
        if (failed) {
          expect(JSON.stringify(net.snapshot())).toBe(before);
          expect(delivered).toEqual([]);
          continue;
        }
        expect(delivered.length).toBeLessThanOrEqual(1);
        for (const set of delivered) {
          expect(set.length).toBeGreaterThan(0);
          replay.apply(set);
        }
        const snap = net.snapshot();
        tags.observe(snap);
        expect(replay.keys()).toEqual(snapshotKeys(snap));
        expect(integrityProblems(snap)).toEqual([]);
      }
    },
  );

  test.prop([stepsArb(60)], { numRuns: runs(100) })('the same calls give the same outcomes, keys, change sets and snapshots', (steps) => {
    const a = run(steps);
    const b = run(steps);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });

  test.prop([stepsArb(40)], { numRuns: runs(100) })('failed calls leave no trace: dropping them gives the same result', (steps) => {
    const all = run(steps);
    const succeeded = steps.filter((_, i) => all.outcomes[i] === 'ok');
    const clean = run(succeeded);
    expect(clean.outcomes.every((o) => o === 'ok')).toBe(true);
    expect(JSON.stringify(clean.snapshot)).toBe(JSON.stringify(all.snapshot));
    expect(JSON.stringify(clean.log)).toBe(JSON.stringify(all.log));
  });
});
