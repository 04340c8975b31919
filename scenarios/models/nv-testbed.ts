// The network-virtualization testbed for scenarios and property tests: one world with the northbound
// database ('nb'), one controller ('ctl') and a data plane (hosts with VMs, interior switches, pool nodes,
// gateways and external segments, full-mesh tunnels); concise declarations of tenants' logical switches,
// routers, gateway bridges and VMs (each VM gets a logical port bound to its VIF, with port security);
// timed configuration changes (add or remove a VM's port, move a VIF between hosts); a traffic generator
// whose probes are judged against a small reference model of the logical network; and the invariants
// and metrics every NV scenario shares. Owns the wiring and the reference model; the checks themselves are
// sim/check's (isolation.ts, flow-convergence.ts, placement.ts), and the system is sim/control's and
// sim/dataplane's, untouched.
//
// The reference model (predict): for a frame a VM or external endpoint sends, which endpoints must receive
// it exactly once — port security at the sender's port; the L2 lookup on its logical switch (a port's
// MAC, the broadcast/multicast group bit, unknown destinations to 'unknown'-address ports and the bridged
// external segment); one hop through a logical router to a VM on a connected network; the tenant's ACL
// intent; nobody else. Where it does not model something (static routes, routing to external hosts) it
// makes no prediction and the send is only checked for isolation. An unmanaged segment learns MACs on its
// own: once something could have poisoned its table (a spoofed source), deliveries through it are
// possible, not certain.
//
// When a send is judged: only if the network is steady when it is sent (every node up, no partition or
// degraded link, every table converged to the current intent) and, for a send that must first resolve
// ARP, the sender's stack has been quiet for an ARP timeout (a request made while the network changed
// holds later sends until it times out); a disturbance before its deadline (a fault, a VIF attached or
// detached, a configuration change) voids it. Isolation is checked for every receipt, steady or not.

import { ControllerNode, DEFAULT_CONTROLLER_OPTIONS } from '../../sim/control/controller-node.ts';
import { ClusterInstance, clusterConfig, type ClusterConfig } from '../../sim/control/cluster-instance.ts';
import { switchEntity, validateCmPolicy, type CmPolicy } from '../../sim/coord/cm-state.ts';
import type { RulesEngine } from '../../sim/rules/index.ts';
import { NorthboundNode } from '../../sim/control/northbound-node.ts';
import {
  datapathsOf,
  placementIntent,
  placementInvariant,
  type PlacementView,
} from '../../sim/check/placement.ts';
import { flowConvergenceInvariant, referenceFlows, checkFlowConvergence, type FlowTablesView } from '../../sim/check/flow-convergence.ts';
import {
  DeliveryExpectations,
  DeliveryLog,
  Disturbances,
  extEndpoint,
  isolationInvariant,
  vmEndpoint,
  type EndpointKey,
} from '../../sim/check/isolation.ts';
import type { Verdict } from '../../sim/check/invariant.ts';
import { formatFlow, type Flow } from '../../sim/dataplane/flow.ts';
import { rowToFlow } from '../../sim/control/flow-text.ts';
import {
  ETH_TYPE_ARP,
  ETH_TYPE_IPV4,
  IP_PROTO_TCP,
  IP_PROTO_UDP,
  isMulticastMac,
  parseIpv4,
  parseMac,
  prefixContains,
  prefixMask,
  type Headers,
} from '../../sim/dataplane/headers.ts';
import { udpHeaders } from '../../sim/dataplane/header-builder.ts';
import type { Port } from '../../sim/dataplane/ports.ts';
import type { DataplaneOptions } from '../../sim/dataplane/switch-node.ts';
import { DataplaneBuilder } from '../../sim/dataplane/topology-builder.ts';
import { NS_PER_MS, toNanos, type Nanos } from '../../sim/kernel/time.ts';
import type { AclSpec } from '../../sim/logical/api-types.ts';
import { LogicalNetworks } from '../../sim/logical/logical-networks.ts';
import { middleboxHookFactory, type MiddleboxHost, type MiddleboxHostOptions } from '../../sim/middlebox/middlebox-host.ts';
import { MigrationManager, migrationManagerFactory, type MigrateOptions, type MigrationRecord } from '../../sim/migration/migration-manager.ts';
import { NetworkManagerNode, publicationOnDisk } from '../../sim/migration/network-manager.ts';
import type { Publication } from '../../sim/migration/constructs.ts';
import type { Message, NodeId } from '../../sim/net/message.ts';
import type { NodeContext, NodeProcess } from '../../sim/net/node.ts';
import type { MetricValue, World } from '../../sim/testbed/index.ts';

declare module '../../sim/kernel/trace.ts' {
  interface TraceEventMap {
    /** The testbed changed the configuration (logical or where a VIF is). */
    'nvt.config': { action: string; detail: string };
    /** A late-joining cluster instance's controller process started (its join). */
    'nvt.join': { instance: NodeId };
  }
}

export const NB_NODE = 'nb';
export const CONTROLLER_NODE = 'ctl';
const UNKNOWN_MAC = parseMac('02:ff:ff:ff:ff:01');
const LIMITED_BROADCAST = 0xffff_ffff;
const RETRY_NS = 100 * NS_PER_MS;

export interface NvTestbedOptions {
  /** How long after a steady send its deliveries are judged (the expectation's deadline). */
  settleNs?: Nanos;
  dataplane?: Partial<DataplaneOptions>;
  /**
   * A controller cluster instead of the single controller 'ctl': instances 'ctl-1'…'ctl-N', every switch
   * pointed at all of them.
   */
  cluster?: { instances: number; joiners?: readonly JoinerDecl[] } & Partial<Omit<ClusterConfig, 'members'>>;
  /** A middlebox element and state sharing manager on every switch node (sim/middlebox), with these settings. */
  middlebox?: MiddleboxHostOptions;
  /** A migration manager on every host (sim/migration), wired to its element and SSM and to the network manager. */
  migration?: { retryNs?: Nanos };
}

/** The network manager's node (seed 003), when the testbed has one. */
export const NM_NODE = 'nm';

/**
 * A cluster instance that joins late: 'ctl-<instances+1>'… in order. It is a member (a CM learner, a DHT
 * holder, PTD-less unless `ptdHolders` says otherwise) and every switch's controller from the start, but
 * its controller process starts only at `at`; until then its machine is up and answers nothing, so the
 * switches keep repeating their hellos to it and the CM leader keeps replicating to it.
 */
export interface JoinerDecl {
  at: string | Nanos;
}

export interface VmDecl {
  host: NodeId;
  /** The logical switch its port is on. */
  switch: string;
  mac: string;
  ip: string;
  /** On-link prefix length; default 24. */
  prefixLen?: number;
  /** Default gateway (a router port's IP on the switch), for off-link destinations. */
  gateway?: string;
  /** Port security "MAC IP" on the port; default true. */
  portSecurity?: boolean;
  /** The port also takes frames for unknown destination MACs (OVN's "unknown" address). */
  unknown?: boolean;
}

export interface EndpointDecl {
  name: string;
  mac: string;
  ip: string;
  prefixLen?: number;
  gateway?: string;
}

/** Whether the tenant intends `to` to get what `from` sent (its ACLs as intent); default: everything. */
export type AclIntent = (from: EndpointKey, to: EndpointKey, sent: Headers) => boolean;

/** One send of the traffic generator. `from`/`to` are VM names or "segment/endpoint". */
export type Probe =
  | { readonly kind: 'ip'; readonly from: string; readonly to: string; readonly proto?: 'udp' | 'tcp'; readonly dstPort?: number }
  | { readonly kind: 'broadcast'; readonly from: string }
  | { readonly kind: 'unknown-unicast'; readonly from: string }
  /** A raw IPv4/UDP frame: to another tenant's addresses, or with a spoofed source. */
  | { readonly kind: 'frame'; readonly from: string; readonly ethDst: number; readonly ipDst: number; readonly ethSrc?: number; readonly ipSrc?: number };

interface VmRecord {
  readonly name: string;
  readonly decl: VmDecl;
  readonly vifId: string;
  readonly mac: number;
  readonly ip: number;
  host: NodeId;
  /** The VM exists on `host` (false once removed). */
  attached: boolean;
  /** A make-before-break move has not yet detached it from its old host. */
  moving: boolean;
}

interface EndpointRecord {
  readonly segment: NodeId;
  readonly name: string;
  readonly mac: number;
  readonly ip: number;
}

interface RouterPortInfo {
  readonly router: string;
  readonly switch: string;
  readonly mac: number;
  readonly ip: number;
  readonly net: { addr: number; len: number };
}

/** The logical configuration, indexed for the reference model; rebuilt after each change set. */
interface LogicalIndex {
  readonly dpOfSwitch: Map<string, number>;
  readonly tenantOfDp: Map<number, string>;
  /** VM ports: port name → whether it is bound and takes unknown destinations. */
  readonly ports: Map<string, { switch: string; vifId?: string; unknown: boolean; macs: number[] }>;
  readonly routerPortsBySwitch: Map<string, RouterPortInfo[]>;
  readonly routerPortsByRouter: Map<string, RouterPortInfo[]>;
  readonly segmentOfSwitch: Map<string, NodeId>;
  readonly switchesOnSegment: Map<NodeId, string[]>;
  /** Switches joined by routers share a component. */
  readonly component: Map<string, number>;
}

/** Who must receive a frame: exactly once, or at most once (an unmanaged segment's flooding). */
interface Prediction {
  readonly once: Set<EndpointKey>;
  readonly maybe: Set<EndpointKey>;
}

const emptyPrediction = (): Prediction => ({ once: new Set(), maybe: new Set() });

export class NvTestbed {
  readonly nb = new LogicalNetworks();
  readonly dp: DataplaneBuilder;
  readonly log: DeliveryLog;
  readonly disturbances: Disturbances;
  /** Unicast sends and what must become of them. */
  readonly expectations: DeliveryExpectations;
  /** Broadcasts and unknown-destination unicasts (replication: each receiver exactly once). */
  readonly floodExpectations: DeliveryExpectations;
  private readonly vms = new Map<string, VmRecord>();
  private readonly endpoints = new Map<string, EndpointRecord>();
  private readonly poolNodeIds: NodeId[] = [];
  private readonly hostIds: NodeId[] = [];
  private readonly interiorIds: NodeId[] = [];
  private aclIntent: AclIntent = () => true;
  private indexCache: LogicalIndex | null = null;
  private referenceCache: { key: string; flows: ReadonlyMap<NodeId, readonly Flow[]> } | null = null;
  private nbVersion = 0;
  private started = false;
  private livenessFromNs: Nanos | undefined;
  /** The latest traffic round that found the network not steady (-∞ before any). */
  private lastUnsteadyNs = -Infinity;
  private readonly counters = { probesSent: 0, probesSkipped: 0, steadyRounds: 0, rounds: 0, configChanges: 0, flowMods: 0, computes: 0 };
  private readonly drops = new Map<string, number>();
  private readonly tunnelFrames = new Map<NodeId, number>();
  private nextL4 = 0;
  /** Segments where an external host sent with a source MAC not its own: their MAC tables are unknown. */
  private readonly spoofedFromOutside = new Set<NodeId>();
  /** The cluster's instances (empty with a single controller). */
  readonly instances: NodeId[] = [];
  /** The late-joining instances (also in `instances`) and when each starts. */
  readonly joiners: { readonly id: NodeId; readonly atNs: Nanos }[] = [];

  constructor(
    readonly world: World,
    private readonly options: NvTestbedOptions = {},
  ) {
    const nb = this.nb;
    world.fabric.addNode(NB_NODE, (ctx) => new NorthboundNode(ctx, nb), { kind: 'northbound' });
    this.dp = new DataplaneBuilder(world, options.dataplane);
    if (options.middlebox !== undefined) this.dp.shared.middlebox = middleboxHookFactory(options.middlebox);
    if (options.migration !== undefined) {
      const retry = options.migration.retryNs;
      this.dp.shared.hostService = migrationManagerFactory((_ctx, host) => {
        const mb = host.middlebox as MiddleboxHost | null;
        return { element: mb?.element ?? null, ssm: mb?.ssm ?? null, nm: NM_NODE, ...(retry !== undefined && { retryNs: retry }) };
      });
    }
    this.log = new DeliveryLog(world.trace);
    this.disturbances = new Disturbances(world.scheduler, world.trace);
    const settleNs = options.settleNs ?? 200 * NS_PER_MS;
    this.expectations = new DeliveryExpectations(this.log, world.scheduler, this.disturbances, settleNs);
    this.floodExpectations = new DeliveryExpectations(this.log, world.scheduler, this.disturbances, settleNs);
    nb.subscribe(() => {
      this.nbVersion++;
      this.indexCache = null;
      this.disturbances.note('config');
    });
    const trace = world.trace;
    trace.on('dp.drop', (e) => this.drops.set(e.reason, (this.drops.get(e.reason) ?? 0) + 1));
    trace.on('switch.flowmod', () => this.counters.flowMods++);
    trace.on('dp.tunnel.send', (e) => this.tunnelFrames.set(e.src, (this.tunnelFrames.get(e.src) ?? 0) + 1));
    trace.on('ctl.compute', () => this.counters.computes++);
    // A VIF attached or detached by anyone (a migration manager too) moves the VM's record with it.
    trace.on('dp.vif.attach', (e) => {
      const vm = this.vms.get(e.vm);
      if (vm === undefined) return;
      vm.host = e.node;
      vm.attached = true;
    });
    trace.on('dp.vif.detach', (e) => {
      const vm = this.vms.get(e.vm);
      if (vm !== undefined && vm.host === e.node) vm.attached = false;
    });
    trace.on('phase.liveness', () => {
      this.livenessFromNs = world.now;
    });
  }

  // ---- physical topology -------------------------------------------------------------------------------

  host(id: NodeId): this {
    this.dp.addHost(id);
    this.hostIds.push(id);
    return this;
  }

  /** A managed switch with no VMs that is not a pool node: it must never get a tenant flow. */
  interior(id: NodeId): this {
    this.dp.addPoolNode(id);
    this.interiorIds.push(id);
    return this;
  }

  /** A pool node the controller uses for broadcast and unknown-destination replication. */
  poolNode(id: NodeId): this {
    this.dp.addPoolNode(id);
    this.poolNodeIds.push(id);
    return this;
  }

  /** An unmanaged external segment with endpoints, and a gateway wired to it. */
  externalNetwork(segment: NodeId, gateway: NodeId, endpoints: readonly EndpointDecl[]): this {
    this.dp.addExternalSegment(
      segment,
      endpoints.map((e) => ({ name: e.name, mac: parseMac(e.mac), ip: parseIpv4(e.ip), prefixLen: e.prefixLen, ...(e.gateway !== undefined && { gateway: parseIpv4(e.gateway) }) })),
    );
    for (const e of endpoints) this.endpoints.set(`${segment}/${e.name}`, { segment, name: e.name, mac: parseMac(e.mac), ip: parseIpv4(e.ip) });
    this.dp.addGateway(gateway, segment);
    return this;
  }

  get interiorSwitches(): readonly NodeId[] {
    return this.interiorIds;
  }

  get poolNodes(): readonly NodeId[] {
    return this.poolNodeIds;
  }

  // ---- logical configuration ---------------------------------------------------------------------------

  logicalSwitch(name: string, tenant: string, subnet?: string): this {
    this.nb.createSwitch({ name, tenant, ...(subnet !== undefined && { subnet }) });
    return this;
  }

  router(name: string, tenant: string, ports: readonly { switch: string; mac: string; ip: string }[]): this {
    this.nb.transaction((nb) => {
      nb.createRouter({ name, tenant });
      for (const p of ports) nb.connectRouter({ router: name, switch: p.switch, name: `${name}-${p.switch}`, mac: p.mac, ip: p.ip });
    });
    return this;
  }

  /** Bridges a logical switch to an external segment through its gateway (a localnet port). */
  bridge(logicalSwitch: string, segment: NodeId, gateway: NodeId): this {
    this.nb.createSwitchPort({ name: `${logicalSwitch}-localnet`, switch: logicalSwitch, type: 'localnet', network: segment, gateway });
    return this;
  }

  acl(spec: AclSpec): this {
    this.nb.createAcl(spec);
    return this;
  }

  /** What the tenants' ACLs are meant to allow, for the isolation policy and the reference model. */
  setAclIntent(intent: AclIntent): this {
    this.aclIntent = intent;
    return this;
  }

  /** A VM on a host with a logical port (named after it) bound to its VIF. */
  vm(name: string, decl: VmDecl): this {
    if (this.vms.has(name)) throw new Error(`nv-testbed: VM '${name}' is declared twice`);
    const record: VmRecord = { name, decl, vifId: `vif-${name}`, mac: parseMac(decl.mac), ip: parseIpv4(decl.ip), host: decl.host, attached: false, moving: false };
    const entry = `${decl.mac} ${decl.ip}`;
    this.nb.createSwitchPort({
      name,
      switch: decl.switch,
      addresses: decl.unknown === true ? [entry, 'unknown'] : [entry],
      portSecurity: decl.portSecurity === false ? [] : [entry],
      vifId: record.vifId,
    });
    this.vms.set(name, record);
    this.attach(record, decl.host);
    return this;
  }

  /** Mesh tunnels, the controller or cluster (with the pool nodes) and every switch pointed at it. Call once, last. */
  start(): this {
    if (this.started) throw new Error('nv-testbed: start() is called once');
    this.started = true;
    const poolNodes = [...this.poolNodeIds];
    const cluster = this.options.cluster;
    if (cluster === undefined) {
      this.world.fabric.addNode(CONTROLLER_NODE, (ctx) => new ControllerNode(ctx, { ...DEFAULT_CONTROLLER_OPTIONS, northbound: NB_NODE, poolNodes }), { kind: 'controller' });
      this.dp.meshTunnels();
      this.dp.setControllers([CONTROLLER_NODE]);
      return this;
    }
    const { instances, joiners = [], ...overrides } = cluster;
    if (!Number.isInteger(instances) || instances < 1) throw new Error(`nv-testbed: a cluster needs a positive whole number of instances, got ${instances}`);
    const joinTimes = joinerTimes(joiners);
    for (let i = 1; i <= instances; i++) this.instances.push(`ctl-${i}`);
    const founders = [...this.instances];
    joinTimes.forEach((atNs, i) => {
      const id = `ctl-${instances + 1 + i}`;
      this.instances.push(id);
      this.joiners.push({ id, atNs });
    });
    // Joiners follow the CM log as learners and hold no PTD replica, so the founders' quorums stay as they are.
    const config = clusterConfig(this.instances, { voters: founders, ptdHolders: founders, ...overrides });
    for (const id of this.instances) {
      const options = { northbound: NB_NODE, poolNodes, cluster: config, replyDeadlineNs: DEFAULT_CONTROLLER_OPTIONS.replyDeadlineNs };
      const joinAt = this.joiners.find((j) => j.id === id)?.atNs;
      const factory = joinAt === undefined ? (ctx: NodeContext) => new ClusterInstance(ctx, options) : (ctx: NodeContext) => new LateInstance(ctx, joinAt, () => new ClusterInstance(ctx, options));
      this.world.fabric.addNode(id, factory, { kind: 'controller' });
    }
    this.dp.meshTunnels();
    this.dp.setControllers(this.instances);
    return this;
  }

  // ---- configuration changes during a run --------------------------------------------------------------

  /**
   * Runs `action` at `time`; an action that returns false (a host it needs is down) is retried every
   * 100ms until it runs.
   */
  at(time: string | Nanos, action: () => boolean | void): this {
    const run = (): void => {
      if (action() === false) this.world.scheduler.after(RETRY_NS, run);
    };
    this.world.scheduler.at(typeof time === 'number' ? time : toNanos(time), run);
    return this;
  }

  /**
   * Asks the cluster to change its coordination-manager policy now (a replicated `set-policy`), through a
   * running instance; if that one stops before it has applied the change, through another. False when no
   * instance runs (so `at` retries). Throws, changing nothing, on an invalid policy.
   */
  setClusterPolicy(change: Partial<CmPolicy>): boolean {
    const running = this.runningInstances();
    if (running.length === 0) return false;
    const policy: CmPolicy = { ...this.instance(running[0])!.cm.state.policy, ...change };
    validateCmPolicy(policy);
    const applied = (i: ClusterInstance) => JSON.stringify(i.cm.state.policy) === JSON.stringify(policy);
    let proposer: ClusterInstance | undefined;
    const attempt = (): void => {
      if (proposer !== undefined && this.runningInstances().some((id) => this.instance(id) === proposer)) {
        if (applied(proposer)) return;
      } else {
        const id = this.runningInstances()[0];
        proposer = id === undefined ? undefined : this.instance(id);
        proposer?.cm.setPolicy(policy);
      }
      this.world.scheduler.after(RETRY_NS, attempt);
    };
    attempt();
    this.config('set-policy', JSON.stringify(policy));
    return true;
  }

  /** Adds a VM and its bound logical port now. */
  addVm(name: string, decl: VmDecl): boolean {
    if (!this.world.fabric.isUp(decl.host)) return false;
    this.vm(name, decl);
    this.config('add-port', `${name} on ${decl.switch} at ${decl.host}`);
    return true;
  }

  /** Deletes the VM's logical port and shuts the VM down. */
  removeVm(name: string): boolean {
    const vm = this.vmRecord(name);
    if (!this.world.fabric.isUp(vm.host)) return false;
    this.nb.deleteSwitchPort(name);
    this.dp.host(vm.host).detachVm(name);
    vm.attached = false;
    this.config('remove-port', `${name} from ${vm.decl.switch} at ${vm.host}`);
    return true;
  }

  /**
   * Moves the VM's VIF (its port binding is unchanged): detached from its host, then attached to `to`; or,
   * with `attachFirst` (make before break, as a live migration does), attached to `to` first and detached
   * from the old host `detachAfterNs` later, so for a while both hosts report the VIF.
   */
  moveVm(name: string, to: NodeId, options: { attachFirst?: boolean; detachAfterNs?: Nanos } = {}): boolean {
    const vm = this.vmRecord(name);
    if (!vm.attached) throw new Error(`nv-testbed: VM '${name}' is not attached anywhere`);
    if (vm.moving || !this.world.fabric.isUp(vm.host) || !this.world.fabric.isUp(to)) return false;
    const from = vm.host;
    if (options.attachFirst === true && from !== to) {
      this.attach(vm, to);
      vm.moving = true;
      const detach = (): void => {
        if (!this.world.fabric.isUp(from)) return void this.world.scheduler.after(RETRY_NS, detach);
        this.dp.host(from).detachVm(name);
        vm.moving = false;
      };
      this.world.scheduler.after(options.detachAfterNs ?? 0, detach);
    } else {
      this.dp.host(from).detachVm(name);
      vm.attached = false;
      this.attach(vm, to);
    }
    this.config('move-vif', `${name} ${from} -> ${to}${options.attachFirst === true ? ' (attach first)' : ''}`);
    return true;
  }

  /**
   * The network manager (seed 003) as node 'nm': transport zones of hosts, every logical switch an opaque
   * network in the first zone, and every host's opaque switch (in the zones that list it, `capacity` VIF
   * ports, unavailable if listed). Call before start().
   */
  networkManager(spec: { zones: Record<string, readonly NodeId[]>; unavailable?: readonly NodeId[]; capacity?: number }): this {
    this.world.fabric.addNode(NM_NODE, (ctx) => new NetworkManagerNode(ctx), { kind: 'network-manager' });
    const nm = this.networkManagerNode();
    const zones = Object.entries(spec.zones);
    if (zones.length === 0) throw new Error('nv-testbed: the network manager needs at least one transport zone');
    for (const [tz, hosts] of zones) nm.setZone(tz, hosts);
    for (const ls of this.nb.switches()) nm.defineNetwork(ls.name, zones[0][0]);
    for (const host of this.hostIds) {
      const tzs = zones.filter(([, hosts]) => hosts.includes(host)).map(([tz]) => tz);
      nm.defineSwitch(host, { tzs, capacity: spec.capacity ?? 16, status: spec.unavailable?.includes(host) === true ? 'unavailable' : 'healthy' });
    }
    return this;
  }

  networkManagerNode(): NetworkManagerNode {
    const nm = this.world.fabric.process<NetworkManagerNode>(NM_NODE);
    if (nm === undefined) throw new Error('nv-testbed: the network manager is down or was never added (networkManager())');
    return nm;
  }

  /** What the network manager's persistent configuration publishes to `host`, whether the NM is up or not. */
  networkManagerPublication(host: NodeId): Publication {
    return publicationOnDisk(this.world.fabric.disk(NM_NODE), host);
  }

  /** The migration manager of a host. */
  migrationManager(host: NodeId): MigrationManager {
    const service = this.dp.host(host).service;
    if (!(service instanceof MigrationManager)) throw new Error(`nv-testbed: host '${host}' has no migration manager (option migration)`);
    return service;
  }

  /**
   * Migrates a VM from where it is now to the first of `to` that accepts it (seed 003 placement), through
   * its host's migration manager. False when its host is down (so `at` retries). Returns the migration id
   * through `started`, if given.
   */
  migrate(name: string, to: NodeId | readonly NodeId[], options: Partial<Omit<MigrateOptions, 'networks'>> = {}, started?: (id: string) => void): boolean {
    const vm = this.vmRecord(name);
    if (!vm.attached || !this.world.fabric.isUp(vm.host)) return false;
    const id = this.migrationManager(vm.host).migrate(name, typeof to === 'string' ? to : [...to], { ...options, networks: [vm.decl.switch] });
    this.config('migrate', `${name} from ${vm.host} (${id})`);
    started?.(id);
    return true;
  }

  /** Every migration any host's manager has started, in start order. */
  migrations(): MigrationRecord[] {
    const out: MigrationRecord[] = [];
    for (const host of this.hostIds) if (this.world.fabric.isUp(host)) out.push(...this.migrationManager(host).migrations());
    return out.sort((a, b) => (a.times.start ?? 0) - (b.times.start ?? 0) || (a.id < b.id ? -1 : 1));
  }

  private attach(vm: VmRecord, host: NodeId): void {
    const d = vm.decl;
    this.dp.host(host).attachVm({
      name: vm.name,
      vifId: vm.vifId,
      mac: vm.mac,
      ip: vm.ip,
      prefixLen: d.prefixLen ?? 24,
      ...(d.gateway !== undefined && { gateway: parseIpv4(d.gateway) }),
    });
    vm.host = host;
    vm.attached = true;
  }

  private config(action: string, detail: string): void {
    this.counters.configChanges++;
    this.world.trace.emit('nvt.config', { action, detail });
  }

  // ---- reading the system ------------------------------------------------------------------------------

  controller(): ControllerNode | undefined {
    return this.world.fabric.process<ControllerNode>(CONTROLLER_NODE);
  }

  /** A cluster instance's process (undefined while it is down). */
  instance(id: NodeId): ClusterInstance | undefined {
    const p = this.world.fabric.process<NodeProcess>(id);
    return p instanceof LateInstance ? (p.instance ?? undefined) : (p as ClusterInstance | undefined);
  }

  /** The instances whose controller process runs now (up, and past its join if it is a joiner). */
  runningInstances(): NodeId[] {
    return this.instances.filter((id) => this.instance(id) !== undefined);
  }

  /** The live instances acting as master of a switch (one, once elections settle). */
  mastersOf(switchId: NodeId): NodeId[] {
    return this.mastersOfEntity(switchEntity(switchId));
  }

  /** The live instances acting as master of a switch or LDPS entity ('switch:<id>', 'ldps:<tenant>'). */
  mastersOfEntity(entity: string): NodeId[] {
    return this.instances.filter((id) => this.instance(id)?.mastership().has(entity) === true);
  }

  /** The flows whoever masters a switch wants on it. */
  private desiredFor(id: NodeId): Flow[] {
    if (this.instances.length === 0) return this.controller()?.desiredFlows(id) ?? [];
    const masters = this.mastersOf(id);
    return masters.length === 1 ? this.instance(masters[0])!.desiredFlows(id) : [];
  }

  /** The controller, or every live instance, has nothing outstanding, and every up switch has one master. */
  private controlPlaneSettled(): boolean {
    if (this.instances.length === 0) return this.controller()?.switches.allInSync() ?? false;
    for (const id of this.runningInstances()) if (!this.instance(id)!.settled()) return false;
    return this.dp.switches.every((id) => !this.world.fabric.isUp(id) || this.mastersOf(id).length === 1);
  }

  /** An engine whose extra inputs the from-scratch reference copies (any live controller's). */
  private someEngine(): RulesEngine | undefined {
    if (this.instances.length === 0) return this.controller()?.program.engine;
    const live = this.runningInstances()[0];
    return live === undefined ? undefined : this.instance(live)!.program.engine;
  }

  vmNames(): string[] {
    return [...this.vms.keys()];
  }

  /** Of the given names (default: all declared VMs), those whose VM exists now (declared and not removed). */
  attachedVms(names?: readonly string[]): string[] {
    return (names ?? [...this.vms.keys()]).filter((n) => this.vms.get(n)?.attached === true);
  }

  hostOf(vm: string): NodeId {
    return this.vmRecord(vm).host;
  }

  /** The MAC of a VM, or of an external endpoint ("segment/endpoint"). */
  macOf(name: string): number {
    return name.includes('/') ? this.endpointRecord(name).mac : this.vmRecord(name).mac;
  }

  ipOf(name: string): number {
    return name.includes('/') ? this.endpointRecord(name).ip : this.vmRecord(name).ip;
  }

  datapathOf(logicalSwitchOrRouter: string): number {
    const view = this.nb.getSwitch(logicalSwitchOrRouter) ?? this.nb.getRouter(logicalSwitchOrRouter);
    if (view === undefined) throw new Error(`nv-testbed: no logical switch or router '${logicalSwitchOrRouter}'`);
    return view.dp;
  }

  tenantOfDatapath(dp: number): string | undefined {
    return this.index().tenantOfDp.get(dp);
  }

  /** Installed flows of every switch that is up. */
  installedTables(): Map<NodeId, Flow[]> {
    const out = new Map<NodeId, Flow[]>();
    for (const id of this.dp.switches) if (this.world.fabric.isUp(id)) out.set(id, this.dp.switchNode(id).switch.flows.flows());
    return out;
  }

  /** A VM can send and be reached: attached to an up host, running (not stunned), with its logical port present and bound. */
  isLive(vm: string): boolean {
    const r = this.vms.get(vm);
    if (r === undefined || !r.attached || !this.world.fabric.isUp(r.host)) return false;
    if (this.dp.host(r.host).vm(vm).runState !== 'running') return false;
    return this.index().ports.get(vm)?.vifId === r.vifId;
  }

  /** Every node up, no partition or degraded link, and flows converged to the current intent. */
  steady(): boolean {
    const f = this.world.fabric;
    if (f.nodes().some((n) => !n.up) || f.activePartitions().length > 0 || f.activeDegradations().length > 0) return false;
    return checkFlowConvergence(this.flowView) === true;
  }

  readonly flowView: FlowTablesView = {
    switches: () => this.dp.switches.filter((id) => this.world.fabric.isUp(id)),
    installed: (id) => (this.world.fabric.isUp(id) ? this.dp.switchNode(id).switch.flows.flows() : undefined),
    desired: (id) => this.desiredFor(id),
    reference: () => this.reference(),
    inSync: () => this.controlPlaneSettled(),
  };

  readonly placementView: PlacementView = {
    switches: () => this.dp.switches.filter((id) => this.world.fabric.isUp(id)),
    installed: (id) => (this.world.fabric.isUp(id) ? this.dp.switchNode(id).switch.flows.flows() : undefined),
    allowed: () => {
      const vifsBySwitch = new Map<NodeId, string[]>();
      for (const [id, ports] of this.switchPorts()) vifsBySwitch.set(id, ports.flatMap((p) => (p.kind === 'vif' ? [p.vifId] : [])));
      return placementIntent({ snapshot: this.nb.snapshot(), vifsBySwitch, poolNodes: this.poolNodeIds });
    },
  };

  private switchPorts(): Map<NodeId, Port[]> {
    const out = new Map<NodeId, Port[]>();
    for (const id of this.dp.switches) if (this.world.fabric.isUp(id)) out.set(id, this.dp.switchNode(id).switch.ports.list());
    return out;
  }

  /**
   * The from-scratch flows for the current intent — plus, in a cluster, the app flows the request list
   * has committed to the NIB — cached until the configuration, a port or an app record changes.
   */
  private reference(): ReadonlyMap<NodeId, readonly Flow[]> {
    const app = this.committedAppFlows();
    const key = `${this.nbVersion}/${this.disturbances.count}/${[...app].map(([id, flows]) => `${id}:${flows.map(formatFlow).join(',')}`).join(';')}`;
    if (this.referenceCache?.key !== key) {
      const engine = this.someEngine();
      const computed = referenceFlows({ snapshot: this.nb.snapshot(), switchPorts: this.switchPorts(), poolNodes: this.poolNodeIds, ...(engine !== undefined && { otherInputsFrom: engine }) });
      const flows = new Map(computed);
      for (const [id, extra] of app) flows.set(id, [...(flows.get(id) ?? []), ...extra]);
      this.referenceCache = { key, flows };
    }
    return this.referenceCache.flows;
  }

  /** The instance holding the master PTD, if it is up (the NIB's committed state, for checks). */
  livePtdMaster(): ClusterInstance | undefined {
    const live = this.runningInstances();
    const master = live.map((id) => this.instance(id)!.cm.state.ptdMaster).find((m) => m !== null && live.includes(m));
    return master === undefined || master === null ? undefined : this.instance(master);
  }

  /** App flows per switch as the live master PTD holds them (none without a cluster or a live master PTD). */
  private committedAppFlows(): Map<NodeId, Flow[]> {
    const out = new Map<NodeId, Flow[]>();
    const master = this.livePtdMaster();
    if (master === undefined) return out;
    for (const id of this.dp.switches) {
      const rows = master.requests.appRows(id);
      if (rows.length > 0) out.set(id, rows.map(rowToFlow));
    }
    return out;
  }

  // ---- the logical network as the reference model sees it ---------------------------------------------

  private vmRecord(name: string): VmRecord {
    const r = this.vms.get(name);
    if (r === undefined) throw new Error(`nv-testbed: no VM '${name}'`);
    return r;
  }

  private index(): LogicalIndex {
    if (this.indexCache !== null) return this.indexCache;
    const nb = this.nb;
    const dpOfSwitch = new Map<string, number>();
    const tenantOfDp = new Map<number, string>();
    for (const s of nb.switches()) {
      dpOfSwitch.set(s.name, s.dp);
      tenantOfDp.set(s.dp, s.tenant);
    }
    for (const r of nb.routers()) tenantOfDp.set(r.dp, r.tenant);
    const ports = new Map<string, { switch: string; vifId?: string; unknown: boolean; macs: number[] }>();
    const segmentOfSwitch = new Map<string, NodeId>();
    const switchesOnSegment = new Map<NodeId, string[]>();
    for (const p of nb.switchPorts()) {
      if (p.type === 'vif') {
        const macs = p.addresses.filter((a) => a !== 'unknown').map((a) => parseMac(a.split(' ')[0]));
        ports.set(p.name, { switch: p.switch, ...(p.vifId !== undefined && { vifId: p.vifId }), unknown: p.addresses.includes('unknown'), macs });
      } else if (p.type === 'localnet' && p.network !== undefined) {
        segmentOfSwitch.set(p.switch, p.network);
        if (!switchesOnSegment.has(p.network)) switchesOnSegment.set(p.network, []);
        switchesOnSegment.get(p.network)!.push(p.switch);
      }
    }
    const routerPortsBySwitch = new Map<string, RouterPortInfo[]>();
    const routerPortsByRouter = new Map<string, RouterPortInfo[]>();
    const component = new Map<string, number>();
    for (const name of dpOfSwitch.keys()) component.set(name, dpOfSwitch.get(name)!);
    for (const rp of nb.routerPorts()) {
      const [ipText, lenText] = rp.ip.split('/');
      const ip = parseIpv4(ipText);
      const len = Number(lenText);
      const info: RouterPortInfo = { router: rp.router, switch: rp.switch, mac: parseMac(rp.mac), ip, net: { addr: (ip & prefixMask(len)) >>> 0, len } };
      for (const [map, key] of [[routerPortsBySwitch, rp.switch], [routerPortsByRouter, rp.router]] as const) {
        if (!map.has(key)) map.set(key, []);
        map.get(key)!.push(info);
      }
    }
    // Switches on one router share a component (repeat until stable: routers may chain through switches).
    for (let changed = true; changed; ) {
      changed = false;
      for (const list of routerPortsByRouter.values()) {
        const min = Math.min(...list.map((p) => component.get(p.switch)!));
        for (const p of list) {
          if (component.get(p.switch) !== min) {
            component.set(p.switch, min);
            changed = true;
          }
        }
      }
    }
    this.indexCache = { dpOfSwitch, tenantOfDp, ports, routerPortsBySwitch, routerPortsByRouter, segmentOfSwitch, switchesOnSegment, component };
    return this.indexCache;
  }

  private endpointKeyOf(name: string): EndpointKey {
    return name.includes('/') ? extEndpoint(...(name.split('/') as [string, string])) : vmEndpoint(name);
  }

  /** The logical switches an endpoint is on: a VM's own; those bridged to an external segment. */
  private switchesOf(key: EndpointKey): string[] {
    if (key.startsWith('vm:')) return [this.vmRecord(key.slice(3)).decl.switch];
    const segment = key.slice(4).split('/')[0];
    return this.index().switchesOnSegment.get(segment) ?? [];
  }

  private describe(key: EndpointKey): string {
    const idx = this.index();
    const tenants = [...new Set(this.switchesOf(key).map((s) => idx.tenantOfDp.get(idx.dpOfSwitch.get(s) ?? -1) ?? '?'))];
    return `${key} (tenant ${tenants.join('/') || 'none'})`;
  }

  /**
   * The isolation policy: `to` may get what `from` sent only if they share a logical switch, or their
   * switches are joined by logical routers, or one is on an external segment bridged to the other's switch
   * (or both on one segment) — and the ACL intent allows it.
   */
  readonly policy = (from: EndpointKey, to: EndpointKey, sent: Headers): Verdict => {
    if (from === to) return true;
    const idx = this.index();
    let connected = from.startsWith('ext:') && to.startsWith('ext:') && from.slice(4).split('/')[0] === to.slice(4).split('/')[0];
    if (!connected) {
      const a = new Set(this.switchesOf(from).map((s) => idx.component.get(s)));
      connected = this.switchesOf(to).some((s) => a.has(idx.component.get(s)));
    }
    if (!connected) return `${this.describe(from)} and ${this.describe(to)} are not connected`;
    if (!this.aclIntent(from, to, sent)) return 'the ACLs deny it';
    return true;
  };

  /** Who must receive the frame `from` sends with headers `h`; undefined when the model cannot tell. */
  predict(from: EndpointKey, h: Headers): Prediction | undefined {
    const idx = this.index();
    let out: Prediction | undefined;
    if (from.startsWith('vm:')) {
      const name = from.slice(3);
      const vm = this.vmRecord(name);
      if (!this.isLive(name)) return emptyPrediction();
      if (vm.decl.portSecurity !== false) {
        if (h.ethSrc !== vm.mac) return emptyPrediction();
        if ((h.ethType === ETH_TYPE_IPV4 || h.ethType === ETH_TYPE_ARP) && h.ipSrc !== vm.ip) return emptyPrediction();
      }
      out = this.l2(idx, vm.decl.switch, h, from, false);
    } else {
      const [segment, self] = from.slice(4).split('/');
      out = emptyPrediction();
      for (const e of this.endpoints.values()) {
        if (e.segment !== segment || e.name === self) continue;
        const key = extEndpoint(segment, e.name);
        if (isMulticastMac(h.ethDst) || e.mac === h.ethDst) out.once.add(key);
        else out.maybe.add(key);
      }
      for (const ls of idx.switchesOnSegment.get(segment) ?? []) {
        const more = this.l2(idx, ls, h, from, true);
        if (more === undefined) return undefined;
        for (const k of more.once) out.once.add(k);
        for (const k of more.maybe) out.maybe.add(k);
      }
    }
    if (out === undefined) return undefined;
    for (const set of [out.once, out.maybe]) for (const to of [...set]) if (this.policy(from, to, h) !== true) set.delete(to);
    const fromSegment = from.startsWith('ext:') ? from.slice(4).split('/')[0] : undefined;
    for (const to of [...out.once]) {
      const untrusted = (segment: NodeId) => !this.segmentTrusted(idx, segment);
      if ((to.startsWith('ext:') && untrusted(to.slice(4).split('/')[0])) || (fromSegment !== undefined && this.spoofedFromOutside.has(fromSegment))) {
        out.once.delete(to);
        out.maybe.add(to);
      }
    }
    return out;
  }

  /**
   * Whether the external segment's MAC learning can be relied on: a VM on a bridged switch without port
   * security (or owning an external host's MAC) can send with an external host's MAC as source, and the
   * unmanaged segment then learns that MAC on the gateway's uplink and stops delivering to the host until
   * the host itself sends. Deliveries to external hosts are then possible, not certain. An external host
   * that sent with another's source MAC has done the same to the segment from outside.
   */
  private segmentTrusted(idx: LogicalIndex, segment: NodeId): boolean {
    if (this.spoofedFromOutside.has(segment)) return false;
    const bridged = new Set(idx.switchesOnSegment.get(segment) ?? []);
    const externalMacs = new Set([...this.endpoints.values()].filter((e) => e.segment === segment).map((e) => e.mac));
    for (const v of this.vms.values()) {
      if (!bridged.has(v.decl.switch) || !v.attached) continue;
      if (v.decl.portSecurity === false || externalMacs.has(v.mac)) return false;
    }
    return true;
  }

  private l2(idx: LogicalIndex, ls: string, h: Headers, from: EndpointKey, fromSegment: boolean): Prediction | undefined {
    const out = emptyPrediction();
    const segment = fromSegment ? undefined : idx.segmentOfSwitch.get(ls);
    const segmentEndpoints = segment === undefined ? [] : [...this.endpoints.values()].filter((e) => e.segment === segment);
    const others = [...this.vms.values()].filter((v) => v.decl.switch === ls && vmEndpoint(v.name) !== from && this.isLive(v.name));
    if (isMulticastMac(h.ethDst)) {
      for (const v of others) out.once.add(vmEndpoint(v.name));
      for (const e of segmentEndpoints) out.once.add(extEndpoint(e.segment, e.name));
      return out;
    }
    // A port of the switch owns the MAC: it goes there (if that port's VM is live, and not back to the sender).
    for (const [name, port] of idx.ports) {
      if (port.switch !== ls || !port.macs.includes(h.ethDst)) continue;
      if (vmEndpoint(name) !== from && this.isLive(name)) out.once.add(vmEndpoint(name));
      return out;
    }
    const rp = (idx.routerPortsBySwitch.get(ls) ?? []).find((p) => p.mac === h.ethDst);
    if (rp !== undefined) return h.ethType === ETH_TYPE_IPV4 ? this.route(idx, rp.router, h, from) : out;
    // Unknown destination: the 'unknown'-address ports, and the bridged segment (which may flood). A frame
    // from the segment reaches the switch at all only if the segment flooded it (it had not learned the
    // MAC), so there the 'unknown' ports may, not must, get it.
    for (const v of others) if (idx.ports.get(v.name)?.unknown === true) (fromSegment ? out.maybe : out.once).add(vmEndpoint(v.name));
    for (const e of segmentEndpoints) (e.mac === h.ethDst ? out.once : out.maybe).add(extEndpoint(e.segment, e.name));
    return out;
  }

  private route(idx: LogicalIndex, router: string, h: Headers, from: EndpointKey): Prediction | undefined {
    const ports = idx.routerPortsByRouter.get(router) ?? [];
    if (ports.some((p) => p.ip === h.ipDst)) return undefined; // addressed to the router itself
    if (h.ipTtl <= 1) return emptyPrediction();
    const egress = ports.filter((p) => prefixContains(p.net, h.ipDst)).sort((a, b) => b.net.len - a.net.len)[0];
    if (egress === undefined) return undefined; // static routes are not modelled
    const out = emptyPrediction();
    for (const v of this.vms.values()) {
      if (v.decl.switch === egress.switch && v.ip === h.ipDst && vmEndpoint(v.name) !== from && this.isLive(v.name)) out.once.add(vmEndpoint(v.name));
    }
    if (out.once.size === 0 && idx.segmentOfSwitch.has(egress.switch)) return undefined; // an external host: not modelled
    return out;
  }

  /** The next hop of an IP send from `vm` to `ipDst`: the destination itself, or the gateway. */
  private nextHopIp(vm: VmRecord, ipDst: number): number {
    const d = vm.decl;
    const onLink = ((ipDst ^ vm.ip) & prefixMask(d.prefixLen ?? 24)) >>> 0 === 0;
    return onLink || d.gateway === undefined ? ipDst : parseIpv4(d.gateway);
  }

  /** The MAC an IP send from `vm` to `ipDst` goes to after ARP, or undefined when nobody answers. */
  private nextHopMac(vm: VmRecord, ipDst: number): number | undefined {
    const d = vm.decl;
    const hop = this.nextHopIp(vm, ipDst);
    const idx = this.index();
    for (const v of this.vms.values()) if (v.decl.switch === d.switch && v.ip === hop && this.isLive(v.name)) return v.mac;
    const rp = (idx.routerPortsBySwitch.get(d.switch) ?? []).find((p) => p.ip === hop);
    if (rp !== undefined) return rp.mac;
    const segment = idx.segmentOfSwitch.get(d.switch);
    for (const e of this.endpoints.values()) if (e.segment === segment && e.ip === hop) return e.mac;
    return undefined;
  }

  // ---- traffic -------------------------------------------------------------------------------------------

  /** Sends one probe now; when `expect`, its receivers are predicted and judged at its deadline. */
  send(probe: Probe, expect: boolean): number | undefined {
    const from = this.endpointKeyOf(probe.from);
    const fromVm = from.startsWith('vm:') ? this.vmRecord(probe.from) : undefined;
    if (fromVm !== undefined && (!fromVm.attached || !this.world.fabric.isUp(fromVm.host))) {
      this.counters.probesSkipped++;
      return undefined;
    }
    const fromEp = fromVm === undefined ? this.endpoints.get(probe.from) : undefined;
    if (fromVm === undefined && (fromEp === undefined || !this.world.fabric.isUp(fromEp.segment))) {
      this.counters.probesSkipped++;
      return undefined;
    }
    const self = fromVm ?? fromEp!;
    const l4Src = 20000 + (this.nextL4++ % 20000);
    let headers: Headers;
    let id: number;
    let label: string;
    const book = probe.kind === 'broadcast' || probe.kind === 'unknown-unicast' ? this.floodExpectations : this.expectations;
    if (probe.kind === 'ip' || probe.kind === 'broadcast') {
      const ipDst = probe.kind === 'broadcast' ? LIMITED_BROADCAST : this.ipOf(probe.to);
      const ipProto = probe.kind === 'ip' && probe.proto === 'tcp' ? IP_PROTO_TCP : IP_PROTO_UDP;
      const l4Dst = probe.kind === 'ip' ? (probe.dstPort ?? 7) : 67;
      const spec = { ipDst, ipProto, l4Src, l4Dst };
      // A send that must wait for ARP depends on the sender's stack too: a request it made while the
      // network was still changing or not yet converged holds later sends to that neighbour until it
      // times out (the stack does not retry). Judge it only if the neighbour is known or the last ARP
      // timeout was quiet: no disturbance, and every traffic round in it found the network steady (a
      // controller cluster may converge well after the last disturbance).
      if (expect && ipDst !== LIMITED_BROADCAST) {
        const stack = fromVm !== undefined ? this.dp.host(fromVm.host).vm(fromVm.name).stack : this.dp.segment(fromEp!.segment).endpoint(fromEp!.name);
        const hop = fromVm !== undefined ? this.nextHopIp(fromVm, ipDst) : ipDst;
        const now = this.world.now;
        const since = now - this.dp.shared.options.arpTimeoutNs;
        const arpQuiet = this.disturbances.firstBetween(Math.max(0, since), now) === undefined && this.lastUnsteadyNs < since;
        if (stack.neighbour(hop) === undefined && !arpQuiet) expect = false;
      }
      id = fromVm !== undefined ? this.dp.host(fromVm.host).sendIpFromVm(fromVm.name, spec, 100) : this.dp.segment(fromEp!.segment).sendIpFromEndpoint(fromEp!.name, spec, 100);
      const ethDst = probe.kind === 'broadcast' ? 0xffff_ffff_ffff : fromVm !== undefined ? this.nextHopMac(fromVm, ipDst) : this.endpointNextHopMac(fromEp!, ipDst);
      headers = udpHeaders({ ethSrc: self.mac, ethDst: ethDst ?? 0, ipSrc: self.ip, ipDst, ipProto, l4Src, l4Dst });
      label = probe.kind === 'ip' ? `${probe.from} -> ${probe.to} ${probe.proto ?? 'udp'}/${l4Dst}` : `${probe.from} broadcast`;
      if (ethDst === undefined) {
        // Nobody answers ARP for it: nothing may be delivered.
        if (expect) book.expect({ originId: id, exactlyOnce: [], exclusive: true, label });
        this.counters.probesSent++;
        return id;
      }
    } else {
      const frame = probe.kind === 'unknown-unicast' ? { ethDst: UNKNOWN_MAC, ipDst: ((self.ip & 0xffffff00) >>> 0) + 250 } : probe;
      headers = udpHeaders({
        ethSrc: probe.kind === 'frame' && probe.ethSrc !== undefined ? probe.ethSrc : self.mac,
        ethDst: frame.ethDst,
        ipSrc: probe.kind === 'frame' && probe.ipSrc !== undefined ? probe.ipSrc : self.ip,
        ipDst: frame.ipDst >>> 0,
        l4Src,
        l4Dst: 9,
      });
      id = fromVm !== undefined ? this.dp.host(fromVm.host).sendFromVm(fromVm.name, headers, 100) : this.dp.segment(fromEp!.segment).sendFromEndpoint(fromEp!.name, headers, 100);
      if (fromEp !== undefined && headers.ethSrc !== fromEp.mac) this.spoofedFromOutside.add(fromEp.segment);
      label = `${probe.from} ${probe.kind}`;
    }
    this.counters.probesSent++;
    if (expect) {
      const p = this.predict(from, headers);
      if (p !== undefined) book.expect({ originId: id, exactlyOnce: [...p.once], atMostOnce: [...p.maybe], exclusive: true, label });
    }
    return id;
  }

  private endpointRecord(name: string): EndpointRecord {
    const e = this.endpoints.get(name);
    if (e === undefined) throw new Error(`nv-testbed: no external endpoint '${name}'`);
    return e;
  }

  private endpointNextHopMac(e: EndpointRecord, ipDst: number): number | undefined {
    for (const other of this.endpoints.values()) if (other.segment === e.segment && other.ip === ipDst) return other.mac;
    const idx = this.index();
    for (const ls of idx.switchesOnSegment.get(e.segment) ?? []) {
      for (const v of this.vms.values()) if (v.decl.switch === ls && v.ip === ipDst && this.isLive(v.name)) return v.mac;
    }
    return undefined;
  }

  /**
   * Rounds of probes every `every` from `from` until `until`: each round checks once whether the network
   * is steady, and only then predicts and judges the probes' deliveries (isolation is checked always).
   */
  traffic(options: { from: string; until: string; every: string; probes: (round: number) => readonly Probe[] }): this {
    const until = toNanos(options.until);
    const every = toNanos(options.every);
    let round = 0;
    const tick = (): void => {
      const steady = this.steady();
      if (!steady) this.lastUnsteadyNs = this.world.now;
      this.counters.rounds++;
      if (steady) this.counters.steadyRounds++;
      for (const probe of options.probes(round++)) this.send(probe, steady);
      if (this.world.now + every < until) this.world.scheduler.after(every, tick);
    };
    this.world.scheduler.at(toNanos(options.from), tick);
    return this;
  }

  /** Probes between every two live VMs of the given list (both directions), by IP. */
  static allPairs(vms: readonly string[], proto: 'udp' | 'tcp' = 'udp', dstPort = 7): Probe[] {
    return vms.flatMap((a) => vms.filter((b) => b !== a).map((b): Probe => ({ kind: 'ip', from: a, to: b, proto, dstPort })));
  }

  // ---- invariants and metrics ----------------------------------------------------------------------------

  /**
   * The invariants every NV scenario has: isolation and exactly-once delivery (safety), flow convergence
   * and placement at quiescence (liveness), and steady traffic delivered after the heal (liveness).
   */
  installInvariants(options: { trafficAfterHeal?: boolean } = {}): this {
    const w = this.world;
    w.invariant(isolationInvariant(this.log, (from, to, sent) => this.policy(from, to, sent)));
    w.invariant(this.expectations.invariant({ id: 'unicast-exactly-once', description: 'a unicast sent on the steady network reaches its destination exactly once (none if port security, ACLs or isolation forbid it), and nobody else' }));
    w.invariant(this.floodExpectations.invariant({ id: 'flood-exactly-once', description: 'a broadcast or unknown-destination unicast sent on the steady network reaches each other live port of its logical switch that should get it exactly once, and nobody else' }));
    w.invariant(flowConvergenceInvariant(this.flowView));
    w.invariant(placementInvariant(this.placementView));
    if (options.trafficAfterHeal !== false) {
      w.invariant({
        kind: 'liveness',
        id: 'traffic-after-heal',
        description: 'once faults stop, packets sent on the steady network are delivered as predicted',
        holds: () => {
          const since = this.livenessFromNs ?? 0;
          const met = this.expectations.metSince(since) + this.floodExpectations.metSince(since);
          return met > 0 ? true : 'no steady send has been delivered as predicted since the liveness phase began';
        },
      });
    }
    return this;
  }

  installMetrics(): this {
    const w = this.world;
    w.metric('flowsPerSwitch', () => {
      const out: Record<string, MetricValue> = {};
      for (const id of this.dp.switches) out[id] = this.world.fabric.isUp(id) ? this.dp.switchNode(id).switch.flows.size : null;
      return out;
    });
    w.metric('tenantFlowsPerSwitch', () => {
      const out: Record<string, MetricValue> = {};
      for (const [id, flows] of this.installedTables()) {
        const byTenant: Record<string, number> = {};
        for (const [dp, n] of datapathsOf(flows)) {
          const t = this.tenantOfDatapath(dp) ?? `dp:${dp}`;
          byTenant[t] = (byTenant[t] ?? 0) + n;
        }
        out[id] = byTenant;
      }
      return out;
    });
    w.metric('packets', () => ({
      sent: this.log.sent,
      delivered: this.log.received,
      deliveredWithoutSender: this.log.receivedWithoutSender,
      dropped: Object.fromEntries([...this.drops].sort(([a], [b]) => (a < b ? -1 : 1))),
    }));
    w.metric('probes', () => ({ ...this.counters }));
    w.metric('expectations', () => ({ unicast: { ...this.expectations.stats }, flood: { ...this.floodExpectations.stats } }));
    w.metric('tunnelFramesBySource', () => Object.fromEntries([...this.tunnelFrames].sort(([a], [b]) => (a < b ? -1 : 1))));
    return this;
  }
}

/** A late joiner's node: nothing runs on it until `joinAt`; a restart after that starts the instance at once. */
class LateInstance implements NodeProcess {
  instance: ClusterInstance | null = null;

  constructor(ctx: NodeContext, joinAt: Nanos, start: () => ClusterInstance) {
    if (ctx.now() >= joinAt) {
      this.instance = start();
      return;
    }
    ctx.setTimer(joinAt - ctx.now(), () => {
      if (ctx.trace.active) ctx.trace.emit('nvt.join', { instance: ctx.id });
      this.instance = start();
    });
  }

  onMessage(from: NodeId, body: Message): void {
    this.instance?.onMessage(from, body);
  }
}

function joinerTimes(joiners: readonly JoinerDecl[]): Nanos[] {
  if (!Array.isArray(joiners)) throw new Error('nv-testbed: cluster.joiners must be a list of { at }');
  return joiners.map((j, i) => {
    let at: Nanos;
    try {
      at = toNanos(j?.at);
    } catch (e) {
      throw new Error(`nv-testbed: cluster.joiners[${i}].at: ${(e as Error).message}`);
    }
    if (!Number.isSafeInteger(at) || at <= 0) throw new Error(`nv-testbed: cluster.joiners[${i}].at must be a time after the start, got ${JSON.stringify(j?.at)}`);
    return at;
  });
}
