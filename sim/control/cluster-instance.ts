// One controller instance of a cluster (seed 000 FIG. 9/21): NIB, control and virtualization apps (the
// control program), a coordination manager, a PTD replica or none, a DHT instance or none, and the switch
// channel — on one simulated machine, talking to the others only over the fabric. Owns the wiring between
// them: what it computes, exports, imports and pushes, as its mastership says. Not the rules (control-
// program.ts), the channel (switch-manager.ts), consensus and elections (sim/coord) or the stores (sim/store).
//
// The cross-instance pipeline (claims 1–8, FIG. 13):
//   - the master of a switch exports the switch's ports to the NIB (`phys/<switch>`, through the PTD);
//     every instance imports every switch's ports as its physical facts;
//   - every instance follows the northbound configuration, but computes only for the logical datapath
//     sets (a tenant's datapaths) it masters — the rules engine's active datapaths;
//   - the master of an LDPS exports, for every switch that implements it, that switch's flows for each of
//     its datapaths (`pcp/<switch>/<dp>`, through the PTD or the DHT);
//   - every instance imports those records; only the master of a switch pushes them to it: its desired
//     table is the union of the switch's records, whoever computed them.
// Mastership comes from the coordination manager with an epoch; exports are fenced by it in the NIB, and
// the switch channel claims each switch under it, so a deposed master's late writes are refused twice over.
// Apps change an LDPS's records through the NIB request list (request-list.ts, FIG. 33): its master
// decides, and a switch's master pushes the accepted app flows along with the computed ones.
// With flow records in the DHT, a periodic audit re-reads and re-puts them (see DHT_AUDIT_NS).
//
// Volatile across a crash: everything but the stores' and the consensus log's own disk state; a restarted
// instance replays the CM log, reloads its PTD (or re-reads it) and rebuilds the rest from them.

import type { Nanos } from '../kernel/time.ts';
import type { Message, NodeContext, NodeId, NodeProcess } from '../net/index.ts';
import type { Port } from '../dataplane/ports.ts';
import { isOpenflowMessage, type SwitchToController } from '../dataplane/openflow.ts';
import { formatFlow, type Flow } from '../dataplane/flow.ts';
import { insertTuple, type Change } from '../rules/index.ts';
import { CoordinationManager } from '../coord/coordination-manager.ts';
import { DEFAULT_CM_POLICY, entityKind, entityName, ldpsEntity, switchEntity, type CmPolicy, type EntityKey } from '../coord/cm-state.ts';
import { DhtInstance } from '../store/dht.ts';
import { PtdNode } from '../store/ptd.ts';
import { buildControlProgram, type ControlProgram } from './control-program.ts';
import { rowToFlow, type FlowRow } from './flow-text.ts';
import { NibReplication, type NibTransport } from './nib-replication.ts';
import type { NorthboundMessage } from './northbound-node.ts';
import { NorthboundSubscription } from './northbound-subscription.ts';
import { MigrationAssist } from './migration-assist.ts';
import { PhysicalFacts } from './physical-facts.ts';
import { RequestList, type AppRequest, type RequestVerdict } from './request-list.ts';
import { SwitchManager } from './switch-manager.ts';

export interface ClusterConfig {
  /** Every instance of the cluster. */
  readonly members: readonly NodeId[];
  /** The coordination managers' consensus group; other members follow its log as learners. */
  readonly voters: readonly NodeId[];
  /** Instances with a PTD replica (the others are PTD-less: they only submit and import). */
  readonly ptdHolders: readonly NodeId[];
  /** Instances with a DHT instance. */
  readonly dhtHolders: readonly NodeId[];
  /** Where LDPS masters put the flows they compute for switches (physical facts always go to the PTD). */
  readonly pcpTransport: NibTransport;
  readonly policy: CmPolicy;
  readonly ptdCommit: 'all' | 'majority';
  readonly ptdOrder: 'ack-then-write' | 'write-then-notify';
  readonly sessionHeartbeatNs: Nanos;
  readonly sessionTimeoutNs: Nanos;
  readonly electionTimeoutNs: readonly [Nanos, Nanos];
}

export const DEFAULT_CLUSTER_TIMING = {
  sessionHeartbeatNs: 100_000_000,
  sessionTimeoutNs: 1_000_000_000,
  electionTimeoutNs: [150_000_000, 300_000_000] as const,
};

export function clusterConfig(members: readonly NodeId[], overrides: Partial<ClusterConfig> = {}): ClusterConfig {
  return {
    members,
    voters: members,
    ptdHolders: members,
    dhtHolders: members,
    pcpTransport: 'ptd',
    policy: DEFAULT_CM_POLICY,
    ptdCommit: 'majority',
    ptdOrder: 'ack-then-write',
    ...DEFAULT_CLUSTER_TIMING,
    ...overrides,
  };
}

export interface ClusterInstanceOptions {
  northbound: NodeId;
  poolNodes?: readonly NodeId[];
  cluster: ClusterConfig;
  replyDeadlineNs: Nanos;
  auditIntervalNs?: Nanos;
}

declare module '../kernel/trace.ts' {
  interface TraceEventMap {
    /** An LDPS master exported a switch's flows for one of its datapaths. */
    'cluster.export': { instance: NodeId; ldps: string; switch: NodeId; dp: number; epoch: number; flows: number };
  }
}

const PHYS = 'phys/';
const PCP = 'pcp/';
const EXPORT_RETRY_NS: Nanos = 100_000_000;
/**
 * How often, with flow records in the DHT, an instance reads back the records it depends on. The DHT
 * neither confirms nor resends its trigger notifications, and an owner that restarts before the CM
 * notices loses what it held, so switch masters re-read their switches' records and LDPS masters re-put
 * records that are missing or differ (anti-entropy, as a Dynamo-style store needs).
 */
const DHT_AUDIT_NS: Nanos = 1_000_000_000;

type PhysValue = { readonly epoch: number; readonly ports: readonly Port[] };
type PcpValue = { readonly epoch: number; readonly flows: readonly FlowRow[] };

const pcpKey = (chassis: NodeId, dp: number) => `${PCP}${chassis}/${dp}`;

export class ClusterInstance implements NodeProcess {
  readonly program: ControlProgram;
  readonly switches: SwitchManager;
  readonly cm: CoordinationManager;
  readonly ptd: PtdNode;
  readonly dht: DhtInstance | null;
  /** The NIB request list: app changes to LDPS records, decided by the LDPS's master (FIG. 33). */
  readonly requests: RequestList;
  private readonly nib: NibReplication;
  private readonly facts: PhysicalFacts;
  /** Asks a migrated VM's origin host for its middlebox state when a mastered switch reports it. */
  private readonly migration: MigrationAssist;
  private readonly northbound: NorthboundSubscription;
  /** The engine's output, by chassis then datapath then row key. */
  private readonly computed = new Map<NodeId, Map<number, Map<string, FlowRow>>>();
  /** The flow records this instance last exported, by key: the baseline for the next (its write may be in flight). */
  private readonly written = new Map<string, PcpValue>();
  /** Imported flow records, by chassis then datapath. */
  private readonly imported = new Map<NodeId, Map<number, PcpValue>>();
  /** The tenant (LDPS) of every datapath ever seen; datapath numbers are never reused. */
  private readonly tenantOfDp = new Map<number, string>();
  /** Ports of the switches this instance masters, as last reported to it (ahead of the import). */
  private readonly reported = new Map<NodeId, Port[]>();
  /** Ports from hellos of switches this instance did not master then. */
  private readonly helloPorts = new Map<NodeId, Port[]>();
  private heldLdps = new Map<string, number>();
  private heldSwitches = new Map<NodeId, number>();

  constructor(
    private readonly ctx: NodeContext,
    private readonly options: ClusterInstanceOptions,
  ) {
    const cluster = options.cluster;
    const me = ctx.id;
    this.program = buildControlProgram();
    this.facts = new PhysicalFacts(this.program);
    this.migration = new MigrationAssist(ctx);
    this.program.engine.apply([
      { op: 'activate', datapaths: [] },
      ...(options.poolNodes ?? []).map((chassis) => insertTuple(this.program.physical.poolNode, { chassis })),
    ]);
    this.switches = new SwitchManager(ctx, {
      generationId: 0,
      replyDeadlineNs: options.replyDeadlineNs,
      auditIntervalNs: options.auditIntervalNs,
      onPorts: (id, ports) => this.onSwitchPorts(id, [...ports]),
    });
    this.cm = new CoordinationManager(ctx, {
      voters: cluster.voters,
      learners: cluster.members.filter((m) => !cluster.voters.includes(m)),
      hasPtd: cluster.ptdHolders.includes(me),
      hasDht: cluster.dhtHolders.includes(me),
      policy: cluster.policy,
      sessionHeartbeatNs: cluster.sessionHeartbeatNs,
      sessionTimeoutNs: cluster.sessionTimeoutNs,
      electionTimeoutNs: cluster.electionTimeoutNs,
      onApplied: (_index, _command, effects) => {
        if (effects.ptdMaster || effects.membership) this.ptd.onViewChange();
        if (effects.locks) this.requests.onCmApplied();
        if (effects.dhtRanges && this.dht !== null) {
          this.dht.onViewChange();
          // Records on a departed owner are gone (the DHT is volatile): regenerate what this instance masters.
          if (cluster.pcpTransport === 'dht') for (const tenant of this.heldLdps.keys()) this.exportLdps(tenant, true);
        }
      },
      onMastership: (held) => this.onMastership(held),
    });
    this.ptd = new PtdNode(ctx, {
      view: () => ({
        master: this.cm.state.ptdMaster,
        epoch: this.cm.state.ptdEpoch,
        replicas: cluster.ptdHolders,
        importers: cluster.members,
      }),
      hasReplica: cluster.ptdHolders.includes(me),
      commit: cluster.ptdCommit,
      order: cluster.ptdOrder,
      onChange: (key, record) => {
        if (!this.requests.onImport(key, record)) this.onImport(key, record === null ? null : record.value);
      },
    });
    this.requests = new RequestList(ctx, {
      ptd: this.ptd,
      cm: this.cm,
      tenantOf: (dp) => this.tenantOfDp.get(dp),
      retryNs: EXPORT_RETRY_NS,
      onAppRecords: (chassis) => this.refreshSwitch(chassis),
    });
    this.dht = cluster.dhtHolders.includes(me)
      ? new DhtInstance(ctx, {
          view: () => ({ ranges: this.cm.state.dhtRanges, version: this.cm.state.dhtVersion }),
          onTrigger: (key, record) => this.onImport(key, record === null ? null : record.value),
        })
      : null;
    this.nib = new NibReplication(ctx, {
      ptd: this.ptd,
      dht: this.dht,
      transportOf: (key) => (key.startsWith(PCP) ? cluster.pcpTransport : 'ptd'),
      retryNs: EXPORT_RETRY_NS,
    });
    this.ptd.watch(PHYS);
    this.ptd.watch(PCP);
    // A restarted replica has its PTD back from disk: import it before anything else happens.
    for (const [key, record] of this.ptd.records()) if (!this.requests.onImport(key, record)) this.onImport(key, record.value);
    if (cluster.pcpTransport === 'dht' && this.dht !== null) this.ctx.setTimer(DHT_AUDIT_NS, () => this.auditDht());
    this.northbound = new NorthboundSubscription(ctx, options.northbound, this.program, (cause, changes) => this.recompute(cause, changes));
  }

  onMessage(from: NodeId, body: Message): void {
    const type = body.type;
    if (type.startsWith('nb.')) return this.northbound.onMessage(body as unknown as NorthboundMessage);
    if (type.startsWith('mig.')) return void this.migration.onMessage(from, body);
    if (this.cm.onMessage(from, body) || this.ptd.onMessage(from, body) || this.dht?.onMessage(from, body)) return;
    if (!isOpenflowMessage(body)) return;
    const m = body as unknown as SwitchToController;
    if (m.type === 'of.hello') return this.onHello(from, [...m.ports]);
    if (m.type === 'of.port-status') {
      // A switch tells every controller not its slave; its master acts. Its hello's ports are stale now: a later claim asks afresh.
      if (!this.heldSwitches.has(from)) return void this.helloPorts.delete(from);
      const current = this.reported.get(from) ?? [...this.facts.portsOf(from)];
      const next = m.reason === 'add' ? [...current.filter((p) => p.number !== m.port.number), m.port] : current.filter((p) => p.number !== m.port.number);
      return this.onSwitchPorts(from, next);
    }
    this.switches.onMessage(from, m);
  }

  /** The flows this instance pushes to a switch it masters (empty for others). */
  desiredFlows(id: NodeId): Flow[] {
    return this.switches.desiredFlows(id);
  }

  /** An app on this instance asks for a change to an LDPS's records (throws on a malformed request). */
  request(request: AppRequest, done?: (v: RequestVerdict) => void): string {
    return this.requests.submit(request, done);
  }

  /** Grants an instance the right to modify an LDPS's records through the request list. */
  grant(ldps: string, instance: NodeId): void {
    this.cm.propose({ kind: 'grant', ldps, instance }, (s) => s.rights.get(ldps)?.includes(instance) === true);
  }

  /** Entities this instance acts as master of, with their epochs. */
  mastership(): ReadonlyMap<EntityKey, number> {
    return this.cm.heldEntities();
  }

  /** Whether every switch it masters has acknowledged the table it wants, and every export has landed. */
  settled(): boolean {
    return this.switches.allInSync() && this.nib.idle();
  }

  // ---- switches ----------------------------------------------------------------------------------------

  private onHello(id: NodeId, ports: Port[]): void {
    const entity = switchEntity(id);
    this.cm.propose({ kind: 'register', entity }, (state) => state.masters.has(entity));
    if (!this.heldSwitches.has(id)) {
      // Kept for the moment this instance becomes its master; answered, so the switch stops repeating its
      // hello. As a non-master this instance sends it nothing else.
      this.helloPorts.set(id, ports);
      this.ctx.send(id, { type: 'of.echo-request', xid: 0 });
      return;
    }
    this.onSwitchPorts(id, ports);
    this.claimSwitch(id);
  }

  /** Ports reported by a switch this instance masters (hello, port-status, audit): export them if new. */
  private onSwitchPorts(id: NodeId, ports: Port[]): void {
    const epoch = this.heldSwitches.get(id);
    if (epoch === undefined) return;
    const known = this.reported.get(id);
    const same = known !== undefined ? JSON.stringify(sortPorts(known)) === JSON.stringify(sortPorts(ports)) : this.facts.same(id, ports);
    this.reported.set(id, ports);
    this.migration.onPorts(id, ports);
    if (same) return;
    this.nib.write(`${PHYS}${id}`, { epoch, ports: sortPorts(ports) } satisfies PhysValue);
  }

  /** Claims a switch this instance now masters: exports the ports its hello gave, syncs it, and asks for its ports. */
  private claimSwitch(id: NodeId): void {
    const hello = this.helloPorts.get(id);
    this.helloPorts.delete(id);
    if (hello !== undefined) this.onSwitchPorts(id, hello);
    this.switches.connect(id, this.heldSwitches.get(id)!);
    this.switches.requestPorts(id);
    this.refreshSwitch(id);
  }

  /** A mastered switch's desired table: the union of its imported flow records and its app records. */
  private refreshSwitch(id: NodeId): void {
    if (!this.switches.isConnected(id)) return;
    const want = new Map<string, Flow>();
    const rows = [...[...(this.imported.get(id)?.values() ?? [])].flatMap((v) => v.flows), ...this.requests.appRows(id)];
    for (const row of rows) {
      const flow = rowToFlow(row);
      want.set(formatFlow(flow), flow);
    }
    const have = new Map(this.switches.desiredFlows(id).map((f) => [formatFlow(f), f]));
    const removed = [...have].filter(([k]) => !want.has(k)).map(([, f]) => f);
    const added = [...want].filter(([k]) => !have.has(k)).map(([, f]) => f);
    if (removed.length > 0 || added.length > 0) this.switches.update(id, removed, added);
  }

  // ---- mastership --------------------------------------------------------------------------------------

  private onMastership(held: ReadonlyMap<EntityKey, number>): void {
    const ldps = new Map<string, number>();
    const switches = new Map<NodeId, number>();
    for (const [entity, epoch] of held) (entityKind(entity) === 'ldps' ? ldps : switches).set(entityName(entity), epoch);

    const gainedLdps = [...ldps].filter(([t, e]) => this.heldLdps.get(t) !== e).map(([t]) => t);
    const ldpsChanged = gainedLdps.length > 0 || [...this.heldLdps.keys()].some((t) => !ldps.has(t));
    this.heldLdps = ldps;
    if (ldpsChanged) this.recompute('mastership', []);
    for (const tenant of gainedLdps) {
      this.exportLdps(tenant, true);
      this.requests.onLdpsGained(tenant);
    }

    const before = this.heldSwitches;
    this.heldSwitches = switches;
    for (const id of before.keys()) {
      if (switches.has(id)) continue;
      this.switches.disconnect(id);
      this.reported.delete(id);
      this.migration.forget(id);
    }
    for (const [id, epoch] of switches) if (before.get(id) !== epoch) this.claimSwitch(id);
  }

  // ---- computing and exporting -------------------------------------------------------------------------

  /** Applies LCP or physical-fact changes with the active datapaths of the LDPSs held now; exports what changed. */
  private recompute(cause: string, changes: Change[]): void {
    for (const c of changes) {
      if (c.op !== 'insert') continue;
      const name = c.relation.name;
      if (name === 'logical_switch' || name === 'logical_router') {
        const t = c.tuple as { dp: number; tenant: string };
        this.tenantOfDp.set(t.dp, t.tenant);
      }
    }
    const active = [...this.tenantOfDp].filter(([, tenant]) => this.heldLdps.has(tenant)).map(([dp]) => dp);
    const result = this.program.engine.apply([...changes, { op: 'activate', datapaths: active }]);
    const { deleted, inserted } = result.of(this.program.physicalFlow);
    const touched = new Map<string, { chassis: NodeId; dp: number }>();
    const slot = (row: FlowRow) => {
      touched.set(`${row.chassis}\u0000${row.dp}`, { chassis: row.chassis, dp: row.dp });
      let byDp = this.computed.get(row.chassis);
      if (byDp === undefined) this.computed.set(row.chassis, (byDp = new Map()));
      let rows = byDp.get(row.dp);
      if (rows === undefined) byDp.set(row.dp, (rows = new Map()));
      return rows;
    };
    for (const row of deleted as FlowRow[]) slot(row).delete(rowKey(row));
    for (const row of inserted as FlowRow[]) slot(row).set(rowKey(row), row);
    for (const { chassis, dp } of touched.values()) this.exportFlows(chassis, dp, false);
    this.registerLdpsSets();
    const trace = this.ctx.trace;
    if (trace.active && changes.length > 0) {
      trace.emit('ctl.compute', { controller: this.ctx.id, cause, inputChanges: changes.length, flowsRemoved: deleted.length, flowsAdded: inserted.length });
    }
  }

  /** Every switch's flows for every datapath of an LDPS (computed now, or exported before by anyone). */
  private exportLdps(tenant: string, force: boolean): void {
    for (const [dp, t] of this.tenantOfDp) {
      if (t !== tenant) continue;
      const chassis = new Set<NodeId>();
      for (const [ch, byDp] of this.computed) if (byDp.has(dp)) chassis.add(ch);
      for (const [ch, byDp] of this.imported) if (byDp.has(dp)) chassis.add(ch);
      for (const ch of [...chassis].sort()) this.exportFlows(ch, dp, force);
    }
  }

  /** Exports one switch's flows for one datapath if this instance masters its LDPS and they differ from the NIB's. */
  private exportFlows(chassis: NodeId, dp: number, force: boolean): void {
    const tenant = this.tenantOfDp.get(dp);
    const epoch = tenant === undefined ? undefined : this.heldLdps.get(tenant);
    if (epoch === undefined) return;
    const rows = this.rowsFor(chassis, dp);
    const key = pcpKey(chassis, dp);
    // Compared with this instance's own last write under this epoch when there is one: the import may
    // still show an older value while that write is in flight, and skipping because the new rows equal
    // the older value would let the in-flight write land last.
    const mine = this.written.get(key);
    const current = mine?.epoch === epoch ? mine : this.imported.get(chassis)?.get(dp);
    if (!force && current !== undefined && current.epoch === epoch && sameRows(current.flows, rows)) return;
    if (current === undefined && rows.length === 0) return;
    const trace = this.ctx.trace;
    if (trace.active) trace.emit('cluster.export', { instance: this.ctx.id, ldps: tenant!, switch: chassis, dp, epoch, flows: rows.length });
    const value: PcpValue = { epoch, flows: rows };
    this.written.set(key, value);
    this.nib.write(key, value);
  }

  private rowsFor(chassis: NodeId, dp: number): FlowRow[] {
    return [...(this.computed.get(chassis)?.get(dp)?.values() ?? [])].sort((a, b) => (rowKey(a) < rowKey(b) ? -1 : 1));
  }

  /** DHT anti-entropy (see DHT_AUDIT_NS): read back what this instance pushes, re-put what it computes. */
  private auditDht(): void {
    this.ctx.setTimer(DHT_AUDIT_NS, () => this.auditDht());
    const dht = this.dht!;
    const dps = [...this.tenantOfDp.keys()];
    for (const chassis of this.heldSwitches.keys()) {
      for (const dp of dps) {
        const key = pcpKey(chassis, dp);
        // Records are never deleted (an emptied one is written empty), so an absent one is not news.
        dht.get(key, (r) => r.ok && r.record !== null && this.onImport(key, r.record.value), { watch: false });
      }
    }
    for (const [dp, tenant] of this.tenantOfDp) {
      const epoch = this.heldLdps.get(tenant);
      if (epoch === undefined) continue;
      for (const [chassis, byDp] of this.computed) {
        if (!byDp.has(dp)) continue;
        const key = pcpKey(chassis, dp);
        dht.get(key, (r) => {
          if (!r.ok || this.heldLdps.get(tenant) !== epoch) return;
          const stored = r.record?.value as PcpValue | undefined;
          if (stored === undefined || stored.epoch < epoch || (stored.epoch === epoch && !sameRows(stored.flows, this.rowsFor(chassis, dp)))) this.exportFlows(chassis, dp, true);
        }, { watch: false });
      }
    }
  }

  /** Asks the CM to register every LDPS (tenant) of the configuration it does not know yet. */
  private registerLdpsSets(): void {
    for (const tenant of new Set(this.tenantOfDp.values())) {
      const entity = ldpsEntity(tenant);
      if (!this.cm.state.masters.has(entity)) this.cm.propose({ kind: 'register', entity }, (state) => state.masters.has(entity));
    }
  }

  // ---- importing ---------------------------------------------------------------------------------------

  private onImport(key: string, value: unknown): void {
    if (key.startsWith(PHYS)) {
      const id = key.slice(PHYS.length);
      const ports = value === null ? [] : (value as PhysValue).ports;
      if (this.facts.same(id, ports)) return;
      this.recompute(`nib phys ${id}`, this.facts.replace(id, ports));
      return;
    }
    if (key.startsWith(PCP)) {
      const rest = key.slice(PCP.length);
      const slash = rest.lastIndexOf('/');
      const chassis = rest.slice(0, slash);
      const dp = Number(rest.slice(slash + 1));
      let byDp = this.imported.get(chassis);
      if (byDp === undefined) this.imported.set(chassis, (byDp = new Map()));
      const incoming = value as PcpValue | null;
      const current = byDp.get(dp);
      // The DHT has no fencing of its own: keep the newest epoch's flows.
      if (incoming !== null && current !== undefined && incoming.epoch < current.epoch) return;
      if (incoming === null) byDp.delete(dp);
      else byDp.set(dp, incoming);
      this.refreshSwitch(chassis);
    }
  }
}

function rowKey(r: FlowRow): string {
  return `${r.table}\u0000${r.priority}\u0000${r.match}\u0000${r.actions}`;
}

function sameRows(a: readonly FlowRow[], b: readonly FlowRow[]): boolean {
  return a.length === b.length && a.every((r, i) => rowKey(r) === rowKey(b[i]));
}

function sortPorts(ports: readonly Port[]): Port[] {
  return [...ports].sort((a, b) => a.number - b.number);
}
