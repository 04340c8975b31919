// What a Raft peer keeps on its disk: the current term, the vote cast in it, and the log of entries. Owns
// the disk layout and keeps an in-memory copy so reads cost no disk clone; knows nothing of the protocol
// (who may write what when is raft.ts's business) and never touches keys outside its prefix.
//
// Layout under the prefix: `state` holds { term, votedFor } (one key, so a vote and the term it belongs
// to are written together); `last` holds the last log index; `entry/<i>` holds entry i. An append writes
// only the new entries and `last`; a truncation deletes the removed entries' keys. A crash never lands in
// the middle of a method (the simulator runs each handler to completion), so no write order is needed
// for atomicity; `last` is still written so that it never names an entry that is not on the disk.
//
// No snapshots or compaction: the log grows for the life of the disk, and a restarted peer replays it
// from index 1.

import type { NodeId } from '../net/message.ts';
import type { PersistentStore } from '../net/persistent-store.ts';

export interface RaftEntry<C> {
  readonly term: number;
  /** null for the no-op a new leader appends to commit its predecessors' entries. */
  readonly command: C | null;
}

interface VoteState {
  term: number;
  votedFor: NodeId | null;
}

export class RaftLog<C> {
  private readonly entries: RaftEntry<C>[] = [];
  private vote: VoteState;

  constructor(
    private readonly disk: PersistentStore,
    private readonly prefix: string,
  ) {
    this.vote = disk.get<VoteState>(this.key('state')) ?? { term: 0, votedFor: null };
    const last = disk.get<number>(this.key('last')) ?? 0;
    for (let i = 1; i <= last; i++) {
      const entry = disk.get<RaftEntry<C>>(this.entryKey(i));
      if (entry === undefined) throw new Error(`raft log '${prefix}': entry ${i} of ${last} is missing from the disk`);
      this.entries.push(entry);
    }
  }

  get term(): number {
    return this.vote.term;
  }

  get votedFor(): NodeId | null {
    return this.vote.votedFor;
  }

  /** Durably records the term and the vote cast in it (null: none yet). */
  setTermAndVote(term: number, votedFor: NodeId | null): void {
    this.vote = { term, votedFor };
    this.disk.put(this.key('state'), this.vote);
  }

  get lastIndex(): number {
    return this.entries.length;
  }

  get lastTerm(): number {
    return this.termAt(this.entries.length);
  }

  /** The term of entry `index`; 0 for index 0 (the empty prefix every log shares). */
  termAt(index: number): number {
    if (index === 0) return 0;
    this.checkIndex(index);
    return this.entries[index - 1].term;
  }

  entry(index: number): RaftEntry<C> {
    this.checkIndex(index);
    return this.entries[index - 1];
  }

  /** Entries from..to, both inclusive, clipped to the log. */
  slice(from: number, to: number): RaftEntry<C>[] {
    return this.entries.slice(from - 1, Math.min(to, this.entries.length));
  }

  /** The first index of the run of entries sharing entry `index`'s term (a follower's hint on conflict). */
  firstIndexOfTermAt(index: number): number {
    const term = this.termAt(index);
    let first = index;
    while (first > 1 && this.entries[first - 2].term === term) first--;
    return first;
  }

  append(entries: readonly RaftEntry<C>[]): void {
    for (const entry of entries) {
      this.entries.push(entry);
      this.disk.put(this.entryKey(this.entries.length), entry);
    }
    if (entries.length > 0) this.disk.put(this.key('last'), this.entries.length);
  }

  /** Removes entry `index` and every entry after it. */
  truncateFrom(index: number): void {
    this.checkIndex(index);
    const last = this.entries.length;
    this.entries.length = index - 1;
    this.disk.put(this.key('last'), this.entries.length);
    for (let i = index; i <= last; i++) this.disk.delete(this.entryKey(i));
  }

  private checkIndex(index: number): void {
    if (!(Number.isInteger(index) && index >= 1 && index <= this.entries.length)) {
      throw new Error(`raft log '${this.prefix}': no entry ${index} (last is ${this.entries.length})`);
    }
  }

  private key(name: string): string {
    return `${this.prefix}${name}`;
  }

  private entryKey(index: number): string {
    return `${this.prefix}entry/${index}`;
  }
}
