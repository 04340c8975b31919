// The middlebox API of the logical model (seed 001 §1.7, §3): middleboxes attached to routers or inline
// on wires, policy-routing rules, middlebox rules by kind; the tuples they emit (snapshot and change
// stream), keys and world-unique tags, cascades, renames, and that every bad call throws one line and
// changes nothing (not even the next key or tag).
import { describe, expect, test } from 'vitest';
import { parseIpv4 } from '../../sim/dataplane/headers.ts';
import { LogicalNetworks, RELATION_ORDER, type Delta, type RelationName, type Snapshot } from '../../sim/logical/index.ts';
import { expectRefusedWithoutChange } from '../support/logical-refusal.ts';

const ip = parseIpv4;

/**
 * Tenant A: switches web (10.0.1.0/24) and app (10.0.2.0/24) with VIF ports web1, web2, app1, joined by
 * router r; an empty router r2. Tenant B: switch b with port b1.
 */
function base(net = new LogicalNetworks()): LogicalNetworks {
  net.createSwitch({ name: 'web', tenant: 'A', subnet: '10.0.1.0/24' });
  net.createSwitch({ name: 'app', tenant: 'A', subnet: '10.0.2.0/24' });
  net.createSwitchPort({ name: 'web1', switch: 'web', addresses: ['02:00:00:00:01:01 10.0.1.11'], vifId: 'vif-web1' });
  net.createSwitchPort({ name: 'web2', switch: 'web', addresses: ['02:00:00:00:01:02 10.0.1.12'], vifId: 'vif-web2' });
  net.createSwitchPort({ name: 'app1', switch: 'app', addresses: ['02:00:00:00:02:01 10.0.2.11'], vifId: 'vif-app1' });
  net.createRouter({ name: 'r', tenant: 'A' });
  net.connectRouter({ router: 'r', switch: 'web', name: 'r-web', mac: '02:00:00:00:ff:01', ip: '10.0.1.1/24' });
  net.connectRouter({ router: 'r', switch: 'app', name: 'r-app', mac: '02:00:00:00:ff:02', ip: '10.0.2.1/24' });
  net.createRouter({ name: 'r2', tenant: 'A' });
  net.createSwitch({ name: 'b', tenant: 'B' });
  net.createSwitchPort({ name: 'b1', switch: 'b', addresses: ['02:00:00:00:01:01 10.0.1.11'] });
  return net;
}

/** base() plus S1's firewall on r with a policy and rules, an IDS on r, a NAT, an LB and an inline firewall. */
function populated(net = new LogicalNetworks()): LogicalNetworks {
  base(net);
  net.createMiddlebox({ name: 'fw', kind: 'firewall', router: 'r', defaultAction: 'drop' });
  net.createMiddlebox({ name: 'ids', kind: 'ids', router: 'r' });
  net.createMiddlebox({ name: 'nat', kind: 'nat', router: 'r2' });
  net.createMiddlebox({ name: 'lb', kind: 'lb', wire: 'app1' });
  net.createMiddlebox({ name: 'wfw', kind: 'firewall', wire: 'web1' });
  net.createMiddleboxPolicy({ name: 'from-web', middlebox: 'fw', priority: 100, match: { ipSrc: '10.0.1.0/24' } });
  net.createMiddleboxPolicy({ name: 'copy-all', middlebox: 'ids', priority: 10 });
  net.createMiddleboxRule({ name: 'allow-ssh', middlebox: 'fw', priority: 200, action: 'allow', match: { ipProto: 'tcp', l4Dst: 22 } });
  net.createMiddleboxRule({ name: 'reject-app', middlebox: 'fw', priority: 100, action: 'reject', match: { ipDst: '10.0.2.0/24' } });
  net.createMiddleboxRule({ name: 'hide', middlebox: 'nat', priority: 1, action: 'snat', match: { ipSrc: '10.0.1.0/24', ipProto: 'tcp' }, to: '192.0.2.1:1024-65535' });
  net.createMiddleboxRule({ name: 'vip', middlebox: 'lb', priority: 1, action: 'lb', match: { ipDst: '10.0.2.100', ipProto: 'tcp', l4Dst: 80 }, backends: ['10.0.2.12:8080', '10.0.2.11:8080'] });
  net.createMiddleboxRule({ name: 'scan', middlebox: 'ids', priority: 5, action: 'alert', match: { ipProto: 'tcp', l4Dst: [1, 1023] } });
  return net;
}

const MB_RELATIONS = ['middlebox', 'middlebox_policy', 'middlebox_wire', 'middlebox_rule', 'middlebox_backend'] as const;

function middleboxTuples(net: LogicalNetworks): Pick<Snapshot, (typeof MB_RELATIONS)[number]> {
  const s = net.snapshot();
  return { middlebox: s.middlebox, middlebox_policy: s.middlebox_policy, middlebox_wire: s.middlebox_wire, middlebox_rule: s.middlebox_rule, middlebox_backend: s.middlebox_backend };
}

function replay(sets: readonly (readonly Delta[])[]): Record<string, string[]> {
  const rows = new Map<RelationName, Set<string>>(RELATION_ORDER.map((r) => [r, new Set()]));
  for (const set of sets) {
    for (const d of set) {
      const key = JSON.stringify(d.tuple);
      if (d.op === 'insert') rows.get(d.relation)!.add(key);
      else rows.get(d.relation)!.delete(key);
    }
  }
  const out: Record<string, string[]> = {};
  for (const r of RELATION_ORDER) out[r] = [...rows.get(r)!].sort();
  return out;
}

function snapshotKeys(s: Snapshot): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of RELATION_ORDER) out[r] = (s[r] as unknown[]).map((t) => JSON.stringify(t)).sort();
  return out;
}

describe('middleboxes', () => {
  test('a router-attached and an inline middlebox: views, keys, tags and tuples', () => {
    const net = base();
    const r = net.getRouter('r')!;
    const web = net.getSwitch('web')!;
    const fw = net.createMiddlebox({ name: 'fw', kind: 'firewall', router: 'r', defaultAction: 'drop' });
    expect(fw).toEqual({ name: 'fw', kind: 'firewall', tenant: 'A', dp: r.dp, mb: 1, tag: 1, defaultAction: 'drop', router: 'r', policies: [], rules: [] });
    const inline = net.createMiddlebox({ name: 'wfw', kind: 'firewall', wire: 'web1' });
    expect(inline).toEqual({ name: 'wfw', kind: 'firewall', tenant: 'A', dp: web.dp, mb: 1, tag: 2, defaultAction: 'allow', switch: 'web', wire: 'web1', policies: [], rules: [] });
    // An 'ids' may join the router's one active middlebox; its key follows on the router.
    expect(net.createMiddlebox({ name: 'ids', kind: 'ids', router: 'r' })).toMatchObject({ dp: r.dp, mb: 2, tag: 3, defaultAction: 'allow' });
    expect(middleboxTuples(net)).toEqual({
      middlebox: [
        { dp: web.dp, mb: 1, name: 'wfw', tenant: 'A', kind: 'firewall', tag: 2, default_action: 'allow' },
        { dp: r.dp, mb: 1, name: 'fw', tenant: 'A', kind: 'firewall', tag: 1, default_action: 'drop' },
        { dp: r.dp, mb: 2, name: 'ids', tenant: 'A', kind: 'ids', tag: 3, default_action: 'allow' },
      ],
      middlebox_policy: [],
      middlebox_wire: [{ dp: web.dp, mb: 1, port: net.getSwitchPort('web1')!.port }],
      middlebox_rule: [],
      middlebox_backend: [],
    });
    expect(net.middleboxes().map((m) => m.name)).toEqual(['fw', 'ids', 'wfw']);
    expect(net.middleboxes('r').map((m) => m.name)).toEqual(['fw', 'ids']);
    expect(net.middleboxes('web').map((m) => m.name)).toEqual(['wfw']);
    expect(net.middleboxes('app')).toEqual([]);
    expect(net.getMiddlebox('nope')).toBeUndefined();
  });

  test('update renames and changes the default action; the tag and key stay', () => {
    const net = populated();
    const before = net.getMiddlebox('fw')!;
    const log: Delta[][] = [];
    net.subscribe((d) => log.push([...d]));
    const after = net.updateMiddlebox('fw', { name: 'edge-fw', defaultAction: 'allow' });
    expect(after).toEqual({ ...before, name: 'edge-fw', defaultAction: 'allow' });
    expect(net.getMiddlebox('fw')).toBeUndefined();
    expect(net.getMiddleboxPolicy('from-web')!.middlebox).toBe('edge-fw');
    expect(net.getMiddleboxRule('allow-ssh')!.middlebox).toBe('edge-fw');
    const old = { dp: before.dp, mb: before.mb, tenant: 'A', kind: 'firewall', tag: before.tag };
    expect(log).toEqual([
      [
        { relation: 'middlebox', op: 'delete', tuple: { ...old, name: 'fw', default_action: 'drop' } },
        { relation: 'middlebox', op: 'insert', tuple: { ...old, name: 'edge-fw', default_action: 'allow' } },
      ],
    ]);
    // Setting what is already set changes nothing and delivers nothing.
    net.updateMiddlebox('edge-fw', { defaultAction: 'allow' });
    expect(log).toHaveLength(1);
  });

  test('tags are world-unique and never reused, even after delete; keys are per datapath', () => {
    const net = base();
    const tags: number[] = [];
    for (let i = 0; i < 3; i++) {
      tags.push(net.createMiddlebox({ name: `x${i}`, kind: 'ids', router: 'r' }).tag);
      net.deleteMiddlebox(`x${i}`);
    }
    tags.push(net.createMiddlebox({ name: 'y', kind: 'ids', router: 'r2' }).tag);
    tags.push(net.createMiddlebox({ name: 'z', kind: 'nat', wire: 'b1' }).tag);
    expect(tags).toEqual([1, 2, 3, 4, 5]);
    // A deleted router's tags stay used too.
    net.deleteRouter('r2', { cascade: true });
    expect(net.createMiddlebox({ name: 'w', kind: 'ids', router: 'r' }).tag).toBe(6);
    // A rolled-back create never showed its tag to anyone, so the next create gets it.
    expect(() => net.transaction((t) => (t.createMiddlebox({ name: 'v', kind: 'ids', router: 'r' }), t.deleteSwitch('nope')))).toThrow(/unknown logical switch 'nope'/);
    expect(net.createMiddlebox({ name: 'v', kind: 'ids', router: 'r' }).tag).toBe(7);
  });

  test('renaming the router, switch or wire port keeps the attachment', () => {
    const net = populated();
    const before = middleboxTuples(net);
    net.updateRouter('r', { name: 'edge' });
    net.updateSwitch('web', { name: 'front' });
    net.updateSwitchPort('web1', { name: 'front1' });
    expect(middleboxTuples(net)).toEqual(before);
    expect(net.getMiddlebox('fw')).toMatchObject({ router: 'edge' });
    expect(net.getMiddlebox('wfw')).toMatchObject({ switch: 'front', wire: 'front1' });
    expect(net.getMiddleboxPolicy('from-web')).toMatchObject({ router: 'edge' });
    expect(net.middleboxes('edge').map((m) => m.name)).toEqual(['fw', 'ids']);
  });
});

describe('middlebox policies', () => {
  test('create: views and tuples with explicit wildcards', () => {
    const net = populated();
    const r = net.getRouter('r')!.dp;
    const fw = net.getMiddlebox('fw')!;
    expect(net.getMiddleboxPolicy('from-web')).toEqual({ name: 'from-web', middlebox: 'fw', router: 'r', dp: r, policy: 1, priority: 100, match: { ipSrc: '10.0.1.0/24' } });
    expect(net.middleboxPolicies().map((p) => p.name)).toEqual(['copy-all', 'from-web']);
    expect(net.middleboxPolicies('ids').map((p) => p.name)).toEqual(['copy-all']);
    expect(fw.policies).toEqual(['from-web']);
    const p = net.createMiddleboxPolicy({ name: 'web-in', middlebox: 'fw', priority: 32767, match: { ipDst: '10.0.1.11', ipProto: 'udp', l4Dst: [53, 54] } });
    expect(p).toMatchObject({ policy: 3, match: { ipDst: '10.0.1.11/32', ipProto: 'udp', l4Dst: [53, 54] } });
    const any = { ip_src_addr: 0, ip_src_len: 0, ip_dst_addr: 0, ip_dst_len: 0, ip_proto: 0, l4_dst_min: 0, l4_dst_max: 65535 };
    expect(net.snapshot().middlebox_policy).toEqual([
      { dp: r, policy: 1, mb: fw.mb, priority: 100, ...any, ip_src_addr: ip('10.0.1.0'), ip_src_len: 24 },
      { dp: r, policy: 2, mb: net.getMiddlebox('ids')!.mb, priority: 10, ...any },
      { dp: r, policy: 3, mb: fw.mb, priority: 32767, ...any, ip_dst_addr: ip('10.0.1.11'), ip_dst_len: 32, ip_proto: 17, l4_dst_min: 53, l4_dst_max: 54 },
    ]);
  });

  test('update: rename, priority, whole match, another middlebox of the same router', () => {
    const net = populated();
    const v = net.updateMiddleboxPolicy('from-web', { name: 'web-out', priority: 7, match: { ipProto: 'icmp' }, middlebox: 'ids' });
    expect(v).toMatchObject({ name: 'web-out', middlebox: 'ids', priority: 7, policy: 1, match: { ipProto: 'icmp' } });
    expect(net.getMiddlebox('fw')!.policies).toEqual([]);
    expect(net.getMiddlebox('ids')!.policies).toEqual(['copy-all', 'web-out']);
    expect(net.snapshot().middlebox_policy[0]).toMatchObject({ policy: 1, mb: net.getMiddlebox('ids')!.mb, priority: 7, ip_proto: 1, ip_src_len: 0 });
    net.deleteMiddleboxPolicy('web-out');
    expect(net.middleboxPolicies().map((p) => p.name)).toEqual(['copy-all']);
  });
});

describe('middlebox rules', () => {
  test('each kind: views and tuples (to_* 0 when absent, one backend tuple each)', () => {
    const net = populated();
    const [r, r2, app] = [net.getRouter('r')!.dp, net.getRouter('r2')!.dp, net.getSwitch('app')!.dp];
    expect(net.getMiddleboxRule('hide')).toEqual({ name: 'hide', middlebox: 'nat', dp: r2, rule: 1, priority: 1, action: 'snat', match: { ipSrc: '10.0.1.0/24', ipProto: 'tcp' }, to: '192.0.2.1:1024-65535' });
    expect(net.getMiddleboxRule('vip')).toEqual({
      name: 'vip',
      middlebox: 'lb',
      dp: app,
      rule: 1,
      priority: 1,
      action: 'lb',
      match: { ipDst: '10.0.2.100/32', ipProto: 'tcp', l4Dst: 80 },
      backends: ['10.0.2.11:8080', '10.0.2.12:8080'],
    });
    expect(net.getMiddleboxRule('allow-ssh')).toEqual({ name: 'allow-ssh', middlebox: 'fw', dp: r, rule: 1, priority: 200, action: 'allow', match: { ipProto: 'tcp', l4Dst: 22 } });
    expect(net.middleboxRules('fw').map((x) => x.name)).toEqual(['allow-ssh', 'reject-app']);
    expect(net.middleboxRules().map((x) => x.name)).toEqual(['allow-ssh', 'hide', 'reject-app', 'scan', 'vip']);
    const any = { ip_src_addr: 0, ip_src_len: 0, ip_dst_addr: 0, ip_dst_len: 0, ip_proto: 0, l4_src_min: 0, l4_src_max: 65535, l4_dst_min: 0, l4_dst_max: 65535, to_ip: 0, to_port_min: 0, to_port_max: 0 };
    const s = net.snapshot();
    const byName = (n: string) => s.middlebox_rule.find((t) => t.name === n);
    expect(byName('allow-ssh')).toEqual({ dp: r, rule: 1, mb: 1, name: 'allow-ssh', priority: 200, action: 'allow', ...any, ip_proto: 6, l4_dst_min: 22, l4_dst_max: 22 });
    expect(byName('reject-app')).toEqual({ dp: r, rule: 2, mb: 1, name: 'reject-app', priority: 100, action: 'reject', ...any, ip_dst_addr: ip('10.0.2.0'), ip_dst_len: 24 });
    expect(byName('scan')).toEqual({ dp: r, rule: 3, mb: 2, name: 'scan', priority: 5, action: 'alert', ...any, ip_proto: 6, l4_dst_min: 1, l4_dst_max: 1023 });
    expect(byName('hide')).toEqual({ dp: r2, rule: 1, mb: 1, name: 'hide', priority: 1, action: 'snat', ...any, ip_src_addr: ip('10.0.1.0'), ip_src_len: 24, ip_proto: 6, to_ip: ip('192.0.2.1'), to_port_min: 1024, to_port_max: 65535 });
    expect(byName('vip')).toEqual({ dp: app, rule: 1, mb: 1, name: 'vip', priority: 1, action: 'lb', ...any, ip_dst_addr: ip('10.0.2.100'), ip_dst_len: 32, ip_proto: 6, l4_dst_min: 80, l4_dst_max: 80 });
    expect(s.middlebox_backend).toEqual([
      { dp: app, rule: 1, ip: ip('10.0.2.11'), port: 8080 },
      { dp: app, rule: 1, ip: ip('10.0.2.12'), port: 8080 },
    ]);
  });

  test('NAT targets: "ip" keeps the port (0..0), "ip:p" is p..p', () => {
    const net = populated();
    net.createMiddleboxRule({ name: 'd1', middlebox: 'nat', priority: 2, action: 'dnat', to: '10.0.2.11' });
    net.createMiddleboxRule({ name: 'd2', middlebox: 'nat', priority: 3, action: 'dnat', match: { ipProto: 'tcp', l4Dst: 80 }, to: '10.0.2.11:8080' });
    const t = (n: string) => net.snapshot().middlebox_rule.find((x) => x.name === n)!;
    expect([t('d1').to_ip, t('d1').to_port_min, t('d1').to_port_max]).toEqual([ip('10.0.2.11'), 0, 0]);
    expect([t('d2').to_port_min, t('d2').to_port_max]).toEqual([8080, 8080]);
    expect(net.getMiddleboxRule('d1')!.to).toBe('10.0.2.11');
    expect(net.getMiddleboxRule('d2')!.to).toBe('10.0.2.11:8080');
    // "ip:p-p" is the same target as "ip:p": no change.
    const log: Delta[][] = [];
    net.subscribe((d) => log.push([...d]));
    net.updateMiddleboxRule('d2', { to: '10.0.2.11:8080-8080' });
    expect(log).toEqual([]);
  });

  test('update replaces fields; the pool is a set (reordering changes nothing); deltas name the changed tuples', () => {
    const net = populated();
    const log: Delta[][] = [];
    net.subscribe((d) => log.push([...d]));
    net.updateMiddleboxRule('vip', { backends: ['10.0.2.11:8080', '10.0.2.12:8080'] });
    expect(log).toEqual([]);
    const app = net.getSwitch('app')!.dp;
    net.updateMiddleboxRule('vip', { backends: ['10.0.2.12:8080', '10.0.2.13:9090'] });
    expect(log).toEqual([
      [
        { relation: 'middlebox_backend', op: 'delete', tuple: { dp: app, rule: 1, ip: ip('10.0.2.11'), port: 8080 } },
        { relation: 'middlebox_backend', op: 'insert', tuple: { dp: app, rule: 1, ip: ip('10.0.2.13'), port: 9090 } },
      ],
    ]);
    expect(net.updateMiddleboxRule('hide', { action: 'dnat', to: '10.0.2.11', priority: 9 })).toMatchObject({ action: 'dnat', to: '10.0.2.11', priority: 9, match: { ipSrc: '10.0.1.0/24', ipProto: 'tcp' } });
    expect(net.updateMiddleboxRule('allow-ssh', { name: 'drop-ssh', action: 'drop', match: {} })).toMatchObject({ name: 'drop-ssh', rule: 1, action: 'drop', match: {} });
    expect(net.getMiddlebox('fw')!.rules).toEqual(['drop-ssh', 'reject-app']);
    net.deleteMiddleboxRule('vip');
    expect(net.snapshot().middlebox_backend).toEqual([]);
  });
});

describe('cascades', () => {
  test('deleteMiddlebox refuses while policies or rules name it; with cascade they go too', () => {
    const net = populated();
    expect(() => net.deleteMiddlebox('fw')).toThrow("middlebox 'fw' still has policy(ies) 'from-web' and rule(s) 'allow-ssh', 'reject-app'; delete them first or pass { cascade: true }");
    net.deleteMiddlebox('fw', { cascade: true });
    expect(net.middleboxPolicies().map((p) => p.name)).toEqual(['copy-all']);
    expect(net.middleboxRules().map((p) => p.name)).toEqual(['hide', 'scan', 'vip']);
    // The router may now take another active middlebox.
    expect(net.createMiddlebox({ name: 'fw2', kind: 'lb', router: 'r' }).tag).toBe(6);
  });

  test('deleting a router takes its middleboxes, their policies and rules, children first', () => {
    const net = populated();
    expect(() => net.deleteRouter('r')).toThrow("logical router 'r' has middlebox(es) 'fw', 'ids'; delete them first or pass { cascade: true }");
    expect(() => net.deleteRouter('r2')).toThrow("logical router 'r2' has middlebox(es) 'nat'");
    const log: Delta[][] = [];
    net.subscribe((d) => log.push([...d]));
    net.deleteRouter('r', { cascade: true });
    expect(net.middleboxes().map((m) => m.name)).toEqual(['lb', 'nat', 'wfw']);
    expect(net.middleboxPolicies()).toEqual([]);
    expect(net.middleboxRules().map((x) => x.name)).toEqual(['hide', 'vip']);
    const relations = log[0].map((d) => d.relation);
    expect(relations.indexOf('middlebox_rule')).toBeLessThan(relations.indexOf('middlebox'));
    expect(relations.indexOf('middlebox_policy')).toBeLessThan(relations.indexOf('middlebox'));
    expect(relations.indexOf('middlebox')).toBeLessThan(relations.indexOf('logical_router'));
    expect(log[0].every((d) => d.op === 'delete')).toBe(true);
  });

  test("deleting a wire's port or its switch takes the inline middlebox and its rules", () => {
    const net = populated();
    expect(() => net.deleteSwitchPort('app1')).toThrow("logical switch port 'app1' has middlebox 'lb' on its wire; delete it first, or pass { cascade: true }");
    expect(() => net.deleteSwitch('web')).toThrow("logical switch 'web' has middlebox(es) 'wfw'; delete them first or pass { cascade: true }");
    net.deleteSwitchPort('app1', { cascade: true });
    expect(net.getMiddlebox('lb')).toBeUndefined();
    expect(net.getMiddleboxRule('vip')).toBeUndefined();
    expect(net.snapshot().middlebox_backend).toEqual([]);
    net.deleteSwitch('web', { cascade: true });
    expect(net.middleboxes().map((m) => m.name)).toEqual(['fw', 'ids', 'nat']);
    expect(net.snapshot().middlebox_wire).toEqual([]);
    // Deleting the router port on a switch does not touch the router's middleboxes.
    net.deleteRouterPort('r-app');
    expect(net.middleboxes('r').map((m) => m.name)).toEqual(['fw', 'ids']);
  });

  test('the change stream replays to the snapshot through creates, updates and cascades', () => {
    const net = new LogicalNetworks();
    const log: Delta[][] = [];
    net.subscribe((d) => log.push([...d]));
    populated(net);
    net.updateMiddleboxRule('vip', { backends: ['10.0.2.50:80'] });
    net.updateMiddleboxPolicy('from-web', { match: { ipDst: '0.0.0.0/0' } });
    net.transaction((t) => {
      t.deleteMiddlebox('ids', { cascade: true });
      t.createMiddlebox({ name: 'ids2', kind: 'ids', router: 'r' });
    });
    net.deleteSwitch('app', { cascade: true });
    net.deleteRouter('r2', { cascade: true });
    expect(replay(log)).toEqual(snapshotKeys(net.snapshot()));
  });
});

/** Every bad call: [label, call, expected message]. */
type Case = [string, (net: LogicalNetworks) => unknown, RegExp];

const cases: Case[] = [
  // middleboxes
  ['duplicate middlebox name', (n) => n.createMiddlebox({ name: 'fw', kind: 'ids', router: 'r2' }), /^middlebox 'fw' already exists$/],
  ['bad middlebox name', (n) => n.createMiddlebox({ name: 'a b', kind: 'ids', router: 'r2' }), /middlebox name 'a b' is not a valid name/],
  ['unknown kind', (n) => n.createMiddlebox({ name: 'x', kind: 'wan' as never, router: 'r2' }), /middlebox 'x': kind must be one of firewall, nat, lb, ids, got 'wan'/],
  ['neither router nor wire', (n) => n.createMiddlebox({ name: 'x', kind: 'ids' }), /middlebox 'x': give exactly one of router \(attached\) and wire \(inline\)/],
  ['both router and wire', (n) => n.createMiddlebox({ name: 'x', kind: 'ids', router: 'r2', wire: 'web2' }), /give exactly one of router/],
  ['unknown router', (n) => n.createMiddlebox({ name: 'x', kind: 'ids', router: 'nope' }), /unknown logical router 'nope'/],
  ['unknown wire port', (n) => n.createMiddlebox({ name: 'x', kind: 'ids', wire: 'nope' }), /unknown logical switch port 'nope'/],
  ['second active middlebox on a router', (n) => n.createMiddlebox({ name: 'x', kind: 'lb', router: 'r' }), /logical router 'r' already has firewall middlebox 'fw' \(one that is not 'ids' per router\)/],
  ['wire on a router-type port', (n) => n.createMiddlebox({ name: 'x', kind: 'firewall', wire: 'r-web-peer' }), /wire port 'r-web-peer' is a 'router' port; inline middleboxes sit on 'vif' ports/],
  ['second middlebox on a wire', (n) => n.createMiddlebox({ name: 'x', kind: 'ids', wire: 'web1' }), /the wire of port 'web1' already has middlebox 'wfw'/],
  ['bad default action', (n) => n.createMiddlebox({ name: 'x', kind: 'firewall', router: 'r2', defaultAction: 'deny' as never }), /defaultAction must be one of allow, drop, got 'deny'/],
  ['drop by default on a nat', (n) => n.createMiddlebox({ name: 'x', kind: 'nat', wire: 'web2', defaultAction: 'drop' }), /defaultAction 'drop' is for firewalls only/],
  ['misspelt middlebox field', (n) => n.createMiddlebox({ name: 'x', kind: 'ids', router: 'r2', rooter: 'r' } as never), /createMiddlebox: unknown field 'rooter'/],
  ['update unknown middlebox', (n) => n.updateMiddlebox('nope', {}), /unknown middlebox 'nope'/],
  ['rename middlebox onto another', (n) => n.updateMiddlebox('fw', { name: 'ids' }), /middlebox 'ids' already exists/],
  ['update drop default on an lb', (n) => n.updateMiddlebox('lb', { defaultAction: 'drop' }), /defaultAction 'drop' is for firewalls only/],
  ['update kind', (n) => n.updateMiddlebox('fw', { kind: 'nat' } as never), /updateMiddlebox 'fw': unknown field 'kind'/],
  ['delete middlebox with rules', (n) => n.deleteMiddlebox('nat'), /middlebox 'nat' still has rule\(s\) 'hide'; .*cascade/],
  ['delete unknown middlebox', (n) => n.deleteMiddlebox('nope', { cascade: true }), /unknown middlebox 'nope'/],
  ['list middleboxes of unknown datapath', (n) => n.middleboxes('nope'), /unknown logical router or switch 'nope'/],
  // policies
  ['duplicate policy name', (n) => n.createMiddleboxPolicy({ name: 'from-web', middlebox: 'fw', priority: 1 }), /middlebox policy 'from-web' already exists/],
  ['policy to unknown middlebox', (n) => n.createMiddleboxPolicy({ name: 'x', middlebox: 'nope', priority: 1 }), /middlebox policy 'x': unknown middlebox 'nope'/],
  ['policy to an inline middlebox', (n) => n.createMiddleboxPolicy({ name: 'x', middlebox: 'wfw', priority: 1 }), /middlebox 'wfw' is inline on a wire; policies route to router-attached middleboxes only/],
  ['policy priority too high', (n) => n.createMiddleboxPolicy({ name: 'x', middlebox: 'fw', priority: 32768 }), /middlebox policy 'x': priority must be an integer in 0\.\.32767, got 32768/],
  ['policy L4 port without tcp/udp', (n) => n.createMiddleboxPolicy({ name: 'x', middlebox: 'fw', priority: 1, match: { l4Dst: 80 } }), /l4Dst needs ipProto tcp or udp/],
  ['policy matches l4Src', (n) => n.createMiddleboxPolicy({ name: 'x', middlebox: 'fw', priority: 1, match: { ipProto: 'tcp', l4Src: 80 } as never }), /match: unknown field 'l4Src'/],
  ['policy bad prefix', (n) => n.createMiddleboxPolicy({ name: 'x', middlebox: 'fw', priority: 1, match: { ipSrc: '10.0.0.1/8' } }), /ipSrc: not an IPv4 prefix: '10\.0\.0\.1\/8' has host bits set/],
  ['policy bad ipProto', (n) => n.createMiddleboxPolicy({ name: 'x', middlebox: 'fw', priority: 1, match: { ipProto: 0 } }), /ipProto \(tcp, udp, icmp or 1\.\.255\) must be an integer in 1\.\.255/],
  ['policy empty port range', (n) => n.createMiddleboxPolicy({ name: 'x', middlebox: 'fw', priority: 1, match: { ipProto: 'tcp', l4Dst: [9, 8] } }), /range 9\.\.8 is empty/],
  ['policy moved to another router', (n) => n.updateMiddleboxPolicy('from-web', { middlebox: 'nat' }), /middlebox 'nat' is on another router than 'r'/],
  ['policy rename onto another', (n) => n.updateMiddleboxPolicy('from-web', { name: 'copy-all' }), /middlebox policy 'copy-all' already exists/],
  ['update unknown policy', (n) => n.updateMiddleboxPolicy('nope', {}), /unknown middlebox policy 'nope'/],
  ['delete unknown policy', (n) => n.deleteMiddleboxPolicy('nope'), /unknown middlebox policy 'nope'/],
  ['list policies of unknown middlebox', (n) => n.middleboxPolicies('nope'), /unknown middlebox 'nope'/],
  // rules
  ['duplicate rule name', (n) => n.createMiddleboxRule({ name: 'hide', middlebox: 'fw', priority: 1, action: 'drop' }), /middlebox rule 'hide' already exists/],
  ['rule on unknown middlebox', (n) => n.createMiddleboxRule({ name: 'x', middlebox: 'nope', priority: 1, action: 'drop' }), /middlebox rule 'x': unknown middlebox 'nope'/],
  ['rule priority negative', (n) => n.createMiddleboxRule({ name: 'x', middlebox: 'fw', priority: -1, action: 'drop' }), /priority must be an integer in 0\.\.32767/],
  ['firewall rule with a nat action', (n) => n.createMiddleboxRule({ name: 'x', middlebox: 'fw', priority: 1, action: 'snat' }), /action for firewall middlebox 'fw' must be one of allow, drop, reject, got 'snat'/],
  ['nat rule with a firewall action', (n) => n.createMiddleboxRule({ name: 'x', middlebox: 'nat', priority: 1, action: 'allow', to: '1.2.3.4' }), /action for nat middlebox 'nat' must be one of snat, dnat/],
  ['ids rule that drops', (n) => n.createMiddleboxRule({ name: 'x', middlebox: 'ids', priority: 1, action: 'drop' }), /action for ids middlebox 'ids' must be one of alert/],
  ['to on a firewall rule', (n) => n.createMiddleboxRule({ name: 'x', middlebox: 'fw', priority: 1, action: 'drop', to: '1.2.3.4' }), /'to' is for nat rules, and 'fw' is a firewall middlebox/],
  ['backends on a nat rule', (n) => n.createMiddleboxRule({ name: 'x', middlebox: 'nat', priority: 1, action: 'dnat', to: '1.2.3.4', backends: [] }), /backends are for lb rules, and 'nat' is a nat middlebox/],
  ['nat rule without to', (n) => n.createMiddleboxRule({ name: 'x', middlebox: 'nat', priority: 1, action: 'snat' }), /a snat rule needs 'to'/],
  ['nat target not a host', (n) => n.createMiddleboxRule({ name: 'x', middlebox: 'nat', priority: 1, action: 'snat', to: '0.0.0.0' }), /to: 0\.0\.0\.0 is not a host address/],
  ['nat target bad form', (n) => n.createMiddleboxRule({ name: 'x', middlebox: 'nat', priority: 1, action: 'snat', to: '1.2.3.4:1:2' }), /to: expected "ip", "ip:port" or "ip:low-high", got '1\.2\.3\.4:1:2'/],
  ['nat target port 0', (n) => n.createMiddleboxRule({ name: 'x', middlebox: 'nat', priority: 1, action: 'snat', to: '1.2.3.4:0' }), /to: port must be an integer in 1\.\.65535, got 0/],
  ['nat target empty range', (n) => n.createMiddleboxRule({ name: 'x', middlebox: 'nat', priority: 1, action: 'snat', to: '1.2.3.4:90-80' }), /port range 90-80 is empty/],
  ['nat target port too high', (n) => n.createMiddleboxRule({ name: 'x', middlebox: 'nat', priority: 1, action: 'snat', to: '1.2.3.4:1-70000' }), /high port must be an integer in 1\.\.65535, got 70000/],
  ['snat on a wire', (n) => n.transaction((t) => (t.createMiddlebox({ name: 'wnat', kind: 'nat', wire: 'web2' }), t.createMiddleboxRule({ name: 'x', middlebox: 'wnat', priority: 1, action: 'snat', match: { ipSrc: '10.0.1.0/24', ipProto: 'tcp' }, to: '192.0.2.1:1024-65535' }))), /snat rules belong on a router middlebox .* 'wnat' sits on a wire/],
  ['snat without a protocol', (n) => n.createMiddleboxRule({ name: 'x', middlebox: 'nat', priority: 1, action: 'snat', match: { ipSrc: '10.0.1.0/24' }, to: '192.0.2.1:1024-65535' }), /an snat rule's match needs ipProto tcp or udp/],
  ['snat without a source prefix', (n) => n.createMiddleboxRule({ name: 'x', middlebox: 'nat', priority: 1, action: 'snat', match: { ipProto: 'udp' }, to: '192.0.2.1:1024-65535' }), /an snat rule's match needs ipSrc/],
  ['snat keeping the port', (n) => n.createMiddleboxRule({ name: 'x', middlebox: 'nat', priority: 1, action: 'snat', match: { ipSrc: '10.0.1.0/24', ipProto: 'tcp' }, to: '192.0.2.1' }), /an snat rule needs a port range in 'to'/],
  ['snat range too narrow for its prefix', (n) => n.createMiddleboxRule({ name: 'x', middlebox: 'nat', priority: 1, action: 'snat', match: { ipSrc: '10.0.0.0/8', ipProto: 'tcp' }, to: '192.0.2.1:1024-65535' }), /ports 1024-65535 leave no port for each of the 16777216 addresses of ipSrc \/8/],
  ['snat update widening the prefix', (n) => n.updateMiddleboxRule('hide', { match: { ipSrc: '10.0.0.0/16', ipProto: 'tcp' } }), /leave no port for each of the 65536 addresses/],
  ['lb rule without backends', (n) => n.createMiddleboxRule({ name: 'x', middlebox: 'lb', priority: 1, action: 'lb', match: { ipDst: '10.0.2.9', ipProto: 'tcp', l4Dst: 80 } }), /an lb rule needs at least one backend/],
  ['lb rule with empty backends', (n) => n.createMiddleboxRule({ name: 'x', middlebox: 'lb', priority: 1, action: 'lb', match: { ipDst: '10.0.2.9', ipProto: 'tcp', l4Dst: 80 }, backends: [] }), /at least one backend/],
  ['lb VIP a prefix', (n) => n.createMiddleboxRule({ name: 'x', middlebox: 'lb', priority: 1, action: 'lb', match: { ipDst: '10.0.2.0/24', ipProto: 'tcp', l4Dst: 80 }, backends: ['10.0.2.11:80'] }), /needs ipDst as a single address \(the VIP\)/],
  ['lb VIP without protocol', (n) => n.createMiddleboxRule({ name: 'x', middlebox: 'lb', priority: 1, action: 'lb', match: { ipDst: '10.0.2.9' }, backends: ['10.0.2.11:80'] }), /needs ipProto tcp or udp/],
  ['lb VIP port range', (n) => n.createMiddleboxRule({ name: 'x', middlebox: 'lb', priority: 1, action: 'lb', match: { ipDst: '10.0.2.9', ipProto: 'udp', l4Dst: [80, 81] }, backends: ['10.0.2.11:80'] }), /needs l4Dst as a single port/],
  ['lb VIP any port', (n) => n.createMiddleboxRule({ name: 'x', middlebox: 'lb', priority: 1, action: 'lb', match: { ipDst: '10.0.2.9', ipProto: 'udp' }, backends: ['10.0.2.11:80'] }), /needs l4Dst as a single port/],
  ['lb backend without port', (n) => n.updateMiddleboxRule('vip', { backends: ['10.0.2.11'] }), /backend '10\.0\.2\.11' is not "ip:port"/],
  ['lb backend repeated', (n) => n.updateMiddleboxRule('vip', { backends: ['10.0.2.11:80', '10.0.2.11:80'] }), /backend 10\.0\.2\.11:80 is listed twice/],
  ['lb backend port 0', (n) => n.updateMiddleboxRule('vip', { backends: ['10.0.2.11:0'] }), /backend '10\.0\.2\.11:0' port must be an integer in 1\.\.65535/],
  ['lb backends not a list', (n) => n.updateMiddleboxRule('vip', { backends: '10.0.2.11:80' as never }), /backends must be a list of strings/],
  ['lb update drops the VIP', (n) => n.updateMiddleboxRule('vip', { match: { ipProto: 'tcp', l4Dst: 80 } }), /needs ipDst as a single address/],
  ['update rule action outside its kind', (n) => n.updateMiddleboxRule('allow-ssh', { action: 'alert' }), /action for firewall middlebox 'fw' must be one of allow, drop, reject, got 'alert'/],
  ['update firewall rule with to', (n) => n.updateMiddleboxRule('allow-ssh', { to: '1.2.3.4' }), /'to' is for nat rules/],
  ['rule moved to another middlebox', (n) => n.updateMiddleboxRule('hide', { middlebox: 'fw' } as never), /updateMiddleboxRule 'hide': unknown field 'middlebox'/],
  ['rule rename onto another', (n) => n.updateMiddleboxRule('hide', { name: 'vip' }), /middlebox rule 'vip' already exists/],
  ['rule L4 source without tcp/udp', (n) => n.createMiddleboxRule({ name: 'x', middlebox: 'fw', priority: 1, action: 'drop', match: { l4Src: 5 } }), /l4Src needs ipProto tcp or udp/],
  ['rule unknown match field', (n) => n.createMiddleboxRule({ name: 'x', middlebox: 'fw', priority: 1, action: 'drop', match: { inport: 'web1' } as never }), /match: unknown field 'inport'/],
  ['update unknown rule', (n) => n.updateMiddleboxRule('nope', {}), /unknown middlebox rule 'nope'/],
  ['delete unknown rule', (n) => n.deleteMiddleboxRule('nope'), /unknown middlebox rule 'nope'/],
  ['list rules of unknown middlebox', (n) => n.middleboxRules('nope'), /unknown middlebox 'nope'/],
  // cascades refused
  ['delete router with middleboxes', (n) => n.deleteRouter('r2'), /logical router 'r2' has middlebox\(es\) 'nat'/],
  ['delete wire port', (n) => n.deleteSwitchPort('web1'), /logical switch port 'web1' has middlebox 'wfw' on its wire/],
  ['a transaction with one bad call', (n) => n.transaction((t) => (t.createMiddlebox({ name: 'ok', kind: 'ids', router: 'r' }), t.deleteMiddlebox('fw'))), /middlebox 'fw' still has/],
];

function observe(net: LogicalNetworks): string {
  return JSON.stringify({ snapshot: net.snapshot(), views: [net.middleboxes(), net.middleboxPolicies(), net.middleboxRules(), net.switchPorts(), net.routers()] });
}

describe('middlebox validation: one-line errors, nothing changed', () => {
  test.each(cases)('%s', (_label, call, expected) => {
    const net = populated();
    expectRefusedWithoutChange(net, call, expected, observe);
    // The next tag and the next keys are those a fresh model would hand out.
    const fresh = populated();
    const probe = (n: LogicalNetworks) => {
      const m = n.createMiddlebox({ name: 'probe', kind: 'ids', router: 'r' });
      const p = n.createMiddleboxPolicy({ name: 'probe-p', middlebox: 'probe', priority: 1 });
      const r = n.createMiddleboxRule({ name: 'probe-r', middlebox: 'probe', priority: 1, action: 'alert' });
      return [m.tag, m.mb, p.policy, r.rule];
    };
    expect(probe(net)).toEqual(probe(fresh));
  });
});
