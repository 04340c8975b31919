// Packet ids: unique within a run, handed out in event order so they replay exactly. Owns the counter
// only. One PacketIds belongs to one world's data plane (the topology builder makes it) and is shared by
// its nodes; it lives outside any node process so a crash and restart never reuses an id.

export class PacketIds {
  private last = 0;

  next(): number {
    return ++this.last;
  }

  /** Ids handed out so far. */
  get issued(): number {
    return this.last;
  }
}
