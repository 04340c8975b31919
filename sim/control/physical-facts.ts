// The physical facts a controller knows, as the control program's inputs: each switch's ports as last
// reported, turned into tunnel-port, physical-port and VIF-location tuples. Owns the per-switch port lists
// and the VIF claims; not where the reports come from (a switch channel, or NIB replication in a cluster)
// nor persistence.
//
// During a live migration both the source and the destination report the VIF for a while; the most
// recent claim is where it runs (the engine gets exactly one location per VIF), and when it is withdrawn
// the previous one applies again.

import type { Port } from '../dataplane/ports.ts';
import type { NodeId } from '../net/message.ts';
import { deleteTuple, insertTuple, type Change } from '../rules/index.ts';
import type { ControlProgram } from './control-program.ts';

type VifClaim = { readonly chassis: NodeId; readonly ofport: number };

export class PhysicalFacts {
  private readonly ports = new Map<NodeId, Port[]>();
  /** Every chassis currently reporting each VIF, oldest claim first. */
  private readonly vifClaims = new Map<string, VifClaim[]>();

  constructor(private readonly program: ControlProgram) {}

  has(chassis: NodeId): boolean {
    return this.ports.has(chassis);
  }

  portsOf(chassis: NodeId): readonly Port[] {
    return this.ports.get(chassis) ?? [];
  }

  /** Whether `ports` is what is known of the switch already (order does not matter). */
  same(chassis: NodeId, ports: readonly Port[]): boolean {
    const canonical = (l: readonly Port[]) => JSON.stringify([...l].sort((a, b) => a.number - b.number));
    return canonical(this.portsOf(chassis)) === canonical(ports);
  }

  /**
   * Replaces one switch's ports and returns the engine changes that follow: its tunnel and physical
   * ports, and the location of each VIF it gained or lost. Work is proportional to this switch's ports.
   */
  replace(chassis: NodeId, ports: readonly Port[]): Change[] {
    const { vifLocation, tunnelPort, physicalPort } = this.program.physical;
    const before = this.ports.get(chassis) ?? [];
    this.ports.set(chassis, [...ports]);
    const changes: Change[] = [];
    const keyOf = (p: Port) => JSON.stringify(p);
    const oldKeys = new Set(before.map(keyOf));
    const newKeys = new Set(ports.map(keyOf));
    const locations = new Map<string, VifClaim | undefined>();
    const remember = (vif: string) => {
      if (!locations.has(vif)) locations.set(vif, this.vifLocationOf(vif));
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
    for (const [vif, was] of locations) {
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
}
