// Property tests over whole scenarios: fast-check draws the simulation seed and a fault schedule, runs the
// scenario, and on failure reports the seed, the shrunk schedule (also written to a file) and the
// `nvsim run` command that replays it. Owns that report; the run itself is the testbed's.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { faultScheduleArbitrary } from '../../sim/faults/arbitrary.ts';
import { describeStep, scheduleToJson, type FaultSchedule } from '../../sim/faults/schedule.ts';
import type { FaultSpace } from '../../sim/faults/windows.ts';
import { runScenario, scenarioFaultTargets, type RunResult, type Scenario } from '../../sim/testbed/index.ts';

export const PROPERTY_RUNS = Number(process.env.NVSIM_PROPERTY_RUNS ?? 0) || undefined;
export const REPLAY_DIR = 'test-results/replays';

export interface ScenarioPropertyOptions {
  /** The scenario file, for the replay command. */
  file: string;
  numRuns: number;
  /** Overrides of the fault space drawn from the scenario's targets (all kinds, up to 8 faults by default). */
  space?: Partial<FaultSpace>;
  /** fast-check's own seed, for a test that must find the same counterexample every time. */
  fcSeed?: number;
}

export interface ScenarioCounterexample {
  seed: number;
  schedule: FaultSchedule;
  /** Null when the run threw instead of finishing. */
  result: RunResult | null;
  replayFile: string;
  replayCommand: string;
  report: string;
}

export function faultSpaceOf(scenario: Scenario, overrides: Partial<FaultSpace> = {}): FaultSpace {
  const targets = scenarioFaultTargets(scenario);
  const crashable = targets.nodes.filter((n) => !targets.protectedNodes.includes(n)).length;
  return {
    ...targets,
    kinds: ['crash', 'partition', 'partition-one-way', 'degrade'],
    durationMinNs: 10_000_000,
    durationMaxNs: Math.max(10_000_000, Math.round((targets.endNs - targets.startNs) / 3)),
    maxFaults: 8,
    maxCrashed: Math.max(1, Math.floor((crashable - 1) / 2)),
    ...overrides,
  };
}

/** Runs the property; returns the shrunk counterexample, or null when every run held. */
export function findScenarioCounterexample(scenario: Scenario, options: ScenarioPropertyOptions): ScenarioCounterexample | null {
  const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });
  const scheduleArb = faultScheduleArbitrary(faultSpaceOf(scenario, options.space));
  const run = (seed: number, schedule: FaultSchedule) =>
    runScenario(scenario, { seed, trace: 'off', faults: { source: 'given', schedule } });
  const details = fc.check(
    fc.property(seedArb, scheduleArb, (seed, schedule) => run(seed, schedule).ok),
    { numRuns: PROPERTY_RUNS ?? options.numRuns, seed: options.fcSeed },
  );
  if (!details.failed || details.counterexample === null) return null;
  const [seed, schedule] = details.counterexample;
  // A run that throws (a simulator or checker bug) fails the property too; it is reported the same way.
  let result: RunResult | null = null;
  let failure: string;
  try {
    result = run(seed, schedule);
    failure = result.invariants.filter((i) => !i.ok).map((i) => `${i.id} (${i.detail})`).join('; ');
  } catch (error) {
    failure = `the run threw: ${error instanceof Error ? error.message : String(error)}`;
  }
  mkdirSync(REPLAY_DIR, { recursive: true });
  const replayFile = join(REPLAY_DIR, `${scenario.name}-seed${seed}.json`);
  writeFileSync(replayFile, JSON.stringify(scheduleToJson(schedule), null, 2) + '\n');
  const replayCommand = `nvsim run ${relative(process.cwd(), options.file)} --seed ${seed} --faults ${replayFile}`;
  const report = [
    `${scenario.name}: ${failure}`,
    `seed ${seed}; fault schedule shrunk to ${schedule.length} step(s) after ${details.numShrinks} shrinks:`,
    ...schedule.map((s) => `  ${describeStep(s)}`),
    `replay: ${replayCommand}`,
  ].join('\n');
  return { seed, schedule, result, replayFile, replayCommand, report };
}

/** Fails the test with the report when any run breaks an invariant. */
export function assertScenarioHolds(scenario: Scenario, options: ScenarioPropertyOptions): void {
  const counterexample = findScenarioCounterexample(scenario, options);
  if (counterexample !== null) throw new Error(counterexample.report);
}
