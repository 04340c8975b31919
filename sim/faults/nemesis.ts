// The nemesis decides *when* faults happen and does nothing else: it schedules a fault schedule's steps on
// the kernel and, at each, calls the matching fabric verb (Maelstrom keeps the network's verbs apart from
// the nemesis the same way). It also ends the fault period for a liveness phase: stop, heal every
// partition, restore every link, restart every crashed node. Owns the applied-steps log; never touches
// message delivery or node state directly.

import type { EventHandle, Scheduler } from '../kernel/scheduler.ts';
import type { TraceRecorder } from '../kernel/trace.ts';
import type { Fabric } from '../net/fabric.ts';
import type { NodeId } from '../net/message.ts';
import { checkScheduleConsistency, type FaultSchedule, type FaultStep } from './schedule.ts';

declare module '../kernel/trace.ts' {
  interface TraceEventMap {
    /** The fault period ended: what the nemesis undid to let the system recover. */
    'fault.quiesce': { healed: string[]; restored: string[]; restarted: NodeId[]; pendingStepsDropped: number };
    /** A crash of a node already down, or a restart of one already up: the scenario itself got there first. */
    'fault.skip': { verb: 'crash' | 'restart'; node: NodeId };
  }
}

export class Nemesis {
  private readonly pending: EventHandle[] = [];
  private readonly appliedSteps: FaultStep[] = [];
  private readonly applyEvent = (step: FaultStep) => this.apply(step);

  constructor(
    private readonly scheduler: Scheduler,
    private readonly fabric: Fabric,
    private readonly trace: TraceRecorder,
    private readonly protectedNodes: ReadonlySet<NodeId> = new Set(),
  ) {}

  /** Steps applied so far, in order. */
  get applied(): readonly FaultStep[] {
    return this.appliedSteps;
  }

  /**
   * Checks the whole schedule against the fabric's nodes (all up now) and the protected set, then
   * schedules every step. Throws before scheduling anything when a step is inconsistent.
   */
  load(schedule: FaultSchedule): void {
    checkScheduleConsistency(schedule, this.fabric.nodeIds(), [...this.protectedNodes]);
    for (const step of schedule) {
      if (step.at < this.scheduler.now) throw new Error(`bad fault schedule: step at ${step.at}ns is in the past`);
    }
    for (const step of schedule) this.pending.push(this.scheduler.at(step.at, this.applyEvent, step));
  }

  /** Cancels every step not yet applied. Returns how many were dropped. */
  stop(): number {
    let dropped = 0;
    for (const handle of this.pending) if (this.scheduler.cancel(handle)) dropped++;
    this.pending.length = 0;
    return dropped;
  }

  /** Ends the fault period: stop, heal, restore, restart — the entry to a liveness phase. */
  quiesce(): void {
    const pendingStepsDropped = this.stop();
    const healed = this.fabric.activePartitions();
    const restored = this.fabric.activeDegradations();
    const restarted = this.fabric.nodes().filter((n) => !n.up).map((n) => n.id);
    this.fabric.heal();
    this.fabric.restore();
    for (const id of restarted) this.fabric.restart(id);
    this.trace.emit('fault.quiesce', { healed, restored, restarted, pendingStepsDropped });
  }

  private apply(step: FaultStep): void {
    const f = this.fabric;
    // A scenario may crash and restart nodes itself (a fault aimed at whoever holds a role at the time),
    // so a random schedule's step can find its node already in the state it would put it in.
    if ((step.verb === 'crash' || step.verb === 'restart') && f.isUp(step.node) === (step.verb === 'restart')) {
      this.trace.emit('fault.skip', { verb: step.verb, node: step.node });
      return;
    }
    this.appliedSteps.push(step);
    switch (step.verb) {
      case 'crash':
        return f.crash(step.node);
      case 'restart':
        return f.restart(step.node);
      case 'partition':
        return f.partition(step.id, step.groups);
      case 'partition-one-way':
        return f.partitionOneWay(step.id, step.from, step.to);
      case 'heal':
        return f.heal(step.id);
      case 'degrade':
        return f.degrade(step.id, step.from, step.to, step.link, step.symmetric);
      case 'restore':
        return f.restore(step.id);
    }
  }
}
