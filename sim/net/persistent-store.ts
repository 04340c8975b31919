// A node's durable state: what survives a crash (a disk, a PTD's files, a log marked durable). Owns the
// copying that makes "persistent" mean it: values are cloned on the way in and on the way out, so a
// process cannot keep a live reference into its disk and see volatile changes survive a crash.
// Everything else a process holds is volatile and is lost when the fabric crashes its node.

export class PersistentStore {
  private readonly values = new Map<string, unknown>();
  private readonly logs = new Map<string, unknown[]>();

  get<T>(key: string): T | undefined {
    const v = this.values.get(key);
    return v === undefined ? undefined : (structuredClone(v) as T);
  }

  put(key: string, value: unknown): void {
    this.values.set(key, structuredClone(value));
  }

  delete(key: string): void {
    this.values.delete(key);
  }

  keys(): string[] {
    return [...this.values.keys()];
  }

  /** Appends to a durable log (an append costs one entry's copy, not the log's). */
  append(log: string, entry: unknown): void {
    let entries = this.logs.get(log);
    if (entries === undefined) {
      entries = [];
      this.logs.set(log, entries);
    }
    entries.push(structuredClone(entry));
  }

  /** A copy of the log's entries, oldest first. */
  readLog<T>(log: string): T[] {
    return (this.logs.get(log) ?? []).map((e) => structuredClone(e) as T);
  }

  logLength(log: string): number {
    return this.logs.get(log)?.length ?? 0;
  }
}
