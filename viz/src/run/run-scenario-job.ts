// One scenario run as the worker does it: the same ScenarioRun the CLI drives (full trace, the scenario's
// own faults), advanced in slices so the page can show progress, with the trace text handed out in chunks.
// Slicing never changes what happens, so the trace and its hash are the CLI's for that scenario and seed.
// Owns the run's flow in the worker; knows nothing of postMessage (run-worker.ts) or of the page.

import { ScenarioRun, type Scenario } from '../../../sim/testbed/index.ts';
import type { RunOutcome } from './run-protocol.ts';
import { TraceChunker } from './trace-chunker.ts';

/** Events per slice between progress reports: a few reports a second at typical speeds. */
const SLICE_EVENTS = 20_000;

export interface RunJobOutput {
  traceChunk(text: string): void;
  progress(nowNs: number, untilNs: number): void;
}

/** Runs `scenario` with `seed` to its end. Throws (with one line to show) when the scenario throws. */
export function runScenarioJob(scenario: Scenario, seed: number, output: RunJobOutput, chunkChars?: number): RunOutcome {
  const chunker = new TraceChunker((text) => output.traceChunk(text), chunkChars);
  const run = new ScenarioRun(scenario, { seed, trace: 'full', traceSink: chunker });
  while (!run.advance(SLICE_EVENTS)) output.progress(run.progress.nowNs, run.untilNs);
  const result = run.finish();
  chunker.flush();
  output.progress(result.virtualEndNs, run.untilNs);
  return {
    scenario: result.scenario,
    seed: result.seed,
    ok: result.ok,
    traceHash: result.traceHash,
    traceLines: result.traceLines,
    invariants: result.invariants,
  };
}
