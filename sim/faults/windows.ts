// Fault windows: a fault with a start and a duration ("crash n2 from 1.2s for 300ms"), the unit that
// random generation and shrinking work in. A shorter window heals earlier and an absent one is a fault
// fewer, so shrinking windows shrinks toward fewer faults and earlier heals. Owns the window shapes, the
// space they are drawn from, and compiling windows into a consistent FaultSchedule (protected nodes, a
// cap on nodes down at once, no double crash); it applies nothing.

import { NS_PER_MS, type Nanos } from '../kernel/time.ts';
import type { LinkConfig } from '../net/link.ts';
import type { NodeId } from '../net/message.ts';
import { sortSchedule, type FaultSchedule, type FaultStep } from './schedule.ts';

export type FaultKind = 'crash' | 'partition' | 'partition-one-way' | 'degrade';
export const FAULT_KINDS: readonly FaultKind[] = ['crash', 'partition', 'partition-one-way', 'degrade'];

/** Named link degradations a random fault may lay over one node's links (Maelstrom's slow and flaky). */
export const DEGRADE_PRESETS = {
  slow: { latency: { kind: 'lognormal', medianNs: 20 * NS_PER_MS, sigma: 0.5, floorNs: NS_PER_MS } },
  flaky: { lossProbability: 0.3 },
  duplicating: { duplicateProbability: 0.2 },
  reordering: { reorderProbability: 0.3 },
} satisfies Record<string, Partial<LinkConfig>>;
export type DegradePreset = keyof typeof DEGRADE_PRESETS;
export const DEGRADE_PRESET_NAMES = Object.keys(DEGRADE_PRESETS) as DegradePreset[];

export type FaultWindow =
  | { kind: 'crash'; startNs: Nanos; durationNs: Nanos; node: NodeId }
  | { kind: 'partition'; startNs: Nanos; durationNs: Nanos; groups: [NodeId[], NodeId[]] }
  | { kind: 'partition-one-way'; startNs: Nanos; durationNs: Nanos; from: NodeId[]; to: NodeId[] }
  /** Lays a preset over every link between `node` and the other fault targets, both ways. */
  | { kind: 'degrade'; startNs: Nanos; durationNs: Nanos; node: NodeId; preset: DegradePreset };

/** Where random faults come from: a flat options record, as TigerBeetle's VOPR keeps its fault settings. */
export interface FaultSpace {
  /** Nodes faults may target (partitions split these; crashes pick among them). */
  readonly nodes: readonly NodeId[];
  /** Never crashed, so the run stays recoverable (FoundationDB's protected set). */
  readonly protectedNodes: readonly NodeId[];
  readonly kinds: readonly FaultKind[];
  /** Window starts fall in [startNs, endNs). */
  readonly startNs: Nanos;
  readonly endNs: Nanos;
  readonly durationMinNs: Nanos;
  readonly durationMaxNs: Nanos;
  readonly maxFaults: number;
  /** At most this many nodes down at once. */
  readonly maxCrashed: number;
}

/** Validates a space; throws one line. */
export function checkFaultSpace(space: FaultSpace): void {
  const fail = (why: string): never => {
    throw new Error(`bad fault space: ${why}`);
  };
  if (space.nodes.length === 0) fail('no target nodes');
  if (space.kinds.length === 0) fail('no fault kinds');
  for (const k of space.kinds) if (!FAULT_KINDS.includes(k)) fail(`unknown fault kind '${k}'`);
  if (!(space.startNs >= 0 && space.endNs > space.startNs)) fail('endNs must be after startNs');
  if (!(space.durationMinNs >= 0 && space.durationMaxNs >= space.durationMinNs)) fail('durationMaxNs must be at least durationMinNs');
  if (!(space.maxFaults >= 0)) fail('maxFaults must be non-negative');
  if (!(space.maxCrashed >= 0)) fail('maxCrashed must be non-negative');
}

/**
 * Turns windows into a schedule that can be applied: windows are taken in start order, and a window that
 * would crash a protected node, crash a node already down, put more than `maxCrashed` nodes down at once,
 * or cut nobody off is dropped. Each kept window yields its opening verb at its start and its closing verb
 * (restart, heal, restore by id) at its end.
 */
export function compileWindows(windows: readonly FaultWindow[], space: FaultSpace): FaultSchedule {
  const protectedSet = new Set(space.protectedNodes);
  const crashes: { node: NodeId; end: Nanos }[] = [];
  const steps: FaultStep[] = [];
  const ordered = windows.map((w, i) => ({ w, i })).sort((a, b) => a.w.startNs - b.w.startNs || a.i - b.i);
  let serial = 0;
  for (const { w } of ordered) {
    const start = w.startNs;
    const end = w.startNs + w.durationNs;
    switch (w.kind) {
      case 'crash': {
        const downNow = crashes.filter((c) => c.end > start);
        if (protectedSet.has(w.node) || downNow.some((c) => c.node === w.node) || downNow.length >= space.maxCrashed) continue;
        crashes.push({ node: w.node, end });
        steps.push({ at: start, verb: 'crash', node: w.node }, { at: end, verb: 'restart', node: w.node });
        break;
      }
      case 'partition': {
        if (w.groups[0].length === 0 || w.groups[1].length === 0) continue;
        const id = `p${++serial}`;
        steps.push({ at: start, verb: 'partition', id, groups: [[...w.groups[0]], [...w.groups[1]]] }, { at: end, verb: 'heal', id });
        break;
      }
      case 'partition-one-way': {
        if (w.from.length === 0 || w.to.length === 0) continue;
        const id = `p${++serial}`;
        steps.push({ at: start, verb: 'partition-one-way', id, from: [...w.from], to: [...w.to] }, { at: end, verb: 'heal', id });
        break;
      }
      case 'degrade': {
        const others = space.nodes.filter((n) => n !== w.node);
        if (others.length === 0) continue;
        const id = `d${++serial}`;
        steps.push(
          { at: start, verb: 'degrade', id, from: [w.node], to: others, symmetric: true, link: DEGRADE_PRESETS[w.preset] as Partial<LinkConfig> },
          { at: end, verb: 'restore', id },
        );
        break;
      }
    }
  }
  return sortSchedule(steps);
}
