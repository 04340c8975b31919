// Flow tables: the classifier's priority order and tie-break, every match kind of flow.ts, and what each
// flow-mod command does to keys, cookies, counters and the dump.
import { describe, expect, test } from 'vitest';
import type { Flow, Match } from '../../sim/dataplane/flow.ts';
import { flowKey } from '../../sim/dataplane/flow.ts';
import { fieldValues, type FieldValues } from '../../sim/dataplane/field-values.ts';
import { FlowTable } from '../../sim/dataplane/flow-table.ts';
import { headersWith, udpHeaders } from '../../sim/dataplane/header-builder.ts';
import { MAC_BROADCAST, parseCidr, parseIpv4, parseMac } from '../../sim/dataplane/headers.ts';

const flow = (priority: number, match: Match, cookie = 'c', table = 0): Flow => ({ table, priority, match, actions: [{ type: 'output', port: priority }], cookie });
const values = (fields: Partial<FieldValues> = {}): FieldValues => ({ ...fieldValues(headersWith({}), 1, 0, 0), ...fields });
const hit = (t: FlowTable, v: FieldValues, table = 0) => t.lookup(table, v)?.flow ?? null;

describe('priority and tie-break', () => {
  test('the highest-priority matching flow wins, whatever the install order', () => {
    const t = new FlowTable();
    const low = t.add(flow(10, {})).flow;
    const high = t.add(flow(30, { inPort: 1 })).flow;
    const mid = t.add(flow(20, { ethType: 0x800 })).flow;
    expect(hit(t, values({ inPort: 1, ethType: 0x800 }))).toBe(high);
    expect(hit(t, values({ inPort: 2, ethType: 0x800 }))).toBe(mid);
    expect(hit(t, values({ inPort: 2 }))).toBe(low);
  });

  test('equal priority, overlapping: the flow installed first wins, across match shapes', () => {
    const t = new FlowTable();
    const a = t.add(flow(5, { ethType: 0x800 }, 'a')).flow;
    const b = t.add(flow(5, { inPort: 1 }, 'b')).flow;
    expect(hit(t, values({ inPort: 1, ethType: 0x800 }))).toBe(a);
    // Re-adding `a` replaces it: it is now the later one.
    const a2 = t.add(flow(5, { ethType: 0x800 }, 'a2')).flow;
    expect(hit(t, values({ inPort: 1, ethType: 0x800 }))).toBe(b);
    expect(hit(t, values({ inPort: 2, ethType: 0x800 }))).toBe(a2);
  });

  test('a miss returns null, and tables are separate', () => {
    const t = new FlowTable();
    t.add(flow(1, { inPort: 1 }, 'x', 3));
    expect(hit(t, values({ inPort: 1 }))).toBeNull();
    expect(hit(t, values({ inPort: 1 }), 3)).not.toBeNull();
    expect(hit(t, values({ inPort: 2 }), 3)).toBeNull();
  });
});

describe('match kinds', () => {
  const exactFields: [keyof FieldValues, number][] = [
    ['inPort', 7], ['tunKey', 5001], ['tunMeta', (3 << 16) | 4], ['metadata', 9], ['ctState', 2],
    ['reg0', 1], ['reg1', 2], ['reg2', 3], ['reg3', 4], ['reg4', 5], ['reg5', 6], ['reg6', 7], ['reg7', 8],
    ['ethSrc', parseMac('02:00:00:00:00:01')], ['ethDst', parseMac('ff:ee:dd:cc:bb:aa')], ['ethType', 0x806], ['ipProto', 17],
    ['ipTtl', 64], ['l4Src', 1234], ['l4Dst', 80], ['tcpFlags', 0x12],
  ];
  test.each(exactFields)('exact %s', (field, value) => {
    const t = new FlowTable();
    const f = t.add(flow(10, { [field]: value } as Match)).flow;
    expect(hit(t, values({ [field]: value }))).toBe(f);
    expect(hit(t, values({ [field]: value + 1 }))).toBeNull();
  });

  test('IPv4 prefixes on source and destination, /0 to /32, longest-prefix by priority', () => {
    const t = new FlowTable();
    const any = t.add(flow(1, { ipDst: parseCidr('0.0.0.0/0') })).flow;
    const net8 = t.add(flow(8, { ipDst: parseCidr('10.0.0.0/8') })).flow;
    const net24 = t.add(flow(24, { ipDst: parseCidr('10.1.2.0/24') })).flow;
    const host = t.add(flow(32, { ipDst: parseCidr('10.1.2.3/32') })).flow;
    const src = t.add(flow(40, { ipSrc: parseCidr('192.168.0.0/16'), ipDst: parseCidr('10.0.0.0/8') })).flow;
    const ip = parseIpv4;
    expect(hit(t, values({ ipDst: ip('10.1.2.3') }))).toBe(host);
    expect(hit(t, values({ ipDst: ip('10.1.2.4') }))).toBe(net24);
    expect(hit(t, values({ ipDst: ip('10.200.0.1') }))).toBe(net8);
    expect(hit(t, values({ ipDst: ip('11.0.0.1') }))).toBe(any);
    expect(hit(t, values({ ipDst: ip('255.255.255.255') }))).toBe(any);
    expect(hit(t, values({ ipSrc: ip('192.168.9.9'), ipDst: ip('10.1.2.3') }))).toBe(src);
    expect(hit(t, values({ ipSrc: ip('192.169.0.1'), ipDst: ip('10.1.2.3') }))).toBe(host);
  });

  test('L4 port ranges, inclusive, combined with exact fields', () => {
    const t = new FlowTable();
    const web = t.add(flow(20, { ipProto: 6, l4DstRange: [80, 90] })).flow;
    const eph = t.add(flow(10, { ipProto: 6, l4SrcRange: [32768, 60999] })).flow;
    const both = t.add(flow(30, { ipProto: 6, l4Dst: 85, l4SrcRange: [1000, 1000] })).flow;
    expect(hit(t, values({ ipProto: 6, l4Dst: 80 }))).toBe(web);
    expect(hit(t, values({ ipProto: 6, l4Dst: 90 }))).toBe(web);
    expect(hit(t, values({ ipProto: 6, l4Dst: 91 }))).toBeNull();
    expect(hit(t, values({ ipProto: 17, l4Dst: 80 }))).toBeNull();
    expect(hit(t, values({ ipProto: 6, l4Dst: 91, l4Src: 40000 }))).toBe(eph);
    expect(hit(t, values({ ipProto: 6, l4Dst: 85, l4Src: 1000 }))).toBe(both);
    expect(hit(t, values({ ipProto: 6, l4Dst: 85, l4Src: 1001 }))).toBe(web);
  });

  test('the Ethernet group bit', () => {
    const t = new FlowTable();
    const group = t.add(flow(10, { ethDstGroup: true })).flow;
    const unicast = t.add(flow(10, { ethDstGroup: false })).flow;
    expect(hit(t, values({ ethDst: MAC_BROADCAST }))).toBe(group);
    expect(hit(t, values({ ethDst: parseMac('01:00:5e:00:00:01') }))).toBe(group);
    expect(hit(t, values({ ethDst: parseMac('02:00:00:00:00:01') }))).toBe(unicast);
  });

  test('every field at once must match', () => {
    const t = new FlowTable();
    const h = udpHeaders({ ethSrc: 1, ethDst: 2, ipSrc: parseIpv4('10.0.0.1'), ipDst: parseIpv4('10.0.0.2'), l4Src: 5, l4Dst: 53 });
    const m: Match = { metadata: 4, reg6: 1, ethSrc: 1, ethDst: 2, ethDstGroup: false, ethType: 0x800, ipSrc: parseCidr('10.0.0.0/24'), ipDst: parseCidr('10.0.0.2/32'), ipProto: 17, l4SrcRange: [0, 10], l4Dst: 53 };
    const f = t.add(flow(100, m)).flow;
    const v = { ...fieldValues(h, 1, 0, 0), metadata: 4, reg6: 1 };
    expect(hit(t, v)).toBe(f);
    expect(hit(t, { ...v, reg6: 2 })).toBeNull();
    expect(hit(t, { ...v, l4Src: 11 })).toBeNull();
  });
});

describe('flow-mod commands and counters', () => {
  test('add replaces the same key and resets counters; modify keeps them', () => {
    const t = new FlowTable();
    const e = t.add(flow(10, { inPort: 1 }, 'a'));
    e.packets = 5;
    e.bytes = 500;
    const m = t.modify({ ...flow(10, { inPort: 1 }, 'b'), actions: [{ type: 'drop' }] });
    expect(m).toBe(e);
    expect([m.packets, m.bytes, m.flow.cookie]).toEqual([5, 500, 'b']);
    expect(t.deleteByCookie('a')).toBe(0);
    const r = t.add(flow(10, { inPort: 1 }, 'b'));
    expect(r).not.toBe(e);
    expect([r.packets, r.bytes, t.size]).toEqual([0, 0, 1]);
  });

  test('modify of an absent flow installs it', () => {
    const t = new FlowTable();
    t.modify(flow(3, { reg0: 1 }));
    expect(t.size).toBe(1);
  });

  test('strict delete by key, delete by cookie, clear', () => {
    const t = new FlowTable();
    t.add(flow(1, { inPort: 1 }, 'x'));
    t.add(flow(2, { inPort: 2 }, 'x'));
    t.add(flow(3, { inPort: 3 }, 'y'));
    expect(t.deleteStrict(flowKey(flow(1, { inPort: 2 })))).toBe(false);
    expect(t.deleteStrict(flowKey(flow(1, { inPort: 1 })))).toBe(true);
    expect(hit(t, values({ inPort: 1 }))).toBeNull();
    expect(t.deleteByCookie('x')).toBe(1);
    expect(t.dump().map((e) => e.flow.cookie)).toEqual(['y']);
    t.clear();
    expect([t.size, hit(t, values({ inPort: 3 }))]).toEqual([0, null]);
  });

  test('dump: by table, priority descending, then key; filters by table and cookie', () => {
    const t = new FlowTable();
    t.add(flow(1, { inPort: 2 }, 'a', 1));
    t.add(flow(5, { inPort: 1 }, 'b', 0));
    t.add(flow(9, { inPort: 1 }, 'a', 1));
    t.add(flow(1, { inPort: 1 }, 'b', 1));
    expect(t.dump().map((e) => e.key)).toEqual(['0/5/inPort=1', '1/9/inPort=1', '1/1/inPort=1', '1/1/inPort=2']);
    expect(t.dump({ cookie: 'a' }).map((e) => e.key)).toEqual(['1/9/inPort=1', '1/1/inPort=2']);
    expect(t.dump({ table: 0 }).map((e) => e.key)).toEqual(['0/5/inPort=1']);
  });

  test('deleting every flow of a shape removes its subtable', () => {
    const t = new FlowTable();
    for (let i = 0; i < 10; i++) t.add(flow(i, { metadata: i, reg6: i }, 'a'));
    t.add(flow(1, { inPort: 1 }, 'b'));
    expect(t.subtableCounts()).toEqual({ 0: 2 });
    t.deleteByCookie('a');
    expect(t.subtableCounts()).toEqual({ 0: 1 });
    expect(hit(t, values({ metadata: 3, reg6: 3, inPort: 1 }))?.cookie).toBe('b');
  });

  test('malformed flows are refused with a one-line reason and change nothing', () => {
    const t = new FlowTable();
    const bad: unknown[] = [
      { ...flow(1, {}), table: 300 },
      { ...flow(1, {}), priority: -1 },
      flow(1, { bogus: 1 } as unknown as Match),
      flow(1, { ipDst: { addr: parseIpv4('10.0.0.1'), len: 24 } }),
      flow(1, { l4DstRange: [9, 3] }),
      { ...flow(1, {}), actions: [{ type: 'set', field: 'nope', value: 1 }] },
      { ...flow(1, {}), actions: [{ type: 'resubmit', table: 999 }] },
      { ...flow(1, {}), actions: [{ type: 'teleport' }] },
    ];
    for (const f of bad) expect(() => t.add(f as Flow)).toThrow(/^flow .*|must|unknown/);
    expect(t.size).toBe(0);
  });
});
