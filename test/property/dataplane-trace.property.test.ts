// What-if packet traces tell the truth: for random hand-built flow tables on three hosts with full-mesh
// tunnels and random packets, the set of (VM, headers) deliveries the trace predicts equals what the
// real packet's copies deliver when it is sent through the fabric. Every table-0 flow starts with dec-ttl
// so forwarding loops die out; resubmits go only to later tables.
import { describe, expect } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import type { Action, Flow, Match } from '../../sim/dataplane/flow.ts';
import { udpHeaders } from '../../sim/dataplane/header-builder.ts';
import { MAC_BROADCAST, type Headers } from '../../sim/dataplane/headers.ts';
import { TUNNEL_PORT_BASE } from '../../sim/dataplane/ports.ts';
import { DataplaneBuilder } from '../../sim/dataplane/topology-builder.ts';
import { World } from '../../sim/testbed/world.ts';

const RUNS = Number(process.env.NVSIM_PROPERTY_RUNS ?? 100);

const HOSTS = ['h1', 'h2', 'h3'];
const VMS = ['a', 'b'];
const MACS = [1, 2, 3, 4, 5, 6, MAC_BROADCAST];
// VIF ports 1, 2; tunnel ports toward the two other hosts; 7 does not exist.
const PORTS = [1, 2, TUNNEL_PORT_BASE, TUNNEL_PORT_BASE + 1, 7];
const TABLES = 3;

// At most two constrained fields, so flows match often enough for packets to travel.
const matchPart: fc.Arbitrary<Match> = fc.oneof(
  fc.constantFrom(...PORTS.slice(0, 4)).map((inPort) => ({ inPort })),
  fc.integer({ min: 0, max: 1 }).map((tunKey) => ({ tunKey })),
  fc.integer({ min: 0, max: 1 }).map((metadata) => ({ metadata })),
  fc.integer({ min: 0, max: 1 }).map((reg0) => ({ reg0 })),
  fc.constantFrom(...MACS).map((ethDst) => ({ ethDst })),
  fc.boolean().map((ethDstGroup) => ({ ethDstGroup })),
  fc.constantFrom([0, 100] as const, [50, 60] as const).map((l4DstRange) => ({ l4DstRange })),
);
const matchArb: fc.Arbitrary<Match> = fc.array(matchPart, { maxLength: 2 }).map((parts) => Object.assign({}, ...parts));

const actionArb = (table: number): fc.Arbitrary<Action> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...PORTS).map((port) => ({ type: 'output' as const, port })) },
    {
      weight: 3,
      arbitrary: fc.record({ field: fc.constantFrom('metadata' as const, 'reg0' as const, 'tunKey' as const, 'ethDst' as const), value: fc.constantFrom(0, 1, 2, 3) }).map(({ field, value }) => ({ type: 'set' as const, field, value })),
    },
    { weight: 1, arbitrary: fc.constant({ type: 'move' as const, from: 'reg0' as const, to: 'tunMeta' as const }) },
    ...(table < TABLES - 1 ? [{ weight: 3, arbitrary: fc.integer({ min: table + 1, max: TABLES - 1 }).map((t) => ({ type: 'resubmit' as const, table: t })) }] : []),
    { weight: 1, arbitrary: fc.constant({ type: 'controller' as const, reason: 'x' }) },
  );

const flowArb: fc.Arbitrary<Flow> = fc.integer({ min: 0, max: TABLES - 1 }).chain((table) =>
  fc.record({
    table: fc.constant(table),
    priority: fc.integer({ min: 0, max: 3 }),
    match: matchArb,
    actions: fc.array(actionArb(table), { maxLength: 3 }).map((as) => (table === 0 ? [{ type: 'dec-ttl' as const }, ...as] : as)),
    cookie: fc.constant('t'),
  }),
);

/** Every host's table 0 ends in a catch-all, so every packet does something. */
const catchAllArb: fc.Arbitrary<Flow> = fc
  .tuple(fc.array(actionArb(0), { maxLength: 2 }), fc.constantFrom(...PORTS))
  .map(([actions, port]) => ({ table: 0, priority: 0, match: {}, actions: [{ type: 'dec-ttl' as const }, ...actions, { type: 'output' as const, port }], cookie: 't' }));

const caseArb = fc.record({
  seed: fc.nat(),
  tables: fc.tuple(...HOSTS.map(() => fc.tuple(catchAllArb, fc.array(flowArb, { maxLength: 12 })).map(([c, fs]) => [c, ...fs]))),
  from: fc.record({ host: fc.constantFrom(...HOSTS), vm: fc.constantFrom(...VMS) }),
  ethDst: fc.constantFrom(...MACS),
  l4Dst: fc.integer({ min: 40, max: 70 }),
  ttl: fc.integer({ min: 1, max: 5 }),
});

const key = (node: string, vm: string, h: Headers) => `${node}/${vm}/${JSON.stringify(h)}`;

describe('packet trace', () => {
  test.prop([caseArb], { numRuns: RUNS })('the what-if delivery set equals the real run\'s', (c) => {
    const world = new World({ seed: c.seed, trace: 'off' });
    const dp = new DataplaneBuilder(world);
    HOSTS.forEach((h, i) => dp.addHost(h, VMS.map((v, j) => ({ name: v, vifId: `${h}-${v}`, mac: i * 2 + j + 1, ip: 0x0a000000 + i * 2 + j + 1 }))));
    dp.meshTunnels();
    HOSTS.forEach((h, i) => {
      for (const f of c.tables[i]) dp.host(h).switch.flows.add(f);
    });
    const headers = udpHeaders({ ethSrc: 99, ethDst: c.ethDst, l4Dst: c.l4Dst, ipTtl: c.ttl });
    const trace = dp.traceFromVm(c.from.host, c.from.vm, headers, 10);
    expect(trace.truncated).toBe(false);

    const real: string[] = [];
    world.trace.on('dp.vm.receive', (e) => real.push(key(e.node, e.vm, e.headers) + `#${e.originId}`));
    const id = dp.host(c.from.host).sendFromVm(c.from.vm, headers, 10);
    world.scheduler.runUntilQuiescent();
    const predicted = trace.delivered.map((d) => key(d.node, d.name, d.headers) + `#${id}`).sort();
    expect(real.filter((r) => r.endsWith(`#${id}`)).sort()).toEqual(predicted);
  });
});
