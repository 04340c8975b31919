// One replica's PTD on its disk: the replicated log of transactions, the records it yields, the applied
// point, the highest epoch the replica has promised to follow, and the answers to applied requests (the
// dedupe table, rebuilt from the log's request ids). Owns the disk layout and the log-matching rules; it
// sends nothing and knows no roles — ptd.ts decides who may change the log and when.
//
// Disk layout (small incremental keys, never the whole table): 'ptd/epoch' (promised epoch),
// 'ptd/applied' (applied index), 'ptd/log/<index>' (one entry each). Records are not stored: they are a pure
// function of the applied prefix, so a restart replays it (evaluation is deterministic).
//
// Log matching: an entry is identified by (index, epoch); only the master of an epoch creates entries of
// that epoch, always at the end of its own log, so two logs holding the same (index, epoch) are equal up to
// that index. Entries are applied only once the master says they are committed, and committed entries are
// never truncated — except after 'write-then-notify' lost an acknowledged write, when the replica's applied
// prefix itself is wrong: install reports 'diverged' and the owner resets and reloads from the master.

import type { PersistentStore } from '../net/persistent-store.ts';
import { requestKey, type LogEntry, type RecordChange } from './ptd-messages.ts';
import { evaluate, type PtdRecord, type TxnOutcome } from './ptd-transaction.ts';

const EPOCH_KEY = 'ptd/epoch';
const APPLIED_KEY = 'ptd/applied';
const ENTRY_PREFIX = 'ptd/log/';

/**
 * 'gap': the log ends before prevIndex; 'mismatch': it holds a different, unapplied entry at prevIndex;
 * 'diverged': applied entries disagree with the master's log (only after a lost 'write-then-notify' write).
 */
export type InstallResult = 'ok' | 'gap' | 'mismatch' | 'diverged';

export interface AppliedEntry {
  readonly entry: LogEntry;
  /** Null for the no-op that opens an epoch. */
  readonly outcome: TxnOutcome | null;
  readonly changes: readonly RecordChange[];
}

export class ReplicaLog {
  /** entries[i - 1] is the entry at index i. */
  private readonly entries: LogEntry[] = [];
  private readonly recordMap = new Map<string, PtdRecord>();
  /** Applied requests: request key → index and outcome. */
  private readonly answers = new Map<string, { index: number; outcome: TxnOutcome }>();
  /** Every request in the log, applied or not: request key → index. */
  private readonly requestIndexes = new Map<string, number>();
  private appliedIndex = 0;
  private promisedEpoch = 0;

  constructor(private readonly disk: PersistentStore) {
    this.promisedEpoch = disk.get<number>(EPOCH_KEY) ?? 0;
    const indexes = disk
      .keys()
      .filter((k) => k.startsWith(ENTRY_PREFIX))
      .map((k) => Number(k.slice(ENTRY_PREFIX.length)))
      .sort((a, b) => a - b);
    indexes.forEach((index, i) => {
      if (index !== i + 1) throw new Error(`PTD disk is corrupt: log entry ${i + 1} is missing`);
      this.remember(disk.get<LogEntry>(ENTRY_PREFIX + index)!);
    });
    const applied = disk.get<number>(APPLIED_KEY) ?? 0;
    while (this.appliedIndex < applied) this.applyNext();
  }

  get lastIndex(): number {
    return this.entries.length;
  }

  get lastEpoch(): number {
    return this.epochAt(this.lastIndex)!;
  }

  get applied(): number {
    return this.appliedIndex;
  }

  get promised(): number {
    return this.promisedEpoch;
  }

  get records(): ReadonlyMap<string, PtdRecord> {
    return this.recordMap;
  }

  /** The epoch of the entry at `index` (0 for index 0), or undefined past the end. */
  epochAt(index: number): number | undefined {
    return index === 0 ? 0 : this.entries[index - 1]?.epoch;
  }

  /** Whether this log holds exactly the entry (index, epoch), hence the same prefix as any log that does. */
  holds(index: number, epoch: number): boolean {
    return this.epochAt(index) === epoch;
  }

  /** Up to `max` entries starting at index `from`. */
  entriesFrom(from: number, max = Infinity): LogEntry[] {
    return this.entries.slice(from - 1, max === Infinity ? undefined : from - 1 + max);
  }

  appliedLog(): Array<{ index: number; epoch: number }> {
    return this.entries.slice(0, this.appliedIndex).map((e) => ({ index: e.index, epoch: e.epoch }));
  }

  /** Where a request is in the log, with its outcome once applied. */
  lookup(key: string): { index: number; outcome: TxnOutcome | null } | undefined {
    const answered = this.answers.get(key);
    if (answered !== undefined) return answered;
    const index = this.requestIndexes.get(key);
    return index === undefined ? undefined : { index, outcome: null };
  }

  /** Raises the promised epoch (durably). Returns whether it rose. */
  promise(epoch: number): boolean {
    if (epoch <= this.promisedEpoch) return false;
    this.promisedEpoch = epoch;
    this.disk.put(EPOCH_KEY, epoch);
    return true;
  }

  /** Appends the next entry, durably. */
  append(entry: LogEntry): void {
    if (entry.index !== this.lastIndex + 1) throw new Error(`PTD log: append at ${entry.index}, expected ${this.lastIndex + 1}`);
    if (entry.epoch < this.lastEpoch) throw new Error(`PTD log: epoch ${entry.epoch} after ${this.lastEpoch}`);
    this.disk.put(ENTRY_PREFIX + entry.index, entry);
    this.remember(entry);
  }

  /**
   * Installs a master's entries that follow (prevIndex, prevEpoch): entries already held are kept, a
   * conflicting unapplied suffix is truncated, and the rest appended. Changes nothing unless 'ok'.
   */
  install(prevIndex: number, prevEpoch: number, entries: readonly LogEntry[]): InstallResult {
    if (prevIndex > this.lastIndex) return 'gap';
    if (!this.holds(prevIndex, prevEpoch)) return prevIndex <= this.appliedIndex ? 'diverged' : 'mismatch';
    for (const e of entries) if (e.index <= this.appliedIndex && !this.holds(e.index, e.epoch)) return 'diverged';
    for (const e of entries) {
      if (e.index <= this.lastIndex) {
        if (this.holds(e.index, e.epoch)) continue;
        this.truncateFrom(e.index);
      }
      this.append(e);
    }
    return 'ok';
  }

  /**
   * Makes this log equal to another replica's, given as the entries after (prevIndex, prevEpoch) through
   * its end. 'diverged' (nothing changed) when that would rewrite an applied entry.
   */
  adopt(prevIndex: number, prevEpoch: number, entries: readonly LogEntry[]): 'ok' | 'diverged' {
    const end = prevIndex + entries.length;
    if (end < this.appliedIndex) return 'diverged';
    const result = this.install(prevIndex, prevEpoch, entries);
    if (result !== 'ok') return 'diverged';
    if (this.lastIndex > end) this.truncateFrom(end + 1);
    return 'ok';
  }

  /**
   * Drops entries after `masterLast` that are older than `masterEpoch`: that master's log ends at
   * masterLast and it only ever appends entries of its own epoch, so they can never become committed.
   */
  dropStaleTail(masterLast: number, masterEpoch: number): 'ok' | 'diverged' {
    if (this.lastIndex <= masterLast || this.epochAt(masterLast + 1)! >= masterEpoch) return 'ok';
    if (masterLast < this.appliedIndex) return 'diverged';
    this.truncateFrom(masterLast + 1);
    return 'ok';
  }

  /** Applies entries through `index` (at most the log's end), durably; returns what each did. */
  applyThrough(index: number): AppliedEntry[] {
    const done: AppliedEntry[] = [];
    const target = Math.min(index, this.lastIndex);
    while (this.appliedIndex < target) done.push(this.applyNext());
    if (done.length > 0) this.disk.put(APPLIED_KEY, this.appliedIndex);
    return done;
  }

  /** Forgets everything but the promise, on disk too: the replica then reloads the log from the master. */
  reset(): void {
    for (let i = 1; i <= this.lastIndex; i++) this.disk.delete(ENTRY_PREFIX + i);
    this.disk.put(APPLIED_KEY, 0);
    this.entries.length = 0;
    this.recordMap.clear();
    this.answers.clear();
    this.requestIndexes.clear();
    this.appliedIndex = 0;
  }

  private truncateFrom(index: number): void {
    if (index <= this.appliedIndex) throw new Error(`PTD log: truncating applied entry ${index}`);
    for (let i = this.lastIndex; i >= index; i--) {
      const e = this.entries[i - 1];
      this.disk.delete(ENTRY_PREFIX + i);
      if (e.request !== null && this.requestIndexes.get(requestKey(e.request)) === i) this.requestIndexes.delete(requestKey(e.request));
    }
    this.entries.length = index - 1;
  }

  private remember(entry: LogEntry): void {
    this.entries.push(entry);
    if (entry.request !== null) this.requestIndexes.set(requestKey(entry.request), entry.index);
  }

  private applyNext(): AppliedEntry {
    const entry = this.entries[this.appliedIndex];
    this.appliedIndex++;
    if (entry.txn === null) return { entry, outcome: null, changes: [] };
    const { outcome, changes } = evaluate(this.recordMap, entry.txn, entry.index);
    const list: RecordChange[] = [];
    for (const [key, record] of changes) {
      if (record === null) this.recordMap.delete(key);
      else this.recordMap.set(key, record);
      list.push({ key, record });
    }
    if (entry.request !== null) this.answers.set(requestKey(entry.request), { index: entry.index, outcome });
    return { entry, outcome, changes: list };
  }
}
