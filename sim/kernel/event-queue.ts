// The pending-event set: a binary min-heap keyed by (time, sequence number), kept in parallel typed arrays,
// with each event's callback and argument in a reusable slot. Owns ordering and cancellation only; it
// knows nothing of the clock, the run loops or what an event means.
//
// Why this shape: scheduling and running an event must not allocate. Times and sequence numbers live in
// Float64Arrays beside the heap so comparisons touch no objects; callbacks live in slots recycled through
// a free list; a handle is (generation, slot) folded into one integer-valued number, so a handle to an
// event that already ran or was cancelled is recognised as stale. Cancellation is lazy: the heap entry
// stays until it reaches the top and is then skipped, and the heap is compacted when most of it is dead.

import type { Nanos } from './time.ts';

/** An event callback. `arg` lets hot callers pass data without allocating a closure per event. */
export type EventCallback<A = any> = (arg: A) => void;

/** Opaque handle for cancelling a scheduled event; stale handles are harmless. */
export type EventHandle = number;

/** Slots per generation step; also the most events that may be pending at once (16.7 million). */
const SLOT_LIMIT = 1 << 24;
const INITIAL_CAPACITY = 1024;

export class EventQueue {
  // Heap entries, in heap order. The top is index 0.
  private heapTime = new Float64Array(INITIAL_CAPACITY);
  private heapSeq = new Float64Array(INITIAL_CAPACITY);
  private heapSlot = new Int32Array(INITIAL_CAPACITY);
  private heapSize = 0;

  // Slots, indexed by slot number. A null callback marks a cancelled event still in the heap.
  private slotCallback: (EventCallback | null)[] = new Array(INITIAL_CAPACITY).fill(null);
  private slotArg: unknown[] = new Array(INITIAL_CAPACITY).fill(undefined);
  private slotGeneration = new Float64Array(INITIAL_CAPACITY);
  private freeSlots = new Int32Array(INITIAL_CAPACITY);
  private freeCount = 0;
  private slotsUsed = 0;

  private nextSeq = 0;
  private cancelledInHeap = 0;

  /** Number of events that will still run (cancelled ones excluded). */
  get size(): number {
    return this.heapSize - this.cancelledInHeap;
  }

  /** Total events ever pushed; also the next sequence number. */
  get scheduledCount(): number {
    return this.nextSeq;
  }

  push(time: Nanos, callback: EventCallback, arg: unknown): EventHandle {
    const slot = this.freeCount > 0 ? this.freeSlots[--this.freeCount] : this.newSlot();
    this.slotCallback[slot] = callback;
    this.slotArg[slot] = arg;
    if (this.heapSize === this.heapTime.length) this.growHeap();
    this.siftUp(this.heapSize++, time, this.nextSeq++, slot);
    return this.slotGeneration[slot] * SLOT_LIMIT + slot;
  }

  /** Cancels a pending event. Returns false when the handle is stale (already ran or cancelled). */
  cancel(handle: EventHandle): boolean {
    const slot = handle % SLOT_LIMIT;
    if (slot >= this.slotsUsed || this.slotGeneration[slot] !== (handle - slot) / SLOT_LIMIT) return false;
    if (this.slotCallback[slot] === null) return false;
    this.slotCallback[slot] = null;
    this.slotArg[slot] = undefined;
    this.cancelledInHeap++;
    if (this.cancelledInHeap > 4096 && this.cancelledInHeap * 2 > this.heapSize) this.compact();
    return true;
  }

  isPending(handle: EventHandle): boolean {
    const slot = handle % SLOT_LIMIT;
    return slot < this.slotsUsed && this.slotGeneration[slot] === (handle - slot) / SLOT_LIMIT && this.slotCallback[slot] !== null;
  }

  /** Time of the next live event, or Infinity when none is pending. Drops cancelled entries on the way. */
  peekTime(): Nanos {
    while (this.heapSize > 0) {
      const slot = this.heapSlot[0];
      if (this.slotCallback[slot] !== null) return this.heapTime[0];
      this.removeTop();
      this.releaseSlot(slot);
      this.cancelledInHeap--;
    }
    return Infinity;
  }

  // The pop is split in three so the run loop needs no result object: call peekTime() (which leaves a live
  // event on top), then topCallback()/topArg() read it, then popTop() removes it and frees the slot.
  topCallback(): EventCallback {
    return this.slotCallback[this.heapSlot[0]] as EventCallback;
  }

  topArg(): unknown {
    return this.slotArg[this.heapSlot[0]];
  }

  /** Removes the (live) top event. Its slot is free again, so the callback may reuse it at once. */
  popTop(): void {
    const slot = this.heapSlot[0];
    this.removeTop();
    this.slotCallback[slot] = null;
    this.slotArg[slot] = undefined;
    this.releaseSlot(slot);
  }

  clear(): void {
    while (this.heapSize > 0) {
      const slot = this.heapSlot[--this.heapSize];
      this.slotCallback[slot] = null;
      this.slotArg[slot] = undefined;
      this.releaseSlot(slot);
    }
    this.cancelledInHeap = 0;
  }

  private releaseSlot(slot: number): void {
    this.slotGeneration[slot]++;
    this.freeSlots[this.freeCount++] = slot;
  }

  private newSlot(): number {
    const slot = this.slotsUsed++;
    if (slot >= SLOT_LIMIT) throw new Error(`more than ${SLOT_LIMIT} events pending at once`);
    if (slot === this.slotGeneration.length) {
      const capacity = slot * 2;
      const generation = new Float64Array(capacity);
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
    const seq = new Float64Array(capacity);
    seq.set(this.heapSeq);
    this.heapSeq = seq;
    const slot = new Int32Array(capacity);
    slot.set(this.heapSlot);
    this.heapSlot = slot;
  }

  /** Places (time, seq, slot) at the hole `i`, moving parents down while they are later. */
  private siftUp(i: number, time: Nanos, seq: number, slot: number): void {
    const heapTime = this.heapTime;
    const heapSeq = this.heapSeq;
    const heapSlot = this.heapSlot;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const parentTime = heapTime[parent];
      if (parentTime < time || (parentTime === time && heapSeq[parent] < seq)) break;
      heapTime[i] = parentTime;
      heapSeq[i] = heapSeq[parent];
      heapSlot[i] = heapSlot[parent];
      i = parent;
    }
    heapTime[i] = time;
    heapSeq[i] = seq;
    heapSlot[i] = slot;
  }

  /**
   * Removes the top entry. The hole at the root is walked down along the earlier child to a leaf, and the
   * last entry is sifted up from there: the last entry almost always belongs near the bottom, so this
   * costs about one comparison per level instead of two.
   */
  private removeTop(): void {
    const n = --this.heapSize;
    if (n === 0) return;
    const heapTime = this.heapTime;
    const heapSeq = this.heapSeq;
    const heapSlot = this.heapSlot;
    let hole = 0;
    let child = 1;
    while (child < n) {
      const right = child + 1;
      if (right < n) {
        const lt = heapTime[child];
        const rt = heapTime[right];
        if (rt < lt || (rt === lt && heapSeq[right] < heapSeq[child])) child = right;
      }
      heapTime[hole] = heapTime[child];
      heapSeq[hole] = heapSeq[child];
      heapSlot[hole] = heapSlot[child];
      hole = child;
      child = 2 * hole + 1;
    }
    this.siftUp(hole, heapTime[n], heapSeq[n], heapSlot[n]);
  }

  /** Rebuilds the heap without its cancelled entries (Floyd's bottom-up heapify). */
  private compact(): void {
    let kept = 0;
    for (let i = 0; i < this.heapSize; i++) {
      const slot = this.heapSlot[i];
      if (this.slotCallback[slot] === null) {
        this.releaseSlot(slot);
        continue;
      }
      this.heapTime[kept] = this.heapTime[i];
      this.heapSeq[kept] = this.heapSeq[i];
      this.heapSlot[kept] = slot;
      kept++;
    }
    this.heapSize = kept;
    this.cancelledInHeap = 0;
    for (let i = (kept >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private siftDown(i: number): void {
    const n = this.heapSize;
    const time = this.heapTime[i];
    const seq = this.heapSeq[i];
    const slot = this.heapSlot[i];
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n) {
        const lt = this.heapTime[child];
        const rt = this.heapTime[right];
        if (rt < lt || (rt === lt && this.heapSeq[right] < this.heapSeq[child])) child = right;
      }
      const ct = this.heapTime[child];
      if (ct > time || (ct === time && this.heapSeq[child] > seq)) break;
      this.heapTime[i] = ct;
      this.heapSeq[i] = this.heapSeq[child];
      this.heapSlot[i] = this.heapSlot[child];
      i = child;
    }
    this.heapTime[i] = time;
    this.heapSeq[i] = seq;
    this.heapSlot[i] = slot;
  }
}
