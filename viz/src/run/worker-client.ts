// The page's side of the scenario worker: ask for the scenario list, run one scenario and get its whole
// trace text back. A fresh worker serves each request and is terminated when it answers, or when the run
// is cancelled. Owns the worker's lifetime and the reassembly of trace chunks; what the page does with the
// text (loadTrace, drawing) is main.ts's.

import { firstLineOf } from './first-line.ts';
import type { RunOutcome, ScenarioInfo, WorkerReply, WorkerRequest } from './run-protocol.ts';

export interface WorkerRun {
  /** Resolves with the trace text and the run's outcome; rejects with one line on any failure. */
  readonly finished: Promise<{ text: string; outcome: RunOutcome }>;
  /** Stops the run; `finished` then rejects with RunCancelled. */
  cancel(): void;
}

export class RunCancelled extends Error {
  constructor() {
    super('run cancelled');
  }
}

function startWorker(): Worker {
  return new Worker(new URL('./run-worker.ts', import.meta.url), { type: 'module', name: 'nvsim-run' });
}

/**
 * Sends one request to a fresh worker and feeds its replies to `onReply` until that returns true (the
 * request is answered). Returns a cancel function.
 */
function converse(request: WorkerRequest, onReply: (reply: WorkerReply) => boolean, onFailure: (message: string) => void): () => void {
  const worker = startWorker();
  let open = true;
  const close = () => {
    open = false;
    worker.terminate();
  };
  worker.onmessage = (event: MessageEvent<WorkerReply>) => {
    if (open && onReply(event.data)) close();
  };
  worker.onerror = (event: ErrorEvent) => {
    event.preventDefault();
    if (!open) return;
    close();
    onFailure(`the scenario worker failed: ${firstLineOf(event.message || 'it could not start')}`);
  };
  worker.onmessageerror = () => {
    if (!open) return;
    close();
    onFailure('the scenario worker sent a message the page could not read');
  };
  worker.postMessage(request);
  return close;
}

export function listScenarios(): Promise<readonly ScenarioInfo[]> {
  return new Promise((resolve, reject) => {
    converse(
      { kind: 'list' },
      (reply) => {
        if (reply.kind === 'scenarios') resolve(reply.scenarios);
        else if (reply.kind === 'failed') reject(new Error(reply.message));
        else return false;
        return true;
      },
      (message) => reject(new Error(message)),
    );
  });
}

export function runInWorker(scenario: string, seed: number, onProgress: (nowNs: number, untilNs: number) => void): WorkerRun {
  let cancel = () => {};
  const finished = new Promise<{ text: string; outcome: RunOutcome }>((resolve, reject) => {
    const chunks: string[] = [];
    const close = converse(
      { kind: 'run', scenario, seed },
      (reply) => {
        switch (reply.kind) {
          case 'progress':
            onProgress(reply.nowNs, reply.untilNs);
            return false;
          case 'trace-chunk':
            chunks.push(reply.text);
            return false;
          case 'done':
            resolve({ text: chunks.join(''), outcome: reply.outcome });
            return true;
          case 'failed':
            reject(new Error(reply.message));
            return true;
          case 'scenarios':
            return false;
        }
      },
      (message) => reject(new Error(message)),
    );
    cancel = () => {
      close();
      reject(new RunCancelled());
    };
  });
  return { finished, cancel };
}
