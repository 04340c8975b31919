// Every request gets exactly one response (seed 000 FIG. 33, S15), under random faults: fast-check draws
// the seed and a schedule of crashes, partitions and degraded links over the cross-master-write scenario's
// nodes, on top of the scenario's own crash of the LDPS master mid-request. Each run must keep every
// invariant: each request decided at most once and only by its LDPS's master at its epoch, every appended
// request answered in the NIB and heard by its origin once quiet, and the cluster's and testbed's own.
// A failure prints the seed, the shrunk schedule and the `nvsim run` command that replays it.
import { describe, test } from 'vitest';
import crossMasterWrite from '../../scenarios/cross-master-write.ts';
import { assertScenarioHolds } from '../support/scenario-property.ts';

describe('the request list under random faults', () => {
  test('every request gets exactly one response, from its LDPS master', () => {
    assertScenarioHolds(crossMasterWrite, { file: 'scenarios/cross-master-write.ts', numRuns: 10 });
  });
});
