// Answers viewAt(t): everything true at one instant, rebuilt from the time-indexed histories the model
// builder filled (mastership, crashes, partitions, VM placement) and the first-seen node lists. Owns the
// assembly of a ViewState and its cost: each history restores its last checkpoint before t and replays
// what follows, so a scrub over a thousand-host trace costs well under a millisecond per map.

import type { FirstSeen } from './first-seen.ts';
import { countAtOrBefore, type KeyedHistory } from './keyed-history.ts';
import type { PartitionState, ViewState, Violation } from './types.ts';

export interface ViewSources {
  readonly endNs: number;
  readonly controllers: FirstSeen;
  readonly switches: FirstSeen;
  readonly vms: FirstSeen;
  readonly masterOf: KeyedHistory<string>;
  readonly ldpsMasterOf: KeyedHistory<string>;
  readonly crashed: KeyedHistory<true>;
  readonly partitions: KeyedHistory<PartitionState>;
  readonly vmHost: KeyedHistory<string>;
  /** In trace order. */
  readonly violations: readonly Violation[];
}

export class ViewIndex {
  private readonly violationTimes: number[];
  private readonly violationsByCount = new Map<number, readonly Violation[]>();

  constructor(private readonly sources: ViewSources) {
    this.violationTimes = sources.violations.map((v) => v.t);
  }

  viewAt(t: number): ViewState {
    const s = this.sources;
    // NaN and out-of-range times are clamped, so a slider at either end always has an answer.
    const time = Number.isNaN(t) ? 0 : Math.min(Math.max(t, 0), s.endNs);
    return {
      time,
      nodes: { controllers: s.controllers.knownAt(time), switches: s.switches.knownAt(time), vms: s.vms.knownAt(time) },
      masterOf: recordOf(s.masterOf.stateAt(time)),
      ldpsMasterOf: recordOf(s.ldpsMasterOf.stateAt(time)),
      crashed: [...s.crashed.stateAt(time).keys()].sort(),
      partitions: [...s.partitions.stateAt(time).values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
      vmHost: recordOf(s.vmHost.stateAt(time)),
      violations: this.violationsAt(time),
    };
  }

  private violationsAt(time: number): readonly Violation[] {
    const count = countAtOrBefore(this.violationTimes, time);
    let list = this.violationsByCount.get(count);
    if (list === undefined) {
      list = Object.freeze(this.sources.violations.slice(0, count));
      this.violationsByCount.set(count, list);
    }
    return list;
  }
}

/**
 * A map as a plain record without a prototype: ids from a trace become own keys whatever they are
 * ('__proto__', 'constructor'), and looking up an absent id never finds an inherited member.
 */
function recordOf(map: ReadonlyMap<string, string>): Record<string, string> {
  const record: Record<string, string> = Object.create(null);
  for (const [key, value] of map) record[key] = value;
  return record;
}
