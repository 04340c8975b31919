// The model's entry point: trace text in, TraceModel out, or a TraceError that says in one line what is
// wrong and where. Owns only the wiring of the line reader to the model builder.

import { ModelBuilder } from './model-builder.ts';
import { DEFAULT_MAX_TRACE_BYTES, readTraceLines } from './trace-lines.ts';
import type { TraceModel } from './types.ts';

export interface LoadOptions {
  /** Longer texts are refused (counted in UTF-16 units, bytes for ASCII; 512 MiB by default). */
  readonly maxBytes?: number;
}

/** Reads a whole trace (JSON lines, as `nvsim run` writes trace.jsonl). Throws TraceError on bad input. */
export function loadTrace(text: string, options: LoadOptions = {}): TraceModel {
  const builder = new ModelBuilder();
  const read = readTraceLines(text, options.maxBytes ?? DEFAULT_MAX_TRACE_BYTES, (record, line, start) => builder.accept(record, line, start));
  return builder.finish(text, read);
}
