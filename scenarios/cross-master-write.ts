// Seed 000 FIG. 13 and FIG. 33 (notes S7, S15, S16): an instance changes NIB records of a logical
// datapath set it does not master, for a switch another instance masters. Three instances share the
// three-tenant network; once elections settle the scenario picks its cast from the mastership:
//   Y  masters LDPS A (decides every request for A's records);
//   S  a switch implementing A, mastered by X (X ≠ Y when the assignment allows: the split-master case);
//   R  an instance other than Y (the requester), granted the right to modify A's records;
//   U  an instance with no right to A's records.
// Then, one request every half second, each with the verdict it must get:
//   1. R puts an app flow for A on S, based on the record being absent          → ack; X alone pushes it
//   2. R puts the same record, based on its absence again                         → deny, stale
//   3. U puts a record of A                                                       → deny, no rights
//   4. Y's app locks A's records down                                             → ack
//   5. R puts another record while A is locked                                    → deny, locked
//   6. Y's app releases the lock                                                  → ack
//   7. R puts it again, and at that instant Y crashes: the request is left pending
//      for the next master of A, which takes it up on takeover                   → ack
//   8. after Y restarts, R deletes that record, based on the version it sees      → ack
// The app flows drop LLDP, which no workload sends, so the tenants' traffic is judged as before; the
// flow-convergence reference includes every app flow the NIB holds. Invariants: the NV testbed's, the
// cluster's (one master per entity; S receives flow-mods only from its master; each request decided once,
// by its LDPS's master, and answered to its origin), and every request's expected verdict.

import type { FlowRow } from '../sim/control/flow-text.ts';
import type { AppChange, RequestVerdict } from '../sim/control/request-list.ts';
import { ldpsEntity } from '../sim/coord/cm-state.ts';
import { NS_PER_MS } from '../sim/kernel/time.ts';
import type { NodeId } from '../sim/net/message.ts';
import { defineScenario, type World } from '../sim/testbed/index.ts';
import { ClusterChecks } from './models/cluster-checks.ts';
import { threeTenantCluster } from './models/cluster-topology.ts';
import type { NvTestbed } from './models/nv-testbed.ts';

const LLDP = 0x88cc;
const STEP_NS = 500 * NS_PER_MS;

interface Cast {
  readonly y: NodeId;
  readonly x: NodeId;
  readonly s: NodeId;
  readonly r: NodeId;
  readonly u: NodeId;
}

interface Expectation {
  readonly label: string;
  readonly want: string;
  got: string | null;
}

function setup(world: World): void {
  const t = threeTenantCluster(world, { instances: 3 }, '11800ms');
  t.installInvariants().installMetrics();
  new ClusterChecks(t).installInvariants().installMetrics();
  const expectations: Expectation[] = [];
  let cast: Cast | null = null;

  t.at('2500ms', () => {
    cast = pickCast(t);
    if (cast === null) return false;
    play(t, cast, expectations);
  });

  world.invariant({
    kind: 'liveness',
    id: 'requests-as-expected',
    description: 'every request of the script gets the verdict the patent prescribes for it',
    holds: () => {
      // The verdicts are prescribed for the script's own order of events; injected faults may delay a
      // step past the next (a lock that lands late), so under them only the generic request invariants apply.
      if (world.nemesis.applied.length > 0) return true;
      if (cast === null) return 'the cast was never picked (mastership did not settle)';
      for (const e of expectations) {
        if (e.got === null) return `${e.label}: no answer yet`;
        if (e.got !== e.want) return `${e.label}: got ${e.got}, want ${e.want}`;
      }
      return expectations.length === 8 ? true : `only ${expectations.length} of 8 requests made`;
    },
  });
  world.metric('cast', () => (cast === null ? null : { ...cast }));
  world.metric('requests', () => expectations.map((e) => ({ label: e.label, want: e.want, got: e.got })));
}

/** The cast from the current mastership, or null while it is not settled. */
function pickCast(t: NvTestbed): Cast | null {
  const ys = t.mastersOfEntity(ldpsEntity('A'));
  if (ys.length !== 1) return null;
  const y = ys[0];
  const candidates = ['h1', 'h2', 'h3'].map((s) => ({ s, masters: t.mastersOf(s) })).filter((c) => c.masters.length === 1);
  if (candidates.length < 3) return null;
  const split = candidates.find((c) => c.masters[0] !== y) ?? candidates[0];
  const x = split.masters[0];
  const others = t.instances.filter((i) => i !== y);
  const r = others.find((i) => i !== x) ?? others[0];
  const u = t.instances.find((i) => i !== y && i !== r)!;
  return { y, x, s: split.s, r, u };
}

function play(t: NvTestbed, cast: Cast, expectations: Expectation[]): void {
  const { y, s, r, u } = cast;
  const dp = t.nb.switches().find((sw) => sw.name === 'ls-A')!.dp;
  const row = (priority: number): FlowRow => ({ dp, chassis: s, table: 0, priority, match: JSON.stringify({ ethType: LLDP }), actions: JSON.stringify([{ type: 'drop' }]) });
  const put = (name: string, priority: number): AppChange => ({ op: 'put', ldps: 'A', chassis: s, name, row: row(priority) });
  let lockId = '';

  /**
   * Step `n` (from 1) runs `n` half-seconds from now; if its origin is down, or its change not ready (an
   * unlock before its lock was asked for: injected faults can delay a step), it runs once they are.
   */
  const step = (n: number, label: string, want: string, origin: NodeId, change: () => AppChange | null, basedOn: () => number | null, after?: (id: string) => void) => {
    const e: Expectation = { label, want, got: null };
    expectations.push(e);
    t.at(t.world.now + n * STEP_NS, () => {
      const instance = t.instance(origin);
      const c = change();
      if (instance === undefined || c === null) return false;
      const id = instance.request({ change: c, basedOn: basedOn() }, (v) => (e.got = describe(v)));
      after?.(id);
    });
  };

  t.instance(y)!.grant('A', r);
  step(1, `1 ${r} puts app/A/${s}/lldp-drop`, 'ack', r, () => put('lldp-drop', 50000), () => 0);
  step(2, `2 ${r} puts lldp-drop again, based on its absence`, 'deny stale', r, () => put('lldp-drop', 50001), () => 0);
  step(3, `3 ${u} (no rights) puts u-rule`, 'deny no-rights', u, () => put('u-rule', 50002), () => 0);
  step(4, `4 ${y} locks A`, 'ack', y, () => ({ op: 'lock', ldps: 'A' }), () => null, (id) => (lockId = id));
  step(5, `5 ${r} puts mirror while A is locked`, 'deny locked', r, () => put('mirror', 50003), () => 0);
  step(6, `6 ${y} unlocks A`, 'ack', y, () => (lockId === '' ? null : { op: 'unlock', ldps: 'A', lock: lockId }), () => null);
  step(7, `7 ${r} puts mirror as ${y} crashes`, 'ack', r, () => put('mirror', 50003), () => 0);
  // Injected faults may have taken Y down already, or brought it back: crash and restart only what is not.
  const fabric = t.world.fabric;
  t.at(t.world.now + 7 * STEP_NS, () => void (fabric.isUp(y) && fabric.crash(y)));
  t.at(t.world.now + 11 * STEP_NS, () => void (fabric.isUp(y) || fabric.restart(y)));
  step(12, `8 ${r} deletes mirror`, 'ack', r, () => ({ op: 'delete', ldps: 'A', chassis: s, name: 'mirror' }), () => t.instance(r)?.requests.record('A', s, 'mirror')?.version ?? 0);
}

function describe(v: RequestVerdict): string {
  return v.verdict === 'ack' ? 'ack' : `deny ${v.reason}`;
}

export default defineScenario({
  name: 'cross-master-write',
  description: 'FIG. 13/33: a non-master changes LDPS records through the request list; only the LDPS master decides, only the switch master pushes',
  duration: '12s',
  liveness: { from: '9500ms', within: '2500ms' },
  setup,
});
