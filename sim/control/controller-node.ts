// One controller instance as a node on the fabric: it subscribes to the northbound database, learns the
// physical facts (which VIF is on which chassis, tunnel ports) from its switches' hello and port-status
// messages, runs the control program incrementally on every change, and hands each chassis' flow changes
// to the switch manager. Owns the wiring between those; the rules are control-program.ts's, the channel
// switch-manager.ts's, the facts physical-facts.ts's and the northbound protocol
// northbound-subscription.ts's. This is the single-instance controller: it masters every switch and every
// LDPS (a cluster of instances is cluster-instance.ts).
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
import { insertTuple, type Change } from '../rules/index.ts';
import { buildControlProgram, type ControlProgram } from './control-program.ts';
import { rowToFlow, type FlowRow } from './flow-text.ts';
import type { NorthboundMessage } from './northbound-node.ts';
import { NorthboundSubscription } from './northbound-subscription.ts';
import { MigrationAssist } from './migration-assist.ts';
import { PhysicalFacts } from './physical-facts.ts';
import { SwitchManager } from './switch-manager.ts';

declare module '../kernel/trace.ts' {
  interface TraceEventMap {
    /** One incremental computation: the input changes and the physical flow changes they caused. */
    'ctl.compute': { controller: NodeId; cause: string; inputChanges: number; flowsRemoved: number; flowsAdded: number };
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

export class ControllerNode implements NodeProcess {
  readonly program: ControlProgram;
  readonly switches: SwitchManager;
  /** Each switch's ports as last reported (also on disk, one key per switch). */
  private readonly facts: PhysicalFacts;
  private readonly northbound: NorthboundSubscription;
  /** Asks a migrated VM's origin host for its middlebox state when a switch reports it. */
  private readonly migration: MigrationAssist;

  constructor(
    private readonly ctx: NodeContext,
    private readonly options: ControllerOptions,
  ) {
    this.program = buildControlProgram();
    this.facts = new PhysicalFacts(this.program);
    this.migration = new MigrationAssist(ctx);
    this.switches = new SwitchManager(ctx, { ...options, onPorts: (id, ports) => this.onAuditPorts(id, ports) });
    // Compute for every datapath: one instance is master of all of them.
    this.program.engine.apply((options.poolNodes ?? []).map((chassis) => insertTuple(this.program.physical.poolNode, { chassis })));
    // A restarted controller rebuilds its physical facts from disk and resynchronises every switch it
    // knew, since those switches will not say hello again.
    const changes: Change[] = [];
    for (const id of ctx.disk.get<NodeId[]>(SWITCHES_KEY) ?? []) {
      changes.push(...this.facts.replace(id, ctx.disk.get<Port[]>(portsKey(id)) ?? []));
      this.switches.connect(id);
    }
    this.recompute('restart', changes);
    this.northbound = new NorthboundSubscription(ctx, options.northbound, this.program, (cause, c) => this.recompute(cause, c));
  }

  onMessage(from: NodeId, body: Message): void {
    if (body.type.startsWith('nb.')) return this.northbound.onMessage(body as unknown as NorthboundMessage);
    if (body.type.startsWith('mig.')) return void this.migration.onMessage(from, body);
    if (!isOpenflowMessage(body)) return;
    const m = body as unknown as SwitchToController;
    if (m.type === 'of.hello') return this.onSwitchPorts(from, [...m.ports], true);
    if (m.type === 'of.port-status') {
      const current = this.facts.portsOf(from);
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
    if (!this.facts.has(id)) this.ctx.disk.put(SWITCHES_KEY, [...(this.ctx.disk.get<NodeId[]>(SWITCHES_KEY) ?? []), id]);
    this.ctx.disk.put(portsKey(id), ports);
    const changes = this.facts.replace(id, ports);
    this.migration.onPorts(id, ports);
    if (hello) this.switches.connect(id);
    this.recompute(hello ? `hello ${id}` : `port-status ${id}`, changes);
  }

  /**
   * The audit's port list for a switch: when it differs from what this controller believes (a port-status
   * was lost), it replaces the switch's facts. Equal lists change nothing (and write nothing to disk).
   */
  private onAuditPorts(id: NodeId, ports: readonly Port[]): void {
    // A restarted controller has its facts from disk: only the audit shows it a port's origin again.
    this.migration.onPorts(id, ports);
    if (this.facts.same(id, ports)) return;
    const trace = this.ctx.trace;
    if (trace.active) trace.emit('ctl.ports.repair', { controller: this.ctx.id, switch: id });
    this.onSwitchPorts(id, [...ports], false);
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
      if (!this.facts.has(ch)) this.switches.connect(ch);
      this.switches.update(ch, removed, added);
    }
    const trace = this.ctx.trace;
    if (trace.active) {
      trace.emit('ctl.compute', { controller: this.ctx.id, cause, inputChanges: changes.length, flowsRemoved: deleted.length, flowsAdded: inserted.length });
    }
  }
}
