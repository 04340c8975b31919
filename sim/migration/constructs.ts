// The network manager's opaque constructs (seed 003.1) as a host holds them: transport zones' logical
// networks and opaque switches, published by the NM and read-only everywhere else. Owns the shapes, the
// publish/ack messages and a host's copy (HostConstructs: it takes writes from the NM only, keeps the
// newest version, and persists it so a restarted host still knows where VMs may go). Not what the NM
// decides to publish (network-manager.ts) nor placement (placement.ts).

import type { Message, NodeId, NodeContext } from '../net/index.ts';

declare module '../kernel/trace.ts' {
  interface TraceEventMap {
    /** A host took the NM's constructs of this version. */
    'nm.publish': { nm: NodeId; host: NodeId; version: number; networks: string[]; switches: string[] };
    /** A host refused a write to its read-only copy from a node that is not its NM. */
    'nm.refused': { host: NodeId; from: NodeId; nm: NodeId };
  }
}

export type SwitchStatus = 'healthy' | 'unhealthy' | 'unavailable';

/** An opaque logical network: its uuid is a logical switch's name; it lives in one transport zone. */
export interface OpaqueNetwork {
  readonly uuid: string;
  readonly tz: string;
}

/** A host's opaque switch (LFE): the transport zones it serves, its health and its VIF port capacity. */
export interface OpaqueSwitch {
  readonly uuid: string;
  readonly host: NodeId;
  readonly tzs: readonly string[];
  readonly status: SwitchStatus;
  readonly capacity: number;
}

/** What one host is given: every network of its zones (less those pulled back) and the zones' switches. */
export interface Publication {
  readonly version: number;
  readonly networks: readonly OpaqueNetwork[];
  readonly switches: readonly OpaqueSwitch[];
}

export type NmPublish = { readonly type: 'nm.publish' } & Publication;
export type NmAck = { readonly type: 'nm.ack'; readonly version: number };
export type NmRefused = { readonly type: 'nm.refused'; readonly version: number };

const COPY_KEY = 'nm/copy';

/** A host's read-only copy of what its network manager published. */
export class HostConstructs {
  private copy: Publication | null;

  constructor(
    private readonly ctx: NodeContext,
    /** The only node whose writes this copy takes. */
    private readonly nm: NodeId,
  ) {
    this.copy = ctx.disk.get<Publication>(COPY_KEY) ?? null;
  }

  /** The newest publication taken, or null when the NM has published nothing here. */
  get current(): Publication | null {
    return this.copy;
  }

  /** This host's own opaque switches (by host id). */
  ownSwitches(): OpaqueSwitch[] {
    return (this.copy?.switches ?? []).filter((s) => s.host === this.ctx.id);
  }

  onMessage(from: NodeId, body: Message): boolean {
    if (body.type !== 'nm.publish') return false;
    const msg = body as unknown as NmPublish;
    if (from !== this.nm) {
      const trace = this.ctx.trace;
      if (trace.active) trace.emit('nm.refused', { host: this.ctx.id, from, nm: this.nm });
      this.ctx.send(from, { type: 'nm.refused', version: msg.version } satisfies NmRefused);
      return true;
    }
    // Older or repeated publications are only acknowledged: the NM retransmits until it hears an ack.
    if (this.copy === null || msg.version > this.copy.version) {
      this.copy = { version: msg.version, networks: msg.networks, switches: msg.switches };
      this.ctx.disk.put(COPY_KEY, this.copy);
      const trace = this.ctx.trace;
      if (trace.active) {
        trace.emit('nm.publish', { nm: from, host: this.ctx.id, version: msg.version, networks: msg.networks.map((n) => n.uuid), switches: msg.switches.map((s) => s.uuid) });
      }
    }
    this.ctx.send(from, { type: 'nm.ack', version: this.copy.version } satisfies NmAck);
    return true;
  }
}
