// The undo log that makes every LogicalNetworks call, and every transaction of calls, all-or-nothing:
// each mutation of model state records how to reverse itself, and a failed call rolls back to the mark
// taken when it started. Owns the log and the journaled containers; not what the state means.
//
// A rolled-back Map delete re-inserts its key at the end, so Map iteration order can differ after a
// rollback; nothing observable depends on it because every listing and change set is sorted.

export class Journal {
  private readonly undo: (() => void)[] = [];

  /** A position to roll back to. */
  get mark(): number {
    return this.undo.length;
  }

  record(reverse: () => void): void {
    this.undo.push(reverse);
  }

  /** Reverses every mutation recorded after `mark`, newest first. */
  rollbackTo(mark: number): void {
    while (this.undo.length > mark) this.undo.pop()!();
  }

  /** Forgets the log once a transaction has committed (nothing can roll it back any more). */
  clear(): void {
    this.undo.length = 0;
  }
}

/** A Map whose set and delete are recorded in a journal. */
export class JournaledMap<K, V> {
  private readonly map = new Map<K, V>();

  constructor(private readonly journal: Journal) {}

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  values(): IterableIterator<V> {
    return this.map.values();
  }

  keys(): IterableIterator<K> {
    return this.map.keys();
  }

  set(key: K, value: V): void {
    const map = this.map;
    if (map.has(key)) {
      const old = map.get(key) as V;
      this.journal.record(() => map.set(key, old));
    } else {
      this.journal.record(() => map.delete(key));
    }
    map.set(key, value);
  }

  delete(key: K): void {
    const map = this.map;
    if (!map.has(key)) return;
    const old = map.get(key) as V;
    this.journal.record(() => map.set(key, old));
    map.delete(key);
  }
}

/** Groups of members (e.g. the ports of each datapath), journaled like JournaledMap. */
export class JournaledGroups<G, M> {
  private readonly groups = new Map<G, Set<M>>();

  constructor(private readonly journal: Journal) {}

  add(group: G, member: M): void {
    let set = this.groups.get(group);
    if (set === undefined) {
      set = new Set();
      this.groups.set(group, set);
    }
    if (set.has(member)) return;
    set.add(member);
    const s = set;
    this.journal.record(() => s.delete(member));
  }

  delete(group: G, member: M): void {
    const set = this.groups.get(group);
    if (set === undefined || !set.has(member)) return;
    set.delete(member);
    this.journal.record(() => set.add(member));
  }

  /** The members of `group`, in insertion order (callers sort when order is observable). */
  members(group: G): M[] {
    const set = this.groups.get(group);
    return set === undefined ? [] : [...set];
  }

  count(group: G): number {
    return this.groups.get(group)?.size ?? 0;
  }
}
