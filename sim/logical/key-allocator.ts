// Deterministic allocation of numeric keys (datapath tunnel keys, logical port keys, ACL keys). Owns the
// used set and the hint; not what the keys name.
//
// Like OVN's northd, the next key is the first free one after the last key handed out, wrapping to the
// bottom of the range at the top. Keys therefore depend only on the sequence of successful calls, and a
// freed key is not reused until the range has wrapped, so flows still in flight for a deleted datapath
// or port cannot be mistaken for those of a new one.

import type { Journal } from './journal.ts';

export class KeyAllocator {
  private readonly used = new Set<number>();
  private last = 0;

  constructor(
    private readonly journal: Journal,
    /** What the keys are, for the error when the range is full ("datapath key"). */
    private readonly what: string,
    readonly min: number,
    readonly max: number,
  ) {}

  get size(): number {
    return this.used.size;
  }

  isUsed(key: number): boolean {
    return this.used.has(key);
  }

  /** Hands out the next free key, or throws when every key of the range is taken. */
  allocate(): number {
    const span = this.max - this.min + 1;
    if (this.used.size >= span) throw new Error(`no free ${this.what}: all ${span} are in use`);
    let key = this.last;
    do key = key >= this.max || key < this.min ? this.min : key + 1;
    while (this.used.has(key));
    const previousLast = this.last;
    this.used.add(key);
    this.last = key;
    this.journal.record(() => {
      this.used.delete(key);
      this.last = previousLast;
    });
    return key;
  }

  release(key: number): void {
    if (!this.used.delete(key)) return;
    this.journal.record(() => this.used.add(key));
  }
}
