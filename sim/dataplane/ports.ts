// A switch's ports and how they are numbered. Owns the port shapes (also the wire form in hello and
// port-status messages) and the table of a switch's ports; not what a port does with a packet.
//
// Numbering, so flows and traces stay readable (a controller must still learn numbers from hello and
// port-status, never assume them):
//   1 .. PHYSICAL_PORT-1   VIF ports, one per attached vNIC, in attach order. A number is never reused
//                          on the same switch (the counter is persistent), so a flow left behind for a
//                          detached VIF can never send to the next VM that attaches.
//   PHYSICAL_PORT          the external (physical) port of a gateway.
//   TUNNEL_PORT_BASE ..    tunnel ports, one per remote switch node, in configuration order.

import type { NodeId } from '../net/message.ts';

export const PHYSICAL_PORT = 900;
export const TUNNEL_PORT_BASE = 1000;

export interface VifPort {
  readonly kind: 'vif';
  readonly number: number;
  /** The interface id, as OVS's external_ids:iface-id: what a logical port is bound to. */
  readonly vifId: string;
  readonly vm: string;
  readonly mac: number;
  /**
   * The host a migrated-in VM came from (the hypervisor's external id for a migration), until its state
   * handoff is done: a controller mastering this switch asks that host for the VM's middlebox state.
   */
  readonly origin?: NodeId;
}

export interface TunnelPort {
  readonly kind: 'tunnel';
  readonly number: number;
  /** The fabric node (a host, pool node or gateway) at the far end. */
  readonly remote: NodeId;
}

export interface PhysicalPort {
  readonly kind: 'physical';
  readonly number: number;
  /** The external segment node the port is wired to. */
  readonly segment: NodeId;
}

export type Port = VifPort | TunnelPort | PhysicalPort;

export class PortTable {
  private readonly byNumber = new Map<number, Port>();
  private readonly tunnelByRemote = new Map<NodeId, TunnelPort>();
  private readonly vifById = new Map<string, VifPort>();

  get(number: number): Port | undefined {
    return this.byNumber.get(number);
  }

  tunnelTo(remote: NodeId): TunnelPort | undefined {
    return this.tunnelByRemote.get(remote);
  }

  vif(vifId: string): VifPort | undefined {
    return this.vifById.get(vifId);
  }

  add(port: Port): void {
    if (this.byNumber.has(port.number)) throw new Error(`port ${port.number} already exists`);
    if (port.kind === 'tunnel' && this.tunnelByRemote.has(port.remote)) throw new Error(`a tunnel to '${port.remote}' already exists`);
    if (port.kind === 'vif' && this.vifById.has(port.vifId)) throw new Error(`VIF '${port.vifId}' is already attached`);
    this.byNumber.set(port.number, port);
    if (port.kind === 'tunnel') this.tunnelByRemote.set(port.remote, port);
    if (port.kind === 'vif') this.vifById.set(port.vifId, port);
  }

  remove(number: number): Port | undefined {
    const port = this.byNumber.get(number);
    if (port === undefined) return undefined;
    this.byNumber.delete(number);
    if (port.kind === 'tunnel') this.tunnelByRemote.delete(port.remote);
    if (port.kind === 'vif') this.vifById.delete(port.vifId);
    return port;
  }

  /** Every port by number. */
  list(): Port[] {
    return [...this.byNumber.values()].sort((a, b) => a.number - b.number);
  }

  get size(): number {
    return this.byNumber.size;
  }
}
