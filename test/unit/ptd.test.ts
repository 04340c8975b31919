// The PTD component (FIGS. 41–43, scenarios S9, S23, S24, S29): a slave's update goes through the master to
// every PTD and every NIB import module (PTD-less instances included); concurrent updates apply in one
// order everywhere; 'majority' vs 'all' commit with dead slaves and the error handler; a restarted replica
// reloads and catches up; failover keeps committed writes, while 'write-then-notify' can lose an
// acknowledged one; a stale master is fenced by epoch; retransmitted submissions are answered, not
// re-applied, across a master change too. The test plays the coordination manager: it names the master
// and epoch in the view and calls onViewChange.
import { describe, expect, test } from 'vitest';
import { NS_PER_MS } from '../../sim/kernel/time.ts';
import type { TraceLevel, TraceRecord } from '../../sim/kernel/trace.ts';
import { DEFAULT_LINK, type LinkConfig } from '../../sim/net/link.ts';
import type { Message, NodeId } from '../../sim/net/message.ts';
import type { NodeContext, NodeProcess } from '../../sim/net/node.ts';
import { PtdNode, type PtdOptions, type PtdView, type SubmitResult } from '../../sim/store/ptd.ts';
import type { PtdRecord, Transaction } from '../../sim/store/ptd-transaction.ts';
import { World } from '../../sim/testbed/world.ts';

interface PtdProcess extends NodeProcess {
  readonly ptd: PtdNode;
}

interface ClusterOptions {
  replicas: NodeId[];
  clients?: NodeId[];
  master: NodeId | null;
  ptd?: Partial<Pick<PtdOptions, 'commit' | 'order' | 'retransmitNs' | 'maxRetransmits' | 'heartbeatNs'>>;
  /** Prefixes every import module watches; default: everything. */
  watch?: string[];
  seed?: number;
  trace?: TraceLevel;
  link?: LinkConfig;
}

/** A world of PTD instances; the test is the coordination manager. */
function cluster(o: ClusterOptions) {
  const world = new World({ seed: o.seed ?? 1, trace: o.trace ?? 'summary', defaultLink: o.link });
  const ids = [...o.replicas, ...(o.clients ?? [])];
  let view: PtdView = { master: o.master, epoch: 1, replicas: o.replicas, importers: ids };
  /** Nodes held at an old view (a view change that has not reached them). */
  const lagging = new Map<NodeId, PtdView>();
  /** Each instance's NIB as its import module sees it, and the onChange calls it got (this incarnation). */
  const nibs = new Map<NodeId, Map<string, PtdRecord>>();
  const changeLog = new Map<NodeId, string[]>();
  const contexts = new Map<NodeId, NodeContext>();
  for (const id of ids) {
    world.fabric.addNode(
      id,
      (ctx): PtdProcess => {
        contexts.set(id, ctx);
        const nib = new Map<string, PtdRecord>();
        const calls: string[] = [];
        nibs.set(id, nib);
        changeLog.set(id, calls);
        const ptd = new PtdNode(ctx, {
          ...o.ptd,
          view: () => lagging.get(id) ?? view,
          hasReplica: o.replicas.includes(id),
          onChange: (key, record, index) => {
            if (record === null) nib.delete(key);
            else nib.set(key, record);
            calls.push(`${key}@${index}`);
          },
        });
        for (const p of o.watch ?? ['']) ptd.watch(p);
        return { ptd, onMessage: (from: NodeId, body: Message) => void ptd.onMessage(from, body) };
      },
      { kind: o.replicas.includes(id) ? 'replica' : 'client' },
    );
  }
  const ptd = (id: NodeId) => world.fabric.process<PtdProcess>(id)!.ptd;
  const live = () => ids.filter((id) => world.fabric.isUp(id));

  /** Names a new view (epoch + 1 unless given) and tells every live node not held back. */
  const setView = (next: Partial<PtdView>, holdBack: NodeId[] = []) => {
    for (const id of holdBack) lagging.set(id, view);
    view = { ...view, epoch: view.epoch + 1, ...next };
    for (const id of live()) if (!holdBack.includes(id)) ptd(id).onViewChange();
  };
  const release = (id: NodeId) => {
    lagging.delete(id);
    if (world.fabric.isUp(id)) ptd(id).onViewChange();
  };

  /** Submits at `id`; the returned list receives the answers (exactly one, we check). */
  const submit = (id: NodeId, txn: Transaction) => {
    const answers: SubmitResult[] = [];
    ptd(id).submit(txn, (r) => answers.push(r));
    return answers;
  };
  const runMs = (ms: number) => world.scheduler.runFor(ms * NS_PER_MS);
  const events = <K extends 'ptd.commit' | 'ptd.slave.flagged' | 'ptd.slave.unflagged' | 'ptd.reject-stale' | 'ptd.master.ready' | 'ptd.master.sync' | 'ptd.reload' | 'ptd.error' | 'ptd.master.deposed' | 'ptd.issue'>(type: K) => {
    const list: TraceRecord<K>[] = [];
    world.trace.on(type, (e) => list.push(e));
    return list;
  };

  const masterId = () => view.master!;
  const sorted = (m: ReadonlyMap<string, PtdRecord>) => JSON.stringify([...m].sort(([a], [b]) => (a < b ? -1 : 1)));

  /** Every replica equals the master (records and applied log); every NIB holds the master's records. */
  const expectConverged = () => {
    const master = ptd(masterId());
    for (const id of o.replicas) {
      expect(sorted(ptd(id).records()), `records of ${id}`).toBe(sorted(master.records()));
      expect(ptd(id).appliedLog(), `applied log of ${id}`).toEqual(master.appliedLog());
    }
    for (const id of ids) expect(sorted(nibs.get(id)!), `NIB of ${id}`).toBe(sorted(master.records()));
  };

  return { world, fabric: world.fabric, ptd, setView, release, submit, runMs, events, nibs, changeLog, contexts, expectConverged, view: () => view };
}

const put = (key: string, value: unknown): Transaction => ({ statements: [{ op: 'put', key, value }] });
const value = (p: PtdNode, key: string) => p.records().get(key)?.value;

describe('FIG. 43: the eight stages with a slave, the master, a PTD-less instance and a slave', () => {
  test('a slave’s change reaches every PTD through the master, then every import module', () => {
    const h = cluster({ replicas: ['s4350', 'm4360', 's4380'], clients: ['n4370'], master: 'm4360', ptd: { commit: 'all' }, trace: 'full' });
    h.runMs(20); // stage 1: steady state (the master has synchronised)
    expect(h.ptd('m4360').isReadyMaster).toBe(true);

    // Stages 2–8, observed on the wire and in the trace.
    const stages: string[] = [];
    h.world.trace.on('net.send', (e) => {
      const body = e.body as Message;
      const kind = body.type === 'ptd.report' ? `${body.type}:${String(body.kind)}` : body.type;
      if (['ptd.submit', 'ptd.append', 'ptd.report:ack', 'ptd.result', 'ptd.notify'].includes(kind)) stages.push(`${kind} ${e.src}>${e.dst}`);
    });
    h.world.trace.on('ptd.commit', (e) => stages.push(`commit ${e.index}`));
    const answers = h.submit('s4350', put('port/T1/1', { state: 'open' }));
    // The originating slave's PTD does not change on its own (FIG. 22 2210).
    h.runMs(0.5);
    expect(h.ptd('s4350').records().has('port/T1/1')).toBe(false);
    h.runMs(50);

    expect(answers).toEqual([{ ok: true, index: 2, outcome: { ok: true, reads: [], writes: ['port/T1/1'] } }]);
    const at = (s: string) => stages.indexOf(s);
    expect(at('ptd.submit s4350>m4360')).toBe(0); // stage 3
    for (const slave of ['s4350', 's4380']) {
      expect(at(`ptd.append m4360>${slave}`)).toBeGreaterThan(0); // stage 5
      expect(at(`ptd.report:ack ${slave}>m4360`)).toBeGreaterThan(at(`ptd.append m4360>${slave}`)); // stages 6–7
      expect(at('commit 2')).toBeGreaterThan(at(`ptd.report:ack ${slave}>m4360`)); // FIG. 42: record after the acks
    }
    expect(at('ptd.result m4360>s4350')).toBeGreaterThan(at('commit 2'));
    for (const importer of ['s4350', 's4380', 'n4370']) expect(at(`ptd.notify m4360>${importer}`)).toBeGreaterThan(at('commit 2')); // stage 8
    h.expectConverged();
    expect(value(h.ptd('n4370'), 'port/T1/1')).toEqual({ state: 'open' }); // the PTD-less instance's view
    for (const id of ['s4350', 'm4360', 's4380', 'n4370']) expect(h.changeLog.get(id)).toEqual(['port/T1/1@2']);
  });

  test('an importer gets only the keys under its prefixes, once per changed key', () => {
    const h = cluster({ replicas: ['m', 's'], clients: ['n'], master: 'm', watch: ['phys/'] });
    h.runMs(20);
    h.submit('n', { statements: [{ op: 'put', key: 'phys/a', value: 1 }, { op: 'put', key: 'lcp/x', value: 2 }, { op: 'put', key: 'phys/b', value: 3 }] });
    h.submit('s', { statements: [{ op: 'delete', key: 'phys/a' }, { op: 'put', key: 'phys/b', value: 3 }] });
    h.runMs(50);
    for (const id of ['m', 's', 'n']) {
      expect(h.changeLog.get(id)).toEqual(['phys/a@2', 'phys/b@2', 'phys/a@3', 'phys/b@3']);
      expect([...h.nibs.get(id)!.keys()]).toEqual(['phys/b']);
    }
    expect(value(h.ptd('s'), 'lcp/x')).toBe(2);
  });
});

describe('S9: concurrent updates from two slaves', () => {
  test('are applied in the master’s order by every PTD and every import module', () => {
    const jittery: LinkConfig = { ...DEFAULT_LINK, latency: { kind: 'uniform', minNs: 100_000, maxNs: 3 * NS_PER_MS }, reorderProbability: 0.2 };
    const h = cluster({ replicas: ['s1', 's2', 'm'], clients: ['n'], master: 'm', link: jittery, seed: 7 });
    h.runMs(30);
    const answers: SubmitResult[][] = [];
    for (let i = 0; i < 10; i++) {
      answers.push(h.submit('s1', { statements: [{ op: 'put', key: 'shared', value: `s1-${i}` }, { op: 'put', key: `s1/${i}`, value: i }] }));
      answers.push(h.submit('s2', { statements: [{ op: 'put', key: 'shared', value: `s2-${i}` }, { op: 'put', key: `s2/${i}`, value: i }] }));
    }
    h.runMs(200);
    expect(answers.every((a) => a.length === 1 && a[0].ok)).toBe(true);
    const indexes = answers.map((a) => (a[0].ok ? a[0].index : -1)).sort((x, y) => x - y);
    expect(indexes).toEqual(Array.from({ length: 20 }, (_, i) => i + 2)); // one slot each after the epoch's no-op
    h.expectConverged();
    const order = h.changeLog.get('m')!.filter((c) => c.startsWith('shared@'));
    expect(order).toHaveLength(20);
    for (const id of ['s1', 's2', 'n']) expect(h.changeLog.get(id)!.filter((c) => c.startsWith('shared@'))).toEqual(order);
  });
});

describe('determinism', () => {
  test('the same seed gives the same full trace, failover included', () => {
    const hash = (seed: number) => {
      const lossy: LinkConfig = { ...DEFAULT_LINK, latency: { kind: 'uniform', minNs: 100_000, maxNs: 3 * NS_PER_MS }, lossProbability: 0.05, reorderProbability: 0.2 };
      const h = cluster({ replicas: ['m', 's1', 's2'], clients: ['n'], master: 'm', link: lossy, seed, trace: 'full' });
      for (let i = 0; i < 8; i++) h.submit(['s1', 'n', 'm'][i % 3], put(`k${i % 3}`, i));
      h.runMs(30);
      h.fabric.crash('m');
      h.setView({ master: 's2' });
      h.runMs(500);
      return h.world.trace.hash();
    };
    expect(hash(3)).toBe(hash(3));
    expect(hash(3)).not.toBe(hash(4));
  });
});

describe('S23: commit policies and the error handler', () => {
  test("'majority' commits with a minority of slaves dead, without waiting for them", () => {
    const h = cluster({ replicas: ['m', 's1', 's2', 's3', 's4'], master: 'm' });
    const flagged = h.events('ptd.slave.flagged');
    h.runMs(20);
    h.fabric.crash('s3');
    h.fabric.crash('s4');
    const answers = h.submit('s1', put('k', 1));
    h.runMs(10);
    expect(answers).toMatchObject([{ ok: true, index: 2 }]);
    for (const id of ['m', 's1', 's2']) expect(value(h.ptd(id), 'k')).toBe(1);
    h.runMs(400);
    expect(flagged.map((e) => e.slave).sort()).toEqual(['s3', 's4']); // flagged for the administrator all the same
  });

  test("'all' waits for a dead slave through the retransmissions, then flags it and commits; it catches up later", () => {
    const h = cluster({ replicas: ['m', 's1', 's2'], master: 'm', ptd: { commit: 'all', retransmitNs: 50 * NS_PER_MS, maxRetransmits: 3 } });
    const flagged = h.events('ptd.slave.flagged');
    const unflagged = h.events('ptd.slave.unflagged');
    h.runMs(20);
    h.fabric.crash('s2');
    const t0 = h.world.now;
    const answers = h.submit('s1', put('k', 1));
    h.runMs(150);
    expect(answers).toEqual([]); // blocked on s2
    expect(value(h.ptd('m'), 'k')).toBeUndefined();
    h.runMs(100);
    expect(flagged).toMatchObject([{ node: 'm', slave: 's2', epoch: 1 }]);
    expect(flagged[0].t - t0).toBeGreaterThanOrEqual(4 * 50 * NS_PER_MS); // the original send and 3 retransmissions
    expect(answers).toMatchObject([{ ok: true, index: 2 }]);
    // Without s2, later updates commit at once.
    const later = h.submit('m', put('k2', 2));
    h.runMs(5);
    expect(later).toMatchObject([{ ok: true, index: 3 }]);

    h.fabric.restart('s2');
    h.runMs(50);
    expect(unflagged).toMatchObject([{ slave: 's2' }]);
    h.expectConverged();
    // Caught up, s2 is waited for again.
    h.fabric.crash('s2');
    const blocked = h.submit('s1', put('k3', 3));
    h.runMs(100);
    expect(blocked).toEqual([]);
  });

  test('a submitter gives up after maxRetransmits silent intervals: timeout, or no-master when none is named', () => {
    const h = cluster({ replicas: ['m', 's1'], clients: ['n'], master: 'm', ptd: { retransmitNs: 10 * NS_PER_MS, maxRetransmits: 2 } });
    const errors = h.events('ptd.error');
    h.runMs(20);
    h.fabric.crash('m');
    const a = h.submit('n', put('k', 1));
    h.runMs(29);
    expect(a).toEqual([]);
    h.runMs(2);
    expect(a).toMatchObject([{ ok: false, error: 'timeout' }]);
    h.setView({ master: null });
    const b = h.submit('n', put('k', 1));
    h.runMs(40);
    expect(b).toMatchObject([{ ok: false, error: 'no-master' }]);
    expect(errors.map((e) => [e.node, e.error])).toEqual([
      ['n', 'timeout'],
      ['n', 'no-master'],
    ]);
  });

  test('the master refuses a malformed transaction and says so', () => {
    const h = cluster({ replicas: ['m'], clients: ['raw'], master: 'm' });
    h.runMs(5);
    const replies: Message[] = [];
    h.world.trace.on('net.send', (e) => {
      if (e.dst === 'raw') replies.push(e.body as Message);
    });
    h.contexts.get('raw')!.send('m', { type: 'ptd.submit', request: { origin: 'raw', incarnation: 1, seq: 99 }, txn: { statements: [{ op: 'put', key: 'k' }] } });
    h.runMs(5);
    expect(replies).toContainEqual({ type: 'ptd.refused', request: { origin: 'raw', incarnation: 1, seq: 99 }, reason: 'bad transaction: statements[0].value: is required' });
    expect(h.ptd('m').records().size).toBe(0);
  });
});

describe('S29: a restarted replica', () => {
  test('reloads its PTD from disk, then catches up from the master and equals it', () => {
    const h = cluster({ replicas: ['m', 's1', 's2'], clients: ['n'], master: 'm' });
    h.runMs(20);
    for (let i = 0; i < 5; i++) h.submit('n', put(`early/${i}`, i));
    h.runMs(50);
    const before = [...h.ptd('s2').records()];
    h.fabric.crash('s2');
    // More than one append's worth, so the catch-up takes several rounds.
    for (let i = 0; i < 150; i++) h.submit('n', { statements: [{ op: 'put', key: `late/${i % 7}`, value: i }, { op: 'delete', key: `early/${i % 5}` }] });
    h.runMs(100);
    h.fabric.restart('s2');
    expect([...h.ptd('s2').records()]).toEqual(before); // straight from its disk
    h.runMs(100);
    h.expectConverged();
    expect(h.ptd('s2').appliedIndex).toBe(1 + 5 + 150); // the no-op and every write
  });

  test('a PTD-less instance re-reads its watched prefixes on restart', () => {
    const h = cluster({ replicas: ['m', 's1'], clients: ['n'], master: 'm' });
    h.runMs(20);
    h.submit('m', put('a', 1));
    h.runMs(20);
    h.fabric.crash('n');
    h.submit('s1', put('b', 2));
    h.runMs(20);
    h.fabric.restart('n');
    expect(h.nibs.get('n')!.size).toBe(0);
    h.runMs(20);
    h.expectConverged();
  });

  test('an importer that missed a notification re-reads its prefixes', () => {
    const h = cluster({ replicas: ['m', 's1'], clients: ['n'], master: 'm', ptd: { heartbeatNs: 100 * NS_PER_MS } });
    h.runMs(20);
    h.fabric.partitionOneWay('cut', ['m'], ['n']);
    h.submit('s1', put('a', 1));
    h.runMs(20);
    h.fabric.heal('cut');
    h.submit('s1', put('b', 2)); // arrives after a gap: buffered, then re-read
    h.runMs(100);
    h.expectConverged();
    h.fabric.partitionOneWay('cut', ['m'], ['n']);
    h.submit('s1', put('c', 3)); // the last one lost: the heartbeat shows the gap
    h.runMs(20);
    h.fabric.heal('cut');
    h.runMs(300);
    h.expectConverged();
  });
});

describe('master failover (the test plays the coordination manager)', () => {
  test('no committed write is lost: the new master adopts the longer log of a slave that acked', () => {
    const h = cluster({ replicas: ['m', 's1', 's2'], clients: ['n'], master: 'm' });
    const syncs = h.events('ptd.master.sync');
    h.runMs(20);
    h.fabric.partition('cut', [['m'], ['s1']]); // s1 misses the next writes; m and s2 are a majority
    const answers = [h.submit('n', put('a', 1)), h.submit('n', put('b', 2))];
    h.runMs(20);
    expect(answers.map((a) => a[0]?.ok)).toEqual([true, true]);
    expect(h.ptd('s1').records().size).toBe(0);
    h.fabric.crash('m');
    h.fabric.heal('cut');
    h.setView({ master: 's1' });
    const after = h.submit('n', put('c', 3));
    h.runMs(50);
    expect(syncs.at(-1)).toMatchObject({ node: 's1', epoch: 2, source: 's2', lastIndex: 3, lastEpoch: 1 });
    expect(after).toMatchObject([{ ok: true, index: 5 }]); // after a, b and the epoch-2 no-op
    for (const key of ['a', 'b', 'c']) expect(h.ptd('s1').records().has(key)).toBe(true);
    h.fabric.restart('m');
    h.runMs(300);
    h.expectConverged();
  });

  test('pending submissions move to the new master, which answers from the log instead of applying twice', () => {
    const h = cluster({ replicas: ['m', 's1', 's2'], clients: ['n'], master: 'm' });
    const issued = h.events('ptd.issue');
    h.runMs(20);
    // The write commits, but its answer to n is lost and m dies before n retransmits.
    h.fabric.partitionOneWay('deaf', ['m'], ['n']);
    const once: Transaction = { statements: [{ op: 'require', when: { kind: 'absent', key: 'once' }, error: 'applied twice' }, { op: 'put', key: 'once', value: 'n-1' }] };
    const answers = h.submit('n', once);
    h.runMs(10);
    h.fabric.crash('m');
    h.fabric.heal('deaf');
    h.setView({ master: 's2' });
    h.runMs(100);
    expect(answers).toEqual([{ ok: true, index: 2, outcome: { ok: true, reads: [], writes: ['once'] } }]);
    expect(issued.filter((e) => e.request?.startsWith('n#'))).toHaveLength(1);
  });

  test('a retransmitted submission is answered again, not re-applied', () => {
    const h = cluster({ replicas: ['m', 's1'], clients: ['n'], master: 'm', ptd: { retransmitNs: 10 * NS_PER_MS } });
    h.runMs(20);
    h.fabric.partitionOneWay('deaf', ['m'], ['n']);
    const once: Transaction = { statements: [{ op: 'require', when: { kind: 'absent', key: 'once' }, error: 'applied twice' }, { op: 'put', key: 'once', value: 1 }] };
    const answers = h.submit('n', once);
    h.runMs(35); // three retransmissions reach m
    h.fabric.heal('deaf');
    h.runMs(20);
    expect(answers).toMatchObject([{ ok: true, index: 2, outcome: { ok: true } }]);
    expect(h.ptd('m').appliedIndex).toBe(2);
  });

  /** The master is cut off with the submitter; it dies; the CM names s1. Returns n's answers and the end state. */
  function lostWriteSchedule(order: 'ack-then-write' | 'write-then-notify') {
    const h = cluster({ replicas: ['m', 's1', 's2'], clients: ['n'], master: 'm', ptd: { order } });
    const reloads = h.events('ptd.reload');
    h.runMs(20);
    h.fabric.partition('cut', [['m', 'n'], ['s1', 's2']]);
    const answers = h.submit('n', put('lost?', 'n-1'));
    h.runMs(10);
    const answeredBeforeCrash = answers.length;
    h.fabric.crash('m');
    h.fabric.heal('cut');
    h.setView({ master: 's1' });
    h.runMs(100);
    h.fabric.restart('m');
    h.runMs(500);
    h.expectConverged();
    return { answers, answeredBeforeCrash, survived: h.ptd('s1').records().has('lost?'), reloads };
  }

  test("'write-then-notify' can lose an acknowledged write (the ablation); the ex-master reloads", () => {
    const r = lostWriteSchedule('write-then-notify');
    expect(r.answeredBeforeCrash).toBe(1);
    expect(r.answers).toMatchObject([{ ok: true }]);
    expect(r.survived).toBe(false);
    expect(r.reloads).toMatchObject([{ node: 'm' }]);
  });

  test("'ack-then-write' under the same schedule answers only once the write is committed, and keeps it", () => {
    const r = lostWriteSchedule('ack-then-write');
    expect(r.answeredBeforeCrash).toBe(0);
    expect(r.answers).toMatchObject([{ ok: true }]);
    expect(r.survived).toBe(true);
    expect(r.reloads).toEqual([]);
  });

  test("'all' synchronisation goes on without a silent replica once its retransmissions run out, but never below a majority", () => {
    const h = cluster({ replicas: ['m', 's1', 's2'], master: 'm', ptd: { commit: 'all', retransmitNs: 10 * NS_PER_MS, maxRetransmits: 2 } });
    const ready = h.events('ptd.master.ready');
    const flagged = h.events('ptd.slave.flagged');
    h.runMs(20);
    h.fabric.crash('m');
    h.setView({ master: 's1' });
    h.runMs(25);
    expect(ready.filter((e) => e.epoch === 2)).toEqual([]); // still asking m
    h.runMs(20);
    expect(flagged).toMatchObject([{ node: 's1', slave: 'm', epoch: 2 }]);
    expect(ready.filter((e) => e.epoch === 2)).toMatchObject([{ node: 's1' }]);
    const a = h.submit('s2', put('k', 1));
    h.runMs(5);
    expect(a).toMatchObject([{ ok: true }]);

    // Alone, a master would commit on a minority: it neither synchronises nor commits.
    h.fabric.crash('s2');
    const b = h.submit('s1', put('k2', 2));
    h.runMs(100);
    expect(b).toEqual([]);
    expect(flagged.map((e) => e.slave)).toEqual(['m', 's2']);
    h.fabric.crash('s1');
    h.fabric.restart('s1');
    h.setView({ master: 's1' });
    h.runMs(200);
    expect(ready.filter((e) => e.epoch === 3)).toEqual([]);
    h.fabric.restart('m');
    h.runMs(100);
    expect(ready.filter((e) => e.epoch === 3)).toMatchObject([{ node: 's1' }]);
  });
});

describe('fencing by epoch', () => {
  test('a deposed master’s messages are refused once a newer epoch is known, and its write never lands', () => {
    const h = cluster({ replicas: ['m', 's1', 's2'], master: 'm' });
    const rejected = h.events('ptd.reject-stale');
    const deposed = h.events('ptd.master.deposed');
    h.runMs(20);
    h.fabric.partition('cut', [['m'], ['s1', 's2']]);
    h.setView({ master: 's1' }, ['m']); // m has not heard of epoch 2
    const stale = h.submit('m', put('stale', 1));
    h.runMs(30);
    h.fabric.heal('cut');
    h.runMs(30);
    expect(rejected.length).toBeGreaterThan(0);
    expect(rejected[0]).toMatchObject({ from: 'm', message: 'ptd.append', epoch: 1, promised: 2 });
    expect(deposed).toMatchObject([{ node: 'm', epoch: 1, newer: 2 }]);
    for (const id of ['s1', 's2']) expect(h.ptd(id).records().has('stale')).toBe(false);
    h.release('m');
    h.runMs(400);
    expect(stale).toMatchObject([{ ok: true }]); // retried with s1 once m learned of it
    h.expectConverged();
    expect(h.ptd('m').appliedLog().every((e) => e.index < 2 || e.epoch === 2)).toBe(true); // m's epoch-1 entry was truncated
  });
});

describe('bad input', () => {
  test('options, views, transactions and prefixes are checked with one-line errors', () => {
    const world = new World({ seed: 1, trace: 'off' });
    const view: PtdView = { master: 'a', epoch: 1, replicas: ['a'], importers: ['a'] };
    let made = 0;
    const make = (o: Partial<PtdOptions>) => () => world.fabric.addNode(`x${made++}`, (ctx) => new PtdNode(ctx, { view: () => view, hasReplica: true, ...o } as PtdOptions) as unknown as NodeProcess);
    expect(make({ commit: 'most' as 'all' })).toThrow("bad PTD options: commit must be 'all' or 'majority', got most");
    expect(make({ order: 'eventually' as 'ack-then-write' })).toThrow("bad PTD options: order must be 'ack-then-write' or 'write-then-notify', got eventually");
    expect(make({ retransmitNs: 0 })).toThrow('bad PTD options: retransmitNs must be a positive whole number of ns, got 0');
    expect(make({ maxRetransmits: 1.5 })).toThrow('bad PTD options: maxRetransmits must be a whole number, 0 or more, got 1.5');
    expect(make({ view: 'a' as unknown as () => PtdView })).toThrow('bad PTD options: view must be a function');
    expect(make({ view: () => ({ ...view, master: 'b' }) })).toThrow("bad PTD view: master 'b' is not among the replicas");

    const h = cluster({ replicas: ['m'], master: 'm' });
    const calls: SubmitResult[] = [];
    expect(() => h.ptd('m').submit({ statements: [{ op: 'frob' }] } as unknown as Transaction, (r) => calls.push(r))).toThrow("bad transaction: statements[0].op: unknown op 'frob'");
    expect(() => h.ptd('m').watch(3 as unknown as string)).toThrow('PTD watch: prefix must be a string, got number');
    h.runMs(50);
    expect(calls).toEqual([]);
    expect(h.ptd('m').appliedIndex).toBe(1); // only the epoch's no-op
  });
});
