// Finding and loading scenario files: a path (`scenarios/gossip-partition.ts`) or a bare name
// (`gossip-partition`, looked up in the project's scenarios/ folder). Owns resolution, import and the
// check that the file's default export is a scenario; every failure is one UsageError line.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { isScenario, type Scenario } from '../testbed/scenario.ts';
import { firstLine, UsageError } from './errors.ts';

export const SCENARIOS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../scenarios');

export function resolveScenarioPath(arg: string): string {
  const looksLikeName = !arg.includes('/') && !arg.includes('\\') && !arg.endsWith('.ts');
  const path = looksLikeName ? join(SCENARIOS_DIR, `${arg}.ts`) : resolve(arg);
  if (!existsSync(path)) {
    throw new UsageError(looksLikeName ? `no scenario named '${arg}' (see 'nvsim list')` : `scenario file not found: ${arg}`);
  }
  if (!statSync(path).isFile()) throw new UsageError(`not a file: ${arg}`);
  return path;
}

export async function loadScenario(arg: string): Promise<{ path: string; scenario: Scenario }> {
  const path = resolveScenarioPath(arg);
  let exported: unknown;
  try {
    // tsImport rather than a plain import: a .ts file outside an ESM package (say, in /tmp) is compiled as
    // CommonJS, which a plain import of TypeScript cannot load; its default export then sits one level down.
    const module = await tsImport(pathToFileURL(path).href, import.meta.url);
    exported = isScenario(module.default) ? module.default : module.default?.default;
  } catch (e) {
    throw new UsageError(`cannot load scenario ${arg}: ${firstLine(e)}`);
  }
  if (!isScenario(exported)) {
    throw new UsageError(`${arg} does not export a scenario: its default export must come from defineScenario(...)`);
  }
  return { path, scenario: exported };
}

/** The scenario files in scenarios/ (top level only; helpers live in subfolders), sorted by name. */
export function listScenarioFiles(): string[] {
  return readdirSync(SCENARIOS_DIR)
    .filter((f) => f.endsWith('.ts'))
    .sort()
    .map((f) => join(SCENARIOS_DIR, f));
}

export function scenarioNameOf(path: string): string {
  return basename(path, '.ts');
}
