// Which packets the list shows: those whose id, sender or description matches the filter text, at most
// `limit` of them (a trace can hold hundreds of thousands; the rest are counted, not drawn). Owns matching.

import type { PacketSummary } from '../model/types.ts';

export interface FilteredPackets {
  readonly shown: readonly PacketSummary[];
  /** How many matched in all. */
  readonly matched: number;
}

/**
 * `query` matches a packet id exactly ("17" or "#17") or any part of the sender or description, ignoring
 * case; a blank query matches every packet.
 */
export function filterPackets(packets: readonly PacketSummary[], query: string, limit: number): FilteredPackets {
  const q = query.trim().toLowerCase();
  const id = /^#?\d+$/.test(q) ? Number(q.replace('#', '')) : null;
  const shown: PacketSummary[] = [];
  let matched = 0;
  for (const p of packets) {
    const hit = q === '' || p.packetId === id || p.from.toLowerCase().includes(q) || p.label.toLowerCase().includes(q);
    if (!hit) continue;
    matched++;
    if (shown.length < limit) shown.push(p);
  }
  return { shown, matched };
}
