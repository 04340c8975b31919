// The network manager (seed 003: the single source of truth for opaque constructs), as a fabric node 'nm'.
// Owns transport zones (zone → hosts), opaque logical networks (uuid = a logical switch's name, in one
// zone), each host's opaque switch (its zones, status, VIF port capacity) and pull-backs (a network
// hidden from one host). Every change bumps one version and republishes to the hosts concerned: each gets
// what its zones hold, retransmitted until that host acknowledges the version. Hosts keep the read-only
// copy (constructs.ts). The configuration is persistent; the retransmission state is not (a restarted NM
// republishes everything once).

import type { Nanos } from '../kernel/time.ts';
import type { Message, NodeContext, NodeId, NodeProcess, PersistentStore } from '../net/index.ts';
import type { NmAck, NmPublish, OpaqueNetwork, OpaqueSwitch, Publication, SwitchStatus } from './constructs.ts';

export interface NetworkManagerOptions {
  /** How often a publication a host has not acknowledged is sent again. */
  readonly retryNs: Nanos;
}

export const DEFAULT_NETWORK_MANAGER: NetworkManagerOptions = { retryNs: 200_000_000 };

interface NmConfig {
  version: number;
  zones: [string, NodeId[]][];
  networks: OpaqueNetwork[];
  switches: OpaqueSwitch[];
  /** [network uuid, host] pairs hidden from that host. */
  pulledBack: [string, NodeId][];
  /** Every host ever published to: one that left all its zones must hear so. */
  hosts: NodeId[];
}

const CONFIG_KEY = 'nm/config';

export class NetworkManagerNode implements NodeProcess {
  private readonly options: NetworkManagerOptions;
  private readonly config: NmConfig;
  private readonly acked = new Map<NodeId, number>();
  private readonly timers = new Map<NodeId, number>();

  constructor(
    private readonly ctx: NodeContext,
    options: Partial<NetworkManagerOptions> = {},
  ) {
    this.options = { ...DEFAULT_NETWORK_MANAGER, ...options };
    if (!(this.options.retryNs > 0)) throw new Error(`network manager: retryNs must be > 0, got ${this.options.retryNs}`);
    this.config = ctx.disk.get<NmConfig>(CONFIG_KEY) ?? { version: 0, zones: [], networks: [], switches: [], pulledBack: [], hosts: [] };
    for (const host of this.config.hosts) this.publish(host);
  }

  get version(): number {
    return this.config.version;
  }

  // ---- configuration (each call is one change, published at once) ---------------------------------------

  /** Creates a zone, or sets its hosts. */
  setZone(tz: string, hosts: readonly NodeId[]): void {
    if (tz === '') throw new Error('network manager: a transport zone needs a name');
    const zones = this.config.zones.filter(([name]) => name !== tz);
    zones.push([tz, [...new Set(hosts)]]);
    this.config.zones = zones;
    this.changed();
  }

  /** Adds a host to a zone (seed 003 D13: it then gets every network and switch of the zone). */
  joinZone(tz: string, host: NodeId): void {
    this.setZone(tz, [...this.hostsOf(tz), host]);
  }

  defineNetwork(uuid: string, tz: string): void {
    if (uuid === '') throw new Error('network manager: a logical network needs a uuid');
    this.requireZone(tz);
    if (this.config.networks.some((n) => n.uuid === uuid)) throw new Error(`network manager: logical network '${uuid}' already exists`);
    this.config.networks.push({ uuid, tz });
    this.changed();
  }

  /** Defines or redefines a host's opaque switch. */
  defineSwitch(host: NodeId, spec: { tzs: readonly string[]; capacity: number; status?: SwitchStatus }): void {
    for (const tz of spec.tzs) this.requireZone(tz);
    if (!Number.isSafeInteger(spec.capacity) || spec.capacity < 0) throw new Error(`network manager: switch capacity must be an integer ≥ 0, got ${spec.capacity}`);
    const lfe: OpaqueSwitch = { uuid: `lfe-${host}`, host, tzs: [...spec.tzs], status: spec.status ?? 'healthy', capacity: spec.capacity };
    this.config.switches = [...this.config.switches.filter((s) => s.host !== host), lfe];
    this.changed();
  }

  setSwitchStatus(host: NodeId, status: SwitchStatus): void {
    const lfe = this.config.switches.find((s) => s.host === host);
    if (lfe === undefined) throw new Error(`network manager: host '${host}' has no opaque switch`);
    this.config.switches = this.config.switches.map((s) => (s === lfe ? { ...s, status } : s));
    this.changed();
  }

  /** Hides a network from one host (seed 003 Q17): migrations and placement then skip that host for it. */
  pullBack(uuid: string, host: NodeId): void {
    this.requireNetwork(uuid);
    if (this.isPulledBack(uuid, host)) return;
    this.config.pulledBack.push([uuid, host]);
    this.changed();
  }

  restore(uuid: string, host: NodeId): void {
    this.requireNetwork(uuid);
    if (!this.isPulledBack(uuid, host)) return;
    this.config.pulledBack = this.config.pulledBack.filter(([n, h]) => !(n === uuid && h === host));
    this.changed();
  }

  /** What `host` should hold now. */
  publicationFor(host: NodeId): Publication {
    return publicationOf(this.config, host);
  }

  /** The newest version `host` has acknowledged (0: none). */
  ackedBy(host: NodeId): number {
    return this.acked.get(host) ?? 0;
  }

  onMessage(from: NodeId, body: Message): void {
    if (body.type !== 'nm.ack') return;
    const version = (body as unknown as NmAck).version;
    if (version > this.ackedBy(from)) this.acked.set(from, version);
  }

  // ---- publishing --------------------------------------------------------------------------------------

  private changed(): void {
    this.config.version++;
    for (const [, hosts] of this.config.zones) for (const h of hosts) if (!this.config.hosts.includes(h)) this.config.hosts.push(h);
    this.ctx.disk.put(CONFIG_KEY, this.config);
    for (const host of this.config.hosts) this.publish(host);
  }

  /** Sends `host` its publication now and again every retryNs until it acknowledges this version. */
  private publish(host: NodeId): void {
    const pending = this.timers.get(host);
    if (pending !== undefined) this.ctx.cancelTimer(pending);
    this.timers.delete(host);
    if (this.ackedBy(host) >= this.config.version) return;
    this.ctx.send(host, { type: 'nm.publish', ...this.publicationFor(host) } satisfies NmPublish);
    this.timers.set(host, this.ctx.setTimer(this.options.retryNs, () => {
      this.timers.delete(host);
      this.publish(host);
    }));
  }

  private hostsOf(tz: string): NodeId[] {
    return this.config.zones.find(([name]) => name === tz)?.[1] ?? [];
  }

  private isPulledBack(uuid: string, host: NodeId): boolean {
    return isPulledBack(this.config, uuid, host);
  }

  private requireZone(tz: string): void {
    if (!this.config.zones.some(([name]) => name === tz)) throw new Error(`network manager: no transport zone '${tz}'`);
  }

  private requireNetwork(uuid: string): void {
    if (!this.config.networks.some((n) => n.uuid === uuid)) throw new Error(`network manager: no logical network '${uuid}'`);
  }
}

/**
 * What the NM's persistent configuration on `disk` publishes to `host` (an empty publication before the
 * first change). Readable while the NM is down: a checker judges against the NM's truth, not a host's copy.
 */
export function publicationOnDisk(disk: PersistentStore, host: NodeId): Publication {
  const config = disk.get<NmConfig>(CONFIG_KEY);
  return config === undefined ? { version: 0, networks: [], switches: [] } : publicationOf(config, host);
}

function publicationOf(config: NmConfig, host: NodeId): Publication {
  const zones = config.zones.filter(([, hosts]) => hosts.includes(host)).map(([tz]) => tz);
  return {
    version: config.version,
    networks: config.networks.filter((n) => zones.includes(n.tz) && !isPulledBack(config, n.uuid, host)),
    switches: config.switches.filter((s) => s.tzs.some((tz) => zones.includes(tz))),
  };
}

function isPulledBack(config: NmConfig, uuid: string, host: NodeId): boolean {
  return config.pulledBack.some(([n, h]) => n === uuid && h === host);
}
