// The FIG. 43 stage checks (seed 000 §4.2, S24) for one PTD group — a set of PTD replicas and the import
// modules they serve, PTD-less instances included — read from the journal's PTD events. Every write is
// followed through its stages: (1) the master is steady (ready in its epoch), (2) the origin's NIB hands
// it to its PTD interface, (3) which forwards it to the master, (4) the master orders it and writes its PTD,
// (5) sends it to each slave, (6) each slave writes it, (7) the master gets their acks, (8) every import
// module takes the record. Checked: the stages come in the order the run's knobs prescribe — with
// 'ack-then-write' (FIG. 42) the master writes its PTD only once a majority ('majority') or every unflagged
// slave ('all') has acked; with 'write-then-notify' (FIG. 43) it writes before any slave is sent the entry —
// and no import module takes a record before the master has written it. At the end (liveness): every up
// PTD replica equals the master's, and every up import module's NIB — the PTD-less instances' first — holds
// the master's records. Owns this bookkeeping and its metrics; reads instances only through `ptdOf` and
// changes nothing.

import type { LivenessInvariant, SafetyInvariant } from '../../sim/check/invariant.ts';
import { NS_PER_MS } from '../../sim/kernel/time.ts';
import type { NodeId } from '../../sim/net/message.ts';
import type { PtdNode, PtdRecord } from '../../sim/store/ptd.ts';
import { canonicalJson } from '../../sim/store/ptd-transaction.ts';
import type { MetricValue, World } from '../../sim/testbed/index.ts';

export interface PtdStageOptions {
  /** Prefix of the invariant ids and the metric name, for worlds that hold several groups. Default 'ptd'. */
  label?: string;
  commit: 'all' | 'majority';
  order: 'ack-then-write' | 'write-then-notify';
  /** The group's PTD holders. */
  replicas: readonly NodeId[];
  /** Every instance's import module, PTD-less ones included. */
  importers: readonly NodeId[];
  /** An instance's PTD component, undefined while it is down. */
  ptdOf: (id: NodeId) => PtdNode | undefined;
}

type Role = 'master' | 'slave' | 'ptd-less';
const ROLES: readonly Role[] = ['slave', 'ptd-less', 'master'];

/** Where in the journal something happened: its position (stages at one instant still have an order) and time. */
interface Mark {
  readonly seq: number;
  readonly t: number;
}

/** One node's mastership of one epoch: whether it is ready, how far each slave matches, which are flagged. */
interface Mastership {
  readonly epoch: number;
  ready: boolean;
  readonly matches: Map<NodeId, number>;
  readonly flagged: Set<NodeId>;
}

interface Write {
  readonly request: string;
  readonly origin: NodeId;
  readonly role: Role;
  readonly master: NodeId;
  readonly epoch: number;
  readonly index: number;
  readonly requested: Mark | undefined;
  readonly forwarded: Mark | undefined;
  readonly issued: Mark;
  written: Mark | undefined;
  readonly replicated: Map<NodeId, Mark>;
  readonly installed: Map<NodeId, Mark>;
  readonly acked: Map<NodeId, Mark>;
  readonly imported: Map<NodeId, Mark>;
}

export class PtdStageChecks {
  private readonly label: string;
  private readonly members: Set<NodeId>;
  private seq = 0;
  private readonly violations: string[] = [];
  private listener: ((detail: string) => void) | null = null;
  /** Submissions: request key → origin, when handed over and when first forwarded to each master. */
  private readonly requests = new Map<string, { origin: NodeId; requested: Mark; forwarded: Map<NodeId, Mark> }>();
  /** Ordered entries by `index@epoch` (only the master of an epoch creates that epoch's entries). */
  private readonly writes = new Map<string, Write>();
  private readonly writesOfEpoch = new Map<number, Write[]>();
  /** Indexes some master has written (committed) with a transaction; an import of that version may follow. */
  private readonly writtenIndexes = new Set<number>();
  /** The tracked write each written index holds. */
  private readonly writtenWrites = new Map<number, Write>();
  /** Masterships in force, by node. */
  private readonly masters = new Map<NodeId, Mastership>();
  /** Each import module's NIB as the journal shows it: key → record version (null: deleted). */
  private readonly nibs = new Map<NodeId, Map<string, number | null>>();
  private lastReady: { node: NodeId; epoch: number } | null = null;
  /** Every mastership that became ready, for the metric. */
  private readonly readyMasters: Array<{ node: NodeId; epoch: number; atMs: number }> = [];

  constructor(
    private readonly world: World,
    private readonly options: PtdStageOptions,
  ) {
    this.label = options.label ?? 'ptd';
    this.members = new Set([...options.replicas, ...options.importers]);
    this.listen();
  }

  installInvariants(): this {
    const w = this.world;
    const order: SafetyInvariant = {
      kind: 'safety',
      id: `${this.label}-stage-order`,
      description: `each PTD write goes through the FIG. 43 stages in the order '${this.options.order}' with '${this.options.commit}' commit prescribes`,
      watch: (violated) => {
        this.listener = violated;
        for (const v of this.violations) violated(v);
      },
      atEnd: () => this.checkChains(),
    };
    const replicas: LivenessInvariant = {
      kind: 'liveness',
      id: `${this.label}-replicas-equal`,
      description: 'every up PTD replica holds the master PTD’s records and applied log',
      holds: () => this.replicasEqual(),
    };
    const nibs: LivenessInvariant = {
      kind: 'liveness',
      id: `${this.label}-nibs-converge`,
      description: 'every up import module, PTD-less instances included, holds the master PTD’s records',
      holds: () => this.nibsConverged(),
    };
    w.invariant(order);
    w.invariant(replicas);
    w.invariant(nibs);
    return this;
  }

  /** `<label>Stages`: the masters, writes by origin role and how many went through all eight stages, and one example. */
  installMetrics(): this {
    this.world.metric(`${this.label}Stages`, () => {
      const byRole: Record<string, MetricValue> = {};
      for (const role of ROLES) {
        const list = [...this.writes.values()].filter((w) => w.role === role);
        byRole[role] = {
          issued: list.length,
          written: list.filter((w) => w.written !== undefined).length,
          allEightStages: list.filter((w) => this.complete(w)).length,
          reachedEveryImporter: list.filter((w) => w.written !== undefined && this.options.importers.every((id) => w.imported.has(id))).length,
        };
      }
      const example = [...this.writes.values()].find((w) => w.role === 'slave' && this.complete(w));
      return { order: this.options.order, commit: this.options.commit, masters: [...this.readyMasters], byRole, exampleSlaveWrite: example === undefined ? null : this.timeline(example) };
    });
    return this;
  }

  // ---- the journal -----------------------------------------------------------------------------------------

  private listen(): void {
    const trace = this.world.trace;
    const mine = (node: NodeId) => this.members.has(node);
    const mark = (t: number): Mark => ({ seq: ++this.seq, t });
    trace.on('fault.crash', (e) => {
      if (!mine(e.node)) return;
      this.masters.delete(e.node);
      this.nibs.delete(e.node); // the import module is volatile: it re-reads everything when it comes back
    });
    trace.on('ptd.master.sync', (e) => {
      if (mine(e.node)) this.mastership(e.node, e.epoch);
    });
    trace.on('ptd.master.ready', (e) => {
      if (!mine(e.node)) return;
      this.mastership(e.node, e.epoch).ready = true;
      this.lastReady = { node: e.node, epoch: e.epoch };
      this.readyMasters.push({ node: e.node, epoch: e.epoch, atMs: e.t / NS_PER_MS });
    });
    trace.on('ptd.master.deposed', (e) => {
      if (mine(e.node)) this.masters.delete(e.node);
    });
    // A new master flags silent replicas while it synchronises, before its 'ptd.master.sync'.
    trace.on('ptd.slave.flagged', (e) => {
      if (mine(e.node)) this.mastership(e.node, e.epoch).flagged.add(e.slave);
    });
    trace.on('ptd.slave.unflagged', (e) => {
      if (mine(e.node)) this.mastership(e.node, e.epoch).flagged.delete(e.slave);
    });
    // Any node may submit (a client need not be an importer); request keys name their origin, so never clash.
    trace.on('ptd.request', (e) => {
      this.requests.set(e.request, { origin: e.node, requested: mark(e.t), forwarded: new Map() });
    });
    trace.on('ptd.forward', (e) => {
      const r = this.requests.get(e.request);
      if (r !== undefined && !r.forwarded.has(e.master)) r.forwarded.set(e.master, mark(e.t));
    });
    trace.on('ptd.issue', (e) => {
      if (!mine(e.node) || e.request === null) return;
      const at = mark(e.t);
      const m = this.masters.get(e.node);
      if (m?.epoch !== e.epoch || !m.ready) this.fail(`stage 1: ${e.node} ordered ${e.request} at ${e.index} without being the ready master of epoch ${e.epoch}`);
      const r = this.requests.get(e.request);
      const origin = r?.origin ?? e.request.slice(0, e.request.indexOf('#'));
      const role: Role = origin === e.node ? 'master' : this.options.replicas.includes(origin) ? 'slave' : 'ptd-less';
      const w: Write = {
        request: e.request,
        origin,
        role,
        master: e.node,
        epoch: e.epoch,
        index: e.index,
        requested: r?.requested,
        forwarded: r?.forwarded.get(e.node),
        issued: at,
        written: undefined,
        replicated: new Map(),
        installed: new Map(),
        acked: new Map(),
        imported: new Map(),
      };
      this.writes.set(`${e.index}@${e.epoch}`, w);
      let list = this.writesOfEpoch.get(e.epoch);
      if (list === undefined) this.writesOfEpoch.set(e.epoch, (list = []));
      list.push(w);
    });
    trace.on('ptd.commit', (e) => {
      if (!mine(e.node)) return;
      const at = mark(e.t);
      if (e.origin !== null && e.ok) this.writtenIndexes.add(e.index);
      this.checkCommit(e.node, e.index);
      const w = this.writes.get(`${e.index}@${e.epoch}`);
      if (w !== undefined && w.written === undefined) {
        w.written = at;
        this.writtenWrites.set(e.index, w);
      }
    });
    trace.on('ptd.replicate', (e) => {
      if (!mine(e.node)) return;
      const at = mark(e.t);
      this.forRange(e.epoch, e.first, e.last, (w) => {
        if (!w.replicated.has(e.slave)) w.replicated.set(e.slave, at);
      });
    });
    trace.on('ptd.install', (e) => {
      if (!mine(e.node)) return;
      const at = mark(e.t);
      this.forRange(e.epoch, e.first, e.last, (w) => {
        if (!w.installed.has(e.node)) w.installed.set(e.node, at);
      });
    });
    trace.on('ptd.ack', (e) => {
      if (!mine(e.node)) return;
      const at = mark(e.t);
      const { matches } = this.mastership(e.node, e.epoch);
      matches.set(e.slave, Math.max(matches.get(e.slave) ?? 0, e.match));
      for (const w of this.writesOfEpoch.get(e.epoch) ?? []) if (w.index <= e.match && !w.acked.has(e.slave)) w.acked.set(e.slave, at);
    });
    trace.on('ptd.import', (e) => {
      if (!mine(e.node)) return;
      const at = mark(e.t);
      let nib = this.nibs.get(e.node);
      if (nib === undefined) this.nibs.set(e.node, (nib = new Map()));
      nib.set(e.key, e.version);
      if (e.version === null) return;
      if (!this.writtenIndexes.has(e.version)) this.fail(`stage 8: ${e.node} imported ${e.key} version ${e.version} before any master wrote it`);
      const w = this.writtenWrites.get(e.version);
      if (w !== undefined && !w.imported.has(e.node)) w.imported.set(e.node, at);
    });
  }

  /** `node`'s mastership of `epoch`, started afresh when it masters a newer epoch. */
  private mastership(node: NodeId, epoch: number): Mastership {
    let m = this.masters.get(node);
    if (m === undefined || m.epoch !== epoch) this.masters.set(node, (m = { epoch, ready: false, matches: new Map(), flagged: new Set() }));
    return m;
  }

  private forRange(epoch: number, first: number, last: number, each: (w: Write) => void): void {
    for (let i = first; i <= last; i++) {
      const w = this.writes.get(`${i}@${epoch}`);
      if (w !== undefined) each(w);
    }
  }

  // ---- the checks ------------------------------------------------------------------------------------------

  /** Stage 4's write against stage 7, as the knobs prescribe, at the moment the master writes index `index`. */
  private checkCommit(master: NodeId, index: number): void {
    const slaves = this.options.replicas.filter((id) => id !== master);
    const m = this.masters.get(master);
    if (this.options.order === 'write-then-notify') {
      const w = m === undefined ? undefined : this.writes.get(`${index}@${m.epoch}`);
      if (w !== undefined && w.written === undefined && w.replicated.size > 0) {
        this.fail(`write-then-notify: ${master} sent ${w.request} (index ${index}) to ${[...w.replicated.keys()].join(', ')} before writing its own PTD`);
      }
      return;
    }
    const matches = m?.matches ?? new Map<NodeId, number>();
    const acked = slaves.filter((id) => (matches.get(id) ?? 0) >= index);
    const needed = Math.floor((slaves.length + 1) / 2); // a majority of the replicas, the master counted
    if (acked.length < needed) {
      this.fail(`ack-then-write: ${master} wrote index ${index} with acks from ${acked.length} slave(s) (${acked.join(', ') || 'none'}), fewer than a majority needs (${needed})`);
    }
    if (this.options.commit === 'all') {
      const flagged = m?.flagged ?? new Set<NodeId>();
      const missing = slaves.filter((id) => !acked.includes(id) && !flagged.has(id));
      if (missing.length > 0) this.fail(`ack-then-write/all: ${master} wrote index ${index} without acks from unflagged ${missing.join(', ')}`);
    }
  }

  /** Stages 2 → 3 → 4 and, per slave, 5 → 6 → 7, wherever present; stage 8 only after the master's write. */
  private checkChains(): true | string {
    for (const w of this.writes.values()) {
      const chain: Array<[string, Mark | undefined]> = [
        ['2 handed to the PTD interface', w.requested],
        [`3 forwarded to ${w.master}`, w.forwarded],
        ['4 ordered by the master', w.issued],
      ];
      const broken = outOfOrder(chain);
      if (broken !== null) return `${w.request} (index ${w.index}@${w.epoch}): stage ${broken}`;
      for (const slave of w.replicated.keys()) {
        const perSlave = outOfOrder([
          ['4 ordered', w.issued],
          [`5 sent to ${slave}`, w.replicated.get(slave)],
          [`6 written by ${slave}`, w.installed.get(slave)],
          [`7 acked by ${slave}`, w.acked.get(slave)],
        ]);
        if (perSlave !== null) return `${w.request} (index ${w.index}@${w.epoch}): stage ${perSlave}`;
      }
      for (const [importer, at] of w.imported) {
        if (w.written === undefined || at.seq < w.written.seq) return `${w.request}: ${importer} imported it before the master wrote it`;
      }
    }
    return true;
  }

  private replicasEqual(): true | string {
    const master = this.master();
    if (master === null) return 'no ready master PTD';
    const want = recordsJson(master.ptd.records());
    const log = JSON.stringify(master.ptd.appliedLog());
    for (const id of this.options.replicas) {
      const p = this.options.ptdOf(id);
      if (p === undefined || id === master.id) continue;
      if (recordsJson(p.records()) !== want) return `${id}'s PTD records differ from the master ${master.id}'s`;
      if (JSON.stringify(p.appliedLog()) !== log) return `${id}'s applied log differs from the master ${master.id}'s`;
    }
    return true;
  }

  private nibsConverged(): true | string {
    const master = this.master();
    if (master === null) return 'no ready master PTD';
    const records = master.ptd.records();
    for (const id of this.options.importers) {
      const p = this.options.ptdOf(id);
      if (p === undefined) continue;
      if (!this.options.replicas.includes(id) && recordsJson(p.records()) !== recordsJson(records)) return `PTD-less ${id}'s imported records differ from the master ${master.id}'s`;
      const nib = this.nibs.get(id) ?? new Map<string, number | null>();
      for (const [key, record] of records) if (nib.get(key) !== record.version) return `${id}'s NIB has ${key} at version ${nib.get(key) ?? 'none'}, the master PTD at ${record.version}`;
      for (const [key, version] of nib) if (version !== null && !records.has(key)) return `${id}'s NIB has ${key}, which the master PTD does not`;
    }
    return true;
  }

  /** The ready master of the newest epoch, if it is up and still ready. */
  private master(): { id: NodeId; ptd: PtdNode } | null {
    const r = this.lastReady;
    const ptd = r === null ? undefined : this.options.ptdOf(r.node);
    return r !== null && ptd !== undefined && ptd.isReadyMaster ? { id: r.node, ptd } : null;
  }

  private complete(w: Write): boolean {
    const slaves = this.options.replicas.filter((id) => id !== w.master);
    return (
      w.requested !== undefined &&
      w.forwarded !== undefined &&
      w.written !== undefined &&
      slaves.every((s) => w.replicated.has(s) && w.installed.has(s) && w.acked.has(s)) &&
      this.options.importers.every((id) => w.imported.has(id))
    );
  }

  /** One write's stages as `[stage, node, ms]`, in journal order. */
  private timeline(w: Write): MetricValue {
    const rows: Array<[number, string, NodeId, Mark]> = [
      [2, 'handed to the PTD interface', w.origin, w.requested!],
      [3, 'forwarded to the master', w.origin, w.forwarded!],
      [4, 'ordered by the master', w.master, w.issued],
      [4, 'written to the master PTD', w.master, w.written!],
    ];
    for (const [s, at] of w.replicated) rows.push([5, 'sent to slave', s, at]);
    for (const [s, at] of w.installed) rows.push([6, 'written by slave', s, at]);
    for (const [s, at] of w.acked) rows.push([7, 'ack reached the master', s, at]);
    for (const [s, at] of w.imported) rows.push([8, 'imported into the NIB', s, at]);
    rows.sort((a, b) => a[3].seq - b[3].seq);
    return { request: w.request, origin: w.origin, master: w.master, index: w.index, stages: rows.map(([stage, what, node, at]) => ({ stage, what, node, atMs: at.t / NS_PER_MS })) };
  }

  private fail(detail: string): void {
    this.violations.push(detail);
    this.listener?.(detail);
  }
}

/** The first stage that is missing while a later one happened, or happened before an earlier one. */
function outOfOrder(chain: ReadonlyArray<[string, Mark | undefined]>): string | null {
  let last: Mark | undefined;
  let lastName = '';
  for (let i = chain.length - 1; i >= 0; i--) {
    const [name, at] = chain[i];
    if (at === undefined) {
      if (last !== undefined) return `${name} is missing, though ${lastName} happened`;
      continue;
    }
    if (last !== undefined && at.seq > last.seq) return `${name} came after ${lastName}`;
    last = at;
    lastName = name;
  }
  return null;
}

function recordsJson(records: ReadonlyMap<string, PtdRecord>): string {
  return canonicalJson([...records].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, r]) => [key, r.version, r.value]));
}
