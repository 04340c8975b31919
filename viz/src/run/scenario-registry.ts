// Every scenario in scenarios/ (top level only, as `nvsim list` sees them), bundled into the worker by
// Vite's import.meta.glob, looked up by name. Owns the lookup; running one is run-scenario-job.ts's job.
// (The reference gives import.meta.glob its type where a test type-checks this file outside viz/.)

/// <reference types="vite/client" />
import { isScenario, type Scenario } from '../../../sim/testbed/index.ts';
import type { ScenarioInfo } from './run-protocol.ts';

const scenarioModules = import.meta.glob<{ default: unknown }>('../../../scenarios/*.ts', { eager: true });

export interface ScenarioRegistry {
  /** Every scenario, sorted by name. */
  readonly catalog: readonly ScenarioInfo[];
  find(name: string): Scenario | undefined;
}

export function scenarioRegistry(): ScenarioRegistry {
  const byName = new Map<string, Scenario>();
  for (const [path, module] of Object.entries(scenarioModules)) {
    const fileName = path.slice(path.lastIndexOf('/') + 1, -'.ts'.length);
    // A file without a scenario as its default export is skipped, as `nvsim list` cannot run it either.
    if (isScenario(module.default)) byName.set(fileName, module.default);
  }
  const names = [...byName.keys()].sort();
  return {
    catalog: names.map((name) => ({ name, description: byName.get(name)!.description })),
    find: (name) => byName.get(name),
  };
}
