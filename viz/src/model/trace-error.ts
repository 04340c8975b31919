// The one error a trace can cause: TraceError, a single line saying what is wrong and where. Owns the
// message format ("trace line 12: …", lines counted from 1); it does not decide what is wrong.

import { oneLine } from './text-format.ts';

export class TraceError extends Error {
  override readonly name = 'TraceError';

  /**
   * @param problem what is wrong, without the line prefix
   * @param line the 1-based line it is on, or null when it concerns the whole trace
   */
  constructor(
    problem: string,
    readonly line: number | null,
  ) {
    // A message built from trace text could otherwise carry line breaks or run on for kilobytes.
    super(oneLine(line === null ? problem : `trace line ${line}: ${problem}`, 300));
  }
}
