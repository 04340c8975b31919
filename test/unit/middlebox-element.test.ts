// The middlebox element (seed 001 §1.1, §1.2, §2.B, §6): firewall allow/drop/reject and TCP phases, NAT
// port allocation, load-balancer round robin, health and stickiness, reply-only and passive IDS modes,
// what-if traces changing nothing, slice isolation and bindings, configuration changes keeping state,
// state-gap policies, the stun fence, idle collection and TTL expiry, bad records and options.
import { describe, expect, test } from 'vitest';
import { CT_ESTABLISHED, CT_NAT, CT_NEW, CT_REPLY, CT_TRACKED, type MiddleboxVerdict } from '../../sim/dataplane/middlebox-hook.ts';
import { ETH_TYPE_ARP, ETH_TYPE_IPV4, IP_PROTO_ICMP, IP_PROTO_TCP, IP_PROTO_UDP, parseCidr, parseIpv4, type Headers } from '../../sim/dataplane/headers.ts';
import { NS_PER_MS, NS_PER_S } from '../../sim/kernel/time.ts';
import type { NodeContext, NodeProcess } from '../../sim/net/node.ts';
import { World } from '../../sim/testbed/world.ts';
import { MiddleboxElement } from '../../sim/middlebox/element.ts';
import type { ElementOptions } from '../../sim/middlebox/element-options.ts';
import { encodeMiddleboxRecord, type MiddleboxKind, type RuleAction, type RuleMatch } from '../../sim/middlebox/records.ts';

const SYN = 0x02;
const ACK = 0x10;
const FIN = 0x01;
const RST = 0x04;
const ip = parseIpv4;

class Holder implements NodeProcess {
  readonly element: MiddleboxElement;
  constructor(ctx: NodeContext, options: Partial<ElementOptions>) {
    this.element = new MiddleboxElement(ctx, options);
  }
  onMessage(): void {}
}

function build(options: Partial<ElementOptions> = {}, trace: 'off' | 'full' = 'off') {
  const world = new World({ seed: 1, trace });
  world.fabric.addNode('h1', (ctx) => new Holder(ctx, options), { kind: 'host' });
  const el = world.fabric.process<Holder>('h1')!.element;
  const events: { type: string; [k: string]: unknown }[] = [];
  world.trace.on('*', (r) => {
    if (r.type.startsWith('mb.')) events.push(r as never);
  });
  return { world, el, events };
}

const slice = (tag: number, kind: MiddleboxKind, defaultAction: 'allow' | 'drop' = 'allow') => encodeMiddleboxRecord({ r: 'slice', tag, kind, name: `mb${tag}`, tenant: 't', defaultAction });
const rule = (tag: number, n: number, action: RuleAction, match: RuleMatch, extra: { priority?: number; toIp?: number; toPortMin?: number; toPortMax?: number; backends?: { ip: number; port: number }[] } = {}) =>
  encodeMiddleboxRecord({ r: 'rule', tag, rule: n, name: `r${n}`, priority: extra.priority ?? 10, action, match, toIp: extra.toIp ?? 0, toPortMin: extra.toPortMin ?? 0, toPortMax: extra.toPortMax ?? 0, backends: extra.backends ?? [] });
const vm = (tag: number, vmKey: number, vifId: string) => encodeMiddleboxRecord({ r: 'vm', tag, vmKey, vifId });

function pkt(proto: number, src: string, sport: number, dst: string, dport: number, flags = 0): Headers {
  return { ethSrc: 0x02_0000_0000_01, ethDst: 0x02_0000_0000_02, ethType: ETH_TYPE_IPV4, ipSrc: ip(src), ipDst: ip(dst), ipProto: proto, ipTtl: 64, l4Src: sport, l4Dst: dport, tcpFlags: flags };
}
const tcp = (src: string, sport: number, dst: string, dport: number, flags = ACK) => pkt(IP_PROTO_TCP, src, sport, dst, dport, flags);
const udp = (src: string, sport: number, dst: string, dport: number) => pkt(IP_PROTO_UDP, src, sport, dst, dport);
const reverse = (h: Headers, flags = ACK): Headers => ({ ...h, ethSrc: h.ethDst, ethDst: h.ethSrc, ipSrc: h.ipDst, ipDst: h.ipSrc, l4Src: h.l4Dst, l4Dst: h.l4Src, tcpFlags: flags });

function passed(v: MiddleboxVerdict): { headers: Headers; ctState: number } {
  if (v.verdict !== 'pass') throw new Error(`expected pass, got ${JSON.stringify(v)}`);
  return v;
}

describe('firewall', () => {
  const web = { ipDst: parseCidr('10.0.1.0/24'), ipProto: IP_PROTO_TCP, l4Dst: [80, 80] as const };
  const config = [
    slice(5, 'firewall', 'drop'),
    rule(5, 1, 'allow', web),
    rule(5, 2, 'reject', { ipDst: parseCidr('10.0.2.0/24') }),
    rule(5, 3, 'drop', { ipDst: parseCidr('10.0.1.9/32') }, { priority: 20 }),
  ];

  test('allow tracks a new connection; drop and the default action refuse it', () => {
    const { el } = build();
    el.configure(config);
    const syn = tcp('10.0.0.1', 4000, '10.0.1.5', 80, SYN);
    const v = passed(el.process(5, 1, 'inspect', syn, true));
    expect(v.ctState).toBe(CT_TRACKED | CT_NEW);
    expect(v.headers).toEqual(syn);
    expect(el.process(5, 1, 'inspect', tcp('10.0.0.1', 4001, '10.0.1.9', 80, SYN), true)).toEqual({ verdict: 'drop', reason: 'rule:3' });
    expect(el.process(5, 1, 'inspect', tcp('10.0.0.1', 4002, '10.0.3.1', 22, SYN), true)).toEqual({ verdict: 'drop', reason: 'default-drop' });
    expect(el.connections(1).map((c) => c.entry.tuple.srcPort)).toEqual([4000]);
    expect(el.stats()).toMatchObject({ passed: 1, dropped: 2 });
  });

  test('reject answers TCP with RST|ACK and anything else with ICMP unreachable, from the destination', () => {
    const { el } = build();
    el.configure(config);
    const t = tcp('10.0.0.1', 4000, '10.0.2.7', 443, SYN);
    expect(el.process(5, 1, 'inspect', t, true)).toEqual({
      verdict: 'reject',
      reason: 'rule:2',
      response: { ethSrc: t.ethDst, ethDst: t.ethSrc, ethType: ETH_TYPE_IPV4, ipSrc: t.ipDst, ipDst: t.ipSrc, ipTtl: 64, ipProto: IP_PROTO_TCP, l4Src: 443, l4Dst: 4000, tcpFlags: RST | ACK },
    });
    const u = udp('10.0.0.1', 5353, '10.0.2.7', 53);
    const r = el.process(5, 1, 'inspect', u, true);
    expect(r.verdict === 'reject' && r.response).toMatchObject({ ipProto: IP_PROTO_ICMP, l4Src: 3, l4Dst: 13, ipSrc: u.ipDst, ipDst: u.ipSrc, ethSrc: u.ethDst, ethDst: u.ethSrc });
    // A RST is never answered.
    const rst = el.process(5, 1, 'inspect', tcp('10.0.0.1', 4000, '10.0.2.7', 443, RST), true);
    expect(rst).toEqual({ verdict: 'reject', reason: 'rule:2', response: null });
    expect(el.stats().rejected).toBe(3);
  });

  test('an established connection passes both ways without a rule for the reply, and TCP phases follow flags', () => {
    const { el } = build();
    el.configure(config);
    const syn = tcp('10.0.0.1', 4000, '10.0.1.5', 80, SYN);
    el.process(5, 1, 'inspect', syn, true);
    const phase = () => el.connections(1)[0]?.entry.phase;
    expect(phase()).toBe('syn-sent');
    const synAck = passed(el.process(5, 1, 'inspect', reverse(syn, SYN | ACK), true));
    expect(synAck.ctState).toBe(CT_TRACKED | CT_ESTABLISHED | CT_REPLY);
    expect(phase()).toBe('established');
    expect(passed(el.process(5, 1, 'inspect', tcp('10.0.0.1', 4000, '10.0.1.5', 80), true)).ctState).toBe(CT_TRACKED | CT_ESTABLISHED);
    el.process(5, 1, 'inspect', reverse(syn, FIN | ACK), true);
    expect(phase()).toBe('closing');
    el.process(5, 1, 'inspect', tcp('10.0.0.1', 4000, '10.0.1.5', 80, RST), true);
    expect(phase()).toBe('closed');
    expect(el.connections(1)[0].entry.packets).toEqual([3, 2]);
    // A new SYN on the closed tuple starts over.
    expect(passed(el.process(5, 1, 'inspect', syn, true)).ctState).toBe(CT_TRACKED | CT_NEW);
    expect(phase()).toBe('syn-sent');
    // Without a rule, the reverse direction as a new connection is refused.
    expect(el.process(5, 1, 'inspect', tcp('10.0.1.5', 80, '10.0.0.1', 5000, SYN), true).verdict).toBe('drop');
  });

  test('non-IPv4 and untracked protocols pass unchanged; an unknown slice drops', () => {
    const { el } = build();
    el.configure(config);
    const arp = { ...tcp('10.0.0.1', 0, '10.0.0.2', 0), ethType: ETH_TYPE_ARP, ipProto: 0 };
    expect(el.process(5, 1, 'inspect', arp, true)).toEqual({ verdict: 'pass', headers: arp, ctState: 0 });
    const gre = pkt(47, '10.0.0.1', 0, '10.0.2.2', 0);
    expect(el.process(5, 1, 'inspect', gre, true)).toEqual({ verdict: 'pass', headers: gre, ctState: 0 });
    expect(el.process(99, 1, 'inspect', tcp('10.0.0.1', 1, '10.0.1.5', 80, SYN), true)).toEqual({ verdict: 'drop', reason: 'unknown-slice' });
  });
});

describe('nat', () => {
  const config = [
    slice(7, 'nat'),
    // Four source addresses share ports 1000..1007: two each (10.0.0.1 owns 1002..1003).
    rule(7, 1, 'snat', { ipSrc: parseCidr('10.0.0.0/30') }, { toIp: ip('192.0.2.1'), toPortMin: 1000, toPortMax: 1007 }),
    rule(7, 2, 'dnat', { ipDst: parseCidr('192.0.2.80/32'), ipProto: IP_PROTO_TCP }, { toIp: ip('10.0.5.5'), toPortMin: 8080, toPortMax: 8080 }),
  ];

  test("SNAT picks distinct ports inside each source's block, reverses replies, and runs out cleanly", () => {
    const { el } = build();
    el.configure(config);
    const ports: number[] = [];
    for (const [vm, sport] of [[1, 5555], [1, 5556], [2, 5555], [3, 5555]]) {
      const v = passed(el.process(7, vm, 'inspect', tcp(`10.0.0.${vm}`, sport, '198.51.100.7', 443, SYN), true));
      expect(v.ctState).toBe(CT_TRACKED | CT_NEW | CT_NAT);
      expect(v.headers.ipSrc).toBe(ip('192.0.2.1'));
      ports.push(v.headers.l4Src);
    }
    expect(ports).toEqual([1002, 1003, 1004, 1006]);
    // 10.0.0.1's block is used up toward this destination, though 1005 and 1007 are free.
    expect(el.process(7, 1, 'inspect', tcp('10.0.0.1', 5557, '198.51.100.7', 443, SYN), true)).toEqual({ verdict: 'drop', reason: 'nat-ports-exhausted' });
    // Another destination may reuse port 1002.
    expect(passed(el.process(7, 1, 'inspect', tcp('10.0.0.1', 5557, '198.51.100.8', 443, SYN), true)).headers.l4Src).toBe(1002);
    // The reply to 10.0.0.2's connection reaches its address and port.
    const reply = tcp('198.51.100.7', 443, '192.0.2.1', 1004);
    const back = passed(el.process(7, 2, 'inspect', reply, true));
    expect(back.headers).toMatchObject({ ipDst: ip('10.0.0.2'), l4Dst: 5555, ipSrc: ip('198.51.100.7') });
    expect(back.ctState).toBe(CT_TRACKED | CT_ESTABLISHED | CT_REPLY | CT_NAT);
    // Established packets keep their translation.
    expect(passed(el.process(7, 3, 'inspect', tcp('10.0.0.3', 5555, '198.51.100.7', 443), true)).headers.l4Src).toBe(1006);
  });

  test('DNAT rewrites the destination; no matching rule passes untracked', () => {
    const { el } = build();
    el.configure(config);
    const v = passed(el.process(7, 0, 'inspect', tcp('203.0.113.9', 6000, '192.0.2.80', 80, SYN), true));
    expect(v.headers).toMatchObject({ ipDst: ip('10.0.5.5'), l4Dst: 8080, ipSrc: ip('203.0.113.9'), l4Src: 6000 });
    const back = passed(el.process(7, 0, 'inspect', tcp('10.0.5.5', 8080, '203.0.113.9', 6000), true));
    expect(back.headers).toMatchObject({ ipSrc: ip('192.0.2.80'), l4Src: 80 });
    const other = udp('172.16.0.1', 1, '172.16.0.2', 2);
    expect(el.process(7, 0, 'inspect', other, true)).toEqual({ verdict: 'pass', headers: other, ctState: 0 });
  });
});

describe('load balancer', () => {
  const vip = { ipDst: parseCidr('10.9.9.9/32'), ipProto: IP_PROTO_TCP, l4Dst: [80, 80] as const };
  const pool = ['10.0.0.30', '10.0.0.10', '10.0.0.20'];
  const config = (backends = pool) => [slice(3, 'lb'), ...backends.map((b) => rule(3, 1, 'lb', vip, { backends: [{ ip: ip(b), port: 8080 }] }))];
  const open = (el: MiddleboxElement, sport: number) => passed(el.process(3, 1, 'inspect', tcp('10.1.0.1', sport, '10.9.9.9', 80, SYN), true)).headers.ipDst;

  test('round robin over the pool sorted by address, skipping backends marked down', () => {
    const { el } = build();
    el.configure(config());
    expect([1, 2, 3, 4].map((p) => open(el, p))).toEqual(['10.0.0.10', '10.0.0.20', '10.0.0.30', '10.0.0.10'].map(ip));
    el.setBackendHealth(3, ip('10.0.0.20'), 8080, false);
    expect([5, 6].map((p) => open(el, p))).toEqual(['10.0.0.30', '10.0.0.10'].map(ip));
    el.setBackendHealth(3, ip('10.0.0.10'), 8080, false);
    el.setBackendHealth(3, ip('10.0.0.30'), 8080, false);
    expect(el.process(3, 1, 'inspect', tcp('10.1.0.1', 7, '10.9.9.9', 80, SYN), true)).toEqual({ verdict: 'drop', reason: 'lb-no-backend' });
    expect(() => el.setBackendHealth(4, 1, 1, true)).toThrow(/no slice with tag 4/);
  });

  test('an established connection keeps its backend when the pool and health change; replies come from the VIP', () => {
    const { el } = build();
    el.configure(config());
    expect(open(el, 1)).toBe(ip('10.0.0.10'));
    el.configure(config(['10.0.0.20']));
    el.setBackendHealth(3, ip('10.0.0.10'), 8080, false);
    expect(passed(el.process(3, 1, 'inspect', tcp('10.1.0.1', 1, '10.9.9.9', 80), true)).headers).toMatchObject({ ipDst: ip('10.0.0.10'), l4Dst: 8080 });
    const reply = passed(el.process(3, 1, 'inspect', tcp('10.0.0.10', 8080, '10.1.0.1', 1), true));
    expect(reply.headers).toMatchObject({ ipSrc: ip('10.9.9.9'), l4Src: 80 });
    expect(open(el, 2)).toBe(ip('10.0.0.20'));
  });
});

describe('modes', () => {
  test('reply-only translates packets of tracked connections and passes strangers untouched', () => {
    const { el } = build();
    el.configure([slice(7, 'nat'), rule(7, 1, 'snat', {}, { toIp: ip('192.0.2.1'), toPortMin: 2000, toPortMax: 2000 })]);
    el.process(7, 1, 'inspect', tcp('10.0.0.1', 5000, '198.51.100.1', 80, SYN), true);
    const stranger = tcp('198.51.100.1', 80, '10.0.0.1', 6000);
    expect(el.process(7, 1, 'reply-only', stranger, true)).toEqual({ verdict: 'pass', headers: stranger, ctState: 0 });
    const reply = passed(el.process(7, 1, 'reply-only', tcp('198.51.100.1', 80, '192.0.2.1', 2000), true));
    expect(reply.headers).toMatchObject({ ipDst: ip('10.0.0.1'), l4Dst: 5000 });
    expect(reply.ctState & CT_REPLY).toBe(CT_REPLY);
    // Another VM's connection is not this VM's.
    expect(passed(el.process(7, 2, 'reply-only', tcp('198.51.100.1', 80, '192.0.2.1', 2000), true)).ctState).toBe(0);
    expect(el.connections().length).toBe(1);
  });

  test('an IDS copy counts alerts in type-1 state and never changes the packet', () => {
    const { el, events } = build({}, 'full');
    el.configure([slice(9, 'ids'), rule(9, 4, 'alert', { ipProto: IP_PROTO_TCP, l4Dst: [22, 22] })]);
    const ssh = tcp('203.0.113.5', 999, '10.0.0.1', 22, SYN);
    for (let i = 0; i < 3; i++) expect(el.process(9, 1, 'copy', ssh, true)).toEqual({ verdict: 'pass', headers: ssh, ctState: 0 });
    expect(el.process(9, 1, 'copy', tcp('203.0.113.5', 999, '10.0.0.1', 80), true).verdict).toBe('pass');
    expect(el.stats().alerts).toBe(3);
    expect(el.sharedOf(1)).toEqual([{ tag: 9, entries: [{ key: 'alerts/203.0.113.5', value: 3 }] }]);
    expect(events.filter((e) => e.type === 'mb.alert')[0]).toMatchObject({ node: 'h1', tag: 9, srcIp: '203.0.113.5', rule: 4 });
    expect(el.connections()).toEqual([]);
  });

  test('a what-if (commit=false) gets the real verdict and changes nothing', () => {
    const { el, events } = build({}, 'full');
    el.configure([
      slice(3, 'lb'),
      rule(3, 1, 'lb', { ipDst: parseCidr('10.9.9.9/32') }, { backends: [{ ip: ip('10.0.0.1'), port: 80 }] }),
      rule(3, 1, 'lb', { ipDst: parseCidr('10.9.9.9/32') }, { backends: [{ ip: ip('10.0.0.2'), port: 80 }] }),
      slice(9, 'ids'),
      rule(9, 1, 'alert', {}),
    ]);
    const before = events.length;
    const t = tcp('10.1.0.1', 1, '10.9.9.9', 80, SYN);
    for (let i = 0; i < 3; i++) expect(passed(el.process(3, 1, 'inspect', { ...t, l4Src: i }, false)).headers.ipDst).toBe(ip('10.0.0.1'));
    el.process(9, 1, 'copy', t, false);
    el.expectState(2, 'buffer');
    expect(el.process(3, 2, 'inspect', t, false)).toEqual({ verdict: 'drop', reason: 'state-gap' });
    expect(el.connections()).toEqual([]);
    expect(el.sharedOf(1)).toEqual([]);
    expect(el.stats()).toEqual({ passed: 0, dropped: 0, rejected: 0, buffered: 0, gapPackets: 0, fencedDrops: 0, alerts: 0, staleUses: 0 });
    expect(events.length).toBe(before + 1); // only the gap opening
    expect(passed(el.process(3, 1, 'inspect', t, true)).headers.ipDst).toBe(ip('10.0.0.1'));
  });
});

describe('slices and configuration', () => {
  test('slices never see each other\'s state, even with the same addresses', () => {
    const { el } = build();
    el.configure([slice(10, 'firewall', 'allow'), slice(20, 'firewall', 'drop')]);
    const syn = tcp('10.0.0.1', 1000, '10.0.0.2', 80, SYN);
    expect(el.process(10, 1, 'inspect', syn, true).verdict).toBe('pass');
    expect(el.process(20, 1, 'inspect', tcp('10.0.0.1', 1000, '10.0.0.2', 80), true)).toEqual({ verdict: 'drop', reason: 'default-drop' });
    expect(el.process(20, 1, 'inspect', reverse(syn), true).verdict).toBe('drop');
    expect(el.connections().map((c) => c.tag)).toEqual([10]);
  });

  test('bindings are one-to-one for the element\'s life, whatever the configuration does', () => {
    const { el, events } = build({}, 'full');
    el.configure([slice(20, 'firewall'), slice(10, 'nat')]);
    expect(el.bindings()).toEqual([{ tag: 10, internal: 1 }, { tag: 20, internal: 2 }]);
    el.configure([]);
    el.configure([slice(30, 'firewall'), slice(20, 'firewall')]);
    el.install({ vmKey: 4, vifId: 'v4', slices: [{ tag: 40, kind: 'firewall', connections: [], shared: [] }] }, []);
    expect(el.bindings()).toEqual([{ tag: 10, internal: 1 }, { tag: 20, internal: 2 }, { tag: 30, internal: 3 }, { tag: 40, internal: 4 }]);
    expect(events.filter((e) => e.type === 'mb.slice.create').length).toBe(4);
  });

  test('withdrawing the configuration keeps connection state and its verdicts', () => {
    const { el } = build();
    el.configure([slice(5, 'firewall', 'drop'), rule(5, 1, 'allow', { l4Dst: [80, 80] }), vm(5, 1, 'vif-a')]);
    el.process(5, 1, 'inspect', tcp('10.0.0.1', 1000, '10.0.0.2', 80, SYN), true);
    el.configure([]);
    expect(el.connections(1).length).toBe(1);
    expect(el.vmKeyOf('vif-a')).toBe(1);
    expect(passed(el.process(5, 1, 'inspect', tcp('10.0.0.2', 80, '10.0.0.1', 1000), true)).ctState).toBe(CT_TRACKED | CT_ESTABLISHED | CT_REPLY);
    // New connections have no rules to be admitted by.
    expect(el.process(5, 1, 'inspect', tcp('10.0.0.1', 1001, '10.0.0.2', 80, SYN), true)).toEqual({ verdict: 'drop', reason: 'no-config' });
    expect(el.gather(1, 'vif-a', 'local-only').slices.map((s) => s.connections.length)).toEqual([1]);
  });

  test('a bad record is reported and skipped; the rest still applies', () => {
    const { el, events } = build({}, 'full');
    el.configure(['{not json', slice(5, 'firewall', 'drop'), rule(5, 1, 'snat', {}), rule(6, 1, 'allow', {}), rule(5, 2, 'allow', {}, { toPortMin: 9, toPortMax: 3 }), rule(5, 3, 'allow', { l4Dst: [80, 80] })]);
    expect(events.filter((e) => e.type === 'mb.record.bad').length).toBe(4);
    expect(el.sliceConfig(5)?.rules.map((r) => r.rule)).toEqual([3]);
    expect(el.process(5, 1, 'inspect', tcp('10.0.0.1', 1, '10.0.0.2', 80, SYN), true).verdict).toBe('pass');
  });

  test('rules decide by priority, then reject before drop before allow, then rule key', () => {
    const { el } = build();
    el.configure([slice(5, 'firewall'), rule(5, 1, 'allow', {}, { priority: 5 }), rule(5, 2, 'drop', {}, { priority: 5 }), rule(5, 3, 'reject', { ipProto: IP_PROTO_UDP }, { priority: 5 }), rule(5, 4, 'allow', { l4Dst: [22, 22] }, { priority: 9 })]);
    expect(el.process(5, 1, 'inspect', tcp('10.0.0.1', 1, '10.0.0.2', 22, SYN), true).verdict).toBe('pass');
    expect(el.process(5, 1, 'inspect', tcp('10.0.0.1', 1, '10.0.0.2', 23, SYN), true)).toEqual({ verdict: 'drop', reason: 'rule:2' });
    expect(el.process(5, 1, 'inspect', udp('10.0.0.1', 1, '10.0.0.2', 23), true).verdict).toBe('reject');
  });

  test('invalid options throw one-line errors', () => {
    expect(() => build({ gcIntervalNs: 0 })).toThrow(/gcIntervalNs must be a positive/);
    expect(() => build({ bufferLimit: -1 })).toThrow(/bufferLimit/);
    expect(() => build({ idleTimeout: 5 } as never)).toThrow(/unknown option 'idleTimeout'/);
  });
});

describe('state gaps, fence and cleanup', () => {
  const allowAll = [slice(5, 'firewall', 'allow')];
  const migrated = (lastSeenNs = 0) => ({
    vmKey: 1,
    vifId: 'v1',
    slices: [{ tag: 5, kind: 'firewall' as const, connections: [{ tuple: { proto: IP_PROTO_TCP, srcIp: ip('10.0.0.1'), srcPort: 1000, dstIp: ip('10.0.0.2'), dstPort: 80 }, translated: { proto: IP_PROTO_TCP, srcIp: ip('10.0.0.1'), srcPort: 1000, dstIp: ip('10.0.0.2'), dstPort: 80 }, rule: 0, phase: 'established' as const, packets: [5, 5] as const, bytes: [270, 270] as const, lastSeenNs }], shared: [] }],
  });
  const old = tcp('10.0.0.1', 1000, '10.0.0.2', 80);

  test("'drop' drops and counts unmatched packets until install; 'new' judges them as new", () => {
    const { el } = build();
    el.configure([slice(5, 'firewall', 'drop')]);
    el.expectState(1, 'drop');
    expect(el.process(5, 1, 'inspect', old, true)).toEqual({ verdict: 'drop', reason: 'state-gap' });
    el.install(migrated(), []);
    expect(el.process(5, 1, 'inspect', old, true).verdict).toBe('pass');
    el.expectState(2, 'new');
    expect(el.process(5, 2, 'inspect', old, true)).toEqual({ verdict: 'drop', reason: 'default-drop' });
    expect(el.gapPacketsOf(1)).toBe(1);
    expect(el.gapPacketsOf(2)).toBe(1);
    expect(el.stats().gapPackets).toBe(2);
  });

  test("'new' gap entries are replaced by the installed translation", () => {
    const { el } = build();
    el.configure([slice(7, 'nat'), rule(7, 1, 'snat', {}, { toIp: ip('192.0.2.1'), toPortMin: 3000, toPortMax: 3100 })]);
    el.expectState(1, 'new');
    const h = tcp('10.0.0.1', 1000, '198.51.100.1', 443);
    expect(passed(el.process(7, 1, 'inspect', h, true)).headers.l4Src).toBe(3000);
    const t = { proto: IP_PROTO_TCP, srcIp: ip('10.0.0.1'), srcPort: 1000, dstIp: ip('198.51.100.1'), dstPort: 443 };
    el.install({ vmKey: 1, vifId: 'v1', slices: [{ tag: 7, kind: 'nat', connections: [{ tuple: t, translated: { ...t, srcIp: ip('192.0.2.1'), srcPort: 3050 }, rule: 1, phase: 'established', packets: [9, 9], bytes: [1, 1], lastSeenNs: 0 }], shared: [] }] }, []);
    expect(passed(el.process(7, 1, 'inspect', h, true)).headers.l4Src).toBe(3050);
    expect(el.connections(1).length).toBe(1);
  });

  test("'buffer' holds packets, drops past the limit, and retries them in order after install", () => {
    const { el, world } = build({ bufferLimit: 2 });
    el.configure(allowAll);
    el.expectState(1, 'buffer');
    const results: string[] = [];
    for (let i = 0; i < 3; i++) {
      const v = el.process(5, 1, 'inspect', old, true);
      if (v.verdict === 'buffer') el.hold(5, 1, () => results.push(`retry${i}:${JSON.stringify(el.process(5, 1, 'inspect', old, true).verdict)}`));
      else results.push(`now${i}:${v.verdict === 'drop' ? v.reason : v.verdict}`);
    }
    expect(results).toEqual(['now2:state-gap-overflow']);
    world.scheduler.runFor(100 * NS_PER_MS);
    el.install(migrated(), []);
    expect(results).toEqual(['now2:state-gap-overflow', 'retry0:"pass"', 'retry1:"pass"']);
    expect(el.connections(1)[0].entry.packets).toEqual([7, 5]);
    expect(el.stats()).toMatchObject({ buffered: 2, gapPackets: 3 });
  });

  test('a gap that times out releases its held packets, which are then judged as new', () => {
    const { el, world, events } = build({ gapTimeoutNs: NS_PER_S }, 'full');
    el.configure([slice(5, 'firewall', 'drop')]);
    el.expectState(1, 'buffer');
    let retried: MiddleboxVerdict | null = null;
    expect(el.process(5, 1, 'inspect', old, true).verdict).toBe('buffer');
    el.hold(5, 1, () => (retried = el.process(5, 1, 'inspect', old, true)));
    world.scheduler.runFor(NS_PER_S - 1);
    expect(retried).toBeNull();
    world.scheduler.runFor(1);
    expect(retried).toEqual({ verdict: 'drop', reason: 'default-drop' });
    expect(events.filter((e) => e.type === 'mb.gap').map((e) => e.event)).toEqual(['open', 'timeout']);
  });

  test('a fenced VM\'s packets are dropped and its state is never used, but stays for gather', () => {
    const { el } = build();
    el.configure(allowAll);
    el.process(5, 1, 'inspect', tcp('10.0.0.1', 1000, '10.0.0.2', 80, SYN), true);
    el.process(5, 2, 'inspect', tcp('10.0.0.3', 1000, '10.0.0.2', 80, SYN), true);
    const before = el.connections(1);
    el.fence(1);
    expect(el.process(5, 1, 'inspect', old, true)).toEqual({ verdict: 'drop', reason: 'fenced' });
    expect(el.process(5, 1, 'inspect', tcp('10.0.0.1', 7, '10.0.0.2', 80, SYN), true)).toEqual({ verdict: 'drop', reason: 'fenced' });
    expect(el.stats()).toMatchObject({ fencedDrops: 2, staleUses: 1 });
    expect(el.connections(1)).toEqual(before);
    expect(el.gather(1, 'v1', 'all').slices[0].connections).toEqual(before.map((c) => c.entry));
    expect(el.process(5, 2, 'inspect', tcp('10.0.0.3', 1000, '10.0.0.2', 80), true).verdict).toBe('pass');
    expect(el.remove(1)).toBe(1);
    expect(el.connections(1)).toEqual([]);
    expect(el.connections(2).length).toBe(1);
  });

  test('idle connections are collected; expire removes a VM once idle for the TTL', () => {
    const { el, world, events } = build({ idleTimeoutNs: 30 * NS_PER_S, gcIntervalNs: 10 * NS_PER_S }, 'full');
    el.configure(allowAll);
    el.process(5, 1, 'inspect', tcp('10.0.0.1', 1000, '10.0.0.2', 80, SYN), true);
    el.process(5, 2, 'inspect', tcp('10.0.0.3', 1000, '10.0.0.2', 80, SYN), true);
    world.scheduler.runFor(20 * NS_PER_S);
    el.process(5, 2, 'inspect', tcp('10.0.0.3', 1000, '10.0.0.2', 80), true);
    world.scheduler.runFor(20 * NS_PER_S);
    expect(el.connections().map((c) => c.vmKey)).toEqual([2]);
    el.expire(2, 5 * NS_PER_S);
    world.scheduler.runFor(4 * NS_PER_S);
    expect(el.connections().length).toBe(0); // idle since t=20s: 5 s TTL had already passed
    expect(events.filter((e) => e.type === 'mb.state.remove').map((e) => [e.vmKey, e.cause])).toEqual([
      [1, 'idle'],
      [2, 'ttl'],
    ]);
    // With nothing tracked the collector stops, so the world goes quiet.
    world.scheduler.runUntilQuiescent();
  });

  test('a TTL waits for the state to be idle that long', () => {
    const { el, world } = build();
    el.configure(allowAll);
    el.process(5, 1, 'inspect', tcp('10.0.0.1', 1000, '10.0.0.2', 80, SYN), true);
    el.expire(1, 3 * NS_PER_S);
    world.scheduler.runFor(2 * NS_PER_S);
    el.process(5, 1, 'inspect', old, true);
    world.scheduler.runFor(2 * NS_PER_S);
    expect(el.connections(1).length).toBe(1);
    world.scheduler.runFor(NS_PER_S);
    expect(el.connections(1).length).toBe(0);
  });

  test('install is idempotent and applies deltas once, in order; a VM that comes back drops its stale leftovers', () => {
    const { el } = build();
    el.configure(allowAll);
    const state = migrated(1);
    const t = state.slices[0].connections[0];
    const deltas = [
      { vmKey: 1, tag: 5, seq: 2, op: 'delete' as const, entry: t },
      { vmKey: 1, tag: 5, seq: 1, op: 'put' as const, entry: { ...t, lastSeenNs: 9 } },
    ];
    el.install(state, deltas);
    expect(el.connections(1)).toEqual([]);
    el.install(state, deltas);
    expect(el.connections(1)).toEqual([]);
    el.install(state, [{ ...deltas[1], seq: 3 }]);
    expect(el.connections(1).map((c) => c.entry.lastSeenNs)).toEqual([9]);
    el.fence(1);
    el.install({ ...state, slices: [{ ...state.slices[0], connections: [] }] }, []);
    expect(el.connections(1)).toEqual([]);
    expect(el.isFenced(1)).toBe(false);
  });
});
