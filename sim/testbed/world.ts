// One simulated world, passed explicitly to everything in a run (FoundationDB's `g_simulator`, minus the
// global): the scheduler, the seeded streams, the trace, the fabric, the nemesis, the protected set, the
// invariants and the scenario's metrics. Owns construction and wiring; owns no behaviour of its own.

import { InvariantBook, type Invariant } from '../check/invariant.ts';
import { Nemesis } from '../faults/nemesis.ts';
import { RngStreams } from '../kernel/rng.ts';
import { Scheduler } from '../kernel/scheduler.ts';
import { TraceRecorder, type TraceLevel, type TraceSink } from '../kernel/trace.ts';
import { Fabric } from '../net/fabric.ts';
import type { LinkConfig } from '../net/link.ts';
import type { NodeId } from '../net/message.ts';

export interface WorldOptions {
  seed: number;
  trace: TraceLevel;
  traceSink?: TraceSink;
  defaultLink?: LinkConfig;
}

export type MetricValue = number | string | boolean | null | MetricValue[] | { [key: string]: MetricValue };

export class World {
  readonly seed: number;
  readonly scheduler = new Scheduler();
  readonly rng: RngStreams;
  readonly trace: TraceRecorder;
  readonly fabric: Fabric;
  readonly nemesis: Nemesis;
  readonly invariants: InvariantBook;
  private readonly protectedSet = new Set<NodeId>();
  private readonly metricReaders = new Map<string, () => MetricValue>();

  constructor(options: WorldOptions) {
    this.seed = options.seed;
    this.rng = new RngStreams(options.seed);
    this.trace = new TraceRecorder(this.scheduler, { level: options.trace, sink: options.traceSink });
    this.fabric = new Fabric(this.scheduler, this.rng, this.trace, { defaultLink: options.defaultLink });
    this.nemesis = new Nemesis(this.scheduler, this.fabric, this.trace, this.protectedSet);
    this.invariants = new InvariantBook(this.scheduler, this.trace);
  }

  get now(): number {
    return this.scheduler.now;
  }

  /** Nodes that faults may partition or slow but never crash. */
  protect(...ids: NodeId[]): void {
    for (const id of ids) {
      if (!this.fabric.hasNode(id)) throw new Error(`cannot protect unknown node '${id}'`);
      this.protectedSet.add(id);
    }
  }

  get protectedNodes(): NodeId[] {
    return [...this.protectedSet];
  }

  invariant(invariant: Invariant): void {
    this.invariants.add(invariant);
  }

  /** A figure for summary.json, read when the run ends. */
  metric(name: string, read: () => MetricValue): void {
    if (this.metricReaders.has(name)) throw new Error(`metric '${name}' is registered twice`);
    this.metricReaders.set(name, read);
  }

  readMetrics(): Record<string, MetricValue> {
    const out: Record<string, MetricValue> = {};
    for (const [name, read] of this.metricReaders) out[name] = read();
    return out;
  }
}
