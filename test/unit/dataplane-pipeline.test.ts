// The pipeline executor: counters, output copies, set/move/dec-ttl, resubmit (nested, misses, the depth
// limit), controller punts, and the drop reasons.
import { describe, expect, test } from 'vitest';
import type { Action, Flow, Match } from '../../sim/dataplane/flow.ts';
import { fieldValues } from '../../sim/dataplane/field-values.ts';
import { FlowTable } from '../../sim/dataplane/flow-table.ts';
import { headersWith, udpHeaders } from '../../sim/dataplane/header-builder.ts';
import { ETH_TYPE_ARP } from '../../sim/dataplane/headers.ts';
import { MAX_RESUBMIT_DEPTH, runActions, runPipeline } from '../../sim/dataplane/pipeline.ts';

const f = (table: number, priority: number, match: Match, actions: Action[], cookie = 'c'): Flow => ({ table, priority, match, actions, cookie });
const udp = udpHeaders({ ethSrc: 1, ethDst: 2, ipSrc: 10, ipDst: 20, l4Src: 1000, l4Dst: 53, ipTtl: 5 });
const run = (t: FlowTable, inPort = 1, count = true, h = udp) => runPipeline(t, fieldValues(h, inPort, 0, 0), 100, count);

describe('counters', () => {
  test('each hit adds one packet and the packet size; what-if runs count nothing', () => {
    const t = new FlowTable();
    const a = t.add(f(0, 1, {}, [{ type: 'resubmit', table: 1 }, { type: 'resubmit', table: 1 }]));
    const b = t.add(f(1, 1, {}, [{ type: 'output', port: 2 }]));
    run(t);
    run(t);
    expect([a.packets, a.bytes, b.packets, b.bytes]).toEqual([2, 200, 4, 400]);
    run(t, 1, false);
    expect([a.packets, b.packets]).toEqual([2, 4]);
  });
});

describe('actions', () => {
  test('output sends the packet as it is at that point', () => {
    const t = new FlowTable();
    t.add(f(0, 1, {}, [
      { type: 'output', port: 2 },
      { type: 'set', field: 'ethDst', value: 99 },
      { type: 'set', field: 'tunKey', value: 7 },
      { type: 'output', port: 3 },
    ]));
    const r = run(t);
    expect(r.outputs.map((o) => [o.port, o.headers.ethDst, o.tunKey])).toEqual([[2, 2, 0], [3, 99, 7]]);
    expect(r.outputs[0].headers).not.toBe(r.outputs[1].headers);
    expect(r.drop).toBeNull();
  });

  test('set, move and registers carry across resubmits; output to the in_port is allowed', () => {
    const t = new FlowTable();
    t.add(f(0, 1, { inPort: 1 }, [{ type: 'set', field: 'metadata', value: 4 }, { type: 'move', from: 'inPort', to: 'reg6' }, { type: 'resubmit', table: 1 }]));
    t.add(f(1, 1, { metadata: 4, reg6: 1 }, [{ type: 'move', from: 'ipSrc', to: 'ipDst' }, { type: 'output', port: 1 }]));
    const r = run(t);
    expect(r.outputs).toHaveLength(1);
    expect(r.outputs[0].port).toBe(1);
    expect(r.outputs[0].headers.ipDst).toBe(10);
  });

  test('dec-ttl decrements, drops at TTL 1 with the rest of the actions, and leaves non-IP alone', () => {
    const t = new FlowTable();
    t.add(f(0, 1, {}, [{ type: 'output', port: 2 }, { type: 'dec-ttl' }, { type: 'output', port: 3 }]));
    expect(run(t).outputs.map((o) => o.headers.ipTtl)).toEqual([5, 4]);
    const r = run(t, 1, true, { ...udp, ipTtl: 1 });
    // The first copy left before the TTL check; nothing after it does.
    expect(r.outputs.map((o) => o.port)).toEqual([2]);
    expect(r.drop).toBeNull();
    const t2 = new FlowTable();
    t2.add(f(0, 1, {}, [{ type: 'dec-ttl' }, { type: 'output', port: 3 }]));
    expect([run(t2, 1, true, { ...udp, ipTtl: 1 }).drop, run(t2, 1, true, { ...udp, ipTtl: 0 }).drop]).toEqual(['ttl-exceeded', 'ttl-exceeded']);
    const arp = headersWith({ ethType: ETH_TYPE_ARP, ipTtl: 0 });
    expect(run(t2, 1, true, arp).outputs.map((o) => o.headers.ipTtl)).toEqual([0]);
  });

  test('the controller action punts the packet as it is, with its pipeline fields', () => {
    const t = new FlowTable();
    t.add(f(0, 1, {}, [{ type: 'set', field: 'reg3', value: 9 }, { type: 'controller', reason: 'arp-miss' }], 'ctl'));
    const r = run(t);
    expect(r.punts).toEqual([expect.objectContaining({ reason: 'arp-miss', table: 0, cookie: 'ctl' })]);
    expect(r.punts[0].fields.reg3).toBe(9);
    expect(r.punts[0].fields.inPort).toBe(1);
    expect(r.drop).toBeNull();
  });

  test('packet-out actions run as if from a flow', () => {
    const t = new FlowTable();
    t.add(f(0, 1, {}, [{ type: 'output', port: 5 }]));
    const r = runActions(t, fieldValues(udp, 1, 0, 0), [{ type: 'output', port: 4 }, { type: 'resubmit', table: 0 }], 100, true);
    expect(r.outputs.map((o) => o.port)).toEqual([4, 5]);
  });
});

describe('resubmit', () => {
  test('runs the table nested and carries on after it; a nested miss just returns', () => {
    const t = new FlowTable();
    t.add(f(0, 1, {}, [{ type: 'output', port: 1 }, { type: 'resubmit', table: 1 }, { type: 'resubmit', table: 7 }, { type: 'output', port: 3 }]));
    t.add(f(1, 1, {}, [{ type: 'output', port: 2 }]));
    const r = run(t);
    expect(r.outputs.map((o) => o.port)).toEqual([1, 2, 3]);
    expect(r.hits.map((e) => e.table)).toEqual([0, 1]);
    expect(r.drop).toBeNull();
  });

  test('the explicit drop stops everything, including the caller after its resubmit', () => {
    const t = new FlowTable();
    t.add(f(0, 1, {}, [{ type: 'resubmit', table: 1 }, { type: 'output', port: 3 }]));
    t.add(f(1, 1, {}, [{ type: 'drop' }, { type: 'output', port: 2 }]));
    const r = run(t);
    expect([r.outputs.length, r.drop, r.dropTable]).toEqual([0, 'drop-action', 1]);
  });

  test(`nesting deeper than ${MAX_RESUBMIT_DEPTH} abandons the packet: earlier outputs are discarded`, () => {
    const t = new FlowTable();
    t.add(f(0, 1, {}, [{ type: 'output', port: 9 }, { type: 'resubmit', table: 0 }]));
    const r = run(t);
    expect([r.outputs.length, r.drop]).toEqual([0, 'resubmit-depth']);
    expect(r.hits).toHaveLength(MAX_RESUBMIT_DEPTH + 1);
  });

  test('exactly the depth limit is fine', () => {
    const t = new FlowTable();
    // Table k resubmits to k+1 (registers count the depth), and the last one outputs.
    for (let k = 0; k < MAX_RESUBMIT_DEPTH; k++) t.add(f(k, 1, {}, [{ type: 'resubmit', table: k + 1 }]));
    t.add(f(MAX_RESUBMIT_DEPTH, 1, {}, [{ type: 'output', port: 2 }]));
    const r = run(t);
    expect(r.outputs.map((o) => o.port)).toEqual([2]);
    expect(r.hits).toHaveLength(MAX_RESUBMIT_DEPTH + 1);
  });
});

describe('drop reasons', () => {
  test('no flow in table 0; no flow in a later table; flows without output', () => {
    const empty = new FlowTable();
    expect([run(empty).drop, run(empty).dropTable]).toEqual(['no-flow', 0]);
    const t = new FlowTable();
    t.add(f(0, 1, {}, [{ type: 'resubmit', table: 4 }]));
    expect([run(t).drop, run(t).dropTable]).toEqual(['no-flow', 4]);
    const quiet = new FlowTable();
    quiet.add(f(0, 1, {}, [{ type: 'set', field: 'reg0', value: 1 }]));
    expect([run(quiet).drop, run(quiet).dropTable]).toEqual(['no-output', -1]);
  });
});
