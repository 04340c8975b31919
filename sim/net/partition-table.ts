// Which directed node pairs are cut, and by which named partition. Owns only the bookkeeping: a pair may
// be cut by several partitions at once and is reachable again only when all of them are healed.
// Pairs are keyed by node index (not by name) so the per-message check builds no string.

export const MAX_NODES = 1 << 21;

export function pairKey(srcIndex: number, dstIndex: number): number {
  return srcIndex * MAX_NODES + dstIndex;
}

export class PartitionTable {
  private readonly cutCount = new Map<number, number>();
  private readonly pairsById = new Map<string, number[]>();

  /** Number of active partitions. */
  get active(): number {
    return this.pairsById.size;
  }

  has(id: string): boolean {
    return this.pairsById.has(id);
  }

  ids(): string[] {
    return [...this.pairsById.keys()];
  }

  isCut(srcIndex: number, dstIndex: number): boolean {
    return this.cutCount.size !== 0 && this.cutCount.has(pairKey(srcIndex, dstIndex));
  }

  /** Cuts every directed pair in `pairs` under the name `id` (which must be new). */
  add(id: string, pairs: number[]): void {
    if (this.pairsById.has(id)) throw new Error(`partition '${id}' is already active`);
    this.pairsById.set(id, pairs);
    for (const key of pairs) this.cutCount.set(key, (this.cutCount.get(key) ?? 0) + 1);
  }

  /** Heals the partition `id`; returns false when no such partition is active. */
  remove(id: string): boolean {
    const pairs = this.pairsById.get(id);
    if (pairs === undefined) return false;
    this.pairsById.delete(id);
    for (const key of pairs) {
      const n = this.cutCount.get(key)! - 1;
      if (n === 0) this.cutCount.delete(key);
      else this.cutCount.set(key, n);
    }
    return true;
  }
}
