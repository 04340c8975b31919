// Convergence and placement after random reconfiguration: fast-check draws a multi-tenant network and a
// sequence of changes at random moments — VMs (ports + VIFs) added and removed, VIFs moved between hosts
// (break before make, or make before break as a live migration does: both hosts report the VIF for 20ms),
// ports unbound and bound again, port security switched, ACLs and routers created and deleted, hosts
// crashed and restarted — applied while the controller is still working on the previous ones. Once quiet,
// every switch's flow table must equal the controller's desired flows and a from-scratch (batch)
// computation of the final configuration (incremental == batch), and a switch may hold flows for an LDPS
// only if it hosts one of its ports or serves it (pool node). A failure prints fast-check's seed and the
// shrunk case.
import fc from 'fast-check';
import { describe, test } from 'vitest';
import { checkFlowConvergence } from '../../sim/check/flow-convergence.ts';
import { checkPlacement } from '../../sim/check/placement.ts';
import { ms } from '../../sim/kernel/time.ts';
import { World } from '../../sim/testbed/index.ts';
import { NvTestbed } from '../../scenarios/models/nv-testbed.ts';

const RUNS = Number(process.env.NVSIM_PROPERTY_RUNS ?? 200);

interface VmCase {
  readonly idx: number;
  readonly sw: number;
  readonly host: number;
}
interface TenantCase {
  readonly switches: number;
  readonly vms: readonly VmCase[];
}
type Op =
  | { readonly kind: 'add'; readonly tenant: number; readonly sw: number; readonly idx: number; readonly host: number }
  | { readonly kind: 'remove' | 'unbind' | 'bind'; readonly vm: number }
  /** A VIF move; `attachFirst`: the new host reports it before the old one lets go (live migration). */
  | { readonly kind: 'move'; readonly vm: number; readonly host: number; readonly attachFirst: boolean }
  | { readonly kind: 'port-security'; readonly vm: number; readonly on: boolean }
  | { readonly kind: 'acl'; readonly tenant: number; readonly sw: number; readonly action: 'allow' | 'drop'; readonly l4Dst: number }
  | { readonly kind: 'router'; readonly tenant: number }
  | { readonly kind: 'crash'; readonly host: number };
interface ChangeCase {
  readonly hosts: number;
  readonly pool: boolean;
  readonly tenants: readonly TenantCase[];
  /** Each change with the virtual time since the previous one (0: the same instant). */
  readonly ops: readonly { readonly op: Op; readonly gapMs: number }[];
}

/** `liveMigration`: VIF moves may also be make-before-break. */
const changeArb = (liveMigration: boolean): fc.Arbitrary<ChangeCase> => fc.record({ hosts: fc.integer({ min: 2, max: 4 }), pool: fc.boolean() }).chain(({ hosts, pool }) => {
  const host = fc.integer({ min: 0, max: hosts - 1 });
  const tenant = fc.record({
    switches: fc.integer({ min: 1, max: 2 }),
    vms: fc.uniqueArray(fc.record({ idx: fc.integer({ min: 1, max: 4 }), sw: fc.integer({ min: 0, max: 1 }), host }), { minLength: 1, maxLength: 4, selector: (v) => `${v.sw}/${v.idx}` }),
  });
  return fc.array(tenant, { minLength: 1, maxLength: 3 }).chain((tenants) => {
    const t = fc.integer({ min: 0, max: tenants.length - 1 });
    const sw = fc.integer({ min: 0, max: 1 });
    const vm = fc.nat(20);
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), tenant: t, sw, idx: fc.integer({ min: 1, max: 6 }), host }),
      fc.record({ kind: fc.constantFrom('remove' as const, 'unbind' as const, 'bind' as const), vm }),
      fc.record({ kind: fc.constant('move' as const), vm, host, attachFirst: liveMigration ? fc.boolean() : fc.constant(false) }),
      fc.record({ kind: fc.constant('move' as const), vm, host, attachFirst: liveMigration ? fc.boolean() : fc.constant(false) }),
      fc.record({ kind: fc.constant('port-security' as const), vm, on: fc.boolean() }),
      fc.record({ kind: fc.constant('acl' as const), tenant: t, sw, action: fc.constantFrom('allow' as const, 'drop' as const), l4Dst: fc.constantFrom(7, 80) }),
      fc.record({ kind: fc.constant('router' as const), tenant: t }),
      fc.record({ kind: fc.constant('crash' as const), host }),
    );
    return fc.record({
      hosts: fc.constant(hosts),
      pool: fc.constant(pool),
      tenants: fc.constant(tenants.map((x) => ({ ...x, vms: x.vms.map((v) => ({ ...v, sw: Math.min(v.sw, x.switches - 1) })) }))),
      ops: fc.array(fc.record({ op, gapMs: fc.constantFrom(0, 0, 1, 2, 5, 20, 100, 300) }), { maxLength: 14 }),
    });
  });
});

const macText = (idx: number) => `02:00:00:00:00:${idx.toString(16).padStart(2, '0')}`;

/** Builds the case, applies the changes at their moments, and runs until long after the last one. */
function runCase(c: ChangeCase): NvTestbed {
  const world = new World({ seed: 1, trace: 'off' });
  const t = new NvTestbed(world);
  for (let h = 0; h < c.hosts; h++) t.host(`h${h}`);
  if (c.pool) t.poolNode('p1');
  const names: string[] = [];
  const entry = new Map<string, string>();
  const switchesOf = (ti: number) => c.tenants[ti].switches;
  const connectRouter = (ti: number) =>
    t.router(`t${ti}r`, `T${ti}`, [0, 1].map((s) => ({ switch: `t${ti}s${s}`, mac: `02:00:00:00:ff:0${s + 1}`, ip: `10.0.${s}.254/24` })));
  const addVm = (name: string, ti: number, s: number, idx: number, host: number, now: boolean): void => {
    const decl = { host: `h${host}`, switch: `t${ti}s${s}`, mac: macText(idx), ip: `10.0.${s}.${idx}` };
    try {
      if (now) t.addVm(name, decl);
      else t.vm(name, decl);
    } catch {
      return; // a MAC or IP the switch already has: the API refused it and nothing changed
    }
    names.push(name);
    entry.set(name, `${decl.mac} ${decl.ip}`);
  };
  c.tenants.forEach((tc, ti) => {
    for (let s = 0; s < tc.switches; s++) t.logicalSwitch(`t${ti}s${s}`, `T${ti}`, `10.0.${s}.0/24`);
    if (tc.switches === 2) connectRouter(ti);
    tc.vms.forEach((v, k) => addVm(`t${ti}v${k}`, ti, v.sw, v.idx, v.host, false));
  });
  t.start();

  const up = (h: string) => world.fabric.isUp(h);
  let added = 0;
  const apply = (op: Op): void => {
    const name = names.length === 0 ? undefined : names[('vm' in op ? op.vm : 0) % names.length];
    const port = name === undefined ? undefined : t.nb.getSwitchPort(name);
    const attached = name !== undefined && t.attachedVms([name]).length === 1;
    switch (op.kind) {
      case 'add':
        if (op.sw < switchesOf(op.tenant) && up(`h${op.host}`)) addVm(`x${added++}`, op.tenant, op.sw, op.idx, op.host, true);
        return;
      case 'remove':
        if (attached && up(t.hostOf(name!))) t.removeVm(name!);
        return;
      case 'move':
        if (attached && up(t.hostOf(name!)) && up(`h${op.host}`)) t.moveVm(name!, `h${op.host}`, { attachFirst: op.attachFirst, detachAfterNs: ms(20) });
        return;
      case 'unbind':
        if (port?.vifId !== undefined) t.nb.unbindPort(name!);
        return;
      case 'bind':
        if (port !== undefined && port.vifId === undefined) t.nb.bindPort(name!, `vif-${name}`);
        return;
      case 'port-security':
        if (port !== undefined) t.nb.updateSwitchPort(name!, { portSecurity: op.on ? [entry.get(name!)!] : [] });
        return;
      case 'acl': {
        if (op.sw >= switchesOf(op.tenant)) return;
        const aclName = `t${op.tenant}s${op.sw}-${op.action}-${op.l4Dst}`;
        if (t.nb.getAcl(aclName) !== undefined) t.nb.deleteAcl(aclName);
        else t.acl({ name: aclName, switch: `t${op.tenant}s${op.sw}`, priority: 100, direction: 'to-lport', action: op.action, match: { ipProto: 'udp', l4Dst: op.l4Dst } });
        return;
      }
      case 'router':
        if (switchesOf(op.tenant) !== 2) return;
        if (t.nb.getRouter(`t${op.tenant}r`) !== undefined) t.nb.deleteRouter(`t${op.tenant}r`, { cascade: true });
        else connectRouter(op.tenant);
        return;
      case 'crash':
        if (!up(`h${op.host}`)) return;
        world.fabric.crash(`h${op.host}`);
        world.scheduler.after(ms(50), () => world.fabric.restart(`h${op.host}`));
        return;
    }
  };
  let at = ms(300);
  for (const { op, gapMs } of c.ops) {
    at += ms(gapMs);
    world.scheduler.at(at, () => apply(op));
  }
  world.scheduler.runUntil(at + ms(3000));
  return t;
}

const converges = (c: ChangeCase): void => {
  const verdict = checkFlowConvergence(runCase(c).flowView);
  if (verdict !== true) throw new Error(verdict);
};

describe('convergence after random logical changes and VIF moves', () => {
  test('once quiet, every flow table equals the desired flows and a from-scratch computation of the final configuration', () => {
    fc.assert(fc.property(changeArb(false), converges), { numRuns: RUNS });
  });

  // A live migration reports the VIF on the new host before the old host lets go. While both report it,
  // the program derives two flows with one key (table, priority, match) for a chassis — "egress port here"
  // and "tunnel to the other host" — and when the old location goes, the switch manager's desired table
  // (keyed by flow key) drops the key although the surviving flow still stands: the new host never gets
  // its local delivery flow. Fails until sim/control handles flows that share a key.
  test('the same with make-before-break VIF moves (live migration)', () => {
    fc.assert(fc.property(changeArb(true), converges), { numRuns: RUNS });
  });
});

describe('placement after random changes', () => {
  test('a switch holds flows for an LDPS only if it hosts one of its ports (or a routed neighbour of it) or is a pool node', () => {
    fc.assert(
      fc.property(changeArb(true), (c) => {
        const t = runCase(c);
        const verdict = checkPlacement(t.placementView);
        if (verdict !== true) throw new Error(verdict);
      }),
      { numRuns: RUNS },
    );
  });
});
