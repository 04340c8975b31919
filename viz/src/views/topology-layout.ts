// Where each node sits on the topology canvas, in layout units. Deterministic and random-free: bands from
// top to bottom — controllers; other control nodes (northbound, network manager, anything unknown); pool
// nodes, gateways and segments; then the hosts in a near-square grid — each band centred on the widest.
// VMs sit in rows under their host at the time shown, sorted by name; detached VMs wait in a row at the
// bottom. Computed once per trace from every node that ever started, so nothing moves while scrubbing.
// Owns positions only; sizes of marks and drawing are topology-view.ts's.

import type { NodeRole, TopologyNode } from '../model/types.ts';

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface PlacedNode extends Point {
  readonly id: string;
  readonly role: NodeRole;
  readonly kind: string;
}

export interface TopologyLayout {
  /** Every node of the model, in the model's order. */
  readonly nodes: readonly PlacedNode[];
  readonly byId: ReadonlyMap<string, PlacedNode>;
  /** The extent of every position (node centres), VM rows and the detached row included. */
  readonly bounds: { readonly minX: number; readonly minY: number; readonly maxX: number; readonly maxY: number };
  readonly detachedRowY: number;
}

/** Distance between neighbouring nodes in a band. */
const CELL_WIDTH = 120;
/** Height of a host row: the host's mark and a few rows of VMs under it. */
export const HOST_ROW_HEIGHT = 110;
const BAND_ROW_HEIGHT = 80;
const BAND_GAP = 30;
/** VMs under a host: first row's offset from the host's centre, spacing, and how many per row. */
export const VM_FIRST_ROW_DY = 26;
export const VM_SPACING = 13;
export const VMS_PER_ROW = 8;
/** Detached VMs are spaced wider, so their labels fit between them when zoomed in. */
const DETACHED_SPACING = 2 * VM_SPACING;

const BANDS: readonly (readonly NodeRole[])[] = [['controller'], ['northbound', 'network-manager', 'other'], ['pool', 'gateway', 'segment'], ['host']];

export function layoutTopology(nodes: readonly TopologyNode[]): TopologyLayout {
  const hosts = nodes.filter((n) => n.role === 'host');
  // A grid a little wider than tall, which suits a landscape canvas.
  const hostColumns = Math.max(1, Math.ceil(Math.sqrt(hosts.length * 1.6)));
  const bandColumns = Math.max(hostColumns, 10);
  const rows: { members: TopologyNode[]; columns: number; rowHeight: number }[] = [];
  for (const roles of BANDS) {
    const members = nodes.filter((n) => roles.includes(n.role));
    if (members.length === 0) continue;
    const isHosts = roles.includes('host');
    rows.push({ members, columns: isHosts ? hostColumns : Math.min(members.length, bandColumns), rowHeight: isHosts ? HOST_ROW_HEIGHT : BAND_ROW_HEIGHT });
  }
  const widest = Math.max(1, ...rows.map((r) => r.columns));
  const placed = new Map<string, PlacedNode>();
  let y = 0;
  for (const band of rows) {
    // A band's last row is centred too, so a short row does not hang off to the left.
    for (let i = 0; i < band.members.length; i++) {
      const row = Math.floor(i / band.columns);
      const inRow = Math.min(band.columns, band.members.length - row * band.columns);
      const x = ((widest - inRow) / 2 + (i % band.columns)) * CELL_WIDTH;
      const node = band.members[i];
      placed.set(node.id, { id: node.id, role: node.role, kind: node.kind, x, y: y + row * band.rowHeight });
    }
    y += Math.ceil(band.members.length / band.columns) * band.rowHeight + BAND_GAP;
  }
  const detachedRowY = y;
  const positions = [...placed.values()];
  const bounds = {
    minX: 0,
    minY: 0,
    maxX: Math.max(0, (widest - 1) * CELL_WIDTH),
    maxY: Math.max(detachedRowY, ...positions.map((p) => p.y)),
  };
  return { nodes: nodes.map((n) => placed.get(n.id)!), byId: placed, bounds, detachedRowY };
}

/**
 * Each VM's position at one instant: under its host, or in the detached rows when it has no host or its
 * host is not in the layout. `vms` comes sorted (ViewState's order), which keeps each host's row sorted.
 */
export function placeVms(layout: TopologyLayout, vms: readonly string[], vmHost: Readonly<Record<string, string>>): Map<string, Point> {
  const byHost = new Map<string, string[]>();
  const detached: string[] = [];
  for (const vm of vms) {
    const host = vmHost[vm];
    if (host === undefined || !layout.byId.has(host)) detached.push(vm);
    else {
      const list = byHost.get(host);
      if (list === undefined) byHost.set(host, [vm]);
      else list.push(vm);
    }
  }
  const out = new Map<string, Point>();
  for (const [host, list] of byHost) {
    const at = layout.byId.get(host)!;
    list.forEach((vm, i) => {
      const row = Math.floor(i / VMS_PER_ROW);
      const inRow = Math.min(VMS_PER_ROW, list.length - row * VMS_PER_ROW);
      out.set(vm, { x: at.x + (i % VMS_PER_ROW - (inRow - 1) / 2) * VM_SPACING, y: at.y + VM_FIRST_ROW_DY + row * VM_SPACING });
    });
  }
  const detachedPerRow = Math.floor(layout.bounds.maxX / DETACHED_SPACING) + 1;
  detached.forEach((vm, i) =>
    out.set(vm, { x: (i % detachedPerRow) * DETACHED_SPACING, y: layout.detachedRowY + Math.floor(i / detachedPerRow) * DETACHED_SPACING }),
  );
  return out;
}
