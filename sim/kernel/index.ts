// The kernel's public surface: virtual time, the scheduler, seeded streams, the trace. Re-exports only.
export * from './time.ts';
export { Scheduler, type EventCallback, type EventHandle } from './scheduler.ts';
export { Rng, RngStreams, probabilityThreshold } from './rng.ts';
export {
  TraceRecorder,
  TRACE_LEVELS,
  type TraceEventMap,
  type TraceLevel,
  type TraceListener,
  type TraceRecord,
  type TraceSink,
  type TraceType,
} from './trace.ts';
export { TraceHash } from './trace-hash.ts';
export { virtualClock } from './xstate-clock.ts';
