// The journal of a run: typed, named events (`net.deliver`, `fault.crash`, …) with their virtual time.
// Checkers, metrics, pictures and the determinism hash all read it. Owns serialization (one JSON object a
// line), the running hash, per-type counts and the listeners; it does not decide what happens in the
// simulation and must never be read back by the model to make a decision.
//
// Levels: `summary` records the low-volume events components send through `emit` (faults, phases,
// elections, violations); `full` also records the high-volume ones sent through `detail` (every send,
// delivery and drop); `off` records nothing and has no hash. Listeners hear every event whatever the
// level, so checkers work with tracing off. Call sites test `trace.active` before building an event, so a
// run with tracing off and no listeners pays one property read per would-be event.
//
// Event types are declared by the layer that emits them, by augmenting TraceEventMap:
//   declare module '../kernel/trace.ts' { interface TraceEventMap { 'net.deliver': { src: string; … } } }

import { TraceHash } from './trace-hash.ts';
import type { Nanos } from './time.ts';

// Augmented by each layer with its own event types (see the header).
export interface TraceEventMap {}

export type TraceType = keyof TraceEventMap & string;
export type TraceLevel = 'off' | 'summary' | 'full';
export const TRACE_LEVELS: readonly TraceLevel[] = ['off', 'summary', 'full'];

/** One journal entry: virtual time, type, then the type's fields in declaration order. */
export type TraceRecord<K extends TraceType = TraceType> = { t: Nanos; type: K } & TraceEventMap[K];

export type TraceListener<K extends TraceType = TraceType> = (record: TraceRecord<K>) => void;

/** Where recorded lines go (a file in the CLI, an array in tests or the page). */
// Listeners are stored untyped; `on` is where the types are checked.
type StoredListener = (record: any) => void;

export interface TraceSink {
  write(line: string): void;
}

export interface TraceOptions {
  level: TraceLevel;
  sink?: TraceSink;
}

export class TraceRecorder {
  readonly level: TraceLevel;
  private readonly sink: TraceSink | undefined;
  private readonly hasher: TraceHash | null;
  private readonly byType = new Map<string, StoredListener[]>();
  private readonly anyType: StoredListener[] = [];
  private readonly recordedByType = new Map<string, number>();
  private recordedTotal = 0;
  private listenerCount = 0;

  /** True when an event would be recorded or heard; call sites skip building events otherwise. */
  active: boolean;

  constructor(
    private readonly clock: { readonly now: Nanos },
    options: TraceOptions,
  ) {
    this.level = options.level;
    this.sink = options.sink;
    this.hasher = options.level === 'off' ? null : new TraceHash();
    this.active = options.level !== 'off';
  }

  /** A low-volume event, recorded at level `summary` and `full`. */
  emit<K extends TraceType>(type: K, fields: TraceEventMap[K]): void {
    if (this.active) this.record(type, fields, this.level !== 'off');
  }

  /** A high-volume event, recorded only at level `full`. */
  detail<K extends TraceType>(type: K, fields: TraceEventMap[K]): void {
    if (this.active) this.record(type, fields, this.level === 'full');
  }

  /** Hears every event of `type` (or of every type with '*'), at any level. Returns an unsubscribe. */
  on<K extends TraceType>(type: K | '*', listener: TraceListener<K>): () => void {
    const list = type === '*' ? this.anyType : this.listenersFor(type);
    list.push(listener);
    this.listenerCount++;
    this.active = true;
    return () => {
      const i = list.indexOf(listener);
      if (i < 0) return;
      list.splice(i, 1);
      this.listenerCount--;
      this.active = this.level !== 'off' || this.listenerCount > 0;
    };
  }

  /** The running hash of every recorded line, or null when the level is `off`. */
  hash(): string | null {
    return this.hasher === null ? null : this.hasher.digest();
  }

  /** Lines recorded so far. */
  get recorded(): number {
    return this.recordedTotal;
  }

  /** Recorded lines per event type, in first-recorded order. */
  counts(): Record<string, number> {
    return Object.fromEntries(this.recordedByType);
  }

  private record(type: string, fields: object, recordIt: boolean): void {
    const event = { t: this.clock.now, type, ...fields } as TraceRecord;
    // Recorded before listeners hear it, so an event a listener emits in response follows it in the trace.
    if (recordIt) {
      const line = JSON.stringify(event);
      this.hasher!.update(line);
      this.hasher!.update('\n');
      this.sink?.write(line + '\n');
      this.recordedTotal++;
      this.recordedByType.set(type, (this.recordedByType.get(type) ?? 0) + 1);
    }
    const listeners = this.byType.get(type);
    if (listeners !== undefined) for (const listener of listeners) listener(event);
    for (const listener of this.anyType) listener(event);
  }

  private listenersFor(type: string): StoredListener[] {
    let list = this.byType.get(type);
    if (list === undefined) {
      list = [];
      this.byType.set(type, list);
    }
    return list;
  }
}
