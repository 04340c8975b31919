// The controller channel, switch side: hello (on start, on restart, retried until answered), port-status,
// flow-mods and bundles, barriers, flow dumps with counters, roles and generation-id fencing, packet-in
// and packet-out, tunnel configuration, and a crash that loses the flows but keeps the ports. Changes
// from a controller are only taken in its xid sequence, which a dump starts (openflow-channel.test.ts
// covers the sequence itself), so each test opens its controllers' streams with `resync`.
import { describe, expect, test } from 'vitest';
import { flowKey, type Flow } from '../../sim/dataplane/flow.ts';
import { udpHeaders } from '../../sim/dataplane/header-builder.ts';
import { parseMac } from '../../sim/dataplane/headers.ts';
import type { ControllerToSwitch, FlowModOp, SwitchToController } from '../../sim/dataplane/openflow.ts';
import { TUNNEL_PORT_BASE } from '../../sim/dataplane/ports.ts';
import { DataplaneBuilder } from '../../sim/dataplane/topology-builder.ts';
import type { TraceRecord } from '../../sim/kernel/trace.ts';
import { NS_PER_MS, NS_PER_S } from '../../sim/kernel/time.ts';
import type { Message, NodeId } from '../../sim/net/message.ts';
import type { NodeContext, NodeProcess } from '../../sim/net/node.ts';
import { World } from '../../sim/testbed/world.ts';

class FakeController implements NodeProcess {
  readonly inbox: { from: NodeId; msg: SwitchToController }[] = [];
  constructor(readonly ctx: NodeContext) {}
  onMessage(from: NodeId, body: Message): void {
    this.inbox.push({ from, msg: body as unknown as SwitchToController });
  }
  send(to: NodeId, msg: ControllerToSwitch): void {
    this.ctx.send(to, msg);
  }
  /** Starts this controller's xid sequence at the switch: a dump-flows-request; `xid + 1` comes next. */
  resync(to: NodeId, xid: number): void {
    this.ctx.send(to, { type: 'of.dump-flows-request', xid });
  }
  of<T extends SwitchToController['type']>(type: T): Extract<SwitchToController, { type: T }>[] {
    return this.inbox.filter((m) => m.msg.type === type).map((m) => m.msg) as any;
  }
}

const mac = (n: number) => parseMac(`02:00:00:00:00:0${n}`);
const vm = (n: number) => ({ name: `vm${n}`, vifId: `vif-${n}`, mac: mac(n), ip: 0x0a000000 + n });
const out = (priority: number, port: number, cookie = 'ls-a'): Flow => ({ table: 0, priority, match: { reg0: priority }, actions: [{ type: 'output', port }], cookie });
const add = (flow: Flow): FlowModOp => ({ command: 'add', flow });

function setup(helloIntervalNs = NS_PER_S) {
  const world = new World({ seed: 3, trace: 'off' });
  const controllers = ['c1', 'c2'].map((id) => {
    world.fabric.addNode(id, (ctx) => new FakeController(ctx), { kind: 'controller' });
    return id;
  });
  const c = (id: string) => world.fabric.process<FakeController>(id)!;
  const dp = new DataplaneBuilder(world, { helloIntervalNs });
  dp.addHost('h1', [vm(1)]);
  dp.addHost('h2');
  dp.meshTunnels();
  const events: TraceRecord[] = [];
  world.trace.on('*', (e) => events.push(e));
  const run = () => world.scheduler.runFor(10 * NS_PER_MS);
  return { world, dp, c, controllers, events, of: (type: string) => events.filter((e) => e.type === type) as any[], run };
}

describe('hello and port-status', () => {
  test('a switch says hello with its ports when pointed at a controller, and re-sends it until answered', () => {
    const { dp, c, run, world } = setup();
    dp.setControllers(['c1'], ['h1']);
    run();
    const [hello] = c('c1').of('of.hello');
    expect(hello).toMatchObject({ datapathId: 'h1', incarnation: 1 });
    expect(hello.ports.map((p) => [p.kind, p.number])).toEqual([['vif', 1], ['tunnel', TUNNEL_PORT_BASE]]);
    expect(hello.ports[0]).toMatchObject({ vifId: 'vif-1', vm: 'vm1', mac: mac(1) });
    world.scheduler.runFor(2 * NS_PER_S + NS_PER_MS);
    expect(c('c1').of('of.hello')).toHaveLength(3);
    c('c1').send('h1', { type: 'of.echo-request', xid: 1 });
    world.scheduler.runFor(5 * NS_PER_S);
    expect(c('c1').of('of.hello')).toHaveLength(3);
    expect(c('c1').of('of.echo-reply')).toEqual([{ type: 'of.echo-reply', datapathId: 'h1', xid: 1 }]);
  });

  test('VIF attach/detach and tunnel-config are reported by port-status', () => {
    const { dp, c, run } = setup(0);
    dp.setControllers(['c1'], ['h2']);
    dp.host('h2').attachVm(vm(2));
    dp.host('h2').detachVm('vm2');
    c('c1').resync('h2', 3);
    c('c1').send('h2', { type: 'of.tunnel-config', xid: 4, add: ['c2'], remove: ['h1'] });
    run();
    const ps = c('c1').of('of.port-status').map((m) => [m.reason, m.port.kind, m.port.number]);
    expect(ps).toEqual([['add', 'vif', 1], ['delete', 'vif', 1], ['delete', 'tunnel', TUNNEL_PORT_BASE], ['add', 'tunnel', TUNNEL_PORT_BASE + 1]]);
    expect(dp.host('h2').switch.ports.tunnelTo('c2')?.number).toBe(TUNNEL_PORT_BASE + 1);
  });
});

describe('flow-mods, barriers and dumps', () => {
  test('add, modify, strict delete and delete by cookie; a barrier follows them; a dump has counters', () => {
    const { dp, c, run, of } = setup(0);
    dp.setControllers(['c1']);
    const ctl = c('c1');
    ctl.resync('h1', 0);
    ctl.send('h1', { type: 'of.flow-mod', xid: 1, command: 'add', flow: out(1, 1, 'a') });
    ctl.send('h1', { type: 'of.flow-mod', xid: 2, command: 'add', flow: out(2, 1, 'a') });
    ctl.send('h1', { type: 'of.flow-mod', xid: 3, command: 'add', flow: out(3, 1, 'b') });
    ctl.send('h1', { type: 'of.flow-mod', xid: 4, command: 'modify', flow: { ...out(3, 1, 'b'), actions: [] } });
    ctl.send('h1', { type: 'of.flow-mod', xid: 5, command: 'delete-strict', flowKey: flowKey(out(1, 1)) });
    ctl.send('h1', { type: 'of.barrier-request', xid: 6 });
    run();
    expect(ctl.of('of.barrier-reply')).toEqual([{ type: 'of.barrier-reply', datapathId: 'h1', xid: 6 }]);
    expect(dp.host('h1').switch.flows.dump().map((e) => [e.key, e.flow.actions.length])).toEqual([['0/3/reg0=3', 0], ['0/2/reg0=2', 1]]);
    expect(of('switch.flowmod').map((e) => e.command)).toEqual(['add', 'add', 'add', 'modify', 'delete-strict']);
    // Counters in the dump.
    dp.host('h1').switch.flows.add({ table: 0, priority: 0, match: {}, actions: [{ type: 'set', field: 'reg0', value: 2 }, { type: 'resubmit', table: 0 }], cookie: 'b' });
    dp.host('h1').sendFromVm('vm1', udpHeaders({}), 58);
    ctl.send('h1', { type: 'of.dump-flows-request', xid: 7, cookie: 'a' });
    ctl.send('h1', { type: 'of.flow-mod', xid: 8, command: 'delete-cookie', cookie: 'b' });
    run();
    const [, dump] = ctl.of('of.dump-flows-reply');
    expect(dump.flows.map((s) => [flowKey(s.flow), s.packets, s.bytes])).toEqual([['0/2/reg0=2', 1, 100]]);
    expect(dp.host('h1').switch.flows.dump().map((e) => e.key)).toEqual(['0/2/reg0=2']);
  });

  test('a bundle applies in order, and a bad op anywhere in it changes nothing', () => {
    const { dp, c, run } = setup(0);
    const ctl = c('c1');
    ctl.resync('h1', 0);
    ctl.send('h1', { type: 'of.bundle', xid: 1, ops: [add(out(1, 1)), { command: 'delete-strict', flowKey: flowKey(out(1, 1)) }, add(out(2, 1))] });
    ctl.send('h1', { type: 'of.bundle', xid: 2, ops: [add(out(5, 1)), add({ ...out(6, 1), table: 999 })] });
    run();
    expect(dp.host('h1').switch.flows.dump().map((e) => e.priority)).toEqual([2]);
    expect(ctl.of('of.error')).toEqual([expect.objectContaining({ xid: 2, code: 'bad-request', request: 'of.bundle' })]);
  });
});

describe('roles and epoch fencing', () => {
  test('flow-mods with an older generation than seen are rejected and traced; newer ones raise it', () => {
    const { dp, c, run, of } = setup(0);
    dp.setControllers(['c1', 'c2']);
    c('c1').resync('h1', 0);
    c('c2').resync('h1', 2);
    c('c1').send('h1', { type: 'of.role-request', xid: 1, role: 'master', generationId: 5 });
    run();
    expect(c('c1').of('of.role-reply')).toEqual([{ type: 'of.role-reply', datapathId: 'h1', xid: 1, role: 'master', generationId: 5 }]);
    c('c1').send('h1', { type: 'of.flow-mod', xid: 2, generationId: 5, command: 'add', flow: out(1, 1) });
    c('c2').send('h1', { type: 'of.flow-mod', xid: 3, generationId: 4, command: 'add', flow: out(2, 1) });
    c('c2').send('h1', { type: 'of.flow-mod', xid: 4, generationId: 6, command: 'add', flow: out(3, 1) });
    c('c1').send('h1', { type: 'of.flow-mod', xid: 3, generationId: 5, command: 'add', flow: out(4, 1) });
    run();
    expect(dp.host('h1').switch.flows.dump().map((e) => e.priority)).toEqual([3, 1]);
    expect(of('switch.flowmod.reject-stale').map((e) => [e.from, e.generationId, e.highest])).toEqual([['c2', 4, 5], ['c1', 5, 6]]);
    expect(c('c2').of('of.error').map((e) => [e.xid, e.code])).toEqual([[3, 'stale-generation']]);
    expect(dp.host('h1').agent.highestGenerationSeen).toBe(6);
  });

  test('a new master demotes the old one; a slave\'s flow-mods and stale role requests are refused', () => {
    const { dp, c, run, of } = setup(0);
    dp.setControllers(['c1', 'c2']);
    c('c1').send('h1', { type: 'of.role-request', xid: 1, role: 'master', generationId: 1 });
    run();
    c('c2').send('h1', { type: 'of.role-request', xid: 2, role: 'master', generationId: 2 });
    run();
    expect([dp.host('h1').agent.role('c1'), dp.host('h1').agent.role('c2')]).toEqual(['slave', 'master']);
    c('c1').resync('h1', 2);
    c('c1').send('h1', { type: 'of.flow-mod', xid: 3, command: 'add', flow: out(1, 1) });
    c('c1').send('h1', { type: 'of.role-request', xid: 4, role: 'master', generationId: 1 });
    run();
    expect(dp.host('h1').switch.flows.size).toBe(0);
    expect(c('c1').of('of.error').map((e) => [e.xid, e.code])).toEqual([[3, 'is-slave'], [4, 'stale-generation']]);
    expect(of('switch.flowmod.reject-slave')).toHaveLength(1);
    expect(of('switch.role.reject-stale')).toHaveLength(1);
    // Port-status and packet-in go to the master and equals, not to slaves.
    dp.host('h1').attachVm(vm(3));
    run();
    expect([c('c1').of('of.port-status').length, c('c2').of('of.port-status').length]).toEqual([0, 1]);
  });
});

describe('packet-in and packet-out', () => {
  test('a controller action sends a packet-in with the packet and its pipeline fields', () => {
    const { dp, c, run, of } = setup(0);
    dp.setControllers(['c1']);
    dp.host('h1').switch.flows.add({ table: 0, priority: 1, match: {}, actions: [{ type: 'set', field: 'metadata', value: 8 }, { type: 'controller', reason: 'learn' }], cookie: 'x' });
    const id = dp.host('h1').sendFromVm('vm1', udpHeaders({ ethSrc: mac(1) }), 0);
    run();
    const [pi] = c('c1').of('of.packet-in');
    expect(pi).toMatchObject({ datapathId: 'h1', reason: 'learn', table: 0, cookie: 'x', packet: { id, headers: { ethSrc: mac(1) } }, fields: { inPort: 1, metadata: 8 } });
    expect(of('dp.packet-in')).toEqual([expect.objectContaining({ node: 'h1', packetId: id, controllers: ['c1'] })]);
  });

  test('packet-out runs its actions on a new packet', () => {
    const { dp, c, run } = setup(0);
    c('c1').resync('h1', 0);
    c('c1').send('h1', { type: 'of.packet-out', xid: 1, inPort: 0, headers: udpHeaders({ ethDst: mac(1) }), payloadBytes: 5, actions: [{ type: 'output', port: 1 }] });
    run();
    expect(dp.host('h1').vm('vm1').received.map((r) => [r.headers.ethDst, r.payloadBytes])).toEqual([[mac(1), 5]]);
  });
});

describe('crash and restart', () => {
  test('a crashed switch restarts with no flows, the same ports and VMs, and says hello again', () => {
    const { world, dp, c, run } = setup(0);
    dp.setControllers(['c1']);
    c('c1').resync('h1', 0);
    c('c1').send('h1', { type: 'of.role-request', xid: 1, role: 'master', generationId: 9 });
    c('c1').send('h1', { type: 'of.flow-mod', xid: 2, command: 'add', flow: out(1, 1) });
    run();
    expect(dp.host('h1').switch.flows.size).toBe(1);
    world.fabric.crash('h1');
    world.fabric.restart('h1');
    run();
    const h1 = dp.host('h1');
    expect(h1.switch.flows.size).toBe(0);
    expect(h1.vmList().map((v) => [v.name, v.port])).toEqual([['vm1', 1]]);
    const hellos = c('c1').of('of.hello').filter((h) => h.datapathId === 'h1');
    expect(hellos.map((h) => h.incarnation)).toEqual([1, 2]);
    expect(hellos[1].ports).toEqual(hellos[0].ports);
    // Channel state is volatile: an older generation is accepted again after the restart.
    expect(h1.agent.highestGenerationSeen).toBe(-Infinity);
    // So is the sequence: the restarted switch takes no change before the controller has resynced it.
    c('c1').send('h1', { type: 'of.flow-mod', xid: 3, generationId: 1, command: 'add', flow: out(1, 1) });
    run();
    expect(h1.switch.flows.size).toBe(0);
    expect(c('c1').of('of.error').map((e) => [e.xid, e.code])).toEqual([[3, 'out-of-sequence']]);
    c('c1').resync('h1', 4);
    c('c1').send('h1', { type: 'of.flow-mod', xid: 5, generationId: 1, command: 'add', flow: out(1, 1) });
    run();
    expect(h1.switch.flows.size).toBe(1);
    // Numbering carries on across the restart.
    expect(h1.attachVm(vm(2)).port).toBe(2);
  });
});
