// One controller instance as a node on the fabric: it subscribes to the northbound database, learns the
// physical facts (which VIF is on which chassis, tunnel ports) from its switches' hello and port-status
// messages, runs the control program incrementally on every change, and hands each chassis' flow changes
// to the switch manager. Owns the wiring between those; the rules are control-program.ts's, the channel
// switch-manager.ts's. One instance masters every switch and every LDPS for now (the cluster issue
// splits that).
//
// Durable state (survives a crash): the physical facts last reported by each switch, so a restarted
// controller can recompute and resynchronise switches that will not say hello again. The logical
// configuration is not kept: it comes back from the northbound database as a snapshot.

import type { Nanos } from '../kernel/time.ts';
import type { Message, NodeContext, NodeId, NodeProcess } from '../net/index.ts';
import type { Port } from '../dataplane/ports.ts';
import type { SwitchToController } from '../dataplane/openflow.ts';
import { isOpenflowMessage } from '../dataplane/openflow.ts';
import type { Flow } from '../dataplane/flow.ts';
import { RELATION_ORDER, type Delta, type RelationName, type Snapshot } from '../logical/relations.ts';
import { deleteTuple, insertTuple, type Change } from '../rules/index.ts';
import { buildControlProgram, type ControlProgram } from './control-program.ts';
import { rowToFlow, type FlowRow } from './flow-text.ts';
import { NB_DEFAULT_HEARTBEAT_NS, type NorthboundMessage } from './northbound-node.ts';
import { SwitchManager } from './switch-manager.ts';

declare module '../kernel/trace.ts' {
  interface TraceEventMap {
    /** One incremental computation: the input changes and the physical flow changes they caused. */
    'ctl.compute': { controller: NodeId; cause: string; inputChanges: number; flowsRemoved: number; flowsAdded: number };
    'ctl.nb.resubscribe': { controller: NodeId; reason: string };
  }
}

export interface ControllerOptions {
  northbound: NodeId;
  /** Chassis to use as pool nodes for flood and unknown-destination replication (none: replicate at the source). */
  poolNodes?: readonly NodeId[];
  generationId: number;
  replyDeadlineNs: Nanos;
}

export const DEFAULT_CONTROLLER_OPTIONS: Omit<ControllerOptions, 'northbound'> = { generationId: 1, replyDeadlineNs: 300_000_000 };

type PortFacts = Record<NodeId, Port[]>;
const FACTS_KEY = 'ctl/switch-ports';

export class ControllerNode implements NodeProcess {
  readonly program: ControlProgram;
  readonly switches: SwitchManager;
  private readonly ports = new Map<NodeId, Port[]>();
  private nbSeq = -1;
  private lastNbHeard: Nanos = 0;

  constructor(
    private readonly ctx: NodeContext,
    private readonly options: ControllerOptions,
  ) {
    this.program = buildControlProgram();
    this.switches = new SwitchManager(ctx, options);
    // Compute for every datapath: one instance is master of all of them for now.
    this.program.engine.apply((options.poolNodes ?? []).map((chassis) => insertTuple(this.program.physical.poolNode, { chassis })));
    const saved = ctx.disk.get<PortFacts>(FACTS_KEY) ?? {};
    for (const [id, ports] of Object.entries(saved)) {
      this.ports.set(id, ports);
      this.switches.connect(id);
    }
    this.recompute('restart', this.physicalChanges(new Map(), this.ports));
    this.subscribe('start');
    this.watchNorthbound();
  }

  onMessage(from: NodeId, body: Message): void {
    if (body.type.startsWith('nb.')) return this.onNorthbound(body as unknown as NorthboundMessage);
    if (!isOpenflowMessage(body)) return;
    const m = body as unknown as SwitchToController;
    if (m.type === 'of.hello') return this.onSwitchPorts(from, [...m.ports], true);
    if (m.type === 'of.port-status') {
      const current = this.ports.get(from) ?? [];
      const next = m.reason === 'add' ? [...current.filter((p) => p.number !== m.port.number), m.port] : current.filter((p) => p.number !== m.port.number);
      return this.onSwitchPorts(from, next, false);
    }
    this.switches.onMessage(from, m);
  }

  /** The flows this controller wants on a switch (for checkers). */
  desiredFlows(id: NodeId): Flow[] {
    return this.switches.desiredFlows(id);
  }

  private onSwitchPorts(id: NodeId, ports: Port[], hello: boolean): void {
    const before = new Map(this.ports);
    this.ports.set(id, ports);
    this.ctx.disk.put(FACTS_KEY, Object.fromEntries(this.ports));
    if (hello) this.switches.connect(id);
    this.recompute(hello ? `hello ${id}` : `port-status ${id}`, this.physicalChanges(before, this.ports));
  }

  /** Engine changes that turn the facts in `before` into those in `after` (VIF locations, tunnels). */
  private physicalChanges(before: Map<NodeId, Port[]>, after: Map<NodeId, Port[]>): Change[] {
    const { vifLocation, tunnelPort, physicalPort } = this.program.physical;
    const facts = (ports: Map<NodeId, Port[]>) => {
      const vifs = new Map<string, { vif_id: string; chassis: string; ofport: number }>();
      const tunnels = new Map<string, { chassis: string; remote: string; ofport: number }>();
      const physicals = new Map<string, { chassis: string; segment: string; ofport: number }>();
      for (const [chassis, list] of ports) {
        for (const p of list) {
          if (p.kind === 'vif') vifs.set(`${p.vifId}@${chassis}`, { vif_id: p.vifId, chassis, ofport: p.number });
          if (p.kind === 'tunnel') tunnels.set(`${chassis}>${p.remote}`, { chassis, remote: p.remote, ofport: p.number });
          if (p.kind === 'physical') physicals.set(`${chassis}#${p.number}`, { chassis, segment: p.segment, ofport: p.number });
        }
      }
      return { vifs, tunnels, physicals };
    };
    const a = facts(before);
    const b = facts(after);
    const changes: Change[] = [];
    const diff = <T extends object>(rel: typeof vifLocation | typeof tunnelPort | typeof physicalPort, x: Map<string, T>, y: Map<string, T>) => {
      for (const [k, t] of x) if (JSON.stringify(y.get(k)) !== JSON.stringify(t)) changes.push(deleteTuple(rel as any, t as any));
      for (const [k, t] of y) if (JSON.stringify(x.get(k)) !== JSON.stringify(t)) changes.push(insertTuple(rel as any, t as any));
    };
    diff(vifLocation, a.vifs, b.vifs);
    diff(tunnelPort, a.tunnels, b.tunnels);
    diff(physicalPort, a.physicals, b.physicals);
    return changes;
  }

  private onNorthbound(m: NorthboundMessage): void {
    this.lastNbHeard = this.ctx.now();
    switch (m.type) {
      case 'nb.snapshot':
        this.nbSeq = m.seq;
        return this.recompute(`nb snapshot ${m.seq}`, this.snapshotChanges(m.snapshot));
      case 'nb.changes':
        if (this.nbSeq < 0 || m.seq <= this.nbSeq) return; // before our snapshot, or a duplicate
        if (m.seq !== this.nbSeq + 1) return this.subscribe(`gap: have ${this.nbSeq}, got ${m.seq}`);
        this.nbSeq = m.seq;
        return this.recompute(`nb changes ${m.seq}`, m.deltas.flatMap((d) => this.lcpChange(d)));
      case 'nb.heartbeat':
        if (this.nbSeq >= 0 && m.seq > this.nbSeq) this.subscribe(`heartbeat at ${m.seq}, have ${this.nbSeq}`);
        return;
    }
  }

  /** Turns the stored LCP into the snapshot's, as insert/delete changes (an incremental resync). */
  private snapshotChanges(snapshot: Snapshot): Change[] {
    const changes: Change[] = [];
    for (const name of RELATION_ORDER) {
      const rel = this.lcpRelation(name);
      if (rel === undefined) continue;
      const key = (t: object) => JSON.stringify(t);
      const want = new Map((snapshot[name] as object[]).map((t) => [key(t), t]));
      const have = new Map((this.program.engine.storedInputs(rel) as object[]).map((t) => [key(t), t]));
      for (const [k, t] of have) if (!want.has(k)) changes.push(deleteTuple(rel, t as any));
      for (const [k, t] of want) if (!have.has(k)) changes.push(insertTuple(rel, t as any));
    }
    return changes;
  }

  private lcpChange(d: Delta): Change[] {
    const rel = this.lcpRelation(d.relation);
    if (rel === undefined) return [];
    return [d.op === 'insert' ? insertTuple(rel, d.tuple as any) : deleteTuple(rel, d.tuple as any)];
  }

  private lcpRelation(name: RelationName) {
    return this.program.lcp[name] as any;
  }

  private recompute(cause: string, changes: Change[]): void {
    if (changes.length === 0) return;
    const result = this.program.engine.apply(changes);
    const { deleted, inserted } = result.of(this.program.physicalFlow);
    const byChassis = new Map<NodeId, { removed: Flow[]; added: Flow[] }>();
    const slot = (ch: NodeId) => {
      let s = byChassis.get(ch);
      if (s === undefined) byChassis.set(ch, (s = { removed: [], added: [] }));
      return s;
    };
    for (const row of deleted as FlowRow[]) slot(row.chassis).removed.push(rowToFlow(row));
    for (const row of inserted as FlowRow[]) slot(row.chassis).added.push(rowToFlow(row));
    for (const [ch, { removed, added }] of byChassis) {
      if (!this.ports.has(ch)) this.switches.connect(ch);
      this.switches.update(ch, removed, added);
    }
    const trace = this.ctx.trace;
    if (trace.active) {
      trace.emit('ctl.compute', { controller: this.ctx.id, cause, inputChanges: changes.length, flowsRemoved: deleted.length, flowsAdded: inserted.length });
    }
  }

  private subscribe(reason: string): void {
    const trace = this.ctx.trace;
    if (trace.active) trace.emit('ctl.nb.resubscribe', { controller: this.ctx.id, reason });
    this.nbSeq = -1;
    this.ctx.send(this.options.northbound, { type: 'nb.subscribe' });
  }

  /** A northbound silent for three heartbeats (crashed, restarted, cut off) gets a new subscription. */
  private watchNorthbound(): void {
    this.ctx.setTimer(NB_DEFAULT_HEARTBEAT_NS, () => {
      if (this.ctx.now() - this.lastNbHeard > 3 * NB_DEFAULT_HEARTBEAT_NS) {
        this.lastNbHeard = this.ctx.now();
        this.subscribe('northbound silent');
      }
      this.watchNorthbound();
    });
  }
}
