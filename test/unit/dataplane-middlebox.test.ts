// The switch side of the middlebox contract, with a fake element: a 'pass' recirculates at the resume
// table with registers kept and rewritten headers, and never re-enters the stage; drop, reject (the
// response goes back to the sending VIF only), buffer and retry (delivered once, same packet id), copy
// mode (the main packet carries on), no element ('no-middlebox'), what-if traces (no commit, no counters),
// the host database (configure() with HOST_DB_TABLE's note texts, only when they change), and the new
// actions' validation and text.
import { describe, expect, test } from 'vitest';
import { encodeActions, rowToFlow } from '../../sim/control/flow-text.ts';
import { formatAction, formatFlow, type Action, type Flow, type Match } from '../../sim/dataplane/flow.ts';
import { validateFlow } from '../../sim/dataplane/flow-entry.ts';
import { udpHeaders } from '../../sim/dataplane/header-builder.ts';
import { parseIpv4, parseMac, type Headers } from '../../sim/dataplane/headers.ts';
import { CT_ESTABLISHED, CT_TRACKED, HOST_DB_TABLE, type MiddleboxHook, type MiddleboxMode, type MiddleboxVerdict } from '../../sim/dataplane/middlebox-hook.ts';
import type { ControllerToSwitch, FlowModOp } from '../../sim/dataplane/openflow.ts';
import { TUNNEL_PORT_BASE } from '../../sim/dataplane/ports.ts';
import { DataplaneBuilder } from '../../sim/dataplane/topology-builder.ts';
import type { TraceRecord } from '../../sim/kernel/trace.ts';
import { NS_PER_MS } from '../../sim/kernel/time.ts';
import type { Message, NodeId } from '../../sim/net/message.ts';
import type { NodeContext, NodeProcess } from '../../sim/net/node.ts';
import { World } from '../../sim/testbed/world.ts';

const mac = (n: number) => parseMac(`02:00:00:00:00:0${n}`);
const ip = (n: number) => parseIpv4(`10.0.0.${n}`);
const vmSpec = (n: number) => ({ name: `vm${n}`, vifId: `vif-${n}`, mac: mac(n), ip: ip(n) });
const flow = (table: number, priority: number, match: Match, actions: Action[], cookie = 'mb'): Flow => ({ table, priority, match, actions, cookie });
const vm1ToVm2 = udpHeaders({ ethSrc: mac(1), ethDst: mac(2), ipSrc: ip(1), ipDst: ip(2), l4Src: 1000, l4Dst: 53 });

const TAG = 7;
const VM_KEY = 11;
const STAGE = 10;
const RESUME = 20;

interface Call {
  tag: number;
  vmKey: number;
  mode: MiddleboxMode;
  headers: Headers;
  commit: boolean;
}

/** A scripted element: `answer` decides each verdict; calls, holds and configurations are recorded. */
class FakeElement implements MiddleboxHook {
  readonly calls: Call[] = [];
  readonly holds: { tag: number; vmKey: number; retry: () => void }[] = [];
  readonly configured: (readonly string[])[] = [];
  answer: (call: Call) => MiddleboxVerdict = (c) => ({ verdict: 'pass', headers: c.headers, ctState: CT_TRACKED | CT_ESTABLISHED });

  process(tag: number, vmKey: number, mode: MiddleboxMode, headers: Headers, commit: boolean): MiddleboxVerdict {
    const call = { tag, vmKey, mode, headers, commit };
    this.calls.push(call);
    return this.answer(call);
  }
  hold(tag: number, vmKey: number, retry: () => void): void {
    this.holds.push({ tag, vmKey, retry });
  }
  configure(records: readonly string[]): void {
    this.configured.push([...records]);
  }
}

/**
 * h1 with vm1 (port 1) and vm2 (port 2), and h2 behind a tunnel. Table 0 classifies vm1's packets
 * (reg5 = VM key, reg0 = a marker) into the policy stage; the stage sends every packet to the element and
 * has a later output that must never run; the resume table delivers to vm2 only with the registers kept.
 */
function setup(opts: { element?: boolean; stage?: Action[] } = {}) {
  const world = new World({ seed: 5, trace: 'full' });
  const dp = new DataplaneBuilder(world);
  const elements = new Map<NodeId, FakeElement>();
  if (opts.element ?? true) {
    dp.shared.middlebox = (ctx) => {
      const e = new FakeElement();
      elements.set(ctx.id, e);
      return e;
    };
  }
  dp.addHost('h1', [vmSpec(1), vmSpec(2)]);
  dp.addHost('h2');
  dp.meshTunnels();
  const sw = dp.host('h1').switch;
  const flows = [
    flow(0, 100, { inPort: 1 }, [{ type: 'set', field: 'reg5', value: VM_KEY }, { type: 'set', field: 'reg0', value: 42 }, { type: 'resubmit', table: STAGE }]),
    flow(0, 100, { inPort: TUNNEL_PORT_BASE }, [{ type: 'set', field: 'reg0', value: 42 }, { type: 'resubmit', table: STAGE }]),
    flow(STAGE, 100, {}, opts.stage ?? [{ type: 'middlebox', tag: TAG, mode: 'inspect', table: RESUME }, { type: 'output', port: 1 }]),
    flow(RESUME, 100, { reg0: 42, ctState: CT_TRACKED | CT_ESTABLISHED }, [{ type: 'output', port: 2 }]),
  ];
  for (const f of flows) sw.flows.add(f);
  const events: TraceRecord[] = [];
  world.trace.on('*', (e) => events.push(e));
  const run = () => world.scheduler.runFor(10 * NS_PER_MS);
  const received = (vm: string) => dp.host('h1').vm(vm).received;
  return { world, dp, sw, element: () => elements.get('h1')!, run, received, of: (type: string) => events.filter((e) => e.type === type) as any[] };
}

describe('pass and recirculation', () => {
  test('a passed packet resumes at the resume table with its registers, is not sent back through the stage, and later actions do not run', () => {
    const { dp, element, run, received, of } = setup();
    const id = dp.host('h1').sendFromVm('vm1', vm1ToVm2, 100);
    run();
    expect(element().calls).toEqual([{ tag: TAG, vmKey: VM_KEY, mode: 'inspect', headers: vm1ToVm2, commit: true }]);
    expect(received('vm2').map((r) => r.packetId)).toEqual([id]);
    expect(received('vm1')).toEqual([]);
    expect(of('dp.pipeline')[0]).toMatchObject({ outputs: [2], drop: null });
    expect(of('dp.pipeline')[0].hits.map((h: any) => h.table)).toEqual([0, STAGE, RESUME]);
    expect(of('dp.middlebox')).toEqual([expect.objectContaining({ node: 'h1', packetId: id, tag: TAG, vmKey: VM_KEY, mode: 'inspect', verdict: 'pass' })]);
  });

  test('headers the element rewrites are what the resume table matches and what is delivered', () => {
    const { dp, sw, element, run, received } = setup();
    const translated = parseIpv4('192.168.9.9');
    sw.flows.add(flow(RESUME, 200, { ipDst: { addr: translated, len: 32 } }, [{ type: 'set', field: 'ipTtl', value: 9 }, { type: 'output', port: 2 }]));
    element().answer = (c) => ({ verdict: 'pass', headers: { ...c.headers, ipDst: translated }, ctState: CT_TRACKED });
    dp.host('h1').sendFromVm('vm1', vm1ToVm2, 0);
    run();
    expect(received('vm2').map((r) => r.headers)).toEqual([{ ...vm1ToVm2, ipDst: translated, ipTtl: 9 }]);
  });

  test('a stage that resumes at itself is bounded by the resubmit depth', () => {
    const { dp, element, run, received, of } = setup({ stage: [{ type: 'middlebox', tag: TAG, mode: 'inspect', table: STAGE }] });
    dp.host('h1').sendFromVm('vm1', vm1ToVm2, 0);
    run();
    expect(received('vm2')).toEqual([]);
    expect(of('dp.drop').map((e) => e.reason)).toEqual(['resubmit-depth']);
    expect(element().calls.length).toBeLessThanOrEqual(65);
  });
});

describe('drop, reject and no element', () => {
  test('a dropped packet goes nowhere', () => {
    const { dp, element, run, received, of } = setup();
    element().answer = () => ({ verdict: 'drop', reason: 'rule' });
    dp.host('h1').sendFromVm('vm1', vm1ToVm2, 0);
    run();
    expect(received('vm2')).toEqual([]);
    expect(received('vm1')).toEqual([]);
    expect(of('dp.drop').map((e) => [e.reason, e.table])).toEqual([['middlebox-drop', STAGE]]);
  });

  test("a reject's response is a new packet delivered to the sending VM only", () => {
    const { dp, element, run, received, of } = setup();
    const rst = { ...vm1ToVm2, ethSrc: mac(2), ethDst: mac(1), ipSrc: ip(2), ipDst: ip(1), l4Src: 53, l4Dst: 1000, tcpFlags: 0x04 };
    element().answer = () => ({ verdict: 'reject', reason: 'rule', response: rst });
    const id = dp.host('h1').sendFromVm('vm1', vm1ToVm2, 0);
    run();
    expect(received('vm2')).toEqual([]);
    const [resp] = of('dp.middlebox.response');
    expect(resp).toMatchObject({ node: 'h1', packetId: id, port: 1, sent: true });
    expect(received('vm1').map((r) => [r.packetId, r.originId, r.headers])).toEqual([[resp.responseId, id, rst]]);
    expect(resp.responseId).not.toBe(id);
    expect(of('dp.drop').map((e) => e.reason)).toEqual(['middlebox-reject']);
  });

  test('a reject of a packet that came through a tunnel sends no response', () => {
    const { dp, element, received, of } = setup();
    element().answer = (c) => ({ verdict: 'reject', reason: 'rule', response: c.headers });
    dp.host('h1').switch.receive(TUNNEL_PORT_BASE, { id: 900, headers: vm1ToVm2, payloadBytes: 0 });
    expect(of('dp.middlebox.response')).toEqual([expect.objectContaining({ packetId: 900, responseId: -1, sent: false })]);
    expect(received('vm1')).toEqual([]);
    expect(received('vm2')).toEqual([]);
  });

  test("without an element a middlebox action drops as 'no-middlebox'", () => {
    const { dp, run, received, of } = setup({ element: false });
    dp.host('h1').sendFromVm('vm1', vm1ToVm2, 0);
    run();
    expect(received('vm2')).toEqual([]);
    expect(received('vm1')).toEqual([]);
    expect(of('dp.drop').map((e) => e.reason)).toEqual(['no-middlebox']);
  });
});

describe('buffer and retry', () => {
  test('a held packet is delivered once, as the same packet, when the element retries it', () => {
    const { dp, element, run, received, of } = setup();
    const pass = element().answer;
    element().answer = () => ({ verdict: 'buffer' });
    const id = dp.host('h1').sendFromVm('vm1', vm1ToVm2, 100);
    run();
    expect(received('vm2')).toEqual([]);
    expect(of('dp.drop').map((e) => e.reason)).toEqual(['middlebox-buffer']);
    expect(element().holds.map((h) => [h.tag, h.vmKey])).toEqual([[TAG, VM_KEY]]);
    element().answer = pass;
    const retry = element().holds[0].retry;
    retry();
    retry();
    run();
    expect(received('vm2').map((r) => [r.packetId, r.originId, r.payloadBytes, r.headers])).toEqual([[id, id, 100, vm1ToVm2]]);
    expect(element().calls.map((c) => [c.vmKey, c.commit])).toEqual([[VM_KEY, true], [VM_KEY, true]]);
  });

  test('a retry after the node restarted does nothing', () => {
    const { world, dp, element, run } = setup();
    element().answer = () => ({ verdict: 'buffer' });
    dp.host('h1').sendFromVm('vm1', vm1ToVm2, 0);
    run();
    const old = element();
    world.fabric.crash('h1');
    world.fabric.restart('h1');
    old.answer = (c) => ({ verdict: 'pass', headers: c.headers, ctState: CT_TRACKED | CT_ESTABLISHED });
    old.holds[0].retry();
    run();
    expect(old.calls).toHaveLength(1);
    expect(dp.host('h1').vm('vm2').received).toEqual([]);
  });
});

describe('copy mode', () => {
  test('the element gets a copy, its answer is ignored, and the packet carries on unchanged', () => {
    const { dp, element, run, received } = setup({ stage: [{ type: 'middlebox', tag: 3, mode: 'copy', table: 0 }, { type: 'output', port: 2 }] });
    element().answer = (c) => ({ verdict: 'pass', headers: { ...c.headers, ipDst: 1 }, ctState: 0xff });
    const id = dp.host('h1').sendFromVm('vm1', vm1ToVm2, 0);
    run();
    expect(element().calls).toEqual([{ tag: 3, vmKey: VM_KEY, mode: 'copy', headers: vm1ToVm2, commit: true }]);
    expect(received('vm2').map((r) => [r.packetId, r.headers])).toEqual([[id, vm1ToVm2]]);
    element().answer = () => ({ verdict: 'drop', reason: 'ids alert' });
    dp.host('h1').sendFromVm('vm1', vm1ToVm2, 0);
    run();
    expect(received('vm2')).toHaveLength(2);
  });

  test('with no element a copy action carries on', () => {
    const { dp, run, received } = setup({ element: false, stage: [{ type: 'middlebox', tag: 3, mode: 'copy', table: 0 }, { type: 'output', port: 2 }] });
    dp.host('h1').sendFromVm('vm1', vm1ToVm2, 0);
    run();
    expect(received('vm2')).toHaveLength(1);
  });
});

describe('what-if traces', () => {
  test('a trace follows the pass with commit false and changes no counter', () => {
    const { dp, sw, element, received } = setup();
    const t = dp.traceFromVm('h1', 'vm1', vm1ToVm2);
    expect(t.delivered.map((d) => d.name)).toEqual(['vm2']);
    expect(t.switches[0].middlebox).toEqual([{ tag: TAG, vmKey: VM_KEY, mode: 'inspect', verdict: 'pass' }]);
    expect(element().calls.map((c) => c.commit)).toEqual([false]);
    expect(element().holds).toEqual([]);
    expect(sw.flows.dump().every((e) => e.packets === 0)).toBe(true);
    expect(received('vm2')).toEqual([]);
  });

  test("a trace shows a reject's response reaching the sender and a drop's reason", () => {
    const { dp, element } = setup();
    element().answer = (c) => ({ verdict: 'reject', reason: 'rule', response: { ...c.headers, tcpFlags: 0x04 } });
    const t = dp.traceFromVm('h1', 'vm1', vm1ToVm2);
    expect(t.delivered).toEqual([{ node: 'h1', kind: 'vm', name: 'vm1', headers: { ...vm1ToVm2, tcpFlags: 0x04 } }]);
    expect(t.drops).toEqual([{ node: 'h1', reason: 'middlebox-reject', table: STAGE, port: -1 }]);
    element().answer = () => ({ verdict: 'drop', reason: 'rule' });
    expect(dp.traceFromVm('h1', 'vm1', vm1ToVm2).drops.map((d) => d.reason)).toEqual(['middlebox-drop']);
  });
});

class FakeController implements NodeProcess {
  constructor(readonly ctx: NodeContext) {}
  onMessage(_from: NodeId, _body: Message): void {}
  send(to: NodeId, msg: ControllerToSwitch): void {
    this.ctx.send(to, msg);
  }
}

describe('host database', () => {
  const record = (priority: number, text: string, cookie = 'mb'): Flow => flow(HOST_DB_TABLE, priority, { reg1: priority }, [{ type: 'note', text }], cookie);
  const add = (f: Flow): FlowModOp => ({ command: 'add', flow: f });
  const mod = (op: FlowModOp): ControllerToSwitch => ({ type: 'of.flow-mod', xid: 0, ...op });

  function withController() {
    const s = setup();
    s.world.fabric.addNode('c1', (ctx) => new FakeController(ctx), { kind: 'controller' });
    const c = s.world.fabric.process<FakeController>('c1')!;
    let xid = 1;
    c.send('h1', { type: 'of.dump-flows-request', xid: xid++ });
    s.run();
    const send = (msg: ControllerToSwitch) => {
      c.send('h1', { ...msg, xid: xid++ } as ControllerToSwitch);
      s.run();
    };
    return { ...s, send };
  }

  test('configure() gets the note texts in flow-key order once per message that changes them, and not for other tables', () => {
    const { element, send } = withController();
    expect(element().configured).toEqual([[]]);
    send({ type: 'of.bundle', xid: 0, ops: [add(record(20, 'b, with a comma')), add(record(10, 'a')), add(flow(0, 5, {}, [{ type: 'drop' }]))] });
    expect(element().configured).toEqual([[], ['a', 'b, with a comma']]);
    send(mod(add(flow(1, 5, {}, [{ type: 'note', text: 'not a record' }]))));
    send(mod(add(record(10, 'a'))));
    expect(element().configured).toHaveLength(2);
    send(mod({ command: 'modify', flow: record(10, 'a2') }));
    send(mod({ command: 'delete-strict', flowKey: `${HOST_DB_TABLE}/20/reg1=20` }));
    send(mod(add(record(30, 'other', 'mb-2'))));
    send(mod({ command: 'delete-cookie', cookie: 'mb' }));
    expect(element().configured.slice(2)).toEqual([['a2', 'b, with a comma'], ['a2'], ['a2', 'other'], ['other']]);
  });

  test('a restarted switch tells its new element the table is empty', () => {
    const { world, dp, send } = withController();
    send({ type: 'of.bundle', xid: 0, ops: [add(record(10, 'a'))] });
    world.fabric.crash('h1');
    world.fabric.restart('h1');
    const fresh = dp.host('h1').middlebox as FakeElement;
    expect(fresh.configured).toEqual([[]]);
  });
});

describe('validation and text', () => {
  const withActions = (actions: unknown[]) => validateFlow({ table: 1, priority: 1, match: {}, actions, cookie: 'x' } as unknown as Flow);

  test('formatAction and formatFlow', () => {
    expect(formatAction({ type: 'middlebox', tag: 7, mode: 'inspect', table: 41 })).toBe('middlebox(tag=7,mode=inspect,table=41)');
    expect(formatAction({ type: 'middlebox', tag: 2, mode: 'reply-only', table: 0 })).toBe('middlebox(tag=2,mode=reply-only,table=0)');
    expect(formatAction({ type: 'note', text: 'fw 7 allow tcp' })).toBe('note:fw 7 allow tcp');
    expect(formatFlow(flow(10, 5, { reg5: 3 }, [{ type: 'middlebox', tag: 7, mode: 'copy', table: 11 }, { type: 'note', text: 'x' }]))).toBe(
      'table=10 priority=5 reg5=3 actions=middlebox(tag=7,mode=copy,table=11),note:x cookie=mb',
    );
  });

  test('validateFlow accepts sound middlebox and note actions and names what is wrong with bad ones', () => {
    expect(() => withActions([{ type: 'middlebox', tag: 1, mode: 'reply-only', table: 254 }, { type: 'note', text: '' }])).not.toThrow();
    expect(() => withActions([{ type: 'note', text: 'x'.repeat(4096) }])).not.toThrow();
    expect(() => withActions([{ type: 'middlebox', tag: 0, mode: 'inspect', table: 2 }])).toThrow(/tag must be a whole number >= 1/);
    expect(() => withActions([{ type: 'middlebox', tag: 1.5, mode: 'inspect', table: 2 }])).toThrow(/tag/);
    expect(() => withActions([{ type: 'middlebox', tag: 1, mode: 'nat', table: 2 }])).toThrow(/mode must be one of inspect, reply-only, copy/);
    expect(() => withActions([{ type: 'middlebox', tag: 1, mode: 'inspect', table: 255 }])).toThrow(/resume table outside 0..254/);
    expect(() => withActions([{ type: 'middlebox', tag: 1, mode: 'inspect' }])).toThrow(/resume table/);
    expect(() => withActions([{ type: 'note', text: 'x'.repeat(4097) }])).toThrow(/at most 4096/);
    expect(() => withActions([{ type: 'note', text: 5 }])).toThrow(/note text must be a string/);
  });

  test("the controller's flow text carries both actions unchanged", () => {
    const actions: Action[] = [{ type: 'middlebox', tag: 7, mode: 'reply-only', table: 41 }, { type: 'note', text: 'fw 7 "quoted", comma' }];
    const back = rowToFlow({ dp: 1, chassis: 'h1', table: 10, priority: 1, match: '{}', actions: encodeActions(actions) });
    expect(back.actions).toEqual(actions);
    expect(formatFlow(back)).toBe(formatFlow({ ...back, actions }));
  });

  test('a note action does nothing when executed', () => {
    const { dp, run, received } = setup({ stage: [{ type: 'note', text: 'hello' }, { type: 'output', port: 2 }] });
    dp.host('h1').sendFromVm('vm1', vm1ToVm2, 0);
    run();
    expect(received('vm2').map((r) => r.headers)).toEqual([vm1ToVm2]);
  });
});
