// The pending-event set: a binary min-heap keyed by (time, order of scheduling), kept in two parallel
// Float64Arrays, with each event's callback and argument in a reusable slot. Owns ordering and
// cancellation only; it knows nothing of the clock, the run loops or what an event means.
//
// Why this shape: scheduling and running an event must not allocate, and the heap walk is the hot loop.
// - heapTime holds the times and heapKey holds order * 2^24 + slot: the tie-break for equal times and
//   the slot in one number, so a heap move copies two numbers and a comparison touches no objects.
//   Separate arrays measured faster than interleaving them. Orders are renumbered (keeping their
//   relative order) before they would pass 2^29, which keeps every key an exact integer below 2^53.
// - Callbacks and arguments live in slots recycled through a LIFO free list, so the event that runs
//   hands its slot, still warm in cache, to the event it schedules.
// - A handle is generation * 2^24 + slot, one integer-valued number. The generation is taken from the
//   count of pushes, so a handle to an event that already ran or was cancelled (its slot since reused)
//   is recognised as stale; a slot whose event ran or was cancelled holds a null callback.
// - Cancellation is lazy: the heap entry stays until it reaches the top and is then skipped, and the
//   heap is compacted when most of it is dead.

import type { Nanos } from './time.ts';

/** An event callback. `arg` lets hot callers pass data without allocating a closure per event. */
export type EventCallback<A = any> = (arg: A) => void;

/** Opaque handle for cancelling a scheduled event; stale handles are harmless. */
export type EventHandle = number;

/** Slots per generation step; also the most events that may be pending at once (16.7 million). */
const SLOT_LIMIT = 1 << 24;
const SLOT_MASK = SLOT_LIMIT - 1;
// Generations and orders stay below 2^29 so that x * SLOT_LIMIT + slot stays below 2^53, exact.
const GENERATION_MASK = (1 << 29) - 1;
const ORDER_LIMIT = 1 << 29;
const INITIAL_CAPACITY = 1024;
// Below this many entries removeTop chooses children without branching (see there).
const BRANCH_FREE_HEAP_LIMIT = 1 << 16;

export class EventQueue {
  // Heap entries, in heap order. The top is index 0.
  private heapTime = new Float64Array(INITIAL_CAPACITY);
  private heapKey = new Float64Array(INITIAL_CAPACITY);
  private heapSize = 0;

  // Slots, indexed by slot number. A null callback marks a slot whose event ran or was cancelled.
  private slotCallback: (EventCallback | null)[] = new Array(INITIAL_CAPACITY).fill(null);
  private slotArg: unknown[] = new Array(INITIAL_CAPACITY).fill(undefined);
  private slotGeneration = new Int32Array(INITIAL_CAPACITY);
  private freeSlots = new Int32Array(INITIAL_CAPACITY);
  private freeCount = 0;
  private slotsUsed = 0;

  private pushed = 0;
  private nextOrder = 0;
  private cancelledInHeap = 0;

  /** Time and argument of the event last removed by popUntil (the argument is dropped at the next miss). */
  poppedTime: Nanos = 0;
  poppedArg: unknown = undefined;

  private readonly orderLimit: number;

  /**
   * @param orderLimit renumber the tie-break orders when they reach this. Only tests lower it, to reach
   * the renumbering; it must stay above the number of entries in the heap.
   */
  constructor(orderLimit: number = ORDER_LIMIT) {
    this.orderLimit = orderLimit;
  }

  /** Number of events that will still run (cancelled ones excluded). */
  get size(): number {
    return this.heapSize - this.cancelledInHeap;
  }

  /** Total events ever pushed. */
  get scheduledCount(): number {
    return this.pushed;
  }

  push(time: Nanos, callback: EventCallback, arg: unknown): EventHandle {
    const slot = this.freeCount > 0 ? this.freeSlots[--this.freeCount] : this.newSlot();
    this.slotCallback[slot] = callback;
    this.slotArg[slot] = arg;
    // A new generation per push (rather than an increment per release) costs one store and no load;
    // it repeats for a slot only after 2^29 pushes.
    const generation = this.pushed & GENERATION_MASK;
    this.pushed++;
    this.slotGeneration[slot] = generation;
    if (this.heapSize === this.heapTime.length) this.growHeap();
    if (this.nextOrder >= this.orderLimit) this.renumber();
    this.siftUp(this.heapSize++, time, this.nextOrder++ * SLOT_LIMIT + slot);
    return generation * SLOT_LIMIT + slot;
  }

  /** Cancels a pending event. Returns false when the handle is stale (already ran or cancelled). */
  cancel(handle: EventHandle): boolean {
    const slot = this.liveSlot(handle);
    if (slot < 0) return false;
    this.slotCallback[slot] = null;
    this.slotArg[slot] = undefined;
    this.cancelledInHeap++;
    if (this.cancelledInHeap > 4096 && this.cancelledInHeap * 2 > this.heapSize) this.compact();
    return true;
  }

  isPending(handle: EventHandle): boolean {
    return this.liveSlot(handle) >= 0;
  }

  /** Time of the next live event, or Infinity when none is pending. Drops cancelled entries on the way. */
  peekTime(): Nanos {
    while (this.heapSize > 0) {
      const slot = this.heapKey[0] & SLOT_MASK;
      if (this.slotCallback[slot] !== null) return this.heapTime[0];
      this.dropTop(slot);
    }
    return Infinity;
  }

  /**
   * Removes the next live event if its time is <= limit and returns its callback, leaving its time and
   * argument in poppedTime and poppedArg; otherwise removes no live event and returns null (also when
   * the queue is empty or its next event is at Infinity, whatever the limit). One call per event and no
   * result object: this is the run loop's whole interface to the queue. The slot is free again when this
   * returns, so the callback may reuse it at once.
   */
  popUntil(limit: Nanos): EventCallback | null {
    while (this.heapSize > 0) {
      const slot = this.heapKey[0] & SLOT_MASK;
      const callback = this.slotCallback[slot];
      if (callback === null) {
        this.dropTop(slot);
        continue;
      }
      const time = this.heapTime[0];
      // An event at Infinity never runs, whatever the limit (the run loop has always treated it so).
      if (time > limit || time === Infinity) break;
      this.poppedTime = time;
      this.poppedArg = this.slotArg[slot];
      this.removeTop();
      this.slotCallback[slot] = null;
      this.slotArg[slot] = undefined;
      this.freeSlots[this.freeCount++] = slot;
      return callback;
    }
    this.poppedArg = undefined;
    return null;
  }

  clear(): void {
    while (this.heapSize > 0) {
      const slot = this.heapKey[--this.heapSize] & SLOT_MASK;
      this.slotCallback[slot] = null;
      this.slotArg[slot] = undefined;
      this.freeSlots[this.freeCount++] = slot;
    }
    this.cancelledInHeap = 0;
    this.poppedArg = undefined;
  }

  /** The slot of a pending event's handle, or -1 when the handle is stale or not a handle at all. */
  private liveSlot(handle: EventHandle): number {
    // `& SLOT_MASK` takes the low 24 bits of any integer below 2^53 exactly; `%` on a number that is
    // not a small integer would be a call into C.
    const slot = handle & SLOT_MASK;
    if (slot >= this.slotsUsed || this.slotCallback[slot] === null) return -1;
    return this.slotGeneration[slot] === (handle - slot) / SLOT_LIMIT ? slot : -1;
  }

  /** Pops a cancelled top entry and frees its slot. */
  private dropTop(slot: number): void {
    this.removeTop();
    this.freeSlots[this.freeCount++] = slot;
    this.cancelledInHeap--;
  }

  private newSlot(): number {
    const slot = this.slotsUsed;
    if (slot >= SLOT_LIMIT) throw new Error(`more than ${SLOT_LIMIT} events pending at once`);
    this.slotsUsed++;
    if (slot === this.slotGeneration.length) {
      const capacity = slot * 2;
      const generation = new Int32Array(capacity);
      generation.set(this.slotGeneration);
      this.slotGeneration = generation;
      const free = new Int32Array(capacity);
      free.set(this.freeSlots);
      this.freeSlots = free;
      for (let i = slot; i < capacity; i++) {
        this.slotCallback.push(null);
        this.slotArg.push(undefined);
      }
    }
    return slot;
  }

  private growHeap(): void {
    const capacity = this.heapTime.length * 2;
    const time = new Float64Array(capacity);
    time.set(this.heapTime);
    this.heapTime = time;
    const key = new Float64Array(capacity);
    key.set(this.heapKey);
    this.heapKey = key;
  }

  /**
   * Gives the heap entries the orders 0..n-1 in their present relative order, so that orders stay
   * below orderLimit. The heap stays valid because no comparison between entries changes. Runs once
   * per 2^29 pushes and allocates a sorted copy of the keys: not a hot path.
   */
  private renumber(): void {
    const n = this.heapSize;
    const sorted = this.heapKey.slice(0, n).sort();
    for (let i = 0; i < n; i++) {
      const key = this.heapKey[i];
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (sorted[mid] < key) lo = mid + 1;
        else hi = mid;
      }
      this.heapKey[i] = lo * SLOT_LIMIT + (key & SLOT_MASK);
    }
    this.nextOrder = n;
  }

  /** Places (time, key) at the hole `i`, moving parents down while they are later. */
  private siftUp(i: number, time: Nanos, key: number): void {
    const heapTime = this.heapTime;
    const heapKey = this.heapKey;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const parentTime = heapTime[parent];
      if (parentTime < time || (parentTime === time && heapKey[parent] < key)) break;
      heapTime[i] = parentTime;
      heapKey[i] = heapKey[parent];
      i = parent;
    }
    heapTime[i] = time;
    heapKey[i] = key;
  }

  /**
   * Removes the top entry. The hole at the root is walked down along the earlier child to a leaf, and the
   * last entry is sifted up from there: the last entry almost always belongs near the bottom, so this
   * costs about one comparison per level instead of two.
   *
   * Which child is earlier is a coin toss the CPU cannot predict. While the heap fits in the core's cache,
   * the choice is computed as a 0/1 added to the index instead of branched on (equal times, the only case
   * that needs the keys, are rare and keep a branch). A larger heap misses the cache on most levels, and
   * there the branch wins: the CPU runs ahead down its guess and overlaps the next level's load, which
   * the data-dependent index cannot. On PHOLD the branch-free walk measured about 15% faster at 16k
   * pending events and about 40% slower at 1M, with the crossover near 100k.
   */
  private removeTop(): void {
    const n = --this.heapSize;
    if (n === 0) return;
    const heapTime = this.heapTime;
    const heapKey = this.heapKey;
    let hole = 0;
    let child = 1;
    if (n < BRANCH_FREE_HEAP_LIMIT) {
      while (child < n) {
        const right = child + 1;
        if (right < n) {
          const lt = heapTime[child];
          const rt = heapTime[right];
          if (rt === lt) {
            if (heapKey[right] < heapKey[child]) child = right;
          } else {
            child += +(rt < lt);
          }
        }
        heapTime[hole] = heapTime[child];
        heapKey[hole] = heapKey[child];
        hole = child;
        child = 2 * hole + 1;
      }
    } else {
      while (child < n) {
        const right = child + 1;
        if (right < n) {
          const lt = heapTime[child];
          const rt = heapTime[right];
          if (rt < lt || (rt === lt && heapKey[right] < heapKey[child])) child = right;
        }
        heapTime[hole] = heapTime[child];
        heapKey[hole] = heapKey[child];
        hole = child;
        child = 2 * hole + 1;
      }
    }
    this.siftUp(hole, heapTime[n], heapKey[n]);
  }

  /** Rebuilds the heap without its cancelled entries (Floyd's bottom-up heapify). */
  private compact(): void {
    const heapTime = this.heapTime;
    const heapKey = this.heapKey;
    let kept = 0;
    for (let i = 0; i < this.heapSize; i++) {
      const key = heapKey[i];
      const slot = key & SLOT_MASK;
      if (this.slotCallback[slot] === null) {
        this.freeSlots[this.freeCount++] = slot;
        continue;
      }
      heapTime[kept] = heapTime[i];
      heapKey[kept] = key;
      kept++;
    }
    this.heapSize = kept;
    this.cancelledInHeap = 0;
    for (let i = (kept >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private siftDown(i: number): void {
    const n = this.heapSize;
    const heapTime = this.heapTime;
    const heapKey = this.heapKey;
    const time = heapTime[i];
    const key = heapKey[i];
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n) {
        const lt = heapTime[child];
        const rt = heapTime[right];
        if (rt < lt || (rt === lt && heapKey[right] < heapKey[child])) child = right;
      }
      const ct = heapTime[child];
      if (ct > time || (ct === time && heapKey[child] > key)) break;
      heapTime[i] = ct;
      heapKey[i] = heapKey[child];
      i = child;
    }
    heapTime[i] = time;
    heapKey[i] = key;
  }
}
