// The Web Worker that lists and runs scenarios off the page's thread. Each request gets its answer as
// WorkerReply messages (run-protocol.ts); a run posts progress and trace chunks, then 'done' or 'failed'.
// Owns the message handling only. The page starts a fresh worker for each run, so no state from one run
// can leak into the next, and cancelling is terminating.

import { firstLineOf } from './first-line.ts';
import type { WorkerReply, WorkerRequest } from './run-protocol.ts';
import { runScenarioJob } from './run-scenario-job.ts';
import { scenarioRegistry } from './scenario-registry.ts';

const post = (reply: WorkerReply): void => self.postMessage(reply);

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  const registry = scenarioRegistry();
  if (request.kind === 'list') {
    post({ kind: 'scenarios', scenarios: registry.catalog });
    return;
  }
  const scenario = registry.find(request.scenario);
  if (scenario === undefined) {
    post({ kind: 'failed', message: `no scenario named '${request.scenario}'` });
    return;
  }
  try {
    const outcome = runScenarioJob(scenario, request.seed, {
      traceChunk: (text) => post({ kind: 'trace-chunk', text }),
      progress: (nowNs, untilNs) => post({ kind: 'progress', nowNs, untilNs }),
    });
    post({ kind: 'done', outcome });
  } catch (e) {
    post({ kind: 'failed', message: `scenario ${request.scenario} failed: ${firstLineOf(e)}` });
  }
};
