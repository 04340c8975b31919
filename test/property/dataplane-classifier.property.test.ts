// The classifier against a brute-force reference: after any sequence of adds, modifies and deletes
// (strict and by cookie), every lookup returns what a linear scan returns — the highest-priority matching
// flow, the earliest installed among equals (an add of an existing key counts as a new install, a modify
// does not). Values come from small domains so flows overlap and ties are common.
import { describe, expect } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { flowKey, type Flow, type Match } from '../../sim/dataplane/flow.ts';
import { matchesValues } from '../../sim/dataplane/flow-entry.ts';
import { fieldValues, type FieldValues } from '../../sim/dataplane/field-values.ts';
import { FlowTable } from '../../sim/dataplane/flow-table.ts';
import { MAC_BROADCAST } from '../../sim/dataplane/headers.ts';
import { udpHeaders } from '../../sim/dataplane/header-builder.ts';

const RUNS = Number(process.env.NVSIM_PROPERTY_RUNS ?? 100);

const MACS = [1, 2, 0x0100_0000_0001, MAC_BROADCAST];
const IPS = [0x0a00_0001, 0x0a00_0102, 0x0a01_0001, 0xc0a8_0001];
const PREFIX_LENS = [0, 8, 16, 24, 32];
const mask = (len: number) => (len === 0 ? 0 : (0xffff_ffff << (32 - len)) >>> 0);

const prefix = fc.record({ ip: fc.constantFrom(...IPS), len: fc.constantFrom(...PREFIX_LENS) }).map(({ ip, len }) => ({ addr: (ip & mask(len)) >>> 0, len }));
const range = fc.tuple(fc.integer({ min: 50, max: 90 }), fc.integer({ min: 0, max: 40 })).map(([lo, w]) => [lo, lo + w] as const);

const matchArb: fc.Arbitrary<Match> = fc.record(
  {
    inPort: fc.integer({ min: 1, max: 3 }),
    metadata: fc.integer({ min: 0, max: 2 }),
    reg6: fc.integer({ min: 0, max: 1 }),
    ethDst: fc.constantFrom(...MACS),
    ethDstGroup: fc.boolean(),
    ethType: fc.constantFrom(0x800, 0x806),
    ipSrc: prefix,
    ipDst: prefix,
    ipProto: fc.constantFrom(6, 17),
    l4Dst: fc.constantFrom(53, 80, 443),
    l4SrcRange: range,
    l4DstRange: range,
  },
  { requiredKeys: [] },
);

const flowArb: fc.Arbitrary<Flow> = fc.record({
  table: fc.integer({ min: 0, max: 1 }),
  priority: fc.integer({ min: 0, max: 4 }),
  match: matchArb,
  actions: fc.constant([]),
  cookie: fc.constantFrom('a', 'b', 'c'),
});

type Op = { op: 'add'; flow: Flow } | { op: 'modify'; flow: Flow } | { op: 'delete-strict'; index: number } | { op: 'delete-cookie'; cookie: string };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: flowArb.map((flow) => ({ op: 'add' as const, flow })) },
  { weight: 1, arbitrary: flowArb.map((flow) => ({ op: 'modify' as const, flow })) },
  { weight: 2, arbitrary: fc.nat({ max: 100 }).map((index) => ({ op: 'delete-strict' as const, index })) },
  { weight: 1, arbitrary: fc.constantFrom('a', 'b', 'c').map((cookie) => ({ op: 'delete-cookie' as const, cookie })) },
);

const valuesArb: fc.Arbitrary<FieldValues> = fc
  .record({
    inPort: fc.integer({ min: 1, max: 3 }),
    metadata: fc.integer({ min: 0, max: 2 }),
    reg6: fc.integer({ min: 0, max: 1 }),
    ethDst: fc.constantFrom(...MACS),
    ethType: fc.constantFrom(0x800, 0x806),
    ipSrc: fc.constantFrom(...IPS),
    ipDst: fc.constantFrom(...IPS),
    ipProto: fc.constantFrom(6, 17),
    l4Src: fc.integer({ min: 40, max: 140 }),
    l4Dst: fc.constantFrom(53, 80, 443, 60, 100),
  })
  .map((v) => ({ ...fieldValues(udpHeaders({}), v.inPort, 0, 0), ...v }));

/** The reference: a list in install order, scanned linearly. */
class Reference {
  entries: { flow: Flow; key: string; seq: number }[] = [];
  private seq = 0;
  add(flow: Flow) {
    const key = flowKey(flow);
    this.entries = this.entries.filter((e) => e.key !== key);
    this.entries.push({ flow, key, seq: this.seq++ });
  }
  modify(flow: Flow) {
    const key = flowKey(flow);
    const e = this.entries.find((x) => x.key === key);
    if (e === undefined) this.add(flow);
    else e.flow = flow;
  }
  lookup(table: number, v: FieldValues): Flow | null {
    let best: { flow: Flow; seq: number } | null = null;
    for (const e of this.entries) {
      if (e.flow.table !== table || !matchesValues(e.flow.match, v)) continue;
      if (best === null || e.flow.priority > best.flow.priority || (e.flow.priority === best.flow.priority && e.seq < best.seq)) best = e;
    }
    return best?.flow ?? null;
  }
}

describe('classifier', () => {
  test.prop([fc.array(opArb, { maxLength: 80 }), fc.array(valuesArb, { minLength: 1, maxLength: 30 })], { numRuns: RUNS })(
    'lookup equals the brute-force reference after any flow-mods',
    (ops, packets) => {
      const table = new FlowTable();
      const ref = new Reference();
      for (const op of ops) {
        if (op.op === 'add' || op.op === 'modify') {
          if (op.op === 'add') {
            table.add(op.flow);
            ref.add(op.flow);
          } else {
            table.modify(op.flow);
            ref.modify(op.flow);
          }
        } else if (op.op === 'delete-strict') {
          const victim = ref.entries[op.index % Math.max(1, ref.entries.length)];
          if (victim === undefined) continue;
          expect(table.deleteStrict(victim.key)).toBe(true);
          ref.entries = ref.entries.filter((e) => e !== victim);
        } else {
          const n = ref.entries.filter((e) => e.flow.cookie === op.cookie).length;
          expect(table.deleteByCookie(op.cookie)).toBe(n);
          ref.entries = ref.entries.filter((e) => e.flow.cookie !== op.cookie);
        }
      }
      expect(table.size).toBe(ref.entries.length);
      for (const v of packets) {
        for (const t of [0, 1]) expect(table.lookup(t, v)?.flow ?? null).toBe(ref.lookup(t, v));
      }
      // Counters are untouched by lookups alone.
      expect(table.dump().every((e) => e.packets === 0)).toBe(true);
    },
  );
});
