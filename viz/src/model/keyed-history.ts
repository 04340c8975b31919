// A string-keyed map whose every change is kept with its virtual time, so the map as it stood at any time
// can be rebuilt quickly: full copies (checkpoints) are taken as changes accumulate, and a query copies the
// last checkpoint before its time and replays the few changes after it. Owns only that bookkeeping, not
// what the keys and values mean. Changes arrive in time order, as trace records do.

/** Fewest changes between two checkpoints, so small maps are not copied on every change. */
const MIN_CHANGES_PER_CHECKPOINT = 64;

interface Checkpoint<V> {
  /** How many changes the state includes. */
  readonly changes: number;
  readonly state: ReadonlyMap<string, V>;
}

export class KeyedHistory<V> {
  private readonly times: number[] = [];
  private readonly keys: string[] = [];
  /** undefined: the key was removed. */
  private readonly values: (V | undefined)[] = [];
  private readonly live = new Map<string, V>();
  private readonly checkpoints: Checkpoint<V>[] = [{ changes: 0, state: new Map() }];

  /** The value now (after every change recorded so far). */
  current(key: string): V | undefined {
    return this.live.get(key);
  }

  /** Sets (or with undefined, removes) `key` at time `t`; a change that changes nothing is not kept. */
  set(t: number, key: string, value: V | undefined): void {
    if (this.live.get(key) === value) return;
    if (value === undefined) this.live.delete(key);
    else this.live.set(key, value);
    this.times.push(t);
    this.keys.push(key);
    this.values.push(value);
    const last = this.checkpoints[this.checkpoints.length - 1];
    // Spacing checkpoints by at least the map's size keeps their total size within the number of changes.
    if (this.times.length - last.changes >= Math.max(MIN_CHANGES_PER_CHECKPOINT, this.live.size)) {
      this.checkpoints.push({ changes: this.times.length, state: new Map(this.live) });
    }
  }

  /** The map as it stood after every change at or before `t` (a fresh copy). */
  stateAt(t: number): Map<string, V> {
    const changes = countAtOrBefore(this.times, t);
    const checkpoint = this.checkpoints[lastCheckpointWithin(this.checkpoints, changes)];
    const state = new Map(checkpoint.state);
    for (let i = checkpoint.changes; i < changes; i++) {
      const value = this.values[i];
      if (value === undefined) state.delete(this.keys[i]);
      else state.set(this.keys[i], value);
    }
    return state;
  }
}

/** How many of the ascending `times` are at or before `t`. */
export function countAtOrBefore(times: readonly number[], t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function lastCheckpointWithin<V>(checkpoints: readonly Checkpoint<V>[], changes: number): number {
  let lo = 0;
  let hi = checkpoints.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (checkpoints[mid].changes <= changes) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
