// What a simulated node's program sees: its context (identity, clock, send, timers, randomness, disk,
// trace) and the process interface it implements. Owns these contracts only; the fabric implements them.
//
// Crash semantics live in this contract: a process object *is* the node's volatile state. On crash the
// fabric drops it, and its context goes dead (sends and timers from it are ignored); on restart the
// fabric calls the factory again with a fresh context and the same PersistentStore.

import type { Rng } from '../kernel/rng.ts';
import type { Nanos } from '../kernel/time.ts';
import type { TraceRecorder } from '../kernel/trace.ts';
import type { Message, NodeId } from './message.ts';
import type { PersistentStore } from './persistent-store.ts';

export type TimerHandle = number;

export interface NodeContext {
  readonly id: NodeId;
  /** 1 for the first start, +1 for each restart. */
  readonly incarnation: number;
  /** The node's own random stream; it carries on across restarts. */
  readonly rng: Rng;
  readonly disk: PersistentStore;
  readonly trace: TraceRecorder;
  now(): Nanos;
  send(dst: NodeId, body: Message): void;
  /** Runs `fn` after `delay` ns unless the node crashes first or the timer is cancelled. */
  setTimer(delay: Nanos, fn: () => void): TimerHandle;
  cancelTimer(handle: TimerHandle): void;
  /** False once this incarnation has crashed. */
  isAlive(): boolean;
}

export interface NodeProcess {
  onMessage(from: NodeId, body: Message): void;
}

export type ProcessFactory<P extends NodeProcess = NodeProcess> = (ctx: NodeContext) => P;

export interface NodeOptions {
  /** A label for grouping and pictures: 'replica', 'client', 'controller', 'host', … */
  kind?: string;
}

/** A read-only view of a node, for checkers and pictures. */
export interface NodeInfo {
  readonly id: NodeId;
  readonly kind: string;
  readonly up: boolean;
  readonly incarnation: number;
}
