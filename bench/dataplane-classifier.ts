// Classifier micro-benchmark: lookups per second in one flow table of 100, 1,000 and 10,000 flows shaped
// like a controller's (L2 forwarding on metadata + destination MAC, L3 routes on metadata + destination
// prefix of several lengths, ACLs on addresses, protocol and port ranges, and a few catch-alls), with a
// packet mix of hits and misses. Also the same lookups by linear scan, for scale, and a whole pipeline
// pass (three tables, resubmits and counters).
//
// Usage: node --import tsx bench/dataplane-classifier.ts [--lookups 2000000]
// Prints one line per size: dp-classifier flows=<n> subtables=<n> lookups_per_s=<n> linear_lookups_per_s=<n>
//   pipeline_packets_per_s=<n> adds_per_s=<n> (adds: validation, key, classifier insert; one cold pass, so rough)

import { fieldValues, type FieldValues } from '../sim/dataplane/field-values.ts';
import { matchesValues } from '../sim/dataplane/flow-entry.ts';
import { flowKey, type Flow } from '../sim/dataplane/flow.ts';
import { FlowTable } from '../sim/dataplane/flow-table.ts';
import { udpHeaders } from '../sim/dataplane/header-builder.ts';
import { prefixMask } from '../sim/dataplane/headers.ts';
import { runPipeline } from '../sim/dataplane/pipeline.ts';
import { benchArgs } from './bench-args.ts';

const LOOKUPS = benchArgs('dataplane-classifier', { lookups: { type: 'string', default: '2000000' } }).positiveInteger('lookups');

// A deterministic xorshift32, so every run measures the same tables and packets.
let state = 2463534242 | 0;
const rand = (n: number): number => {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) % n;
};

const DATAPATHS = 50;
const mac = (dp: number, i: number) => 0x0200_0000_0000 + dp * 65536 + i;
const ip = (dp: number, i: number) => (0x0a00_0000 + dp * 65536 + i) >>> 0;

/** n flows in table `table` of the mixed shapes, plus the packets (field values) that exercise them. */
function build(n: number): { flows: Flow[]; packets: FieldValues[] } {
  const flows: Flow[] = [];
  const packets: FieldValues[] = [];
  const keys = new Set<string>();
  // Shapes repeat keys now and then (the same route prefix); keep only the first, so the table has n flows.
  const push = (f: Flow) => {
    if (keys.has(flowKey(f))) return false;
    keys.add(flowKey(f));
    flows.push(f);
    return true;
  };
  const out = (port: number) => [{ type: 'output' as const, port }];
  for (let dp = 0; dp < DATAPATHS; dp++) push({ table: 0, priority: 0, match: { metadata: dp }, actions: [{ type: 'drop' }], cookie: `ls-${dp}` });
  let i = 0;
  while (flows.length < n) {
    const dp = i % DATAPATHS;
    const k = Math.floor(i / DATAPATHS);
    const kind = i % 10;
    i++;
    const v = fieldValues(udpHeaders({ ethSrc: mac(dp, 9999), ethDst: mac(dp, k), ipSrc: ip(dp, 9999), ipDst: ip(dp, k), l4Src: 40000 + rand(1000), l4Dst: [22, 80, 443, 5432][rand(4)] }), 1 + rand(8), 0, 0);
    v.metadata = dp;
    if (kind < 6) {
      if (!push({ table: 0, priority: 50, match: { metadata: dp, ethDst: mac(dp, k) }, actions: out(1 + (k % 8)), cookie: `ls-${dp}` })) continue;
    } else if (kind < 8) {
      const len = [16, 24, 28, 32][k % 4];
      if (!push({ table: 0, priority: 100 + len, match: { metadata: dp, ethType: 0x800, ipDst: { addr: (ip(dp, k) & prefixMask(len)) >>> 0, len } }, actions: out(2), cookie: `lr-${dp}` })) continue;
    } else {
      const port = [22, 80, 443, 5432][k % 4];
      const added = push({
        table: 0,
        priority: 2000 + (k % 7),
        match: { metadata: dp, ethType: 0x800, ipProto: 6, ipSrc: { addr: (ip(dp, 0) & prefixMask(24)) >>> 0, len: 24 }, ipDst: { addr: ip(dp, k), len: 32 }, l4DstRange: [port, port + 10] },
        actions: out(3),
        cookie: `acl-${dp}`,
      });
      if (!added) continue;
      v.ipProto = 6;
      v.ipSrc = ip(dp, rand(200));
    }
    packets.push(v);
  }
  // A fifth of the packets miss everything but their datapath's catch-all.
  for (let j = 0; j < packets.length / 4; j++) {
    const p = { ...packets[rand(packets.length)] };
    p.ethDst = 0x0400_0000_0000 + j;
    p.ipDst = 0xc0a8_0000 + j;
    packets.push(p);
  }
  return { flows, packets };
}

function timeLookups(label: string, lookups: number, fn: (i: number) => unknown): number {
  for (let i = 0; i < Math.min(lookups, 50_000); i++) fn(i); // warm-up
  const start = process.hrtime.bigint();
  let sink = 0;
  for (let i = 0; i < lookups; i++) if (fn(i) !== null) sink++;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (sink < 0) console.log(label);
  return Math.round(lookups / seconds);
}

for (const n of [100, 1_000, 10_000]) {
  const { flows, packets } = build(n);
  const table = new FlowTable();
  const addStart = process.hrtime.bigint();
  for (const f of flows) table.add(f);
  const addsPerS = Math.round(flows.length / (Number(process.hrtime.bigint() - addStart) / 1e9));
  const np = packets.length;
  const lookupsPerS = timeLookups('classifier', LOOKUPS, (i) => table.lookup(0, packets[i % np]));
  // Linear scan, the reference semantics: fewer lookups, it is slow.
  const sorted = table.dump();
  const linearPerS = timeLookups('linear', Math.max(2000, Math.floor(LOOKUPS / n)), (i) => {
    const v = packets[i % np];
    for (const e of sorted) if (matchesValues(e.flow.match, v)) return e;
    return null;
  });
  // A whole pipeline pass: table 0 classifies into the datapath, table 1 is the table above, table 2 outputs.
  const pipe = new FlowTable();
  pipe.add({ table: 0, priority: 0, match: {}, actions: [{ type: 'resubmit', table: 1 }], cookie: 'infra' });
  for (const f of flows) pipe.add({ ...f, table: 1, actions: [{ type: 'set', field: 'reg7', value: 1 }, { type: 'resubmit', table: 2 }] });
  pipe.add({ table: 2, priority: 0, match: {}, actions: [{ type: 'output', port: 1 }], cookie: 'infra' });
  const pipelinePerS = timeLookups('pipeline', Math.floor(LOOKUPS / 4), (i) => {
    const p = packets[i % np];
    const v = { ...p };
    return runPipeline(pipe, v, 100, true).drop;
  });
  console.log(`dp-classifier flows=${table.size} subtables=${table.subtableCounts()[0]} lookups_per_s=${lookupsPerS} linear_lookups_per_s=${linearPerS} pipeline_packets_per_s=${pipelinePerS} adds_per_s=${addsPerS}`);
}
