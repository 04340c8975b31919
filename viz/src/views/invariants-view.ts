// A run's invariant verdicts (#invariants), as `nvsim run` prints them: ok or FAIL, the id, the detail. An
// opened trace file carries none (they are in summary.json), so the list is then empty. Owns the list.

import { select } from 'd3';
import type { InvariantResult } from '../../../sim/testbed/index.ts';

export function renderInvariants(container: HTMLElement, results: readonly InvariantResult[]): void {
  const items = select(container)
    .selectAll<HTMLLIElement, InvariantResult>('li')
    .data(results)
    .join('li')
    .classed('failed', (r) => !r.ok);
  items.text((r) => `${r.ok ? 'ok' : 'FAIL'}  ${r.id}  ${r.detail}`);
}
