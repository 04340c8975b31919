// The packets VMs and external endpoints sent, and where to find each packet's hops again. Keeps only the
// offset of each hop's line in the trace text and re-reads those few lines when a path is asked for, so a
// trace with millions of packet records costs a number per record, not a parsed record. Copies (flooding,
// broadcast replication) carry ids of their own and name the packet they copy as their origin; a path
// includes every copy's hops. Owns that index; the wording of a hop is packet-hops.ts's.

import { hopOf, isHopType, packetLabel } from './packet-hops.ts';
import { checkRecord, type RecordOf } from './record-schema.ts';
import type { RawRecord } from './trace-lines.ts';
import type { PacketHop, PacketSummary } from './types.ts';

export class PacketIndex {
  readonly packets: PacketSummary[] = [];
  /** Packet id → where its records' lines start in the text, in trace order. */
  private readonly hopStarts = new Map<number, number[]>();
  /** Origin packet id → the ids of its copies. */
  private readonly copiesOf = new Map<number, Set<number>>();

  /** A VM (or an external endpoint) named `from` sent a packet. */
  sent(record: Pick<RecordOf<'dp.vm.send'>, 't' | 'packetId' | 'headers'>, from: string): void {
    this.packets.push({ packetId: record.packetId, t: record.t, from, label: packetLabel(record.headers) });
  }

  /** A record of `packetId` is on the line that starts at `start`. */
  hop(packetId: number, start: number): void {
    let starts = this.hopStarts.get(packetId);
    if (starts === undefined) this.hopStarts.set(packetId, (starts = []));
    starts.push(start);
  }

  /** `packetId` is a copy of `originId` (or the packet itself, which changes nothing). */
  copy(originId: number, packetId: number): void {
    if (originId === packetId) return;
    let copies = this.copiesOf.get(originId);
    if (copies === undefined) this.copiesOf.set(originId, (copies = new Set()));
    copies.add(packetId);
  }

  /** Every hop of `packetId` and of its copies, in trace order. `text` is the trace the index was built from. */
  path(text: string, packetId: number): PacketHop[] {
    const starts = [...(this.hopStarts.get(packetId) ?? [])];
    for (const copy of this.copiesOf.get(packetId) ?? []) starts.push(...(this.hopStarts.get(copy) ?? []));
    starts.sort((a, b) => a - b);
    const hops: PacketHop[] = [];
    for (const start of starts) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      // Every one of these lines passed its schema when the trace was loaded.
      const raw = JSON.parse(text.slice(start, end)) as RawRecord;
      if (!isHopType(raw.type)) continue;
      hops.push(hopOf(raw.type, checkRecord(raw.type, raw, 0) as RecordOf<typeof raw.type> & { packetId: number }, packetId));
    }
    return hops;
  }
}
