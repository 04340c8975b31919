// A packet's moves between nodes, from its hops (in trace order) for drawing: from the sending VM to its
// host, then along each tunnel or physical link to the node the hop names. Owns that reading only.

import type { PacketHop } from '../model/types.ts';

export interface PathEdge {
  readonly from: string;
  readonly to: string;
}

export function packetEdges(sender: string, hops: readonly PacketHop[]): PathEdge[] {
  const edges: PathEdge[] = [];
  if (hops.length > 0 && hops[0].node !== sender) edges.push({ from: sender, to: hops[0].node });
  for (const hop of hops) if (hop.to !== undefined) edges.push({ from: hop.node, to: hop.to });
  return edges;
}
