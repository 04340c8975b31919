// The rules engine on a network-virtualization-shaped workload: C chassis, P logical ports spread over D
// logical switches (datapaths), each port bound to a chassis drawn at random. Rules in the shape a
// controller needs: L2 lookup per (datapath, chassis, destination MAC) — to a local port or through a
// tunnel to the chassis that hosts the MAC — a local flood list per (datapath, chassis) and a remote one
// (the tunnels to every other chassis of the datapath), built with collect and a self-join of "chassis
// that host the datapath". Measures the cold start (every input in one transaction) and adding (then
// removing) one port incrementally.
//
// Usage: node --import tsx bench/rules-engine.ts [--chassis 1000] [--ports 10000] [--datapaths 1000] [--samples 50]
// Prints: rules-engine coldstart_s=<s> output_tuples=<n> derivations=<n> incremental_port_s=<median s>
//         incremental_port_max_s=<s> incremental_deltas=<median> ratio=<coldstart / incremental> rss_mb=<n>

import { type Change, RulesEngine, deleteTuple, insertTuple } from '../sim/rules/index.ts';
import { benchArgs } from './bench-args.ts';

const args = benchArgs('rules-engine', {
  chassis: { type: 'string', default: '1000' },
  ports: { type: 'string', default: '10000' },
  datapaths: { type: 'string', default: '1000' },
  samples: { type: 'string', default: '50' },
});
const chassisCount = args.positiveInteger('chassis');
const portCount = args.positiveInteger('ports');
const datapathCount = args.positiveInteger('datapaths');
const samples = args.positiveInteger('samples');

// A fixed xorshift32 stream: the same topology on every run.
let state = 2463534242 | 0;
function below(n: number): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) % n;
}

// ---- the program ----
const engine = new RulesEngine();
const chassis = engine.input('chassis', { chassis: 'number', ip: 'number' }, { datapath: null });
const port = engine.input('port', { dp: 'number', port: 'number', mac: 'number' }, { datapath: 'dp' });
const binding = engine.input('binding', { dp: 'number', port: 'number', chassis: 'number' }, { datapath: 'dp' });

const portOn = engine.relation('port-on', { dp: 'number', port: 'number', mac: 'number', chassis: 'number' }, { datapath: 'dp', output: false });
engine.rule(portOn, (q) => q.from(port).join(binding, { dp: 'dp', port: 'port', chassis: 'chassis' }).select((v) => v));
const dpChassis = engine.relation('dp-chassis', { dp: 'number', chassis: 'number' }, { datapath: 'dp', output: false });
engine.rule(dpChassis, (q) => q.from(binding, { dp: 'dp', chassis: 'chassis' }).select((v) => v));

// L2 lookup on chassis `chassis`: a MAC of the datapath hosted there goes to its port...
const l2Local = engine.relation('l2-local', { dp: 'number', chassis: 'number', mac: 'number', port: 'number' }, { datapath: 'dp' });
engine.rule(l2Local, (q) => q.from(portOn).select((v) => ({ dp: v.dp, chassis: v.chassis, mac: v.mac, port: v.port })));
// ...and one hosted elsewhere goes through the tunnel to its chassis.
const l2Remote = engine.relation(
  'l2-remote',
  { dp: 'number', chassis: 'number', mac: 'number', remote: 'number', ip: 'number' },
  { datapath: 'dp' },
);
engine.rule(l2Remote, (q) =>
  q
    .from(portOn, { dp: 'dp', mac: 'mac', chassis: 'remote' })
    .join(dpChassis, { dp: 'dp', chassis: 'chassis' })
    .where((v) => v.chassis !== v.remote)
    .join(chassis, { chassis: 'remote', ip: 'ip' })
    .select((v) => ({ dp: v.dp, chassis: v.chassis, mac: v.mac, remote: v.remote, ip: v.ip })),
);
// Tunnels between the chassis of a datapath: a self-join.
const tunnel = engine.relation('tunnel', { dp: 'number', chassis: 'number', remote: 'number', ip: 'number' }, { datapath: 'dp' });
engine.rule(tunnel, (q) =>
  q
    .from(dpChassis)
    .join(dpChassis, { dp: 'dp', chassis: 'remote' })
    .where((v) => v.chassis !== v.remote)
    .join(chassis, { chassis: 'remote', ip: 'ip' })
    .select((v) => ({ dp: v.dp, chassis: v.chassis, remote: v.remote, ip: v.ip })),
);
// Flood lists: the local ports, and the remote chassis, per (datapath, chassis).
engine.collect('flood-local', { from: portOn, groupBy: ['dp', 'chassis'], value: 'port', as: 'ports' });
engine.collect('flood-remote', { from: tunnel, groupBy: ['dp', 'chassis'], value: 'remote', as: 'remotes' });
engine.seal();

// ---- cold start ----
const inputs: Change[] = [];
for (let c = 0; c < chassisCount; c++) inputs.push(insertTuple(chassis, { chassis: c, ip: 0x0a000000 + c }));
for (let p = 0; p < portCount; p++) {
  const dp = p % datapathCount;
  inputs.push(insertTuple(port, { dp, port: p, mac: 0x020000000000 + p }));
  inputs.push(insertTuple(binding, { dp, port: p, chassis: below(chassisCount) }));
}
let t0 = process.hrtime.bigint();
const cold = engine.apply(inputs);
const coldSeconds = seconds(t0);
const stats = engine.stats();
const outputTuples = stats.relations.filter((r) => r.output).reduce((n, r) => n + r.tuples, 0);
if (cold.size !== outputTuples) throw new Error(`cold start reported ${cold.size} changes for ${outputTuples} tuples`);

// ---- one port at a time ----
const times: number[] = [];
const deltas: number[] = [];
for (let s = 0; s < samples; s++) {
  const dp = below(datapathCount);
  const p = portCount + s;
  const added = [insertTuple(port, { dp, port: p, mac: 0x020000000000 + p }), insertTuple(binding, { dp, port: p, chassis: below(chassisCount) })];
  t0 = process.hrtime.bigint();
  const result = engine.apply(added);
  times.push(seconds(t0));
  deltas.push(result.size);
  // Remove it again (also timed), so every sample starts from the cold-start state.
  const removed = added.map((c) => (c.op === 'insert' ? deleteTuple(c.relation, c.tuple) : c));
  t0 = process.hrtime.bigint();
  const undo = engine.apply(removed);
  times.push(seconds(t0));
  deltas.push(undo.size);
}
const incremental = median(times);
const perRelation = stats.relations.map((r) => `${r.name}=${r.tuples}`).join(' ');

console.log(
  `rules-engine coldstart_s=${coldSeconds.toFixed(3)} output_tuples=${outputTuples} derivations=${stats.derivations} ` +
    `incremental_port_s=${incremental.toExponential(2)} incremental_port_max_s=${Math.max(...times).toExponential(2)} ` +
    `incremental_deltas=${median(deltas)} ratio=${Math.round(coldSeconds / incremental)} ` +
    `rss_mb=${Math.round(process.memoryUsage().rss / 2 ** 20)}`,
);
console.log(`  chassis=${chassisCount} ports=${portCount} datapaths=${datapathCount} samples=${samples * 2} | ${perRelation}`);

function seconds(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e9;
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

