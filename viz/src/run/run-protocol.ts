// The messages between the page and the scenario worker (run-worker.ts). Owns their shapes only: the
// worker decides what to run, worker-client.ts decides what the page does with the answers. Everything
// here is plain data, because it crosses postMessage.

import type { InvariantResult } from '../../../sim/testbed/index.ts';

export interface ScenarioInfo {
  readonly name: string;
  readonly description: string;
}

export type WorkerRequest = { readonly kind: 'list' } | { readonly kind: 'run'; readonly scenario: string; readonly seed: number };

export type WorkerReply =
  | { readonly kind: 'scenarios'; readonly scenarios: readonly ScenarioInfo[] }
  | { readonly kind: 'progress'; readonly nowNs: number; readonly untilNs: number }
  /** A run of whole trace lines, each ending in "\n"; the chunks in order are the trace file's text. */
  | { readonly kind: 'trace-chunk'; readonly text: string }
  | { readonly kind: 'done'; readonly outcome: RunOutcome }
  | { readonly kind: 'failed'; readonly message: string };

/** What a finished run reports besides its trace: the CLI's summary.json fields the page shows. */
export interface RunOutcome {
  readonly scenario: string;
  readonly seed: number;
  readonly ok: boolean;
  readonly traceHash: string | null;
  readonly traceLines: number;
  readonly invariants: readonly InvariantResult[];
}
