// The topology layout: the same nodes give the same positions, every node has its own place, bands run
// top to bottom in role order, and VMs sit under their host (or in the detached row).

import { describe, expect, it } from 'vitest';
import type { NodeRole, TopologyNode } from '../../viz/src/model/types.ts';
import { HOST_ROW_HEIGHT, layoutTopology, placeVms, VM_FIRST_ROW_DY, VM_SPACING, VMS_PER_ROW } from '../../viz/src/views/topology-layout.ts';

const node = (id: string, role: NodeRole): TopologyNode => ({ id, role, kind: role });

function nodes(hosts: number): TopologyNode[] {
  return [
    node('ctl-1', 'controller'),
    node('ctl-2', 'controller'),
    node('nb', 'northbound'),
    ...Array.from({ length: hosts }, (_, i) => node(`h${i + 1}`, 'host')),
    node('p1', 'pool'),
    node('gw1', 'gateway'),
    node('physnet', 'segment'),
  ];
}

describe('layoutTopology', () => {
  it('is deterministic and gives every node its own position', () => {
    const a = layoutTopology(nodes(1000));
    const b = layoutTopology(nodes(1000));
    expect(a.nodes).toEqual(b.nodes);
    expect(a.nodes.map((n) => n.id)).toEqual(nodes(1000).map((n) => n.id));
    expect(new Set(a.nodes.map((n) => `${n.x},${n.y}`)).size).toBe(a.nodes.length);
    for (const n of a.nodes) {
      expect(n.x).toBeGreaterThanOrEqual(a.bounds.minX);
      expect(n.x).toBeLessThanOrEqual(a.bounds.maxX);
      expect(n.y).toBeLessThanOrEqual(a.bounds.maxY);
    }
  });

  it('puts controllers on top, then other control nodes, then pool nodes and gateways, then hosts', () => {
    const layout = layoutTopology(nodes(12));
    const y = (id: string) => layout.byId.get(id)!.y;
    expect(y('ctl-1')).toBe(y('ctl-2'));
    expect(y('nb')).toBeGreaterThan(y('ctl-1'));
    expect(y('p1')).toBeGreaterThan(y('nb'));
    expect(y('gw1')).toBe(y('p1'));
    expect(y('physnet')).toBe(y('p1'));
    expect(y('h1')).toBeGreaterThan(y('p1'));
    expect(layout.detachedRowY).toBeGreaterThan(Math.max(...layout.nodes.map((n) => n.y)));
  });

  it('lays hosts out in a grid a little wider than tall, with room for VMs under each row', () => {
    const layout = layoutTopology(nodes(1000));
    const hostRows = new Set(layout.nodes.filter((n) => n.role === 'host').map((n) => n.y));
    const columns = Math.ceil(1000 / hostRows.size);
    expect(columns).toBeGreaterThan(hostRows.size);
    const sorted = [...hostRows].sort((p, q) => p - q);
    expect(sorted[1] - sorted[0]).toBe(HOST_ROW_HEIGHT);
  });

  it('copes with a trace that has only other nodes (a gossip scenario)', () => {
    const layout = layoutTopology([node('r1', 'other'), node('r2', 'other')]);
    expect(layout.byId.get('r1')!.y).toBe(layout.byId.get('r2')!.y);
  });
});

describe('placeVms', () => {
  it('puts VMs in sorted rows under their host, and detached ones in the detached row', () => {
    const layout = layoutTopology(nodes(4));
    const vms = Array.from({ length: VMS_PER_ROW + 3 }, (_, i) => `vm${String(i).padStart(2, '0')}`);
    const vmHost: Record<string, string> = Object.fromEntries(vms.map((vm) => [vm, 'h2']));
    delete vmHost.vm09;
    vmHost.vm05 = 'gone';
    const at = placeVms(layout, vms, vmHost);
    const host = layout.byId.get('h2')!;
    expect(at.get('vm00')!.y).toBe(host.y + VM_FIRST_ROW_DY);
    expect(at.get('vm01')!.x - at.get('vm00')!.x).toBe(VM_SPACING);
    // vm05 and vm09 are elsewhere, so vm10 is h2's ninth VM: the first of its second row.
    expect(at.get('vm08')!.y).toBe(host.y + VM_FIRST_ROW_DY);
    expect(at.get('vm10')!.y).toBe(host.y + VM_FIRST_ROW_DY + VM_SPACING);
    expect(at.get('vm09')!.y).toBe(layout.detachedRowY);
    expect(at.get('vm05')!.y).toBe(layout.detachedRowY);
    expect(at.size).toBe(vms.length);
  });
});
