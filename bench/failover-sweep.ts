// Failover time of the controller-failover scenario over seeds, for several CM session timeouts: virtual
// milliseconds from the crash of the master instance until every switch again has exactly one live master
// and every table has converged (the scenario's `failovers` metric). Virtual time, so the figures do not
// depend on the machine; the wall time is reported only to size runs.
//
//   node --import tsx bench/failover-sweep.ts [--seeds 100] [--timeouts 500,1000,2000]
//
// Prints one line per timeout: session_timeout_ms=<n> runs=<n> median_ms=<n> p99_ms=<n> max_ms=<n>
// unrecovered=<n> violations=<n> control_messages_median=<n>. The session heartbeat is a tenth of the timeout.

import { defineScenario, runScenario } from '../sim/testbed/index.ts';
import controllerFailover, { setupFailover } from '../scenarios/controller-failover.ts';
import { NS_PER_MS } from '../sim/kernel/time.ts';
import { benchArgs } from './bench-args.ts';

const args = benchArgs('failover-sweep', { seeds: { type: 'string', default: '100' }, timeouts: { type: 'string', default: '500,1000,2000' } });
const seeds = args.positiveInteger('seeds');
const timeouts = args.timeouts.split(',').map((t) => {
  const ms = Number(t);
  if (!Number.isSafeInteger(ms) || ms < 100) args.fail(`--timeouts takes whole milliseconds of at least 100, got '${t}'`);
  return ms;
});

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];

for (const timeoutMs of timeouts) {
  const scenario = defineScenario({
    ...controllerFailover,
    setup: (world) => setupFailover(world, { sessionTimeoutNs: timeoutMs * NS_PER_MS, sessionHeartbeatNs: (timeoutMs / 10) * NS_PER_MS }),
  });
  const times: number[] = [];
  const messages: number[] = [];
  let unrecovered = 0;
  let violations = 0;
  const started = performance.now();
  for (let seed = 1; seed <= seeds; seed++) {
    const r = runScenario(scenario, { seed, trace: 'off' });
    if (r.invariants.some((i) => !i.ok)) violations++;
    const failovers = r.metrics.failovers as Array<{ recoveredAfterMs: number | null }>;
    for (const f of failovers) {
      if (f.recoveredAfterMs === null) unrecovered++;
      else times.push(f.recoveredAfterMs);
    }
    const counts = r.metrics.controlMessages as Record<string, number>;
    messages.push(Object.values(counts).reduce((a, b) => a + b, 0));
  }
  times.sort((a, b) => a - b);
  messages.sort((a, b) => a - b);
  const wall = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `session_timeout_ms=${timeoutMs} runs=${seeds} median_ms=${quantile(times, 0.5)} p99_ms=${quantile(times, 0.99)} max_ms=${times[times.length - 1]} unrecovered=${unrecovered} violations=${violations} control_messages_median=${quantile(messages, 0.5)} wall_s=${wall}`,
  );
}
