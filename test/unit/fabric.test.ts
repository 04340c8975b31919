// The simulated fabric: latency and FIFO, reordering, crash/restart semantics (volatile state lost, disk
// kept, timers and sends of a dead incarnation ignored), drops to crashed nodes, degrade/restore, and
// fault verbs that reject bad input without changing anything.
import { describe, expect, test } from 'vitest';
import { test as propTest, fc } from '@fast-check/vitest';
import type { Scheduler } from '../../sim/kernel/scheduler.ts';
import { NS_PER_MS, NS_PER_US } from '../../sim/kernel/time.ts';
import { DEFAULT_LINK, type LinkConfig } from '../../sim/net/link.ts';
import type { Message, NodeId } from '../../sim/net/message.ts';
import type { NodeContext, NodeProcess } from '../../sim/net/node.ts';
import { World } from '../../sim/testbed/world.ts';

const RUNS = Number(process.env.NVSIM_PROPERTY_RUNS ?? 20);


interface Received {
  at: number;
  from: NodeId;
  body: Message;
}

class Recorder implements NodeProcess {
  readonly received: Received[] = [];
  constructor(readonly ctx: NodeContext) {}
  onMessage(from: NodeId, body: Message): void {
    this.received.push({ at: this.ctx.now(), from, body });
  }
}

/** A world of Recorder nodes; `ctx(id)` is the node's latest context. */
function build(ids: NodeId[], seed = 1, defaultLink?: LinkConfig) {
  const world = new World({ seed, trace: 'off', defaultLink });
  const contexts = new Map<NodeId, NodeContext>();
  for (const id of ids) {
    world.fabric.addNode(
      id,
      (ctx) => {
        contexts.set(id, ctx);
        return new Recorder(ctx);
      },
      { kind: 'test' },
    );
  }
  const proc = (id: NodeId) => world.fabric.process<Recorder>(id)!;
  const ctx = (id: NodeId) => contexts.get(id)!;
  const at = (t: number, fn: () => void) => world.scheduler.at(t, fn);
  return { world, fabric: world.fabric, scheduler: world.scheduler, proc, ctx, at };
}

const link = (settings: Partial<LinkConfig>): LinkConfig => ({ ...DEFAULT_LINK, ...settings });

describe('latency and ordering', () => {
  test('constant latency: delivered exactly latency after the send', () => {
    const { fabric, scheduler, proc, ctx, at } = build(['a', 'b', 'c']);
    fabric.setLink('a', 'c', link({ latency: { kind: 'constant', ns: 7 * NS_PER_US } }));
    ctx('a').send('b', { type: 'x' });
    ctx('a').send('c', { type: 'y' });
    at(5 * NS_PER_MS, () => ctx('c').send('a', { type: 'z' }));
    scheduler.runUntilQuiescent();
    expect(proc('b').received).toEqual([{ at: DEFAULT_LINK.latency.kind === 'constant' ? DEFAULT_LINK.latency.ns : NaN, from: 'a', body: { type: 'x' } }]);
    expect(proc('c').received).toEqual([{ at: 7 * NS_PER_US, from: 'a', body: { type: 'y' } }]);
    // setLink is symmetric by default.
    expect(proc('a').received).toEqual([{ at: 5 * NS_PER_MS + 7 * NS_PER_US, from: 'c', body: { type: 'z' } }]);
  });

  propTest.prop([fc.integer(), fc.array(fc.nat({ max: 3 * NS_PER_MS }), { minLength: 1, maxLength: 200 })], { numRuns: RUNS })(
    'a link with jittery latency and no reordering delivers in send order',
    (seed, gaps) => {
      const { fabric, scheduler, proc, ctx, at } = build(['a', 'b'], seed);
      fabric.setLink('a', 'b', link({ latency: { kind: 'uniform', minNs: 0, maxNs: 10 * NS_PER_MS }, reorderProbability: 0 }));
      let t = 0;
      gaps.forEach((gap, seq) => {
        t += gap % 3 === 0 ? 0 : gap; // a third of the sends share a send time with the previous one
        at(t, () => ctx('a').send('b', { type: 'seq', seq }));
      });
      scheduler.runUntilQuiescent();
      const got = proc('b').received.map((r) => r.body.seq);
      expect(got).toEqual(gaps.map((_, i) => i));
      const times = proc('b').received.map((r) => r.at);
      expect(times).toEqual([...times].sort((x, y) => x - y));
    },
  );

  test('jitter does occur, so the FIFO property above is not vacuous', () => {
    const { fabric, scheduler, proc, ctx } = build(['a', 'b']);
    fabric.setLink('a', 'b', link({ latency: { kind: 'uniform', minNs: 0, maxNs: 10 * NS_PER_MS } }));
    for (let i = 0; i < 50; i++) ctx('a').send('b', { type: 'seq', seq: i });
    scheduler.runUntilQuiescent();
    expect(new Set(proc('b').received.map((r) => r.at)).size).toBeGreaterThan(1);
  });

  test('with reorderProbability > 0 some messages overtake earlier ones', () => {
    const { fabric, scheduler, proc, ctx, at } = build(['a', 'b'], 3);
    fabric.setLink('a', 'b', link({ latency: { kind: 'uniform', minNs: NS_PER_MS, maxNs: 2 * NS_PER_MS }, reorderProbability: 0.3 }));
    for (let i = 0; i < 200; i++) at(i * 100 * NS_PER_US, () => ctx('a').send('b', { type: 'seq', seq: i }));
    scheduler.runUntilQuiescent();
    const got = proc('b').received.map((r) => r.body.seq as number);
    expect([...got].sort((x, y) => x - y)).toEqual(got.map((_, i) => i)); // nothing lost or duplicated
    const inversions = got.filter((seq, i) => i > 0 && seq < got[i - 1]).length;
    expect(inversions).toBeGreaterThan(0);
  });

  test('the same seed gives the same deliveries; another seed gives others', () => {
    const run = (seed: number) => {
      const { fabric, scheduler, proc, ctx } = build(['a', 'b'], seed);
      fabric.setLink('a', 'b', link({ latency: { kind: 'uniform', minNs: 0, maxNs: NS_PER_MS }, lossProbability: 0.2, reorderProbability: 0.2 }));
      for (let i = 0; i < 100; i++) ctx('a').send('b', { type: 'seq', seq: i });
      scheduler.runUntilQuiescent();
      return proc('b').received.map((r) => [r.at, r.body.seq]);
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });
});

describe('crash and restart', () => {
  test('a crash drops the process (volatile state); restart makes a new one with the next incarnation', () => {
    const { fabric, proc, ctx } = build(['a', 'b']);
    const first = proc('a');
    expect(fabric.info('a')).toEqual({ id: 'a', kind: 'test', up: true, incarnation: 1 });
    expect(ctx('a').incarnation).toBe(1);
    fabric.crash('a');
    expect(fabric.process('a')).toBeUndefined();
    expect(fabric.info('a')).toMatchObject({ up: false, incarnation: 1 });
    expect(first.ctx.isAlive()).toBe(false);
    fabric.restart('a');
    const second = proc('a');
    expect(second).not.toBe(first);
    expect(second.received).toEqual([]);
    expect(fabric.info('a')).toMatchObject({ up: true, incarnation: 2 });
    expect(ctx('a').incarnation).toBe(2);
    expect(ctx('a').isAlive()).toBe(true);
    expect(first.ctx.isAlive()).toBe(false);
  });

  test('the disk survives a crash: values and logs are kept', () => {
    const { fabric, ctx } = build(['a']);
    ctx('a').disk.put('term', { n: 3, voted: 'b' });
    ctx('a').disk.append('log', { op: 'set', k: 1 });
    ctx('a').disk.append('log', { op: 'set', k: 2 });
    fabric.crash('a');
    expect(fabric.disk('a').get('term')).toEqual({ n: 3, voted: 'b' }); // readable while down
    fabric.restart('a');
    const disk = ctx('a').disk;
    expect(disk.get('term')).toEqual({ n: 3, voted: 'b' });
    expect(disk.readLog('log')).toEqual([{ op: 'set', k: 1 }, { op: 'set', k: 2 }]);
    expect(disk.logLength('log')).toBe(2);
    expect(disk.keys()).toEqual(['term']);
  });

  test('disk values are copies in and out: mutating a put or a got object does not change the disk', () => {
    const { fabric, ctx } = build(['a']);
    const disk = ctx('a').disk;
    const value = { list: [1, 2], nested: { x: 1 } };
    disk.put('v', value);
    value.list.push(3);
    value.nested.x = 99;
    const got = disk.get<typeof value>('v')!;
    expect(got).toEqual({ list: [1, 2], nested: { x: 1 } });
    got.list.push(4);
    got.nested.x = 42;
    const entry = { seq: 1 };
    disk.append('log', entry);
    entry.seq = 2;
    disk.readLog<{ seq: number }>('log')[0].seq = 3;
    fabric.crash('a');
    fabric.restart('a');
    expect(ctx('a').disk.get('v')).toEqual({ list: [1, 2], nested: { x: 1 } });
    expect(ctx('a').disk.readLog('log')).toEqual([{ seq: 1 }]);
  });

  test('timers of a crashed incarnation never fire, even after a restart', () => {
    const { fabric, scheduler, ctx, at } = build(['a']);
    const fired: string[] = [];
    const old = ctx('a');
    old.setTimer(10 * NS_PER_MS, () => fired.push('old'));
    at(5 * NS_PER_MS, () => fabric.crash('a'));
    at(6 * NS_PER_MS, () => {
      fabric.restart('a');
      ctx('a').setTimer(10 * NS_PER_MS, () => fired.push('new'));
      old.setTimer(1, () => fired.push('old-after-restart')); // set through the dead context
    });
    scheduler.runUntilQuiescent();
    expect(fired).toEqual(['new']);
  });

  test('cancelTimer stops a live timer', () => {
    const { scheduler, ctx } = build(['a']);
    const fired: number[] = [];
    const h = ctx('a').setTimer(NS_PER_MS, () => fired.push(1));
    ctx('a').setTimer(2 * NS_PER_MS, () => fired.push(2));
    ctx('a').cancelTimer(h);
    scheduler.runUntilQuiescent();
    expect(fired).toEqual([2]);
  });

  test('sends from a dead context are ignored', () => {
    const { world, fabric, scheduler, proc, ctx } = build(['a', 'b']);
    const sends: unknown[] = [];
    world.trace.on('net.send', (e) => sends.push(e));
    const old = ctx('a');
    fabric.crash('a');
    old.send('b', { type: 'ghost' });
    fabric.restart('a');
    old.send('b', { type: 'ghost' });
    scheduler.runUntilQuiescent();
    expect(fabric.stats.sent).toBe(0);
    expect(sends).toEqual([]);
    expect(proc('b').received).toEqual([]);
  });

  test("messages to a crashed node are dropped with 'net.drop.crashed'", () => {
    const { world, fabric, scheduler, proc, ctx, at } = build(['a', 'b']);
    const drops: unknown[] = [];
    world.trace.on('net.drop.crashed', (e) => drops.push(e));
    ctx('a').send('b', { type: 'in-flight' }); // due at 1ms; b crashes at 0.5ms
    at(NS_PER_MS / 2, () => fabric.crash('b'));
    at(2 * NS_PER_MS, () => ctx('a').send('b', { type: 'to-down' })); // b is still down at 3ms
    at(10 * NS_PER_MS, () => {
      fabric.restart('b');
      ctx('a').send('b', { type: 'after-restart' });
    });
    scheduler.runUntilQuiescent();
    expect(drops).toEqual([
      { t: NS_PER_MS, type: 'net.drop.crashed', id: 1, src: 'a', dst: 'b' },
      { t: 3 * NS_PER_MS, type: 'net.drop.crashed', id: 2, src: 'a', dst: 'b' },
    ]);
    expect(fabric.stats.droppedCrashed).toBe(2);
    expect(proc('b').received.map((r) => r.body.type)).toEqual(['after-restart']);
  });

  test('a crashed node recorded at summary level shows in the trace', () => {
    const lines: string[] = [];
    const world = new World({ seed: 1, trace: 'summary', traceSink: { write: (l) => lines.push(l) } });
    world.fabric.addNode('a', (ctx) => new Recorder(ctx));
    world.fabric.crash('a');
    world.fabric.restart('a');
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { t: 0, type: 'node.start', node: 'a', kind: 'node', incarnation: 1 },
      { t: 0, type: 'fault.crash', node: 'a', incarnation: 1 },
      { t: 0, type: 'fault.restart', node: 'a', incarnation: 2 },
      { t: 0, type: 'node.start', node: 'a', kind: 'node', incarnation: 2 },
    ]);
  });
});

describe('partitions', () => {
  test('a groups partition cuts both ways between groups, not within a group or to outsiders; heal restores', () => {
    const { fabric, scheduler, proc, ctx, at } = build(['a', 'b', 'c', 'd']);
    fabric.partition('p', [['a', 'b'], ['c']]);
    expect(fabric.canReach('a', 'c')).toBe(false);
    expect(fabric.canReach('c', 'b')).toBe(false);
    expect(fabric.canReach('a', 'b')).toBe(true);
    expect(fabric.canReach('a', 'd')).toBe(true);
    for (const [s, d] of [['a', 'c'], ['c', 'b'], ['a', 'b'], ['d', 'c']]) ctx(s).send(d, { type: `${s}->${d}` });
    at(5 * NS_PER_MS, () => {
      fabric.heal('p');
      ctx('a').send('c', { type: 'healed' });
    });
    scheduler.runUntilQuiescent();
    expect(proc('c').received.map((r) => r.body.type)).toEqual(['d->c', 'healed']);
    expect(proc('b').received.map((r) => r.body.type)).toEqual(['a->b']);
    expect(fabric.stats.droppedPartition).toBe(2);
  });

  test('a one-way partition cuts only from → to', () => {
    const { fabric, scheduler, proc, ctx } = build(['a', 'b']);
    fabric.partitionOneWay('p', ['a'], ['b']);
    ctx('a').send('b', { type: 'lost' });
    ctx('b').send('a', { type: 'arrives' });
    scheduler.runUntilQuiescent();
    expect(proc('b').received).toEqual([]);
    expect(proc('a').received.map((r) => r.body.type)).toEqual(['arrives']);
  });

  test('a message in flight when a partition starts is dropped at delivery', () => {
    const { world, fabric, scheduler, proc, ctx, at } = build(['a', 'b']);
    const drops: { at: string }[] = [];
    world.trace.on('net.drop.partition', (e) => drops.push(e));
    ctx('a').send('b', { type: 'x' });
    at(NS_PER_MS / 2, () => fabric.partition('p', [['a'], ['b']]));
    scheduler.runUntilQuiescent();
    expect(proc('b').received).toEqual([]);
    expect(drops.map((d) => d.at)).toEqual(['delivery']);
  });

  test('a pair cut by two partitions stays cut until both are healed', () => {
    const { fabric } = build(['a', 'b']);
    fabric.partition('p1', [['a'], ['b']]);
    fabric.partitionOneWay('p2', ['a'], ['b']);
    fabric.heal('p1');
    expect(fabric.canReach('a', 'b')).toBe(false);
    expect(fabric.canReach('b', 'a')).toBe(true);
    fabric.heal();
    expect(fabric.canReach('a', 'b')).toBe(true);
    expect(fabric.activePartitions()).toEqual([]);
  });
});

describe('degrade and restore', () => {
  test('degrade lays settings over the links; restore brings the previous settings back', () => {
    const { fabric } = build(['a', 'b', 'c']);
    const base = link({ latency: { kind: 'constant', ns: 3 * NS_PER_MS } });
    fabric.setLink('a', 'b', base);
    const before = { ab: fabric.linkConfig('a', 'b'), ba: fabric.linkConfig('b', 'a'), ac: fabric.linkConfig('a', 'c'), bc: fabric.linkConfig('b', 'c') };
    fabric.degrade('d1', ['a'], ['b', 'c'], { lossProbability: 0.5 });
    expect(fabric.linkConfig('a', 'b')).toEqual({ ...base, lossProbability: 0.5 });
    expect(fabric.linkConfig('b', 'a')).toEqual({ ...base, lossProbability: 0.5 });
    expect(fabric.linkConfig('c', 'a')).toEqual({ ...DEFAULT_LINK, lossProbability: 0.5 });
    expect(fabric.linkConfig('b', 'c')).toEqual(before.bc);
    fabric.degrade('d2', ['a'], ['b'], { duplicateProbability: 0.1 }, false);
    expect(fabric.linkConfig('a', 'b')).toEqual({ ...base, lossProbability: 0.5, duplicateProbability: 0.1 });
    expect(fabric.linkConfig('b', 'a')).toEqual({ ...base, lossProbability: 0.5 });
    expect(fabric.activeDegradations()).toEqual(['d1', 'd2']);
    fabric.restore('d1');
    expect(fabric.linkConfig('a', 'b')).toEqual({ ...base, duplicateProbability: 0.1 });
    expect(fabric.linkConfig('b', 'a')).toEqual(before.ba);
    fabric.restore();
    expect(fabric.linkConfig('a', 'b')).toEqual(before.ab);
    expect(fabric.linkConfig('a', 'c')).toEqual(before.ac);
    expect(fabric.activeDegradations()).toEqual([]);
  });

  test('a degraded latency changes delivery time, and restore changes it back', () => {
    const { fabric, scheduler, proc, ctx, at } = build(['a', 'b']);
    fabric.degrade('slow', ['a'], ['b'], { latency: { kind: 'constant', ns: 50 * NS_PER_MS } });
    ctx('a').send('b', { type: 'slow' });
    at(100 * NS_PER_MS, () => {
      fabric.restore('slow');
      ctx('a').send('b', { type: 'fast' });
    });
    scheduler.runUntilQuiescent();
    expect(proc('b').received.map((r) => [r.body.type, r.at])).toEqual([
      ['slow', 50 * NS_PER_MS],
      ['fast', 101 * NS_PER_MS],
    ]);
  });
});

describe('bad input throws and changes nothing', () => {
  /** Everything observable about the fabric's configuration and liveness. */
  function snapshot(f: ReturnType<typeof build>['fabric']) {
    return {
      nodes: f.nodes(),
      partitions: f.activePartitions(),
      degradations: f.activeDegradations(),
      reach: f.nodeIds().flatMap((a) => f.nodeIds().map((b) => f.canReach(a, b))),
      links: f.nodeIds().flatMap((a) => f.nodeIds().map((b) => f.linkConfig(a, b))),
      stats: { ...f.stats },
    };
  }

  test.each<[string, (f: ReturnType<typeof build>['fabric']) => void, RegExp]>([
    ['crash of an unknown node', (f) => f.crash('zz'), /unknown node 'zz'/],
    ['restart of an unknown node', (f) => f.restart('zz'), /unknown node 'zz'/],
    ['crash of a down node', (f) => f.crash('c'), /already down/],
    ['restart of an up node', (f) => f.restart('a'), /'a'.*is up/],
    ['partition naming an unknown node', (f) => f.partition('p2', [['a'], ['zz']]), /unknown node 'zz'/],
    ['one-way partition naming an unknown node', (f) => f.partitionOneWay('p2', ['a'], ['zz']), /unknown node 'zz'/],
    ['overlapping partition groups', (f) => f.partition('p2', [['a', 'b'], ['b', 'c']]), /overlap at node 'b'/],
    ['overlapping one-way sides', (f) => f.partitionOneWay('p2', ['a'], ['a', 'b']), /overlap at node 'a'/],
    ['a duplicate partition id', (f) => f.partition('p1', [['b'], ['c']]), /'p1' is already active/],
    ['healing an unknown id', (f) => f.heal('nope'), /cannot heal 'nope'/],
    ['a duplicate degradation id', (f) => f.degrade('d1', ['b'], ['c'], { lossProbability: 0.1 }), /'d1' is already active/],
    ['a degradation naming an unknown node', (f) => f.degrade('d2', ['a', 'b'], ['zz'], { lossProbability: 0.1 }), /unknown node 'zz'/],
    ['a degradation with a bad probability', (f) => f.degrade('d2', ['a'], ['b'], { lossProbability: 2 }), /lossProbability/],
    ['restoring an unknown id', (f) => f.restore('nope'), /cannot restore 'nope'/],
    ['adding a node twice', (f) => f.addNode('a', (ctx) => new Recorder(ctx)), /'a' already exists/],
    ['a link with a bad latency', (f) => f.setLink('a', 'b', link({ latency: { kind: 'uniform', minNs: 5, maxNs: 1 } })), /maxNs/],
  ])('%s', (_name, act, message) => {
    const { fabric, scheduler, proc, ctx } = build(['a', 'b', 'c']);
    fabric.crash('c');
    fabric.partition('p1', [['a'], ['c']]);
    fabric.degrade('d1', ['a'], ['b'], { latency: { kind: 'constant', ns: 2 * NS_PER_MS } });
    const before = snapshot(fabric);
    let error: Error | undefined;
    try {
      act(fabric);
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toMatch(message);
    expect(error?.message).not.toContain('\n');
    expect(snapshot(fabric)).toEqual(before);
    // And the fabric still works as before.
    ctx('a').send('b', { type: 'still-works' });
    scheduler.runUntilQuiescent();
    expect(proc('b').received).toEqual([{ at: 2 * NS_PER_MS, from: 'a', body: { type: 'still-works' } }]);
  });

  test('sending to an unknown node throws', () => {
    const { ctx, fabric } = build(['a']);
    expect(() => ctx('a').send('zz', { type: 'x' })).toThrow(/unknown node 'zz'/);
    expect(fabric.stats.sent).toBe(0);
  });
});
