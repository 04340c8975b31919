// The DHT range list (seed 000 FIG. 23): which controller instance owns which slice of the hash space
// [0, 2^48). Owns computing a list from the members, looking up owners and replica sets, and checking that
// a list partitions the space (invariant 22). It holds no state: the coordination manager keeps the
// current list and each DHT instance reads it.

import type { NodeId } from '../net/message.ts';

export const HASH_SPACE = 2 ** 48;

/** The hashes in [start, end) belong to `owner`. */
export type HashRange = { readonly start: number; readonly end: number; readonly owner: NodeId };

function isHash(hash: number): boolean {
  return Number.isInteger(hash) && hash >= 0 && hash < HASH_SPACE;
}

/**
 * Equal contiguous slices, one per member in sorted order (so every instance that knows the same members
 * computes the same list), with the division's remainder going to the last. [] when there are no members.
 */
export function computeRanges(members: readonly NodeId[]): HashRange[] {
  const sorted = [...members].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) throw new Error(`range list: member '${sorted[i]}' is listed twice`);
  }
  const width = Math.floor(HASH_SPACE / sorted.length);
  return sorted.map((owner, i) => ({ start: i * width, end: i === sorted.length - 1 ? HASH_SPACE : (i + 1) * width, owner }));
}

/** Index of the range holding `hash` in a list sorted by start, or -1 when it falls in no range. */
function rangeIndex(ranges: readonly HashRange[], hash: number): number {
  if (!isHash(hash)) throw new Error(`range list: ${hash} is not a hash in [0, 2^48)`);
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const r = ranges[mid];
    if (hash < r.start) hi = mid - 1;
    else if (hash >= r.end) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** The owner of `hash`, or null when no range holds it (an empty list). */
export function ownerOf(ranges: readonly HashRange[], hash: number): NodeId | null {
  const i = rangeIndex(ranges, hash);
  return i < 0 ? null : ranges[i].owner;
}

/**
 * The instances that keep a copy of `hash`: its owner first, then the owners of the following ranges in
 * ring order, each once, up to `factor` of them (fewer when there are fewer distinct owners).
 */
export function replicasOf(ranges: readonly HashRange[], hash: number, factor: number): NodeId[] {
  if (!(Number.isSafeInteger(factor) && factor >= 1)) throw new Error(`range list: replication factor must be a positive integer, got ${factor}`);
  const first = rangeIndex(ranges, hash);
  if (first < 0) return [];
  const out: NodeId[] = [];
  for (let k = 0; k < ranges.length && out.length < factor; k++) {
    const owner = ranges[(first + k) % ranges.length].owner;
    if (!out.includes(owner)) out.push(owner);
  }
  return out;
}

/** Null when the ranges, in order, cover [0, 2^48) exactly with no overlap or gap; else why not. */
export function checkPartition(ranges: readonly HashRange[]): string | null {
  if (ranges.length === 0) return 'the range list is empty, so no hash has an owner';
  let expectedStart = 0;
  for (const [i, r] of ranges.entries()) {
    if (!Number.isInteger(r.start) || !Number.isInteger(r.end)) return `range ${i} [${r.start}, ${r.end}) has a bound that is not an integer`;
    if (r.start >= r.end) return `range ${i} [${r.start}, ${r.end}) is empty`;
    if (r.start > expectedStart) return `gap [${expectedStart}, ${r.start}) before range ${i}`;
    if (r.start < expectedStart) return `range ${i} [${r.start}, ${r.end}) overlaps the previous one, which ends at ${expectedStart}`;
    expectedStart = r.end;
  }
  if (expectedStart < HASH_SPACE) return `gap [${expectedStart}, 2^48) after the last range`;
  if (expectedStart > HASH_SPACE) return `the last range ends at ${expectedStart}, past 2^48`;
  return null;
}
