// The controller channel's sequence discipline and resync, end to end over a tiny world: the switch
// agent (sim/dataplane/openflow-agent.ts) against a raw controller that sends hand-numbered messages, and
// the switch manager (sim/control/switch-manager.ts) in a stub controller node against real switches over
// links that lose, duplicate and reorder. What must hold: the manager calls a switch in sync only when its
// table is the desired one; lost, refused, reordered and duplicated messages are detected or harmless; the
// audit repairs lost port-status and restarts whose hello was lost; and once the network is quiet, every
// switch's table equals its desired table.
import { describe, expect, test } from 'vitest';
import { SwitchManager, type SwitchManagerOptions } from '../../sim/control/switch-manager.ts';
import { formatFlow, type Flow } from '../../sim/dataplane/flow.ts';
import { parseMac } from '../../sim/dataplane/headers.ts';
import type { ControllerToSwitch, SwitchToController } from '../../sim/dataplane/openflow.ts';
import type { Port } from '../../sim/dataplane/ports.ts';
import { DataplaneBuilder } from '../../sim/dataplane/topology-builder.ts';
import type { TraceRecord } from '../../sim/kernel/trace.ts';
import { NS_PER_MS, NS_PER_S, NS_PER_US } from '../../sim/kernel/time.ts';
import { DEFAULT_LINK } from '../../sim/net/link.ts';
import type { Message, NodeId } from '../../sim/net/message.ts';
import type { NodeContext, NodeProcess } from '../../sim/net/node.ts';
import { World } from '../../sim/testbed/world.ts';

// ---- a tiny world ----------------------------------------------------------------------------------------

/** A context whose sends pass through `drop` first (to lose one chosen message). */
function filteredContext(ctx: NodeContext, drop: (dst: NodeId, body: Message) => boolean): NodeContext {
  return {
    get id() {
      return ctx.id;
    },
    get incarnation() {
      return ctx.incarnation;
    },
    get rng() {
      return ctx.rng;
    },
    get disk() {
      return ctx.disk;
    },
    get trace() {
      return ctx.trace;
    },
    now: () => ctx.now(),
    send: (dst, body) => {
      if (!drop(dst, body)) ctx.send(dst, body);
    },
    setTimer: (delay, fn) => ctx.setTimer(delay, fn),
    cancelTimer: (handle) => ctx.cancelTimer(handle),
    isAlive: () => ctx.isAlive(),
  };
}

/** A controller node that is only a switch manager: hello connects, port-status and the audit set ports. */
class StubController implements NodeProcess {
  readonly manager: SwitchManager;
  readonly ports = new Map<NodeId, Port[]>();
  readonly inbox: { from: NodeId; msg: SwitchToController }[] = [];
  /** Drops the first message it matches, then clears itself. */
  dropOnce: ((dst: NodeId, body: ControllerToSwitch) => boolean) | null = null;

  constructor(ctx: NodeContext, options: Partial<SwitchManagerOptions>) {
    const lossy = filteredContext(ctx, (dst, body) => {
      if (this.dropOnce === null || !this.dropOnce(dst, body as unknown as ControllerToSwitch)) return false;
      this.dropOnce = null;
      return true;
    });
    this.manager = new SwitchManager(lossy, {
      generationId: 1,
      replyDeadlineNs: 50 * NS_PER_MS,
      onPorts: (id, ports) => this.ports.set(id, [...ports]),
      ...options,
    });
  }

  onMessage(from: NodeId, body: Message): void {
    const m = body as unknown as SwitchToController;
    this.inbox.push({ from, msg: m });
    if (m.type === 'of.hello') {
      this.ports.set(from, [...m.ports]);
      return this.manager.connect(from);
    }
    if (m.type === 'of.port-status') {
      const rest = (this.ports.get(from) ?? []).filter((p) => p.number !== m.port.number);
      this.ports.set(from, m.reason === 'add' ? [...rest, m.port].sort((a, b) => a.number - b.number) : rest);
      return;
    }
    this.manager.onMessage(from, m);
  }

  of<T extends SwitchToController['type']>(type: T): Extract<SwitchToController, { type: T }>[] {
    return this.inbox.filter((m) => m.msg.type === type).map((m) => m.msg) as any;
  }
}

/** A controller that sends hand-numbered messages and records what comes back. */
class RawController implements NodeProcess {
  readonly inbox: SwitchToController[] = [];
  constructor(readonly ctx: NodeContext) {}
  onMessage(_from: NodeId, body: Message): void {
    this.inbox.push(body as unknown as SwitchToController);
  }
  send(to: NodeId, msg: ControllerToSwitch): void {
    this.ctx.send(to, msg);
  }
  /** The replies since the last call, as [type, xid, code?]. */
  take(): (string | number)[][] {
    const out = this.inbox.map((m) => (m.type === 'of.error' ? [m.type, m.xid, m.code] : 'xid' in m ? [m.type, m.xid] : [m.type]));
    this.inbox.length = 0;
    return out;
  }
}

const mac = (n: number) => parseMac(`02:00:00:00:00:0${n}`);
const vm = (n: number) => ({ name: `vm${n}`, vifId: `vif-${n}`, mac: mac(n), ip: 0x0a000000 + n });
/** Flow `n`, version `v`: one key per n, the version changes its actions. */
const flow = (n: number, v = 0): Flow => ({ table: 0, priority: 10 + n, match: { reg0: n }, actions: [{ type: 'output', port: 1 + (v % 3) }], cookie: `f${n}` });
const SWITCHES = ['h1', 'h2'];

function setup(seed = 1, options: Partial<SwitchManagerOptions> = {}, helloIntervalNs = NS_PER_S) {
  const world = new World({ seed, trace: 'full' });
  world.fabric.addNode('c', (ctx) => new StubController(ctx, options), { kind: 'controller' });
  const dp = new DataplaneBuilder(world, { helloIntervalNs });
  dp.addHost('h1', [vm(1)]);
  dp.addHost('h2');
  dp.meshTunnels();
  const events: TraceRecord[] = [];
  world.trace.on('*', (e) => events.push(e));
  dp.setControllers(['c']);
  const ctl = () => world.fabric.process<StubController>('c')!;
  const installed = (h: NodeId) => dp.switchNode(h).switch.flows.flows().map(formatFlow).sort();
  const desired = (h: NodeId) => ctl().manager.desiredFlows(h).map(formatFlow).sort();
  const count = (type: string) => events.filter((e) => e.type === type).length;
  /** Runs `ns`, checking every 100 µs that a switch the manager calls in sync holds exactly its desired table. */
  const runWatching = (ns: number) => {
    const until = world.now + ns;
    while (world.now < until) {
      world.scheduler.runFor(Math.min(100 * NS_PER_US, until - world.now));
      for (const h of SWITCHES) {
        if (world.fabric.isUp(h) && ctl().manager.isInSync(h)) expect(installed(h), `${h} at ${world.now}ns`).toEqual(desired(h));
      }
    }
  };
  const converged = () => {
    expect(ctl().manager.allInSync()).toBe(true);
    for (const h of SWITCHES) expect(installed(h)).toEqual(desired(h));
  };
  world.scheduler.runFor(20 * NS_PER_MS); // hello, role, dump, diff, barrier
  return { world, dp, ctl, installed, desired, count, events, runWatching, converged };
}

/** Toggles random flows on random switches every `everyNs` for `forNs`: adds, new versions and removals. */
function churn(world: World, ctl: () => StubController, everyNs: number, forNs: number, rngName = 'test/churn') {
  const rng = world.rng.stream(rngName);
  const end = world.now + forNs;
  const step = () => {
    const h = SWITCHES[rng.below(SWITCHES.length)];
    const n = rng.below(6);
    const held = ctl().manager.desiredFlows(h).find((f) => f.cookie === `f${n}`);
    if (held !== undefined && rng.chance(0.5)) ctl().manager.update(h, [held], []);
    else ctl().manager.update(h, held === undefined ? [] : [held], [flow(n, rng.below(100))]);
    if (world.now + everyNs < end) world.scheduler.after(everyNs, step);
  };
  world.scheduler.after(everyNs, step);
}

// ---- the agent's sequence ----------------------------------------------------------------------------------

describe('the switch agent keeps each controller in sequence', () => {
  function raw() {
    const world = new World({ seed: 1, trace: 'off' });
    world.fabric.addNode('r', (ctx) => new RawController(ctx), { kind: 'controller' });
    const dp = new DataplaneBuilder(world, { helloIntervalNs: 0 });
    dp.addHost('h1', [vm(1)]);
    const r = world.fabric.process<RawController>('r')!;
    const run = () => world.scheduler.runFor(5 * NS_PER_MS);
    const fm = (xid: number, n: number): ControllerToSwitch => ({ type: 'of.flow-mod', xid, command: 'add', flow: flow(n) });
    const priorities = () => dp.host('h1').switch.flows.dump().map((e) => e.priority - 10).sort();
    return { r, run, fm, priorities, agent: dp.host('h1').agent };
  }

  test('nothing changes before the first dump; then changes apply in order, and a gap stops them until the next dump', () => {
    const { r, run, fm, priorities, agent } = raw();
    r.send('h1', fm(1, 1));
    r.send('h1', { type: 'of.barrier-request', xid: 2 });
    r.send('h1', { type: 'of.echo-request', xid: 3 });
    r.send('h1', { type: 'of.ports-request', xid: 4 });
    run();
    expect(r.take()).toEqual([['of.error', 1, 'out-of-sequence'], ['of.error', 2, 'out-of-sequence'], ['of.echo-reply', 3], ['of.ports-reply', 4]]);
    expect(priorities()).toEqual([]);
    r.send('h1', { type: 'of.dump-flows-request', xid: 5 });
    r.send('h1', fm(6, 1));
    r.send('h1', fm(8, 2)); // 7 is missing
    r.send('h1', fm(9, 3));
    r.send('h1', { type: 'of.barrier-request', xid: 10 });
    r.send('h1', fm(7, 4)); // the late one does not fill the gap
    run();
    expect(r.take()).toEqual([['of.dump-flows-reply', 5], ['of.error', 8, 'out-of-sequence'], ['of.error', 9, 'out-of-sequence'], ['of.error', 10, 'out-of-sequence'], ['of.error', 7, 'out-of-sequence']]);
    expect(priorities()).toEqual([1]);
    expect(agent.inSequence('r')).toBe(false);
  });

  test('after a resync, duplicates are dropped silently, late messages are refused without breaking the sequence, and an old dump resets nothing', () => {
    const { r, run, fm, priorities, agent } = raw();
    r.send('h1', { type: 'of.dump-flows-request', xid: 10 });
    r.send('h1', fm(11, 1));
    r.send('h1', fm(11, 1)); // duplicate
    r.send('h1', fm(9, 2)); // from before the resync
    r.send('h1', { type: 'of.barrier-request', xid: 12 });
    r.send('h1', { type: 'of.dump-flows-request', xid: 4 }); // an old dump, late: answered, no reset
    r.send('h1', fm(13, 3));
    r.send('h1', { type: 'of.barrier-request', xid: 14 });
    run();
    expect(r.take()).toEqual([['of.dump-flows-reply', 10], ['of.error', 9, 'out-of-sequence'], ['of.barrier-reply', 12], ['of.dump-flows-reply', 4], ['of.barrier-reply', 14]]);
    expect(priorities()).toEqual([1, 3]);
    expect(agent.inSequence('r')).toBe(true);
    // A duplicate of the resync dump itself does not move the sequence back either.
    r.send('h1', { type: 'of.dump-flows-request', xid: 10 });
    r.send('h1', { type: 'of.barrier-request', xid: 15 });
    run();
    expect(r.take()).toEqual([['of.dump-flows-reply', 10], ['of.barrier-reply', 15]]);
  });

  test('a restarted switch forgets every sequence: it takes no change before a new dump', () => {
    const world = new World({ seed: 1, trace: 'off' });
    world.fabric.addNode('r', (ctx) => new RawController(ctx), { kind: 'controller' });
    const dp = new DataplaneBuilder(world, { helloIntervalNs: 0 });
    dp.addHost('h1', [vm(1)]);
    const r = world.fabric.process<RawController>('r')!;
    r.send('h1', { type: 'of.dump-flows-request', xid: 1 });
    world.scheduler.runFor(5 * NS_PER_MS);
    world.fabric.crash('h1');
    world.fabric.restart('h1');
    r.take();
    r.send('h1', { type: 'of.barrier-request', xid: 2 });
    world.scheduler.runFor(5 * NS_PER_MS);
    expect(r.take()).toEqual([['of.error', 2, 'out-of-sequence']]);
  });
});

// ---- the switch manager over a faulty fabric -------------------------------------------------------------

describe('the switch manager keeps tables right over a faulty channel', () => {
  test('connecting brings each switch in sync with its desired table', () => {
    const { ctl, runWatching, converged, count } = setup();
    ctl().manager.update('h1', [], [flow(1), flow(2)]);
    ctl().manager.update('h2', [], [flow(3)]);
    expect(ctl().manager.isInSync('h1')).toBe(false); // sent, not yet acknowledged
    runWatching(10 * NS_PER_MS);
    converged();
    expect(count('ctl.sync.error') + count('ctl.sync.timeout')).toBe(0);
  });

  test('a lost bundle is detected by the barrier behind it and repaired', () => {
    const { ctl, runWatching, converged, installed, count } = setup();
    ctl().dropOnce = (dst, m) => dst === 'h1' && m.type === 'of.bundle';
    ctl().manager.update('h1', [], [flow(1), flow(2)]);
    runWatching(3 * NS_PER_MS);
    // The barrier arrived after a gap: refused, not answered, so the manager did not take the switch as in sync.
    expect(ctl().of('of.barrier-reply').length).toBeGreaterThan(0);
    expect(ctl().of('of.error').map((e) => [e.request, e.code])).toEqual([['of.barrier-request', 'out-of-sequence']]);
    runWatching(20 * NS_PER_MS);
    converged();
    expect(installed('h1')).toHaveLength(2);
    expect(count('ctl.sync.error')).toBe(1);
  });

  test('a bundle refused because an earlier message (an audit ports-request) was lost is repaired too', () => {
    const { world, ctl, runWatching, converged, installed } = setup(1, { auditIntervalNs: 100 * NS_PER_MS });
    runWatching(99_500 * NS_PER_US - world.now);
    ctl().manager.update('h1', [], [flow(1)]); // pending at the audit, so the audit adds no barrier of its own
    ctl().dropOnce = (dst, m) => dst === 'h1' && m.type === 'of.ports-request';
    runWatching(NS_PER_MS); // the audit's ports-request to h1 is lost
    ctl().manager.update('h1', [], [flow(2)]);
    runWatching(60 * NS_PER_MS);
    expect(ctl().of('of.error').map((e) => [e.request, e.code])).toEqual([['of.bundle', 'out-of-sequence'], ['of.barrier-request', 'out-of-sequence']]);
    converged();
    expect(installed('h1')).toHaveLength(2);
  });

  test('a ports-request lost while idle is caught by the audit barrier right behind it', () => {
    const { ctl, runWatching, converged } = setup(1, { auditIntervalNs: 100 * NS_PER_MS });
    ctl().dropOnce = (dst, m) => dst === 'h1' && m.type === 'of.ports-request';
    runWatching(100 * NS_PER_MS);
    expect(ctl().of('of.error').map((e) => [e.request, e.code])).toEqual([['of.barrier-request', 'out-of-sequence']]);
    converged();
  });

  test('a lost barrier is caught by the deadline', () => {
    const { ctl, runWatching, converged, count } = setup();
    ctl().dropOnce = (dst, m) => dst === 'h2' && m.type === 'of.barrier-request';
    ctl().manager.update('h2', [], [flow(1)]);
    runWatching(40 * NS_PER_MS);
    expect(ctl().manager.isInSync('h2')).toBe(false);
    runWatching(40 * NS_PER_MS);
    converged();
    expect(count('ctl.sync.timeout')).toBe(1);
  });

  test('reordered flow-mods never leave a wrong table behind an in-sync manager', () => {
    const { world, ctl, runWatching, converged, count } = setup(2);
    const reorder = { ...DEFAULT_LINK, reorderProbability: 1 };
    world.fabric.setLink('c', 'h1', reorder);
    world.fabric.setLink('c', 'h2', reorder);
    // The same flow added, changed and deleted within a few milliseconds, over and over.
    churn(world, ctl, 2 * NS_PER_MS, 600 * NS_PER_MS);
    runWatching(700 * NS_PER_MS);
    expect(count('switch.seq.gap')).toBeGreaterThan(0);
    world.fabric.setLink('c', 'h1', DEFAULT_LINK);
    world.fabric.setLink('c', 'h2', DEFAULT_LINK);
    runWatching(500 * NS_PER_MS);
    converged();
  });

  test('duplicated messages are harmless: dropped by the switch, with no error and no resync', () => {
    const { world, ctl, runWatching, converged, count, events } = setup(3);
    const dup = { ...DEFAULT_LINK, duplicateProbability: 1 };
    world.fabric.setLink('c', 'h1', dup);
    world.fabric.setLink('c', 'h2', dup);
    const resyncs = count('ctl.resync');
    churn(world, ctl, 3 * NS_PER_MS, 300 * NS_PER_MS);
    runWatching(400 * NS_PER_MS);
    converged();
    expect(events.some((e) => e.type === 'switch.seq.refuse' && (e as any).reason === 'duplicate')).toBe(true);
    expect(ctl().of('of.error')).toEqual([]);
    expect(count('ctl.resync')).toBe(resyncs);
  });

  test('the audit delivers the ports after a lost port-status, and an idle audit costs no dump', () => {
    const { world, dp, ctl, count } = setup();
    const resyncs = count('ctl.resync');
    world.fabric.partition('cut', [['c'], ['h2']]);
    dp.host('h2').attachVm(vm(2)); // its port-status is lost
    world.scheduler.runFor(10 * NS_PER_MS);
    world.fabric.heal('cut');
    world.scheduler.runFor(50 * NS_PER_MS);
    const vifs = () => (ctl().ports.get('h2') ?? []).filter((p) => p.kind === 'vif').map((p) => (p.kind === 'vif' ? p.vifId : ''));
    expect(vifs()).toEqual([]);
    world.scheduler.runUntil(NS_PER_S + 50 * NS_PER_MS);
    expect(vifs()).toEqual(['vif-2']);
    expect(ctl().ports.get('h2')).toEqual(dp.host('h2').switch.ports.list());
    // Ten idle audits: a ports-request and a barrier per switch each time, and never a dump.
    world.scheduler.runUntil(10 * NS_PER_S + 50 * NS_PER_MS);
    expect(ctl().of('of.ports-reply').filter((m) => m.datapathId === 'h1')).toHaveLength(10);
    expect(count('ctl.resync')).toBe(resyncs);
    expect(ctl().manager.allInSync()).toBe(true);
  });

  test('a restarted switch whose hello was lost is found by the audit barrier and resynced', () => {
    const { world, dp, ctl, converged, installed } = setup(1, {}, 0);
    ctl().manager.update('h1', [], [flow(1), flow(2)]);
    world.scheduler.runFor(10 * NS_PER_MS);
    world.fabric.partition('cut', [['c'], ['h1']]);
    world.fabric.crash('h1');
    world.fabric.restart('h1'); // hello (sent once) is lost
    world.scheduler.runFor(10 * NS_PER_MS);
    world.fabric.heal('cut');
    expect(installed('h1')).toEqual([]);
    expect(ctl().manager.isInSync('h1')).toBe(true); // it cannot know yet
    world.scheduler.runUntil(NS_PER_S + 100 * NS_PER_MS);
    converged();
    expect(dp.switchNode('h1').switch.flows.size).toBe(2);
  });

  test('a dump every Nth audit, when asked for, resyncs idle switches in turn', () => {
    const { world, ctl, count, converged } = setup(1, { auditIntervalNs: 100 * NS_PER_MS, auditDumpEvery: 4 });
    const resyncs = count('ctl.resync');
    world.scheduler.runFor(800 * NS_PER_MS + 10 * NS_PER_MS);
    expect(count('ctl.resync') - resyncs).toBe(4); // 8 audits × 2 switches / 4
    converged();
  });
});

// ---- convergence ---------------------------------------------------------------------------------------

describe('once the network is quiet, every table equals its desired table', () => {
  test.each([1, 2, 3, 4, 5, 6, 7, 8])('seed %i: loss, duplication, reordering and a partition under churn', (seed) => {
    const { world, ctl, runWatching, converged } = setup(seed);
    const rng = world.rng.stream('test/faults');
    world.fabric.degrade('bad', ['c'], SWITCHES, {
      lossProbability: 0.05 + rng.float() * 0.25,
      duplicateProbability: rng.float() * 0.3,
      reorderProbability: rng.float() * 0.6,
    });
    churn(world, ctl, (1 + rng.below(4)) * NS_PER_MS, 1500 * NS_PER_MS);
    world.scheduler.after((200 + rng.below(800)) * NS_PER_MS, () => world.fabric.partition('cut', [['c'], [SWITCHES[rng.below(2)]]]));
    world.scheduler.after(1200 * NS_PER_MS, () => world.fabric.heal('cut'));
    runWatching(1600 * NS_PER_MS);
    world.fabric.restore('bad');
    runWatching(1500 * NS_PER_MS);
    converged();
  });
});
