// Running a scenario: build the world, load the faults, run the safety phase (faults on, safety
// invariants watching), then the liveness phase (the nemesis heals everything and the liveness invariants
// must come to hold within their bound), and report. Runs advance in slices so the CLI can show progress
// between them; slicing never changes what happens. Owns the run's phases and its result; never reads the
// wall clock (the CLI adds wall time to the summary).

import type { InvariantResult } from '../check/invariant.ts';
import { scheduleToJson, type FaultSchedule } from '../faults/schedule.ts';
import { sampleFaultSchedule, swarmSpace, type SwarmTargets } from '../faults/swarm.ts';
import { NS_PER_MS, type Nanos } from '../kernel/time.ts';
import type { TraceLevel, TraceSink } from '../kernel/trace.ts';
import type { FabricStats } from '../net/fabric.ts';
import type { Scenario } from './scenario.ts';
import { World, type MetricValue } from './world.ts';

declare module '../kernel/trace.ts' {
  interface TraceEventMap {
    'run.start': { scenario: string; seed: number; untilNs: Nanos };
    /** The faults this run will apply, as loaded (the liveness phase may cut it short). */
    'fault.schedule': { source: FaultSource; steps: object[] };
    'phase.liveness': { deadlineNs: Nanos };
    'run.end': { events: number; ok: boolean };
  }
}

/** Where a run's faults come from: the scenario's own, none, a seeded swarm draw, or a given schedule. */
export type FaultSource = 'scenario' | 'none' | 'swarm' | 'given';
export type FaultChoice = { source: 'scenario' | 'none' | 'swarm' } | { source: 'given'; schedule: FaultSchedule };

export interface RunOptions {
  seed: number;
  /** Virtual end of the run; the scenario's duration by default. */
  untilNs?: Nanos;
  trace?: TraceLevel;
  traceSink?: TraceSink;
  faults?: FaultChoice;
}

export interface RunResult {
  scenario: string;
  description: string;
  seed: number;
  ok: boolean;
  invariants: InvariantResult[];
  untilNs: Nanos;
  virtualEndNs: Nanos;
  events: number;
  traceLevel: TraceLevel;
  traceHash: string | null;
  traceLines: number;
  traceCounts: Record<string, number>;
  faults: { source: FaultSource; schedule: object[]; applied: number };
  metrics: { net: FabricStats } & Record<string, MetricValue>;
}

/** How often liveness invariants are evaluated during the liveness phase (virtual time). */
const LIVENESS_POLL_NS = 10 * NS_PER_MS;

export class ScenarioRun {
  readonly world: World;
  readonly untilNs: Nanos;
  readonly faultSource: FaultSource;
  readonly faultSchedule: FaultSchedule;
  private finished = false;

  /** Builds everything and loads the faults; throws (with nothing run) when the scenario or faults are bad. */
  constructor(
    readonly scenario: Scenario,
    options: RunOptions,
  ) {
    this.untilNs = options.untilNs ?? scenario.durationNs;
    this.world = new World({ seed: options.seed, trace: options.trace ?? 'full', traceSink: options.traceSink, defaultLink: scenario.defaultLink });
    const world = this.world;
    const choice = options.faults ?? { source: 'scenario' };
    this.faultSource = choice.source;
    world.trace.emit('run.start', { scenario: scenario.name, seed: options.seed, untilNs: this.untilNs });
    scenario.setup(world);
    this.faultSchedule = this.chooseFaults(choice);
    world.nemesis.load(this.faultSchedule);
    world.trace.emit('fault.schedule', { source: this.faultSource, steps: scheduleToJson(this.faultSchedule) });
    const from = scenario.livenessFromNs;
    if (from !== undefined && from < this.untilNs) {
      const deadline = Math.min(this.untilNs, from + (scenario.livenessWithinNs ?? Infinity));
      world.scheduler.at(from, () => this.startLiveness(deadline));
    }
  }

  /** Virtual time reached and events run, for progress display. */
  get progress(): { nowNs: Nanos; untilNs: Nanos; events: number } {
    return { nowNs: this.world.now, untilNs: this.untilNs, events: this.world.scheduler.eventsExecuted };
  }

  /** Runs at most `maxEvents` more events. Returns true once the run has reached its end. */
  advance(maxEvents: number): boolean {
    if (this.finished) return true;
    const ran = this.world.scheduler.run(this.untilNs, maxEvents);
    if (ran < maxEvents) this.finished = true;
    return this.finished;
  }

  /** Runs to the end (if not there yet) and reports. */
  finish(): RunResult {
    while (!this.advance(1_000_000));
    const world = this.world;
    const invariants = world.invariants.results();
    const ok = invariants.every((r) => r.ok);
    world.trace.emit('run.end', { events: world.scheduler.eventsExecuted, ok });
    return {
      scenario: this.scenario.name,
      description: this.scenario.description,
      seed: world.seed,
      ok,
      invariants,
      untilNs: this.untilNs,
      virtualEndNs: world.now,
      events: world.scheduler.eventsExecuted,
      traceLevel: world.trace.level,
      traceHash: world.trace.hash(),
      traceLines: world.trace.recorded,
      traceCounts: world.trace.counts(),
      faults: { source: this.faultSource, schedule: scheduleToJson(this.faultSchedule), applied: world.nemesis.applied.length },
      metrics: { net: { ...world.fabric.stats }, ...world.readMetrics() },
    };
  }

  private chooseFaults(choice: FaultChoice): FaultSchedule {
    switch (choice.source) {
      case 'none':
        return [];
      case 'given':
        return choice.schedule;
      case 'scenario':
        return this.scenario.faults?.(this.world) ?? [];
      case 'swarm': {
        const rng = this.world.rng.stream('faults/swarm');
        return sampleFaultSchedule(rng, swarmSpace(rng, faultTargetsOf(this.scenario, this.world, this.untilNs)));
      }
    }
  }

  private startLiveness(deadlineNs: Nanos): void {
    const world = this.world;
    world.trace.emit('phase.liveness', { deadlineNs });
    world.nemesis.quiesce();
    world.invariants.startLiveness(deadlineNs);
    const poll = () => {
      if (!world.invariants.pollLiveness()) world.scheduler.after(LIVENESS_POLL_NS, poll);
    };
    poll();
  }
}

/**
 * What random faults may target in a scenario: its fault targets (every node by default), its protected
 * nodes, and the fault period (until the liveness phase, or the first 80% of the run without one).
 */
export function faultTargetsOf(scenario: Scenario, world: World, untilNs: Nanos): SwarmTargets {
  const endNs = Math.min(scenario.livenessFromNs ?? Math.round(untilNs * 0.8), untilNs);
  return {
    nodes: scenario.faultTargets?.(world) ?? world.fabric.nodeIds(),
    protectedNodes: world.protectedNodes,
    startNs: 0,
    endNs: Math.max(1, endNs),
  };
}

/** The fault targets of a scenario as built for `seed`, without running it. */
export function scenarioFaultTargets(scenario: Scenario, seed = 1, untilNs = scenario.durationNs): SwarmTargets {
  const run = new ScenarioRun(scenario, { seed, untilNs, trace: 'off', faults: { source: 'none' } });
  return faultTargetsOf(scenario, run.world, untilNs);
}

/** Runs a scenario start to end in one call (tests, sweeps). */
export function runScenario(scenario: Scenario, options: RunOptions): RunResult {
  return new ScenarioRun(scenario, options).finish();
}
