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
    /** The port audit found a switch's ports differ from the controller's facts (a lost port-status). */
    'ctl.ports.repair': { controller: NodeId; switch: NodeId };
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

const SWITCHES_KEY = 'ctl/switches';
const portsKey = (id: NodeId) => `ctl/ports/${id}`;

type VifClaim = { readonly chassis: NodeId; readonly ofport: number };

export class ControllerNode implements NodeProcess {
  readonly program: ControlProgram;
  readonly switches: SwitchManager;
  /** Each switch's ports as last reported (also on disk, one key per switch). */
  private readonly ports = new Map<NodeId, Port[]>();
  /**
   * Every chassis currently reporting each VIF, oldest claim first. During a live migration both the
   * source and the destination report the VIF for a while; the most recent claim is where it runs (the
   * engine gets exactly one location per VIF), and when it is withdrawn the previous one applies again.
   */
  private readonly vifClaims = new Map<string, VifClaim[]>();
  private nbSeq = -1;
  private lastNbHeard: Nanos = 0;
  private subscribedAt: Nanos = 0;

  constructor(
    private readonly ctx: NodeContext,
    private readonly options: ControllerOptions,
  ) {
    this.program = buildControlProgram();
    this.switches = new SwitchManager(ctx, { ...options, onPorts: (id, ports) => this.onAuditPorts(id, ports) });
    // Compute for every datapath: one instance is master of all of them for now.
    this.program.engine.apply((options.poolNodes ?? []).map((chassis) => insertTuple(this.program.physical.poolNode, { chassis })));
    // A restarted controller rebuilds its physical facts from disk and resynchronises every switch it
    // knew, since those switches will not say hello again.
    const changes: Change[] = [];
    for (const id of ctx.disk.get<NodeId[]>(SWITCHES_KEY) ?? []) {
      changes.push(...this.replacePorts(id, ctx.disk.get<Port[]>(portsKey(id)) ?? []));
      this.switches.connect(id);
    }
    this.recompute('restart', changes);
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
    if (!this.ports.has(id)) this.ctx.disk.put(SWITCHES_KEY, [...this.ports.keys(), id]);
    this.ctx.disk.put(portsKey(id), ports);
    const changes = this.replacePorts(id, ports);
    if (hello) this.switches.connect(id);
    this.recompute(hello ? `hello ${id}` : `port-status ${id}`, changes);
  }

  /**
   * The audit's port list for a switch: when it differs from what this controller believes (a port-status
   * was lost), it replaces the switch's facts. Equal lists change nothing (and write nothing to disk).
   */
  private onAuditPorts(id: NodeId, ports: readonly Port[]): void {
    const canonical = (l: readonly Port[]) => JSON.stringify([...l].sort((a, b) => a.number - b.number));
    if (canonical(this.ports.get(id) ?? []) === canonical(ports)) return;
    const trace = this.ctx.trace;
    if (trace.active) trace.emit('ctl.ports.repair', { controller: this.ctx.id, switch: id });
    this.onSwitchPorts(id, [...ports], false);
  }

  /**
   * Replaces one switch's ports and returns the engine changes that follows: its tunnel and physical
   * ports, and the location of each VIF it gained or lost. Work is proportional to this switch's ports.
   */
  private replacePorts(chassis: NodeId, ports: Port[]): Change[] {
    const { vifLocation, tunnelPort, physicalPort } = this.program.physical;
    const before = this.ports.get(chassis) ?? [];
    this.ports.set(chassis, ports);
    const changes: Change[] = [];
    const keyOf = (p: Port) => JSON.stringify(p);
    const oldKeys = new Set(before.map(keyOf));
    const newKeys = new Set(ports.map(keyOf));
    const touchedVifs = new Set<string>();
    const locations = new Map<string, VifClaim | undefined>();
    const remember = (vif: string) => {
      if (!touchedVifs.has(vif)) locations.set(vif, this.vifLocationOf(vif));
      touchedVifs.add(vif);
    };
    for (const p of before) {
      if (newKeys.has(keyOf(p))) continue;
      if (p.kind === 'tunnel') changes.push(deleteTuple(tunnelPort, { chassis, remote: p.remote, ofport: p.number }));
      if (p.kind === 'physical') changes.push(deleteTuple(physicalPort, { chassis, segment: p.segment, ofport: p.number }));
      if (p.kind === 'vif') {
        remember(p.vifId);
        const claims = (this.vifClaims.get(p.vifId) ?? []).filter((c) => !(c.chassis === chassis && c.ofport === p.number));
        if (claims.length === 0) this.vifClaims.delete(p.vifId);
        else this.vifClaims.set(p.vifId, claims);
      }
    }
    for (const p of ports) {
      if (oldKeys.has(keyOf(p))) continue;
      if (p.kind === 'tunnel') changes.push(insertTuple(tunnelPort, { chassis, remote: p.remote, ofport: p.number }));
      if (p.kind === 'physical') changes.push(insertTuple(physicalPort, { chassis, segment: p.segment, ofport: p.number }));
      if (p.kind === 'vif') {
        remember(p.vifId);
        this.vifClaims.set(p.vifId, [...(this.vifClaims.get(p.vifId) ?? []), { chassis, ofport: p.number }]);
      }
    }
    for (const vif of touchedVifs) {
      const was = locations.get(vif);
      const now = this.vifLocationOf(vif);
      if (was?.chassis === now?.chassis && was?.ofport === now?.ofport) continue;
      if (was !== undefined) changes.push(deleteTuple(vifLocation, { vif_id: vif, chassis: was.chassis, ofport: was.ofport }));
      if (now !== undefined) changes.push(insertTuple(vifLocation, { vif_id: vif, chassis: now.chassis, ofport: now.ofport }));
    }
    return changes;
  }

  /** Where a VIF runs: its most recent claim. */
  private vifLocationOf(vif: string): VifClaim | undefined {
    const claims = this.vifClaims.get(vif);
    return claims === undefined ? undefined : claims[claims.length - 1];
  }

  private onNorthbound(m: NorthboundMessage): void {
    // While a snapshot is awaited, only the snapshot counts as hearing from the northbound: heartbeats
    // alone must not hide a lost subscribe or a lost snapshot.
    if (this.nbSeq >= 0 || m.type === 'nb.snapshot') this.lastNbHeard = this.ctx.now();
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
    this.subscribedAt = this.ctx.now();
    this.ctx.send(this.options.northbound, { type: 'nb.subscribe' });
  }

  /**
   * Subscribes again when the northbound has been silent for three heartbeats (crashed, restarted, cut
   * off), or when a snapshot asked for has not come within that time (the subscribe or the snapshot was
   * lost).
   */
  private watchNorthbound(): void {
    this.ctx.setTimer(NB_DEFAULT_HEARTBEAT_NS, () => {
      const limit = 3 * NB_DEFAULT_HEARTBEAT_NS;
      const now = this.ctx.now();
      if (this.nbSeq < 0 && now - this.subscribedAt > limit) this.subscribe('no snapshot');
      else if (this.nbSeq >= 0 && now - this.lastNbHeard > limit) {
        this.lastNbHeard = now;
        this.subscribe('northbound silent');
      }
      this.watchNorthbound();
    });
  }
}
