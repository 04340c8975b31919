// The controller's middlebox rules, by feeding the control program tuples directly: the new pipeline stages
// (pass-through without middleboxes, nothing else changed but the re-pointed resubmits and the VM key in
// table 0), a router middlebox (policy, mirror, reply stage, chains), a wire middlebox, the host database
// records and the chassis each goes to (per-record scoping by source prefix, one record per lb backend),
// and removal. Every case also checks that the incremental result equals a from-scratch evaluation.
import { describe, expect, test } from 'vitest';
import { buildControlProgram, type ControlProgram } from '../../sim/control/control-program.ts';
import type { FlowRow } from '../../sim/control/flow-text.ts';
import { REG_MB_CHAIN, TABLE, vmKeyOf } from '../../sim/control/pipeline.ts';
import type { Action, Match } from '../../sim/dataplane/flow.ts';
import { ETH_TYPE_IPV4, parseCidr, parseIpv4 } from '../../sim/dataplane/headers.ts';
import { HOST_DB_TABLE, VM_KEY_FIELD } from '../../sim/dataplane/middlebox-hook.ts';
import { LogicalNetworks } from '../../sim/logical/logical-networks.ts';
import { RELATION_ORDER, type RelationTuples } from '../../sim/logical/relations.ts';
import { decodeMiddleboxRecord, type MiddleboxRecord } from '../../sim/middlebox/records.ts';
import { deleteTuple, evaluateFromScratch, insertTuple, type Change } from '../../sim/rules/index.ts';

const CHASSIS = ['h1', 'h2', 'h3', 'gw'] as const;
/** VM → switch, address, chassis. v1 alone on h1, v2 and v3 (different switches) on h2, v4 on h3. */
const VMS = [
  { name: 'v1', sw: 'a', ip: '10.1.0.11', chassis: 'h1' },
  { name: 'v2', sw: 'a', ip: '10.1.0.12', chassis: 'h2' },
  { name: 'v3', sw: 'b', ip: '10.2.0.13', chassis: 'h2' },
  { name: 'v4', sw: 'b', ip: '10.2.0.14', chassis: 'h3' },
] as const;
type VmName = (typeof VMS)[number]['name'];

/**
 * Router lr joins switches a (10.1.0.0/24) and b (10.2.0.0/24); b is bridged to the outside through
 * gateway chassis gw. An ACL of each direction, so their re-pointed flows are there too.
 */
function lab() {
  const nb = new LogicalNetworks();
  nb.createRouter({ name: 'lr', tenant: 'T' });
  nb.createSwitch({ name: 'a', tenant: 'T', subnet: '10.1.0.0/24' });
  nb.createSwitch({ name: 'b', tenant: 'T', subnet: '10.2.0.0/24' });
  nb.connectRouter({ router: 'lr', switch: 'a', name: 'lr-a', mac: '02:00:00:00:ff:01', ip: '10.1.0.1/24' });
  nb.connectRouter({ router: 'lr', switch: 'b', name: 'lr-b', mac: '02:00:00:00:ff:02', ip: '10.2.0.1/24' });
  VMS.forEach((v, i) => {
    const address = `02:00:00:00:00:0${i + 1} ${v.ip}`;
    nb.createSwitchPort({ name: v.name, switch: v.sw, addresses: [address], portSecurity: i % 2 === 0 ? [address] : [], vifId: `vif-${v.name}` });
  });
  nb.createSwitchPort({ name: 'ext', switch: 'b', type: 'localnet', network: 'phys', gateway: 'gw' });
  nb.createAcl({ name: 'ssh-to-a', switch: 'a', priority: 10, direction: 'to-lport', action: 'allow', match: { ipProto: 'tcp', l4Dst: 22 } });
  nb.createAcl({ name: 'no-telnet-from-b', switch: 'b', priority: 10, direction: 'from-lport', action: 'drop', match: { ipProto: 'tcp', l4Dst: 23 } });

  const program = buildControlProgram();
  const snapshot = nb.snapshot();
  const changes: Change[] = [];
  for (const relation of RELATION_ORDER) for (const tuple of snapshot[relation] ?? []) changes.push(insertTuple(program.lcp[relation] as never, tuple));
  VMS.forEach((v, i) => changes.push(insertTuple(program.physical.vifLocation, { vif_id: `vif-${v.name}`, chassis: v.chassis, ofport: i + 1 })));
  for (const [i, chassis] of CHASSIS.entries()) {
    for (const [j, remote] of CHASSIS.entries()) if (i !== j) changes.push(insertTuple(program.physical.tunnelPort, { chassis, remote, ofport: 100 + j }));
  }
  changes.push(insertTuple(program.physical.physicalPort, { chassis: 'gw', segment: 'phys', ofport: 7 }));
  program.engine.apply(changes);

  const dpOf = (name: string): number =>
    [...snapshot.logical_switch, ...snapshot.logical_router].find((d) => d.name === name)?.dp ?? fail(`no datapath ${name}`);
  const portOf = (name: string) => snapshot.logical_switch_port.find((p) => p.name === name) ?? fail(`no port ${name}`);
  const vm = (name: VmName) => {
    const p = portOf(name);
    const spec = VMS.find((v) => v.name === name)!;
    return { dp: p.dp, port: p.port, key: vmKeyOf(p.dp, p.port), vifId: `vif-${name}`, chassis: spec.chassis, ip: parseIpv4(spec.ip) };
  };
  return { program, lr: dpOf('lr'), a: dpOf('a'), b: dpOf('b'), vm, portOf };
}

function fail(why: string): never {
  throw new Error(why);
}

interface Flow {
  readonly dp: number;
  readonly chassis: string;
  readonly table: number;
  readonly priority: number;
  readonly match: Match;
  readonly actions: Action[];
}

const rows = (p: ControlProgram): FlowRow[] => p.engine.contents(p.physicalFlow) as FlowRow[];
const flows = (p: ControlProgram): Flow[] =>
  rows(p).map((r) => ({ dp: r.dp, chassis: r.chassis, table: r.table, priority: r.priority, match: JSON.parse(r.match) as Match, actions: JSON.parse(r.actions) as Action[] }));
const inTable = (p: ControlProgram, table: number, chassis?: string): Flow[] => flows(p).filter((f) => f.table === table && (chassis === undefined || f.chassis === chassis));
const chassisOf = (fs: readonly Flow[]): string[] => [...new Set(fs.map((f) => f.chassis))].sort();

/** The host database of a chassis: its records, decoded, sorted by text. */
function records(p: ControlProgram, chassis: string): MiddleboxRecord[] {
  return inTable(p, HOST_DB_TABLE, chassis)
    .map((f) => {
      expect(f.actions).toHaveLength(1);
      const a = f.actions[0];
      if (a.type !== 'note') throw new Error(`host database flow without a note: ${JSON.stringify(a)}`);
      return a.text;
    })
    .sort()
    .map(decodeMiddleboxRecord);
}

/** The incremental result equals a from-scratch evaluation, and no two flows of a chassis share a key. */
function expectSound(p: ControlProgram): void {
  const key = (r: FlowRow) => JSON.stringify(r);
  const batch = (evaluateFromScratch(p.engine).get('physical_flow') ?? []) as unknown as FlowRow[];
  expect(batch.map(key).sort()).toEqual(rows(p).map(key).sort());
  const flowKeys = rows(p).map((r) => `${r.chassis}/${r.table}/${r.priority}/${r.match}`);
  expect(new Set(flowKeys).size).toBe(flowKeys.length);
}

const WILD = { ip_src_addr: 0, ip_src_len: 0, ip_dst_addr: 0, ip_dst_len: 0, ip_proto: 0 };
const prefix = (text: string, side: 'src' | 'dst') => {
  const { addr, len } = parseCidr(text);
  return side === 'src' ? { ip_src_addr: addr, ip_src_len: len } : { ip_dst_addr: addr, ip_dst_len: len };
};

type Kind = RelationTuples['middlebox']['kind'];
const middlebox = (dp: number, mb: number, kind: Kind, tag: number): RelationTuples['middlebox'] => ({
  dp,
  mb,
  name: `${kind}-${mb}`,
  tenant: 'T',
  kind,
  tag,
  default_action: kind === 'firewall' ? 'drop' : 'allow',
});
const policy = (dp: number, policyKey: number, mb: number, priority: number, match: Partial<RelationTuples['middlebox_policy']>): RelationTuples['middlebox_policy'] => ({
  dp,
  policy: policyKey,
  mb,
  priority,
  ...WILD,
  l4_dst_min: 0,
  l4_dst_max: 65535,
  ...match,
});
const rule = (dp: number, ruleKey: number, mb: number, action: RelationTuples['middlebox_rule']['action'], match: Partial<RelationTuples['middlebox_rule']>): RelationTuples['middlebox_rule'] => ({
  dp,
  rule: ruleKey,
  mb,
  name: `rule-${ruleKey}`,
  priority: 10,
  action,
  ...WILD,
  l4_src_min: 0,
  l4_src_max: 65535,
  l4_dst_min: 0,
  l4_dst_max: 65535,
  to_ip: 0,
  to_port_min: 0,
  to_port_max: 0,
  ...match,
});

const mbAction = (tag: number, mode: 'inspect' | 'reply-only' | 'copy', table: number): Action => ({ type: 'middlebox', tag, mode, table });
const resubmit = (table: number): Action => ({ type: 'resubmit', table });
const setVmKey = (key: number): Action => ({ type: 'set', field: VM_KEY_FIELD, value: key });
/** What the egress middlebox flows add to their match: unicast IPv4 only (never inside a flood fan-out). */
const UNICAST_IPV4 = { ethDstGroup: false, ethType: ETH_TYPE_IPV4 };
const NEW_STAGES = [TABLE.LS_IN_MB, TABLE.LS_OUT_MB, TABLE.LR_IN_MIRROR, TABLE.LR_IN_POLICY];
const usesMiddlebox = (f: Flow) => f.actions.some((a) => a.type === 'middlebox' || a.type === 'note');

describe('controller middlebox rules', () => {
  test('without middleboxes: only pass-through stages, re-pointed resubmits and the VM key in table 0', () => {
    const { program: p, lr, a, b, vm, portOf } = lab();
    expectSound(p);
    const all = flows(p);
    expect(all.filter(usesMiddlebox)).toEqual([]);
    expect(inTable(p, HOST_DB_TABLE)).toEqual([]);
    // Each new stage holds exactly one flow per datapath and chassis: priority 0, on to the next stage.
    const next: Record<number, number> = {
      [TABLE.LS_IN_MB]: TABLE.LS_IN_ACL,
      [TABLE.LS_OUT_MB]: TABLE.LS_OUT_PORT_SEC,
      [TABLE.LR_IN_MIRROR]: TABLE.LR_IN_POLICY,
      [TABLE.LR_IN_POLICY]: TABLE.LR_IN_IP_ROUTING,
    };
    for (const table of NEW_STAGES) {
      const dps = table === TABLE.LR_IN_MIRROR || table === TABLE.LR_IN_POLICY ? [lr] : [a, b];
      for (const dp of dps) {
        const stage = all.filter((f) => f.table === table && f.dp === dp);
        expect(chassisOf(stage)).toEqual([...CHASSIS].sort());
        for (const f of stage) expect({ priority: f.priority, match: f.match, actions: f.actions }).toEqual({ priority: 0, match: { metadata: dp }, actions: [resubmit(next[table])] });
      }
      expect(all.filter((f) => f.table === table && !(dps as number[]).includes(f.dp))).toEqual([]);
    }
    // Nothing jumps over a new stage any more: what used to go to the stage after one now goes to it.
    const resubmitsTo = (table: number) => all.filter((f) => f.actions.some((x) => x.type === 'resubmit' && x.table === table));
    expect(new Set(resubmitsTo(TABLE.LS_IN_ACL).map((f) => f.table))).toEqual(new Set([TABLE.LS_IN_MB]));
    expect(new Set(resubmitsTo(TABLE.LS_IN_MB).map((f) => f.table))).toEqual(new Set([TABLE.LS_IN_PORT_SEC]));
    expect(new Set(resubmitsTo(TABLE.LS_OUT_PORT_SEC).map((f) => f.table))).toEqual(new Set([TABLE.LS_OUT_MB]));
    expect(new Set(resubmitsTo(TABLE.LS_OUT_MB).map((f) => f.table))).toEqual(new Set([TABLE.LS_OUT_ACL]));
    expect(new Set(resubmitsTo(TABLE.LR_IN_MIRROR).map((f) => f.table))).toEqual(new Set([TABLE.LR_IN_ADMISSION]));
    expect(new Set(resubmitsTo(TABLE.LR_IN_IP_ROUTING).map((f) => f.table))).toEqual(new Set([TABLE.LR_IN_POLICY, TABLE.LR_IN_IP_ROUTING]));
    // The to-lport allow ACL goes on to LS_OUT_MB; the from-lport drop still drops.
    const aclFlows = inTable(p, TABLE.LS_OUT_ACL, 'h1').filter((f) => f.priority > 0);
    expect(aclFlows.map((f) => f.actions)).toEqual([[resubmit(TABLE.LS_OUT_MB)]]);
    // Table 0: a VIF's classification sets the VM key; the gateway's localnet port has none.
    for (const name of ['v1', 'v2', 'v3', 'v4'] as const) {
      const v = vm(name);
      const [classify] = inTable(p, TABLE.PHYSICAL_IN, v.chassis).filter((f) => f.match.inPort !== undefined && f.dp === v.dp && f.actions.some((x) => x.type === 'set' && x.field === 'reg6' && x.value === v.port));
      expect(classify.actions).toContainEqual(setVmKey(v.key));
    }
    const ext = portOf('ext');
    const gwClassify = inTable(p, TABLE.PHYSICAL_IN, 'gw').filter((f) => f.match.inPort === 7);
    expect(gwClassify.map((f) => f.actions)).toEqual([[{ type: 'set', field: 'metadata', value: ext.dp }, { type: 'set', field: 'reg6', value: ext.port }, resubmit(TABLE.LS_IN_PORT_SEC)]]);
    expect(vmKeyOf(3, 5)).toBe(3 * 32768 + 5);
  });

  test('a router firewall: policy, reply stage on every VIF, records on exactly the chassis that need them', () => {
    const { program: p, lr, a, b, vm } = lab();
    const fw = middlebox(lr, 1, 'firewall', 7);
    const clients = policy(lr, 1, 1, 10, prefix('10.1.0.0/24', 'src'));
    const web = rule(lr, 1, 1, 'allow', { ...prefix('10.2.0.0/24', 'dst'), ip_proto: 6, l4_dst_min: 80, l4_dst_max: 80 });
    const v1Only = rule(lr, 2, 1, 'drop', { ...prefix('10.1.0.11/32', 'src'), ip_proto: 6, l4_dst_min: 8000, l4_dst_max: 8999 });
    p.engine.apply([insertTuple(p.lcp.middlebox, fw), insertTuple(p.lcp.middlebox_policy, clients), insertTuple(p.lcp.middlebox_rule, web), insertTuple(p.lcp.middlebox_rule, v1Only)]);
    expectSound(p);

    // Policy routing on every chassis of the router.
    const pol = inTable(p, TABLE.LR_IN_POLICY).filter((f) => f.priority > 0);
    expect(chassisOf(pol)).toEqual([...CHASSIS].sort());
    for (const f of pol) {
      expect(f).toMatchObject({ dp: lr, priority: 110, match: { metadata: lr, ipSrc: parseCidr('10.1.0.0/24') }, actions: [mbAction(7, 'inspect', TABLE.LR_IN_IP_ROUTING)] });
    }
    expect(inTable(p, TABLE.LR_IN_MIRROR).filter((f) => f.priority > 0)).toEqual([]);

    // The reply stage: every VIF of both switches, keyed by that VM, on the chassis where it is delivered.
    const reply = inTable(p, TABLE.LS_OUT_MB).filter((f) => f.priority > 0);
    for (const name of ['v1', 'v2', 'v3', 'v4'] as const) {
      const v = vm(name);
      const mine = reply.filter((f) => f.dp === v.dp && f.match.reg7 === v.port);
      expect(mine.map((f) => f.chassis)).toContain(v.chassis);
      for (const f of mine) {
        expect({ priority: f.priority, match: f.match, actions: f.actions }).toEqual({
          priority: 100,
          match: { metadata: v.dp, reg7: v.port, ethDstGroup: false, ethType: ETH_TYPE_IPV4 },
          actions: [setVmKey(v.key), mbAction(7, 'reply-only', TABLE.LS_OUT_PORT_SEC)],
        });
      }
    }
    // Only VIF ports: neither the router-type ports nor the localnet port.
    const vifPorts = new Set((['v1', 'v2', 'v3', 'v4'] as const).map((n) => `${vm(n).dp}/${vm(n).port}`));
    expect(reply.filter((f) => !vifPorts.has(`${f.dp}/${f.match.reg7}`))).toEqual([]);
    expect(new Set(reply.map((f) => f.dp))).toEqual(new Set([a, b]));

    // Records: slice and the any-source rule everywhere the router is; the v1-only rule on h1 only; each
    // VM's record on its own chassis only, and none on the gateway.
    const slice: MiddleboxRecord = { r: 'slice', tag: 7, kind: 'firewall', name: 'firewall-1', tenant: 'T', defaultAction: 'drop' };
    const webRecord: MiddleboxRecord = {
      r: 'rule',
      tag: 7,
      rule: 1,
      name: 'rule-1',
      priority: 10,
      action: 'allow',
      match: { ipDst: parseCidr('10.2.0.0/24'), ipProto: 6, l4Dst: [80, 80] },
      toIp: 0,
      toPortMin: 0,
      toPortMax: 0,
      backends: [],
    };
    const v1Record: MiddleboxRecord = { ...webRecord, rule: 2, name: 'rule-2', action: 'drop', match: { ipSrc: parseCidr('10.1.0.11/32'), ipProto: 6, l4Dst: [8000, 8999] } };
    const vmRecord = (name: VmName): MiddleboxRecord => ({ r: 'vm', tag: 7, vmKey: vm(name).key, vifId: vm(name).vifId });
    const expected: Record<string, MiddleboxRecord[]> = {
      h1: [slice, webRecord, v1Record, vmRecord('v1')],
      h2: [slice, webRecord, vmRecord('v2'), vmRecord('v3')],
      h3: [slice, webRecord, vmRecord('v4')],
      gw: [slice, webRecord],
    };
    const sortByText = (rs: MiddleboxRecord[]) => [...rs].sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1));
    for (const chassis of CHASSIS) expect(sortByText(records(p, chassis))).toEqual(sortByText(expected[chassis]));
    // The records' flows: keys that tell them apart, cookie of the router.
    const db = inTable(p, HOST_DB_TABLE, 'h2');
    expect(db.every((f) => f.dp === lr)).toBe(true);
    expect(db.map((f) => [f.priority, f.match]).sort()).toEqual(
      [
        [1, { tunKey: 7 }],
        [2, { tunKey: 7, reg1: 1 }],
        [3, { tunKey: 7, reg5: vm('v2').key }],
        [3, { tunKey: 7, reg5: vm('v3').key }],
      ].sort(),
    );

    // A scoped rule follows its VMs: widen v1-only to the whole client subnet and h2 (v2) gets it too.
    const allClients = { ...v1Only, ...prefix('10.1.0.0/24', 'src') };
    p.engine.apply([deleteTuple(p.lcp.middlebox_rule, v1Only), insertTuple(p.lcp.middlebox_rule, allClients)]);
    const has = (chassis: string) => records(p, chassis).some((r) => r.r === 'rule' && r.rule === 2);
    expect(CHASSIS.filter(has)).toEqual(['h1', 'h2']);
    expectSound(p);
  });

  test('an IDS on the router is mirrored: a copy, then on to the policy stage; it adds no reply flows', () => {
    const { program: p, lr } = lab();
    p.engine.apply([
      insertTuple(p.lcp.middlebox, middlebox(lr, 2, 'ids', 9)),
      insertTuple(p.lcp.middlebox_policy, policy(lr, 1, 2, 5, { ip_proto: 6, l4_dst_min: 80, l4_dst_max: 89 })),
      insertTuple(p.lcp.middlebox_rule, rule(lr, 1, 2, 'alert', { ip_proto: 6 })),
    ]);
    expectSound(p);
    const mirror = inTable(p, TABLE.LR_IN_MIRROR, 'h1').filter((f) => f.priority > 0);
    expect(mirror).toEqual([
      { dp: lr, chassis: 'h1', table: TABLE.LR_IN_MIRROR, priority: 105, match: { metadata: lr, ipProto: 6, l4DstRange: [80, 89] }, actions: [mbAction(9, 'copy', 0), resubmit(TABLE.LR_IN_POLICY)] },
    ]);
    expect(inTable(p, TABLE.LR_IN_POLICY).filter((f) => f.priority > 0)).toEqual([]);
    expect(inTable(p, TABLE.LS_OUT_MB).filter((f) => f.priority > 0)).toEqual([]);
    expect(records(p, 'gw').map((r) => r.r)).toEqual(['rule', 'slice']);
  });

  test('two stateful middleboxes on a router form a reply chain through reg4, ending with reg4 cleared', () => {
    const { program: p, lr, vm } = lab();
    p.engine.apply([
      insertTuple(p.lcp.middlebox, middlebox(lr, 1, 'firewall', 7)),
      insertTuple(p.lcp.middlebox, middlebox(lr, 2, 'nat', 4)),
      insertTuple(p.lcp.middlebox, middlebox(lr, 3, 'ids', 5)),
    ]);
    expectSound(p);
    const v = vm('v3');
    const chain = inTable(p, TABLE.LS_OUT_MB, v.chassis)
      .filter((f) => f.dp === v.dp && f.match.reg7 === v.port)
      .sort((x, y) => x.priority - y.priority);
    expect(chain.map((f) => ({ priority: f.priority, match: f.match, actions: f.actions }))).toEqual([
      { priority: 100, match: { metadata: v.dp, reg7: v.port, ...UNICAST_IPV4 }, actions: [setVmKey(v.key), { type: 'set', field: REG_MB_CHAIN, value: 1 }, mbAction(4, 'reply-only', TABLE.LS_OUT_MB)] },
      { priority: 101, match: { metadata: v.dp, [REG_MB_CHAIN]: 1, reg7: v.port, ...UNICAST_IPV4 }, actions: [setVmKey(v.key), { type: 'set', field: REG_MB_CHAIN, value: 0 }, mbAction(7, 'reply-only', TABLE.LS_OUT_PORT_SEC)] },
    ]);
  });

  test('a wire middlebox: both directions of its port, keyed by its VM, configured on that chassis only', () => {
    const { program: p, a, vm } = lab();
    const v2 = vm('v2');
    p.engine.apply([
      insertTuple(p.lcp.middlebox, middlebox(a, 1, 'firewall', 11)),
      insertTuple(p.lcp.middlebox_wire, { dp: a, mb: 1, port: v2.port }),
      insertTuple(p.lcp.middlebox_rule, rule(a, 1, 1, 'allow', { ip_proto: 6 })),
    ]);
    expectSound(p);
    const mbFlows = flows(p).filter(usesMiddlebox).filter((f) => f.table !== HOST_DB_TABLE);
    const on = (table: number) => mbFlows.filter((f) => f.table === table && f.chassis === 'h2').map((f) => ({ priority: f.priority, match: f.match, actions: f.actions }));
    expect(on(TABLE.LS_IN_MB)).toEqual([{ priority: 200, match: { metadata: a, reg6: v2.port, ethType: ETH_TYPE_IPV4 }, actions: [setVmKey(v2.key), mbAction(11, 'inspect', TABLE.LS_IN_ACL)] }]);
    expect(on(TABLE.LS_OUT_MB)).toEqual([{ priority: 100, match: { metadata: a, reg7: v2.port, ...UNICAST_IPV4 }, actions: [setVmKey(v2.key), mbAction(11, 'inspect', TABLE.LS_OUT_PORT_SEC)] }]);
    // Packets from v2 enter the pipeline only on h2; the egress flow is on every chassis of the switch.
    expect(chassisOf(mbFlows)).toContain('h2');
    expect(records(p, 'h2').map((r) => r.r).sort()).toEqual(['rule', 'slice', 'vm']);
    expect(records(p, 'h2').find((r) => r.r === 'vm')).toEqual({ r: 'vm', tag: 11, vmKey: v2.key, vifId: 'vif-v2' });
    for (const chassis of ['h1', 'h3', 'gw']) expect(records(p, chassis)).toEqual([]);

    // An IDS on the same wire: the two form a chain, the IDS copying and going on.
    p.engine.apply([insertTuple(p.lcp.middlebox, middlebox(a, 2, 'ids', 12)), insertTuple(p.lcp.middlebox_wire, { dp: a, mb: 2, port: v2.port })]);
    expectSound(p);
    const ingress = inTable(p, TABLE.LS_IN_MB, 'h2').filter((f) => f.priority > 0).sort((x, y) => x.priority - y.priority);
    expect(ingress.map((f) => f.actions)).toEqual([
      [setVmKey(v2.key), { type: 'set', field: REG_MB_CHAIN, value: 1 }, mbAction(11, 'inspect', TABLE.LS_IN_MB)],
      [setVmKey(v2.key), { type: 'set', field: REG_MB_CHAIN, value: 0 }, mbAction(12, 'copy', 0), resubmit(TABLE.LS_IN_ACL)],
    ]);
    const egress = inTable(p, TABLE.LS_OUT_MB, 'h2').filter((f) => f.priority > 0).sort((x, y) => x.priority - y.priority);
    expect(egress.map((f) => f.actions)).toEqual([
      [setVmKey(v2.key), { type: 'set', field: REG_MB_CHAIN, value: 1 }, mbAction(12, 'copy', 0), resubmit(TABLE.LS_OUT_MB)],
      [setVmKey(v2.key), { type: 'set', field: REG_MB_CHAIN, value: 0 }, mbAction(11, 'inspect', TABLE.LS_OUT_PORT_SEC)],
    ]);
  });

  test("on a port with a wire middlebox, the router's reply step comes first, then the wire's; the other ports keep the reply step alone", () => {
    const { program: p, lr, a, vm } = lab();
    const v1 = vm('v1');
    const v2 = vm('v2');
    p.engine.apply([
      insertTuple(p.lcp.middlebox, middlebox(lr, 1, 'firewall', 7)),
      insertTuple(p.lcp.middlebox, middlebox(a, 1, 'nat', 21)),
      insertTuple(p.lcp.middlebox_wire, { dp: a, mb: 1, port: v1.port }),
    ]);
    expectSound(p);
    const chainAt = (port: number, chassis: string) =>
      inTable(p, TABLE.LS_OUT_MB, chassis)
        .filter((f) => f.dp === a && f.match.reg7 === port)
        .sort((x, y) => x.priority - y.priority)
        .map((f) => f.actions);
    expect(chainAt(v1.port, 'h1')).toEqual([
      [setVmKey(v1.key), { type: 'set', field: REG_MB_CHAIN, value: 1 }, mbAction(7, 'reply-only', TABLE.LS_OUT_MB)],
      [setVmKey(v1.key), { type: 'set', field: REG_MB_CHAIN, value: 0 }, mbAction(21, 'inspect', TABLE.LS_OUT_PORT_SEC)],
    ]);
    expect(chainAt(v2.port, 'h2')).toEqual([[setVmKey(v2.key), mbAction(7, 'reply-only', TABLE.LS_OUT_PORT_SEC)]]);
    expect(records(p, 'h1').filter((r) => r.r === 'vm').map((r) => r.tag).sort()).toEqual([21, 7]);
  });

  test('a load balancer with two backends: one record per backend under one rule key', () => {
    const { program: p, lr } = lab();
    const vip = rule(lr, 1, 3, 'lb', { ...prefix('10.2.0.100/32', 'dst'), ip_proto: 6, l4_dst_min: 80, l4_dst_max: 80 });
    const backends = [
      { dp: lr, rule: 1, ip: parseIpv4('10.2.0.13'), port: 8080 },
      { dp: lr, rule: 1, ip: parseIpv4('10.2.0.14'), port: 8080 },
    ];
    p.engine.apply([
      insertTuple(p.lcp.middlebox, middlebox(lr, 3, 'lb', 30)),
      insertTuple(p.lcp.middlebox_policy, policy(lr, 1, 3, 1, prefix('10.2.0.100/32', 'dst'))),
      insertTuple(p.lcp.middlebox_rule, vip),
      ...backends.map((be) => insertTuple(p.lcp.middlebox_backend, be)),
    ]);
    expectSound(p);
    for (const chassis of CHASSIS) {
      const lbRecords = records(p, chassis).filter((r) => r.r === 'rule');
      expect(lbRecords.map((r) => (r.r === 'rule' ? { rule: r.rule, backends: r.backends } : null))).toEqual(
        backends.map((be) => ({ rule: 1, backends: [{ ip: be.ip, port: be.port }] })),
      );
      const keys = inTable(p, HOST_DB_TABLE, chassis).filter((f) => f.priority === 2).map((f) => f.match);
      expect(keys).toEqual(expect.arrayContaining(backends.map((be) => ({ tunKey: 30, reg1: 1, reg2: be.ip, reg3: be.port }))));
    }
    const [pol] = inTable(p, TABLE.LR_IN_POLICY, 'h1').filter((f) => f.priority > 0);
    expect(pol.actions).toEqual([mbAction(30, 'inspect', TABLE.LR_IN_IP_ROUTING)]);
  });

  test('deleting the middlebox tuples removes every flow and record they made', () => {
    const { program: p, lr, a, vm } = lab();
    const baseline = rows(p).map((r) => JSON.stringify(r)).sort();
    const tuples: Change[] = [
      insertTuple(p.lcp.middlebox, middlebox(lr, 1, 'firewall', 7)),
      insertTuple(p.lcp.middlebox, middlebox(lr, 2, 'nat', 8)),
      insertTuple(p.lcp.middlebox_policy, policy(lr, 1, 1, 10, prefix('10.1.0.0/24', 'src'))),
      insertTuple(p.lcp.middlebox_rule, rule(lr, 1, 1, 'allow', prefix('10.1.0.12/32', 'src'))),
      insertTuple(p.lcp.middlebox_rule, rule(lr, 2, 2, 'lb', {})),
      insertTuple(p.lcp.middlebox_backend, { dp: lr, rule: 2, ip: 1, port: 2 }),
      insertTuple(p.lcp.middlebox, middlebox(a, 1, 'ids', 9)),
      insertTuple(p.lcp.middlebox_wire, { dp: a, mb: 1, port: vm('v1').port }),
    ];
    p.engine.apply(tuples);
    expect(rows(p).length).toBeGreaterThan(baseline.length);
    expectSound(p);
    p.engine.apply(tuples.map((c) => (c.op === 'insert' ? deleteTuple(c.relation, c.tuple) : c)).reverse());
    expect(rows(p).map((r) => JSON.stringify(r)).sort()).toEqual(baseline);
    expectSound(p);
  });

  test('records follow a VM: unbound, its record and the scoped rule leave its chassis', () => {
    const { program: p, lr, vm } = lab();
    const v1 = vm('v1');
    p.engine.apply([insertTuple(p.lcp.middlebox, middlebox(lr, 1, 'firewall', 7)), insertTuple(p.lcp.middlebox_rule, rule(lr, 1, 1, 'allow', prefix('10.1.0.11/32', 'src')))]);
    expect(records(p, 'h1').map((r) => r.r).sort()).toEqual(['rule', 'slice', 'vm']);
    // v1 moves to h3 (its VIF is reported there now).
    p.engine.apply([
      deleteTuple(p.physical.vifLocation, { vif_id: v1.vifId, chassis: 'h1', ofport: 1 }),
      insertTuple(p.physical.vifLocation, { vif_id: v1.vifId, chassis: 'h3', ofport: 9 }),
    ]);
    expectSound(p);
    expect(records(p, 'h1')).toEqual([]);
    expect(records(p, 'h3').filter((r) => r.r !== 'slice').map((r) => r.r).sort()).toEqual(['rule', 'vm', 'vm']);
    expect(inTable(p, TABLE.LS_OUT_MB, 'h3').some((f) => f.match.reg7 === v1.port && f.match.metadata === v1.dp)).toBe(true);
  });
});
