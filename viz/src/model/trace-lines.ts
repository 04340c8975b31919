// Reads trace text as untrusted input, line by line: the size limit, one JSON object per line with a
// non-negative integer `t` that never decreases and a non-empty string `type`, and the trace hash. Owns
// the line-level rules only; what a record of a given type must hold is record-schema.ts's business, and
// what it means is the model's. Nothing here evaluates the text: JSON.parse only.

import { TraceHash } from '../../../sim/kernel/trace-hash.ts';
import { oneLine } from './text-format.ts';
import { TraceError } from './trace-error.ts';

/** The default size limit: larger traces are refused rather than left to exhaust the tab's memory. */
export const DEFAULT_MAX_TRACE_BYTES = 512 * 1024 * 1024;

/** One line's JSON object; `t` and `type` are checked, every other field is unchecked. */
export interface RawRecord {
  readonly t: number;
  readonly type: string;
  readonly [field: string]: unknown;
}

export interface TraceText {
  readonly lines: number;
  /** The last record's time. */
  readonly endNs: number;
  /** sim/kernel/trace-hash.ts over every line and its "\n": what the CLI reports for the same run. */
  readonly hash: string;
}

/**
 * Throws a TraceError when a trace of `bytes` bytes is over `maxBytes`. The page calls it with a file's
 * size before reading the file, so a huge file is refused without being read.
 */
export function assertTraceSize(bytes: number, maxBytes = DEFAULT_MAX_TRACE_BYTES): void {
  if (bytes > maxBytes) throw new TraceError(`trace is ${describeBytes(bytes)}, over the limit of ${describeBytes(maxBytes)}`, null);
}

/**
 * Checks every line of `text` and hands each record to `visit` with its 0-based line number and the
 * offset where the line starts in `text`. Throws TraceError at the first bad line; `visit` may throw too.
 */
export function readTraceLines(text: string, maxBytes: number, visit: (record: RawRecord, line: number, start: number) => void): TraceText {
  // Counted in UTF-16 units, which equal bytes for the ASCII JSON the simulator writes; the page checks a
  // file's byte size with assertTraceSize before it reads the file.
  if (text.length > maxBytes) throw new TraceError(`trace is over the limit of ${describeBytes(maxBytes)}`, null);
  if (text.length === 0) throw new TraceError('trace is empty', null);
  let line = 0;
  let start = 0;
  let previousT = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const record = parseLine(text.slice(start, end), line + 1);
    if (record.t < previousT) throw new TraceError(`time ${record.t} is before the previous line's ${previousT}`, line + 1);
    previousT = record.t;
    visit(record, line, start);
    line++;
    start = end + 1;
  }
  // The CLI hashes each line followed by "\n": the same as the whole text once it ends with one.
  const hash = new TraceHash();
  hash.update(text);
  if (!text.endsWith('\n')) hash.update('\n');
  return { lines: line, endNs: previousT, hash: hash.digest() };
}

function parseLine(source: string, lineNumber: number): RawRecord {
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (error) {
    if (source.trim() === '') throw new TraceError('blank line', lineNumber);
    throw new TraceError(`not valid JSON (${oneLine(error instanceof Error ? error.message : String(error), 100)})`, lineNumber);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TraceError('not a JSON object', lineNumber);
  const { t, type } = value as { t?: unknown; type?: unknown };
  if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0) throw new TraceError("needs a time 't' that is a non-negative integer (virtual ns)", lineNumber);
  if (typeof type !== 'string' || type === '') throw new TraceError("needs a non-empty string 'type'", lineNumber);
  return value as RawRecord;
}

function describeBytes(bytes: number): string {
  const MIB = 1024 * 1024;
  if (bytes >= MIB) return `${Number((bytes / MIB).toPrecision(4))} MiB`;
  return `${bytes} bytes`;
}
