// The testbed's public surface: build a world, define and run scenarios, read results. Re-exports only.
export { World, type MetricValue, type WorldOptions } from './world.ts';
export { defineScenario, isScenario, type Scenario, type ScenarioDefinition } from './scenario.ts';
export { ScenarioRun, faultTargetsOf, runScenario, scenarioFaultTargets, type FaultChoice, type FaultSource, type RunOptions, type RunResult } from './run.ts';
export type { Invariant, InvariantResult, LivenessInvariant, SafetyInvariant, Verdict } from '../check/invariant.ts';
