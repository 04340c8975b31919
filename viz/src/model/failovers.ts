// Failover times: for each controller crash, how long until every switch it mastered at that moment was
// mastered by another instance at once. Owns only that measure, computed from the switch mastership
// changes and the controllers' crashes, both in trace order.

import type { MasterChange } from './mastership.ts';
import type { FailoverRecord } from './types.ts';

export interface ControllerCrash {
  readonly node: string;
  readonly t: number;
  readonly line: number;
}

interface OpenFailover {
  readonly index: number;
  readonly node: string;
  readonly crashedAt: number;
  readonly switches: ReadonlySet<string>;
  /** How many of `switches` have another master now. */
  covered: number;
}

export function failoversOf(switchChanges: readonly MasterChange[], crashes: readonly ControllerCrash[]): FailoverRecord[] {
  const records: FailoverRecord[] = [];
  const masterOf = new Map<string, string>();
  let open: OpenFailover[] = [];
  let nextCrash = 0;

  const openFailover = (crash: ControllerCrash): void => {
    const switches = new Set<string>();
    for (const [entity, master] of masterOf) if (master === crash.node) switches.add(entity);
    // A controller that mastered nothing leaves nothing to take over.
    records.push({ node: crash.node, crashedAt: crash.t, recoveredAfterNs: switches.size === 0 ? 0 : null });
    if (switches.size > 0) open.push({ index: records.length - 1, node: crash.node, crashedAt: crash.t, switches, covered: 0 });
  };

  for (const change of switchChanges) {
    // A crash comes before the releases it causes (they carry its line), so it sees what it mastered.
    while (nextCrash < crashes.length && crashes[nextCrash].line <= change.line) openFailover(crashes[nextCrash++]);
    const before = masterOf.get(change.entity);
    if (change.master === undefined) masterOf.delete(change.entity);
    else masterOf.set(change.entity, change.master);
    if (open.length === 0) continue;
    for (const failover of open) {
      if (!failover.switches.has(change.entity)) continue;
      failover.covered += Number(coveredBy(change.master, failover.node)) - Number(coveredBy(before, failover.node));
      if (failover.covered === failover.switches.size) {
        records[failover.index] = { node: failover.node, crashedAt: failover.crashedAt, recoveredAfterNs: change.t - failover.crashedAt };
      }
    }
    open = open.filter((f) => records[f.index].recoveredAfterNs === null);
  }
  while (nextCrash < crashes.length) openFailover(crashes[nextCrash++]);
  return records;
}

function coveredBy(master: string | undefined, crashed: string): boolean {
  return master !== undefined && master !== crashed;
}
