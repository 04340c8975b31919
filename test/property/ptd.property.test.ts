// PTD properties under random submissions and random faults (crash/restart, partitions, loss, duplication,
// reordering), with the test playing the coordination manager: whenever the master is down or cut off from
// a majority of the replicas (or, at random times, when it wrongly suspects it), it names the next live
// replica that reaches a majority, with epoch + 1. The new view reaches each instance once the new master
// can reach it, so a cut-off ex-master carries on, stale. Then faults stop, links turn clean, every client
// reads every shared key once more, and the run goes on until everything settles.
// Checked (seed 000 §7, invariants 15–19, 21, 26, 29):
//   (a) replicas' applied logs agree wherever both applied an index (online under 'ack-then-write', at the
//       end always), and all replicas end with the master's records;
//   (b) every applied entry is one a master issued, and no (index, epoch) was issued twice;
//   (c) with 'ack-then-write' ('majority' or 'all'), every write answered ok is in the final state;
//   (d) every submission gets at most one answer, and exactly one if its submitter did not crash;
//   (e) every import module's view equals the master's records under the prefixes it watches;
//   (f) with 'ack-then-write', the clients' history on the shared keys is linearizable (sim/check's kv
//       model). Reads are `get` statements, ordered through the master's log like any transaction, so they
//       are held to the same standard as writes. 'write-then-notify' answers before replicating and a
//       cut-off master goes on answering, so it is not linearizable and is not held to (f).
// Submitted values are unique (`<node>-<n>`), which is what lets a read name the write it saw.
import { describe, expect } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { checkLinearizable, type HistoryOp } from '../../sim/check/linearizability.ts';
import { kvModel, type KvInput, type KvOutput, type Value } from '../../sim/check/linearizability-models.ts';
import { faultScheduleArbitrary } from '../../sim/faults/arbitrary.ts';
import type { FaultSchedule } from '../../sim/faults/schedule.ts';
import { FAULT_KINDS, type FaultSpace } from '../../sim/faults/windows.ts';
import { NS_PER_MS, NS_PER_US } from '../../sim/kernel/time.ts';
import type { LinkConfig } from '../../sim/net/link.ts';
import type { Message, NodeId } from '../../sim/net/message.ts';
import type { NodeProcess } from '../../sim/net/node.ts';
import { PtdNode, type PtdOptions, type PtdView, type SubmitResult } from '../../sim/store/ptd.ts';
import type { Condition, PtdRecord, Transaction, TxnOutcome } from '../../sim/store/ptd-transaction.ts';
import { World } from '../../sim/testbed/world.ts';

const runs = (fallback: number) => Number(process.env.NVSIM_PROPERTY_RUNS ?? fallback);

const FAULT_END_MS = 800;
const SUBMIT_END_MS = 1000;
const SETTLE_MS = 3000;
const CM_PERIOD_MS = 10;
/** When every client reads every shared key once more: faults and submissions are over by then. */
const FINAL_READS_MS = SUBMIT_END_MS + 1500;
const SLOTS = 3;
/**
 * Most submissions an instance keeps in flight; later ones wait their turn. It bounds the concurrency the
 * linearizability search faces (a long outage with unbounded submissions makes it exponential).
 */
const MAX_IN_FLIGHT = 2;

type Mode = { commit: 'majority' | 'all'; order: 'ack-then-write' | 'write-then-notify' };
/** Each kind is one kv operation on its shared key (a write also leaves its own `w/` record for (c)). */
type SubmitKind = 'write' | 'get' | 'cas' | 'swap' | 'delete';

interface Submission {
  atMs: number;
  node: number;
  kind: SubmitKind;
  /** Which shared key (s/0..s/<SLOTS-1>) it touches. */
  slot: number;
}

interface Case {
  mode: Mode;
  replicas: NodeId[];
  clients: NodeId[];
  submissions: Submission[];
  /** The fault period's link settings (swarm testing: each run draws its own). */
  link: { loss: number; duplicate: number; reorder: number };
  /** Times (ms) the coordination manager moves mastership although the master is fine (a false suspicion). */
  elections: number[];
  schedule: FaultSchedule;
}

const MODES: Mode[] = [
  { commit: 'majority', order: 'ack-then-write' },
  { commit: 'all', order: 'ack-then-write' },
  { commit: 'majority', order: 'write-then-notify' },
];

const caseArbitrary = (modes: Mode[]): fc.Arbitrary<Case> =>
  fc.record({ mode: fc.constantFrom(...modes), replicaCount: fc.constantFrom(3, 5), clientCount: fc.integer({ min: 1, max: 2 }) }).chain(({ mode, replicaCount, clientCount }) => {
    const replicas = Array.from({ length: replicaCount }, (_, i) => `r${i}`);
    const clients = Array.from({ length: clientCount }, (_, i) => `c${i}`);
    const nodes = [...replicas, ...clients];
    const space: FaultSpace = {
      nodes,
      protectedNodes: [],
      kinds: FAULT_KINDS,
      startNs: 0,
      endNs: FAULT_END_MS * NS_PER_MS,
      durationMinNs: NS_PER_MS,
      durationMaxNs: 400 * NS_PER_MS,
      maxFaults: 10,
      maxCrashed: replicaCount - 1,
    };
    const submission = fc.record({
      atMs: fc.integer({ min: 0, max: SUBMIT_END_MS }),
      node: fc.nat({ max: nodes.length - 1 }),
      kind: fc.constantFrom<SubmitKind>('write', 'write', 'get', 'cas', 'swap', 'delete'),
      slot: fc.nat({ max: SLOTS - 1 }),
    });
    return fc.record({
      mode: fc.constant(mode),
      replicas: fc.constant(replicas),
      clients: fc.constant(clients),
      submissions: fc.array(submission, { minLength: 1, maxLength: 60, size: 'medium' }),
      link: fc.record({ loss: fc.constantFrom(0, 0.02, 0.1), duplicate: fc.constantFrom(0, 0.05), reorder: fc.constantFrom(0, 0.05, 0.2) }),
      elections: fc.array(fc.integer({ min: 0, max: FAULT_END_MS }), { maxLength: 4 }),
      schedule: faultScheduleArbitrary(space),
    });
  });

const CLEAN_LINK: LinkConfig = {
  latency: { kind: 'uniform', minNs: 200 * NS_PER_US, maxNs: 3 * NS_PER_MS },
  lossProbability: 0,
  duplicateProbability: 0,
  reorderProbability: 0,
  reorderDelay: { kind: 'uniform', minNs: 0, maxNs: 5 * NS_PER_MS },
};

interface PtdProcess extends NodeProcess {
  readonly ptd: PtdNode;
}

/** What each import module watches: replicas everything, clients one family of keys each. */
const watchedPrefixes = (id: NodeId): string[] => (id.startsWith('r') ? [''] : id === 'c0' ? ['w/'] : ['s/']);

const sharedKey = (slot: number) => `s/${slot}`;

/**
 * The transaction a submission sends and the kv operation it stands for. `expected` (a cas's or swap's
 * comparand) is what the submitting instance last saw of the key, so that some of them succeed.
 */
function transaction(kind: SubmitKind, slot: number, id: string, expected: string | null): { txn: Transaction; op: KvInput } {
  const key = sharedKey(slot);
  const holdsExpected: Condition = expected === null ? { kind: 'absent', key } : { kind: 'equals', key, value: expected };
  switch (kind) {
    case 'write':
      // The `w/` record is (c)'s witness that the write survived; alone on its key, it would add nothing to (f).
      return { txn: { statements: [{ op: 'put', key: `w/${id}`, value: id }, { op: 'put', key, value: id }] }, op: { f: 'put', key, value: id } };
    case 'get':
      return { txn: { statements: [{ op: 'get', key }] }, op: { f: 'get', key } };
    case 'cas':
      // A failed require aborts the transaction: a definite "no", ordered in the log like any other answer.
      return { txn: { statements: [{ op: 'require', when: holdsExpected, error: 'value moved' }, { op: 'put', key, value: id }] }, op: { f: 'cas', key, expected, value: id } };
    case 'swap':
      // Compare-and-set by a guard: the transaction succeeds either way, and whether it wrote the key says whether it swapped.
      return { txn: { statements: [{ op: 'guard', when: holdsExpected, then: [{ op: 'put', key, value: id }] }] }, op: { f: 'cas', key, expected, value: id } };
    case 'delete':
      return { txn: { statements: [{ op: 'delete', key }] }, op: { f: 'delete', key } };
  }
}

/** A committed transaction's outcome in the kv model's terms. */
function kvOutput(op: KvInput, outcome: TxnOutcome): KvOutput {
  switch (op.f) {
    case 'get':
      if (!outcome.ok) throw new Error(`a get cannot fail, yet it answered ${outcome.error}`);
      return { value: (outcome.reads[0].record?.value ?? null) as Value | null };
    case 'cas':
      return { ok: outcome.ok && outcome.writes.includes(op.key) };
    case 'put':
    case 'delete':
      // These cannot fail; were one to, the model would refuse the history, as it should.
      return { ok: outcome.ok };
  }
}

interface Tracked {
  readonly id: string;
  readonly node: NodeId;
  readonly incarnation: number;
  readonly kind: SubmitKind;
  readonly op: KvInput;
  /** Virtual time of the submission and of the first answer (ns). */
  readonly call: number;
  answeredAt: number | null;
  readonly answers: SubmitResult[];
}

type KvOp = HistoryOp<KvInput, KvOutput>;

/**
 * The clients' history in the kv model's terms, one op per submission, in submission order.
 * Which answers are definite: a committed outcome is, a failed require included (the key did not hold the
 * expected value when the transaction's turn came). A timeout is not: the master may have logged the
 * transaction and commit it later, so is a crash of the submitter; both are unanswered ops (ret null),
 * free to take effect at any time after their call or never. 'refused' and 'no-master' mean no log ever
 * held the transaction, so they are left out.
 * Clients: an instance keeps several submissions in flight, while the checker's client issues one op at a
 * time and has nothing after an unanswered op. So each node incarnation is split into lanes, each a client
 * (`<node>#<incarnation>` for the first, `.<lane>` after): an op takes the first lane whose last op was
 * answered by its call, else opens one; an unanswered op closes its lane for good. A restarted node's ops
 * belong to new clients.
 */
function historyOf(tracked: readonly Tracked[]): KvOp[] {
  const ops: KvOp[] = [];
  /** Per node incarnation, each lane's last return time; null once an unanswered op closed it. */
  const lanes = new Map<string, (number | null)[]>();
  for (const t of tracked) {
    const a = t.answers[0];
    if (a !== undefined && !a.ok && a.error !== 'timeout') continue;
    const output = a?.ok ? kvOutput(t.op, a.outcome) : null;
    const ret = output === null ? null : t.answeredAt;
    const client = `${t.node}#${t.incarnation}`;
    const ends = lanes.get(client) ?? [];
    lanes.set(client, ends);
    let lane = ends.findIndex((end) => end !== null && end <= t.call);
    if (lane === -1) lane = ends.push(null) - 1;
    ends[lane] = ret;
    ops.push({ id: ops.length, client: lane === 0 ? client : `${client}.${lane}`, call: t.call, ret, input: t.op, output });
  }
  return ops;
}

/** Runs one case; `observe` may listen to the trace before anything happens. */
function run(seed: number, c: Case, observe?: (world: World) => void) {
  const faultyLink: LinkConfig = { ...CLEAN_LINK, lossProbability: c.link.loss, duplicateProbability: c.link.duplicate, reorderProbability: c.link.reorder };
  const world = new World({ seed, trace: 'off', defaultLink: faultyLink });
  observe?.(world);
  const nodes = [...c.replicas, ...c.clients];
  let view: PtdView = { master: c.replicas[0], epoch: 1, replicas: c.replicas, importers: nodes };
  /** The view each instance has heard of: a new one reaches only the instances the new master can reach. */
  const known = new Map<NodeId, PtdView>(nodes.map((id) => [id, view]));
  const nibs = new Map<NodeId, Map<string, PtdRecord>>();
  const options: Pick<PtdOptions, 'commit' | 'order'> = c.mode;
  for (const id of nodes) {
    world.fabric.addNode(id, (ctx): PtdProcess => {
      const nib = new Map<string, PtdRecord>();
      nibs.set(id, nib);
      const ptd = new PtdNode(ctx, {
        ...options,
        view: () => known.get(id)!,
        hasReplica: c.replicas.includes(id),
        onChange: (key, record) => (record === null ? nib.delete(key) : nib.set(key, record)),
      });
      for (const p of watchedPrefixes(id)) ptd.watch(p);
      return { ptd, onMessage: (from: NodeId, body: Message) => void ptd.onMessage(from, body) };
    });
  }
  const fabric = world.fabric;
  const ptd = (id: NodeId) => fabric.process<PtdProcess>(id)!.ptd;
  const violations: string[] = [];

  // (b) What the masters issued.
  const issued = new Set<string>();
  world.trace.on('ptd.issue', (e) => {
    const key = `${e.index}:${e.epoch}`;
    if (issued.has(key)) violations.push(`(b) entry ${key} issued twice`);
    issued.add(key);
  });

  // The coordination manager.
  const quorum = Math.floor(c.replicas.length / 2) + 1;
  const connected = (a: NodeId, b: NodeId) => a === b || (fabric.canReach(a, b) && fabric.canReach(b, a));
  const reachesMajority = (id: NodeId) => fabric.isUp(id) && c.replicas.filter((r) => connected(id, r)).length >= quorum;
  const cm = (suspectMaster: boolean) => {
    if (suspectMaster || view.master === null || !reachesMajority(view.master)) {
      const from = c.replicas.indexOf(view.master!) + 1;
      const rotated = [...c.replicas.slice(from), ...c.replicas.slice(0, from)];
      const next = rotated.find(reachesMajority);
      if (next !== undefined && next !== view.master) view = { ...view, master: next, epoch: view.epoch + 1 };
    }
    for (const id of nodes) {
      if (known.get(id) === view || !fabric.isUp(id) || !connected(view.master!, id)) continue;
      known.set(id, view);
      ptd(id).onViewChange();
    }
  };

  // (a) online: applied logs never disagree (an acknowledged order is never rewritten).
  const checkPrefixes = () => {
    const logs = c.replicas.filter((r) => fabric.isUp(r)).map((r) => [r, ptd(r).appliedLog()] as const);
    for (let i = 0; i < logs.length; i++) {
      for (let j = i + 1; j < logs.length; j++) {
        const [a, la] = logs[i];
        const [b, lb] = logs[j];
        const n = Math.min(la.length, lb.length);
        for (let k = 0; k < n; k++) {
          if (la[k].epoch !== lb[k].epoch) {
            violations.push(`(a) t=${world.now}: ${a} and ${b} applied different entries at ${la[k].index}`);
            return;
          }
        }
      }
    }
  };
  const endMs = SUBMIT_END_MS + SETTLE_MS;
  for (let t = 0; t <= endMs; t += CM_PERIOD_MS) {
    world.scheduler.at(t * NS_PER_MS, () => {
      cm(false);
      if (c.mode.order === 'ack-then-write' && violations.length === 0) checkPrefixes();
    });
  }

  for (const t of c.elections) world.scheduler.at(t * NS_PER_MS, () => cm(true));

  // Submissions, with unique values, at most MAX_IN_FLIGHT at a time per instance; a crash drops the
  // waiting ones with the process that would have sent them.
  const tracked: Tracked[] = [];
  const perNode = new Map<NodeId, number>();
  const waiting = new Map<NodeId, { incarnation: number; kind: SubmitKind; slot: number }[]>(nodes.map((id) => [id, []]));
  /** Per node incarnation (`<node>#<incarnation>`): a crashed one's submissions stay in flight for good. */
  const inFlight = new Map<string, number>();
  const incarnationOf = (node: NodeId) => `${node}#${fabric.info(node).incarnation}`;
  const send = (node: NodeId, kind: SubmitKind, slot: number) => {
    const n = (perNode.get(node) ?? 0) + 1;
    perNode.set(node, n);
    const id = `${node}-${n}`;
    const seen = ptd(node).records().get(sharedKey(slot));
    const { txn, op } = transaction(kind, slot, id, seen === undefined ? null : (seen.value as string));
    const t: Tracked = { id, node, incarnation: fabric.info(node).incarnation, kind, op, call: world.now, answeredAt: null, answers: [] };
    tracked.push(t);
    const sender = incarnationOf(node);
    inFlight.set(sender, (inFlight.get(sender) ?? 0) + 1);
    ptd(node).submit(txn, (r) => {
      t.answeredAt ??= world.now;
      t.answers.push(r);
      inFlight.set(sender, inFlight.get(sender)! - 1);
      world.scheduler.after(0, () => pump(node));
    });
  };
  const pump = (node: NodeId) => {
    const queue = waiting.get(node)!;
    const incarnation = fabric.info(node).incarnation;
    while (queue.length > 0 && (queue[0].incarnation !== incarnation || !fabric.isUp(node))) queue.shift();
    while (queue.length > 0 && (inFlight.get(incarnationOf(node)) ?? 0) < MAX_IN_FLIGHT) {
      const next = queue.shift()!;
      send(node, next.kind, next.slot);
    }
  };
  const submitAt = (atMs: number, node: NodeId, kind: SubmitKind, slot: number) =>
    world.scheduler.at(atMs * NS_PER_MS, () => {
      if (!fabric.isUp(node)) return;
      waiting.get(node)!.push({ incarnation: fabric.info(node).incarnation, kind, slot });
      pump(node);
    });
  for (const s of c.submissions) submitAt(s.atMs, nodes[s.node], s.kind, s.slot);
  for (const client of c.clients) for (let slot = 0; slot < SLOTS; slot++) submitAt(FINAL_READS_MS, client, 'get', slot);

  world.nemesis.load(c.schedule);
  world.scheduler.at(FAULT_END_MS * NS_PER_MS, () => {
    world.nemesis.quiesce();
    fabric.setDefaultLink(CLEAN_LINK);
  });
  world.scheduler.runUntil(endMs * NS_PER_MS);

  // ---- the final state ----
  const master = ptd(view.master!);
  const sorted = (m: ReadonlyMap<string, PtdRecord>) => JSON.stringify([...m].sort(([a], [b]) => (a < b ? -1 : 1)));
  if (!master.isReadyMaster) violations.push(`master ${view.master} (epoch ${view.epoch}) never became ready`);
  for (const r of c.replicas) {
    if (sorted(ptd(r).records()) !== sorted(master.records())) violations.push(`(a) records of ${r} differ from the master's`);
    const log = ptd(r).appliedLog();
    if (JSON.stringify(log) !== JSON.stringify(master.appliedLog())) violations.push(`(a) applied log of ${r} differs from the master's`);
    for (const e of log) if (!issued.has(`${e.index}:${e.epoch}`)) violations.push(`(b) ${r} applied ${e.index}:${e.epoch}, which no master issued`);
  }
  for (const t of tracked) {
    if (t.answers.length > 1) violations.push(`(d) ${t.id} answered ${t.answers.length} times`);
    if (t.answers.length === 0 && fabric.info(t.node).incarnation === t.incarnation) violations.push(`(d) ${t.id} never answered`);
    const a = t.answers[0];
    const durable = c.mode.order === 'ack-then-write';
    if (durable && t.kind === 'write' && a?.ok && a.outcome.ok && master.records().get(`w/${t.id}`)?.value !== t.id) {
      violations.push(`(c) acknowledged write ${t.id} (index ${a.index}) is not in the final state`);
    }
  }
  for (const id of nodes) {
    const prefixes = watchedPrefixes(id);
    const expected = new Map([...master.records()].filter(([k]) => prefixes.some((p) => k.startsWith(p))));
    if (sorted(nibs.get(id)!) !== sorted(expected)) violations.push(`(e) the import module of ${id} differs from the master's records`);
  }
  const history = historyOf(tracked);
  if (c.mode.order === 'ack-then-write') {
    const verdict = checkLinearizable(history, kvModel());
    if (verdict.ok !== true) violations.push(`(f) ${verdict.message}`);
  }
  return { violations, tracked, history };
}

describe('PTD under random faults', () => {
  test.prop([fc.integer(), caseArbitrary(MODES)], { numRuns: runs(300) })(
    'single order, no foreign entries, durable acknowledged writes, one answer each, converged import modules, linearizable clients',
    (seed, c) => {
      const { violations } = run(seed, c);
      expect(violations).toEqual([]);
    },
  );
});

/** Whether an answered op certainly changed its key: a put, a delete, or a cas that swapped. */
const changedKey = (o: KvOp) => o.output !== null && o.input.f !== 'get' && (o.input.f !== 'cas' || ('ok' in o.output && o.output.ok));

/**
 * The history with one answered read changed to return the value of a write that an answered later
 * change of the key had overwritten before the read was called: a lost write, as a broken store would
 * show it. Values are unique, so no linearization explains it. Null when the history has no such read.
 */
function withStaleRead(history: readonly KvOp[]): KvOp[] | null {
  for (const read of history) {
    if (read.input.f !== 'get' || read.ret === null) continue;
    const key = read.input.key;
    for (const older of history) {
      if (older.input.key !== key || !changedKey(older) || (older.input.f !== 'put' && older.input.f !== 'cas')) continue;
      const lostValue = older.input.value;
      const overwritten = history.some((o) => o.input.key === key && changedKey(o) && o.call > older.ret! && o.ret! < read.call);
      if (overwritten) return history.map((o) => (o === read ? { ...o, output: { value: lostValue } } : o));
    }
  }
  return null;
}

describe('the random cases exercise the protocol', () => {
  // Guards the property against passing vacuously: over a fixed sample, failovers, fencing, flagged slaves,
  // catch-up reloads, submitter errors, failed requires, committed writes, reads that see values, both
  // answers of a compare-and-set and operations whose outcome stays open all occur.
  test('failovers, fencing, flagging, reloads, errors and both outcomes show up', () => {
    const seen = new Map<string, number>();
    const bump = (k: string) => seen.set(k, (seen.get(k) ?? 0) + 1);
    for (const [seed, c] of fc.sample(fc.tuple(fc.integer(), caseArbitrary(MODES)), { seed: 42, numRuns: 25 })) {
      const { tracked, history } = run(seed, c, (world) => {
        world.trace.on('ptd.master.ready', (e) => e.epoch > 1 && bump('failover'));
        world.trace.on('ptd.reject-stale', () => bump('reject-stale'));
        world.trace.on('ptd.slave.flagged', () => bump('flagged'));
        world.trace.on('ptd.reload', () => bump('reload'));
      });
      for (const t of tracked) {
        const a = t.answers[0];
        if (a === undefined) bump('unanswered');
        else if (!a.ok) bump(`error:${a.error}`);
        else bump(a.outcome.ok ? 'ok' : 'require-failed');
      }
      for (const o of history) {
        if (o.output === null) bump('open outcome');
        else if ('value' in o.output) bump(o.output.value === null ? 'read nothing' : 'read a value');
        else if (o.input.f === 'cas') bump(o.output.ok ? 'cas swapped' : 'cas refused');
      }
    }
    const expected = ['failover', 'reject-stale', 'flagged', 'reload', 'error:timeout', 'ok', 'require-failed'];
    for (const k of [...expected, 'open outcome', 'read nothing', 'read a value', 'cas swapped', 'cas refused']) expect(seen.get(k) ?? 0, k).toBeGreaterThan(0);
  });

  test('the linearizability check rejects the same recordings with one read tampered into a stale one', () => {
    let tampered = 0;
    for (const [seed, c] of fc.sample(fc.tuple(fc.integer(), caseArbitrary(MODES.filter((m) => m.order === 'ack-then-write'))), { seed: 7, numRuns: 10 })) {
      const { history } = run(seed, c);
      expect(checkLinearizable(history, kvModel()).ok).toBe(true);
      const stale = withStaleRead(history);
      if (stale === null) continue;
      tampered++;
      expect(checkLinearizable(stale, kvModel()).ok).toBe(false);
    }
    expect(tampered).toBeGreaterThanOrEqual(5);
  });

  test("'write-then-notify', which answers before replicating, is caught losing acknowledged writes", () => {
    const ablation = MODES.filter((m) => m.order === 'write-then-notify');
    let caught = 0;
    for (const [seed, c] of fc.sample(fc.tuple(fc.integer(), caseArbitrary(ablation)), { seed: 42, numRuns: 30 })) {
      if (checkLinearizable(run(seed, c).history, kvModel()).ok === false) caught++;
    }
    expect(caught).toBeGreaterThan(0);
  });
});
