// Fault windows and schedules as fast-check arbitraries: the one definition of "a random fault" that both
// property tests (which shrink it) and seeded swarm runs (which sample it from the run's seed) use.
// fast-check shrinks arrays by dropping elements and integers toward their minimum, so a failing schedule
// shrinks toward fewer faults, earlier starts and shorter windows — earlier heals. Fault times fall on whole
// milliseconds. Owns generation only.

import fc from 'fast-check';
import { NS_PER_MS, type Nanos } from '../kernel/time.ts';
import type { NodeId } from '../net/message.ts';
import type { FaultSchedule } from './schedule.ts';
import { checkFaultSpace, compileWindows, DEGRADE_PRESET_NAMES, type FaultKind, type FaultSpace, type FaultWindow } from './windows.ts';

/** Splits `nodes` into two sides by one boolean a node; either side may come out empty (compile drops it). */
function split(nodes: readonly NodeId[]): fc.Arbitrary<[NodeId[], NodeId[]]> {
  return fc.array(fc.boolean(), { minLength: nodes.length, maxLength: nodes.length }).map((side) => {
    const a: NodeId[] = [];
    const b: NodeId[] = [];
    nodes.forEach((n, i) => (side[i] ? b : a).push(n));
    return [a, b] as [NodeId[], NodeId[]];
  });
}

/**
 * A time in [min, max] on whole milliseconds where the range allows, so schedules read as "1250ms" rather
 * than "1250378112ns"; a range narrower than a millisecond falls back to nanoseconds.
 */
function wholeMilliseconds(min: Nanos, max: Nanos): fc.Arbitrary<Nanos> {
  const lo = Math.ceil(min / NS_PER_MS);
  const hi = Math.floor(max / NS_PER_MS);
  return hi >= lo ? fc.integer({ min: lo, max: hi }).map((m) => m * NS_PER_MS) : fc.integer({ min, max });
}

export function faultWindowArbitrary(space: FaultSpace): fc.Arbitrary<FaultWindow> {
  checkFaultSpace(space);
  const startNs = wholeMilliseconds(space.startNs, space.endNs - 1);
  const durationNs = wholeMilliseconds(space.durationMinNs, space.durationMaxNs);
  const node = fc.constantFrom(...space.nodes);
  const byKind: Record<FaultKind, fc.Arbitrary<FaultWindow>> = {
    crash: fc.record({ kind: fc.constant('crash' as const), startNs, durationNs, node }),
    partition: fc.record({ kind: fc.constant('partition' as const), startNs, durationNs, groups: split(space.nodes) }),
    'partition-one-way': fc.record({ kind: fc.constant('partition-one-way' as const), startNs, durationNs, sides: split(space.nodes) }).map(
      ({ sides, ...w }): FaultWindow => ({ ...w, from: sides[0], to: sides[1] }),
    ),
    degrade: fc.record({ kind: fc.constant('degrade' as const), startNs, durationNs, node, preset: fc.constantFrom(...DEGRADE_PRESET_NAMES) }),
  };
  return fc.oneof(...space.kinds.map((k) => byKind[k]));
}

export function faultWindowsArbitrary(space: FaultSpace): fc.Arbitrary<FaultWindow[]> {
  return fc.array(faultWindowArbitrary(space), { maxLength: space.maxFaults });
}

/** A consistent fault schedule drawn from `space`; shrinks through its windows. */
export function faultScheduleArbitrary(space: FaultSpace): fc.Arbitrary<FaultSchedule> {
  return faultWindowsArbitrary(space).map((windows) => compileWindows(windows, space));
}
