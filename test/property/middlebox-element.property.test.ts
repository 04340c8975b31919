// Moving one VM's middlebox state between elements (seed 001 §6 invariants 1–4, 8, 9): random traffic of
// several VMs through a firewall, a NAT and a load-balancer slice at element A; then A's state for one VM
// is gathered and installed into a fresh element B. Every packet of that VM's connections, both ways, must
// get the same verdict and translation at B as at A; other VMs' state must be unchanged at A and absent at
// B; installing twice must equal installing once; and a snapshot plus the deltas streamed after it must
// rebuild exactly the state A ends with.
import { describe, expect } from 'vitest';
import { test as propTest, fc } from '@fast-check/vitest';
import { ETH_TYPE_IPV4, IP_PROTO_TCP, IP_PROTO_UDP, parseCidr, parseIpv4, type Headers } from '../../sim/dataplane/headers.ts';
import { NS_PER_MS } from '../../sim/kernel/time.ts';
import type { NodeContext, NodeProcess } from '../../sim/net/node.ts';
import { World } from '../../sim/testbed/world.ts';
import { MiddleboxElement } from '../../sim/middlebox/element.ts';
import { encodeMiddleboxRecord } from '../../sim/middlebox/records.ts';
import type { ConnectionEntry, StateDelta, VmMiddleboxState } from '../../sim/middlebox/vm-state.ts';

const RUNS = Number(process.env.NVSIM_PROPERTY_RUNS ?? 200);
const ip = parseIpv4;
const TAGS = [5, 7, 3] as const; // firewall, nat, lb
const VMS = [1, 2, 3];
const DESTS = ['198.51.100.1', '198.51.100.2', '10.9.9.9'];
const FLAGS = { syn: 0x02, ack: 0x10, synack: 0x12, fin: 0x11, rst: 0x04 } as const;

const CONFIG = [
  encodeMiddleboxRecord({ r: 'slice', tag: 5, kind: 'firewall', name: 'fw', tenant: 't', defaultAction: 'drop' }),
  encodeMiddleboxRecord({ r: 'rule', tag: 5, rule: 1, name: 'web', priority: 1, action: 'allow', match: { ipProto: IP_PROTO_TCP, l4Dst: [80, 443] }, toIp: 0, toPortMin: 0, toPortMax: 0, backends: [] }),
  encodeMiddleboxRecord({ r: 'rule', tag: 5, rule: 2, name: 'dns', priority: 1, action: 'reject', match: { ipProto: IP_PROTO_UDP, l4Dst: [53, 53] }, toIp: 0, toPortMin: 0, toPortMax: 0, backends: [] }),
  encodeMiddleboxRecord({ r: 'rule', tag: 5, rule: 3, name: 'udp', priority: 0, action: 'allow', match: { ipProto: IP_PROTO_UDP }, toIp: 0, toPortMin: 0, toPortMax: 0, backends: [] }),
  encodeMiddleboxRecord({ r: 'slice', tag: 7, kind: 'nat', name: 'nat', tenant: 't', defaultAction: 'allow' }),
  encodeMiddleboxRecord({ r: 'rule', tag: 7, rule: 1, name: 'out', priority: 1, action: 'snat', match: { ipSrc: parseCidr('10.0.0.0/30') }, toIp: ip('192.0.2.1'), toPortMin: 2000, toPortMax: 2007, backends: [] }),
  encodeMiddleboxRecord({ r: 'slice', tag: 3, kind: 'lb', name: 'lb', tenant: 't', defaultAction: 'allow' }),
  ...['10.0.1.1', '10.0.1.2', '10.0.1.3'].map((b) =>
    encodeMiddleboxRecord({ r: 'rule', tag: 3, rule: 1, name: 'vip', priority: 1, action: 'lb', match: { ipDst: parseCidr('10.9.9.9/32') }, toIp: 0, toPortMin: 0, toPortMax: 0, backends: [{ ip: ip(b), port: 8080 }] }),
  ),
  ...VMS.flatMap((vmKey) => TAGS.map((tag) => encodeMiddleboxRecord({ r: 'vm', tag, vmKey, vifId: `vif-${vmKey}` }))),
];

class Holder implements NodeProcess {
  readonly element: MiddleboxElement;
  constructor(ctx: NodeContext) {
    // Short idle times, so connections are collected (delete deltas) while a VM is watched.
    this.element = new MiddleboxElement(ctx, { idleTimeoutNs: 1_500 * NS_PER_MS, gcIntervalNs: 500 * NS_PER_MS });
    this.element.configure(CONFIG);
  }
  onMessage(): void {}
}

/** Elements A, B, B2, C on one world (their own nodes), so they share a clock. */
function elements(seed: number) {
  const world = new World({ seed, trace: 'off' });
  const el = (id: string) => {
    world.fabric.addNode(id, (ctx) => new Holder(ctx), { kind: 'host' });
    return world.fabric.process<Holder>(id)!.element;
  };
  return { world, a: el('a'), b: el('b'), b2: el('b2'), c: el('c') };
}

type Op =
  | { op: 'open'; vm: number; tag: number; udp: boolean; dst: number; sport: number; dport: number; flags: keyof typeof FLAGS }
  | { op: 'reply'; vm: number; pick: number; flags: keyof typeof FLAGS }
  | { op: 'again'; vm: number; pick: number; flags: keyof typeof FLAGS }
  | { op: 'wait'; ms: number };

const flagsArb = fc.constantFrom(...(Object.keys(FLAGS) as (keyof typeof FLAGS)[]));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('open' as const), vm: fc.constantFrom(...VMS), tag: fc.constantFrom(...TAGS), udp: fc.boolean(), dst: fc.nat({ max: DESTS.length - 1 }), sport: fc.integer({ min: 1000, max: 1003 }), dport: fc.constantFrom(53, 80, 443), flags: flagsArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('reply' as const), vm: fc.constantFrom(...VMS), pick: fc.nat({ max: 20 }), flags: flagsArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('again' as const), vm: fc.constantFrom(...VMS), pick: fc.nat({ max: 20 }), flags: flagsArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 1_000 }) }) },
);

function headersOf(proto: number, srcIp: number, srcPort: number, dstIp: number, dstPort: number, flags: number): Headers {
  return { ethSrc: 1, ethDst: 2, ethType: ETH_TYPE_IPV4, ipSrc: srcIp, ipDst: dstIp, ipProto: proto, ipTtl: 64, l4Src: srcPort, l4Dst: dstPort, tcpFlags: proto === IP_PROTO_TCP ? flags : 0 };
}

/** The original-direction and reply-direction packets of a tracked connection. */
function packetsOf(e: ConnectionEntry, flags: number): [Headers, Headers] {
  const t = e.tuple;
  const r = e.translated;
  return [headersOf(t.proto, t.srcIp, t.srcPort, t.dstIp, t.dstPort, flags), headersOf(r.proto, r.dstIp, r.dstPort, r.srcIp, r.srcPort, flags)];
}

function drive(world: World, a: MiddleboxElement, ops: readonly Op[], onStep: (i: number) => void): void {
  ops.forEach((o, i) => {
    onStep(i);
    if (o.op === 'wait') return world.scheduler.runFor(o.ms * NS_PER_MS);
    if (o.op === 'open') {
      const h = headersOf(o.udp ? IP_PROTO_UDP : IP_PROTO_TCP, ip(`10.0.0.${o.vm}`), o.sport, ip(DESTS[o.dst]), o.dport, FLAGS[o.flags]);
      a.process(o.tag, o.vm, 'inspect', h, true);
      return;
    }
    const conns = a.connections(o.vm);
    if (conns.length === 0) return;
    const { tag, entry } = conns[o.pick % conns.length];
    const [orig, reply] = packetsOf(entry, FLAGS[o.flags]);
    a.process(tag, o.vm, o.op === 'reply' ? 'reply-only' : 'inspect', o.op === 'reply' ? reply : orig, true);
  });
}

describe('middlebox state migration between elements', () => {
  propTest.prop([fc.integer({ min: 1, max: 1_000_000 }), fc.array(opArb, { minLength: 1, maxLength: 60 }), fc.constantFrom(...VMS), fc.nat({ max: 59 })], { numRuns: RUNS })(
    'verdict and translation continuity, extraction precision, idempotent install, snapshot + deltas',
    (seed, ops, v, watchAt) => {
      const { world, a, b, b2, c } = elements(seed);
      let snapshot: VmMiddleboxState | null = null;
      const deltas: StateDelta[] = [];
      drive(world, a, ops, (i) => {
        if (i === watchAt % ops.length) {
          snapshot = a.gather(v, `vif-${v}`, 'all');
          a.watch(v, (d) => deltas.push(d));
        }
      });

      // What A answers for every packet of v's connections, both ways, before v leaves.
      const probes = a.connections(v).flatMap(({ tag, entry }) => packetsOf(entry, FLAGS.ack).map((h) => ({ tag, h })));
      const expected = probes.map(({ tag, h }) => a.process(tag, v, 'inspect', h, false));
      const others = VMS.filter((o) => o !== v);
      const othersBefore = others.map((o) => a.connections(o));

      a.fence(v);
      const state = a.gather(v, `vif-${v}`, 'all');
      b.install(state, []);
      a.remove(v);

      // Continuity: same verdict, same translated headers, same ctState.
      expect(probes.map(({ tag, h }) => b.process(tag, v, 'inspect', h, false))).toEqual(expected);
      expect(b.connections(v).map((x) => x.entry)).toEqual(state.slices.flatMap((s) => s.connections));
      // Precision: the others stay at A, untouched, and never reach B.
      expect(others.map((o) => a.connections(o))).toEqual(othersBefore);
      expect(others.flatMap((o) => [...b.connections(o), ...b.sharedOf(o)])).toEqual([]);
      expect(a.connections(v)).toEqual([]);
      // One binding per slice at B.
      expect(new Set(b.bindings().map((x) => x.tag)).size).toBe(b.bindings().length);

      b2.install(state, []);
      b2.install(state, []);
      expect(b2.connections(v)).toEqual(b.connections(v));
      expect(b2.gather(v, `vif-${v}`, 'all')).toEqual(b.gather(v, `vif-${v}`, 'all'));

      c.install(snapshot!, deltas);
      c.install(snapshot!, deltas);
      expect(c.connections(v)).toEqual(state.slices.flatMap((s) => s.connections.map((entry) => ({ tag: s.tag, vmKey: v, entry }))));
    },
  );
});
