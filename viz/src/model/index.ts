// The trace model's public surface for the page and its tests. Re-exports only.
export { loadTrace, type LoadOptions } from './load-trace.ts';
export { TraceError } from './trace-error.ts';
export { assertTraceSize, DEFAULT_MAX_TRACE_BYTES } from './trace-lines.ts';
export type * from './types.ts';
