// How a scenario is written: a topology and workload built in `setup`, invariants registered on the world,
// a default fault schedule, and the run's shape (how long; when faults stop and what must hold after).
// `defineScenario` checks the definition once, when the scenario file is loaded, and throws one line
// naming what is wrong. Owns the definition's shape only; running it is run.ts's job.

import type { FaultSchedule } from '../faults/schedule.ts';
import { parseDuration, type Nanos } from '../kernel/time.ts';
import type { LinkConfig } from '../net/link.ts';
import type { NodeId } from '../net/message.ts';
import type { World } from './world.ts';

export interface ScenarioDefinition {
  /** kebab-case, the file's name without `.ts`. */
  name: string;
  /** One line, for `nvsim list`. */
  description: string;
  /** How long a run lasts unless --until says otherwise, e.g. "10s". */
  duration: string;
  /**
   * The liveness phase: at `from` the nemesis stops and heals everything; each liveness invariant must
   * then hold within `within` (by default, by the end of the run).
   */
  liveness?: { from: string; within?: string };
  /** Settings for every link the scenario does not set itself. */
  defaultLink?: LinkConfig;
  /** Builds nodes and workload, registers invariants and metrics. */
  setup(world: World): void;
  /** The scenario's own faults, used unless the run is given others (`--faults`). */
  faults?(world: World): FaultSchedule;
  /** Nodes random (`--faults swarm`) faults may target; by default every node. */
  faultTargets?(world: World): NodeId[];
}

export interface Scenario extends ScenarioDefinition {
  readonly durationNs: Nanos;
  readonly livenessFromNs: Nanos | undefined;
  readonly livenessWithinNs: Nanos | undefined;
}

const NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export function defineScenario(definition: ScenarioDefinition): Scenario {
  const fail = (why: string): never => {
    throw new Error(`scenario '${definition?.name ?? '?'}': ${why}`);
  };
  if (typeof definition !== 'object' || definition === null) fail('the definition must be an object');
  if (typeof definition.name !== 'string' || !NAME.test(definition.name)) fail('name must be kebab-case, like "gossip-partition"');
  if (typeof definition.description !== 'string' || definition.description.trim() === '' || definition.description.includes('\n')) {
    fail('description must be one non-empty line');
  }
  if (typeof definition.setup !== 'function') fail('setup must be a function');
  for (const hook of ['faults', 'faultTargets'] as const) {
    if (definition[hook] !== undefined && typeof definition[hook] !== 'function') fail(`${hook} must be a function`);
  }
  const duration = (field: string, text: unknown): Nanos => {
    if (typeof text !== 'string') return fail(`${field} must be duration text like "10s"`);
    try {
      return parseDuration(text);
    } catch (e) {
      return fail(`${field}: ${(e as Error).message}`);
    }
  };
  const durationNs = duration('duration', definition.duration);
  const livenessFromNs = definition.liveness === undefined ? undefined : duration('liveness.from', definition.liveness.from);
  const livenessWithinNs = definition.liveness?.within === undefined ? undefined : duration('liveness.within', definition.liveness.within);
  return Object.freeze({ ...definition, durationNs, livenessFromNs, livenessWithinNs });
}

/** Whether a loaded module's default export is a scenario made by defineScenario. */
export function isScenario(value: unknown): value is Scenario {
  const v = value as Scenario;
  return typeof v === 'object' && v !== null && typeof v.setup === 'function' && typeof v.durationNs === 'number' && typeof v.name === 'string';
}
