// One slice's state on one element (seed 001 §1.2), indexed by VM-specific id so one VM's state can be
// found and moved without touching its neighbours': per VM, a connection table (type-2) found by the
// original tuple or by the reply tuple (the reverse of the translated one), and per-VM type-1 entries;
// per slice, the type-1 entries about the slice as a whole (backend health), the translated reply tuples
// in use (so a new translation never collides with a live one) and the load balancer's round-robin
// positions. Owns these tables; not packet decisions, configuration or timers (element.ts).

import type { MiddleboxKind } from './records.ts';
import { compareTuples, reverseTuple, tupleKey } from './tuple.ts';
import type { ConnectionEntry, ConnectionTuple, SharedEntry } from './vm-state.ts';

/** Type-1 keys about the slice as a whole rather than one VM: they stay when a VM's state goes. */
export function isSliceWideKey(key: string): boolean {
  return key.startsWith('health/');
}

export interface ConnectionHit {
  readonly entry: ConnectionEntry;
  /** The packet travels the reply direction (destination to source of the connection). */
  readonly reply: boolean;
}

interface ConnectionTable {
  readonly byOriginal: Map<string, ConnectionEntry>;
  /** Reply tuple key → original tuple key. */
  readonly byReply: Map<string, string>;
}

export class SliceState {
  readonly sliceShared = new Map<string, number>();
  readonly roundRobin = new Map<number, number>();
  private readonly tables = new Map<number, ConnectionTable>();
  private readonly vmShared = new Map<number, Map<string, number>>();
  private readonly replyKeysInUse = new Map<string, number>();

  constructor(
    readonly tag: number,
    readonly internal: number,
    /** From the slice record, or from installed state until a slice record names it. */
    public kind: MiddleboxKind,
  ) {}

  lookup(vmKey: number, t: ConnectionTuple): ConnectionHit | null {
    const table = this.tables.get(vmKey);
    if (table === undefined) return null;
    const key = tupleKey(t);
    const original = table.byOriginal.get(key);
    if (original !== undefined) return { entry: original, reply: false };
    const originalKey = table.byReply.get(key);
    return originalKey === undefined ? null : { entry: table.byOriginal.get(originalKey)!, reply: true };
  }

  /** Whether a connection translated to `translated` would answer to a reply tuple no live one uses. */
  replyTupleFree(translated: ConnectionTuple): boolean {
    return !this.replyKeysInUse.has(tupleKey(reverseTuple(translated)));
  }

  /**
   * Adds or replaces (same original tuple) a connection. With `evictConflicts`, also removes the VM's
   * entries whose tuples collide with it either way (what a 'new' state gap made for a migrated
   * connection), returning them, so the installed translation is the one packets find.
   */
  put(vmKey: number, entry: ConnectionEntry, evictConflicts = false): ConnectionEntry[] {
    const key = tupleKey(entry.tuple);
    const replyKey = tupleKey(reverseTuple(entry.translated));
    const evicted: ConnectionEntry[] = [];
    if (evictConflicts) {
      const byReply = this.tables.get(vmKey)?.byReply;
      for (const k of [replyKey, byReply?.get(key), byReply?.get(replyKey)]) {
        if (k === undefined || k === key) continue;
        const gone = this.delete(vmKey, k);
        if (gone !== undefined) evicted.push(gone);
      }
    }
    this.delete(vmKey, key);
    let table = this.tables.get(vmKey);
    if (table === undefined) this.tables.set(vmKey, (table = { byOriginal: new Map(), byReply: new Map() }));
    table.byOriginal.set(key, entry);
    table.byReply.set(replyKey, key);
    this.replyKeysInUse.set(replyKey, (this.replyKeysInUse.get(replyKey) ?? 0) + 1);
    return evicted;
  }

  /** Removes the VM's connection with this original tuple key; returns it. */
  delete(vmKey: number, originalKey: string): ConnectionEntry | undefined {
    const table = this.tables.get(vmKey);
    const entry = table?.byOriginal.get(originalKey);
    if (table === undefined || entry === undefined) return undefined;
    table.byOriginal.delete(originalKey);
    const replyKey = tupleKey(reverseTuple(entry.translated));
    if (table.byReply.get(replyKey) === originalKey) table.byReply.delete(replyKey);
    const uses = this.replyKeysInUse.get(replyKey) ?? 0;
    if (uses <= 1) this.replyKeysInUse.delete(replyKey);
    else this.replyKeysInUse.set(replyKey, uses - 1);
    if (table.byOriginal.size === 0) this.tables.delete(vmKey);
    return entry;
  }

  /** The VM's connections, by original tuple. */
  connectionsOf(vmKey: number): ConnectionEntry[] {
    const table = this.tables.get(vmKey);
    return table === undefined ? [] : [...table.byOriginal.values()].sort((a, b) => compareTuples(a.tuple, b.tuple));
  }

  connectionCount(vmKey: number): number {
    return this.tables.get(vmKey)?.byOriginal.size ?? 0;
  }

  hasConnections(): boolean {
    return this.tables.size > 0;
  }

  /** VMs with any state here (connections or type-1 entries), ascending. */
  vmKeys(): number[] {
    return [...new Set([...this.tables.keys(), ...this.vmShared.keys()])].sort((a, b) => a - b);
  }

  vmSharedOf(vmKey: number): SharedEntry[] {
    return sortedEntries(this.vmShared.get(vmKey));
  }

  sliceSharedEntries(): SharedEntry[] {
    return sortedEntries(this.sliceShared);
  }

  setVmShared(vmKey: number, key: string, value: number): void {
    let m = this.vmShared.get(vmKey);
    if (m === undefined) this.vmShared.set(vmKey, (m = new Map()));
    m.set(key, value);
  }

  vmSharedValue(vmKey: number, key: string): number | undefined {
    return this.vmShared.get(vmKey)?.get(key);
  }

  /** Drops all of the VM's state in this slice; returns how many connections and type-1 entries went. */
  removeVm(vmKey: number): { connections: number; shared: number } {
    let connections = 0;
    for (const e of this.connectionsOf(vmKey)) if (this.delete(vmKey, tupleKey(e.tuple)) !== undefined) connections++;
    const shared = this.vmShared.get(vmKey)?.size ?? 0;
    this.vmShared.delete(vmKey);
    return { connections, shared };
  }
}

function sortedEntries(m: ReadonlyMap<string, number> | undefined): SharedEntry[] {
  if (m === undefined) return [];
  return [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, value]) => ({ key, value }));
}
