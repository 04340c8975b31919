// A fault schedule: timed fabric verbs, as data. It is what a nemesis applies, what a failing property
// prints, and what `nvsim run --faults FILE` replays, so it has one JSON form (times as duration text or
// whole nanoseconds) parsed here with one-line errors. Owns the shape, parsing, formatting and the
// consistency check against a set of nodes; it calls no verb itself.

import { z } from 'zod';
import { formatDuration, toNanos, type Nanos } from '../kernel/time.ts';
import type { LinkConfig } from '../net/link.ts';
import type { NodeId } from '../net/message.ts';

export type FaultStep =
  | { at: Nanos; verb: 'crash'; node: NodeId }
  | { at: Nanos; verb: 'restart'; node: NodeId }
  | { at: Nanos; verb: 'partition'; id: string; groups: NodeId[][] }
  | { at: Nanos; verb: 'partition-one-way'; id: string; from: NodeId[]; to: NodeId[] }
  /** Heals one partition, or all of them without an id. */
  | { at: Nanos; verb: 'heal'; id?: string }
  | { at: Nanos; verb: 'degrade'; id: string; from: NodeId[]; to: NodeId[]; symmetric: boolean; link: Partial<LinkConfig> }
  /** Restores one degradation, or all of them without an id. */
  | { at: Nanos; verb: 'restore'; id?: string };

export type FaultSchedule = FaultStep[];
export type FaultVerb = FaultStep['verb'];

const wholeNs = z.number().int().nonnegative();
const time = z.union([wholeNs, z.string()]).transform((v, ctx) => {
  try {
    return toNanos(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});
const latency = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('constant'), ns: wholeNs }).strict(),
  z.object({ kind: z.literal('uniform'), minNs: wholeNs, maxNs: wholeNs }).strict(),
  z.object({ kind: z.literal('normal'), meanNs: wholeNs, sdNs: wholeNs, floorNs: wholeNs }).strict(),
  z.object({ kind: z.literal('lognormal'), medianNs: wholeNs, sigma: z.number().min(0).max(10), floorNs: wholeNs }).strict(),
]);
const probability = z.number().min(0).max(1);
const linkSettings = z
  .object({
    latency,
    lossProbability: probability,
    duplicateProbability: probability,
    reorderProbability: probability,
    reorderDelay: latency,
  })
  .partial()
  .strict();
const nodes = z.array(z.string().min(1));
const id = z.string().min(1);

const stepSchema = z.discriminatedUnion('verb', [
  z.object({ at: time, verb: z.literal('crash'), node: z.string().min(1) }).strict(),
  z.object({ at: time, verb: z.literal('restart'), node: z.string().min(1) }).strict(),
  z.object({ at: time, verb: z.literal('partition'), id, groups: z.array(nodes).min(2) }).strict(),
  z.object({ at: time, verb: z.literal('partition-one-way'), id, from: nodes.min(1), to: nodes.min(1) }).strict(),
  z.object({ at: time, verb: z.literal('heal'), id: id.optional() }).strict(),
  z
    .object({ at: time, verb: z.literal('degrade'), id, from: nodes.min(1), to: nodes.min(1), symmetric: z.boolean().default(true), link: linkSettings })
    .strict(),
  z.object({ at: time, verb: z.literal('restore'), id: id.optional() }).strict(),
]);
const VERBS: readonly FaultVerb[] = ['crash', 'restart', 'partition', 'partition-one-way', 'heal', 'degrade', 'restore'];

/** Parses a schedule from its JSON value (a list of steps, or `{ "faults": [...] }`); throws one line. */
export function parseFaultSchedule(value: unknown): FaultSchedule {
  const fail: (why: string) => never = (why) => {
    throw new Error(`bad fault schedule: ${why}`);
  };
  const wrapped = isRecord(value) && Array.isArray(value.faults) && Object.keys(value).length === 1;
  const steps = Array.isArray(value) ? value : wrapped ? (value as { faults: unknown[] }).faults : fail('expected a list of steps, or an object with only a "faults" list');
  // The verb is checked first so an unknown one is named as such, not as a mismatch with every known shape.
  steps.forEach((step: unknown, i: number) => {
    if (!isRecord(step)) fail(`at ${i}: a step must be an object`);
    if (!VERBS.includes(step.verb as FaultVerb)) fail(`at ${i}.verb: unknown verb ${JSON.stringify(step.verb)} (expected one of ${VERBS.join(', ')})`);
  });
  const result = z.array(stepSchema).safeParse(steps);
  if (!result.success) {
    const issue = result.error.issues[0];
    fail(`at ${issue.path.join('.')}: ${issue.message}`);
  }
  return sortSchedule(result.data as FaultSchedule);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Steps in time order; equal times keep their listed order. */
export function sortSchedule(schedule: FaultSchedule): FaultSchedule {
  return schedule
    .map((step, i) => ({ step, i }))
    .sort((a, b) => a.step.at - b.step.at || a.i - b.i)
    .map(({ step }) => step);
}

/** The JSON form, with times as exact duration text, for printing and for `--faults` files. */
export function scheduleToJson(schedule: FaultSchedule): object[] {
  return schedule.map((step) => ({ ...step, at: formatDuration(step.at) }));
}

/** One line a step, for progress output and failure reports. */
export function describeStep(step: FaultStep): string {
  const at = formatDuration(step.at);
  switch (step.verb) {
    case 'crash':
    case 'restart':
      return `${at} ${step.verb} ${step.node}`;
    case 'partition':
      return `${at} partition ${step.id} ${step.groups.map((g) => `[${g.join(' ')}]`).join(' | ')}`;
    case 'partition-one-way':
      return `${at} partition-one-way ${step.id} [${step.from.join(' ')}] -> [${step.to.join(' ')}]`;
    case 'degrade':
      return `${at} degrade ${step.id} [${step.from.join(' ')}] ${step.symmetric ? '<->' : '->'} [${step.to.join(' ')}] ${JSON.stringify(step.link)}`;
    case 'heal':
    case 'restore':
      return `${at} ${step.verb}${step.id === undefined ? ' all' : ` ${step.id}`}`;
  }
}

/**
 * Checks that the schedule can be applied in order to these nodes, all up at the start: known nodes, no
 * crash of a protected or down node, no restart of an up node, partition and degradation ids that are
 * new when opened and active when closed. Throws a one-line error naming the first bad step.
 */
export function checkScheduleConsistency(schedule: FaultSchedule, known: readonly NodeId[], protectedNodes: readonly NodeId[] = []): void {
  const knownSet = new Set(known);
  const protectedSet = new Set(protectedNodes);
  const down = new Set<NodeId>();
  const partitions = new Set<string>();
  const degradations = new Set<string>();
  schedule.forEach((step, i) => {
    const fail = (why: string): never => {
      throw new Error(`bad fault schedule: step ${i} (${describeStep(step)}): ${why}`);
    };
    const mustKnow = (ns: NodeId[]) => ns.forEach((n) => knownSet.has(n) || fail(`unknown node '${n}'`));
    switch (step.verb) {
      case 'crash':
        mustKnow([step.node]);
        if (protectedSet.has(step.node)) fail(`'${step.node}' is protected from crashes`);
        if (down.has(step.node)) fail(`'${step.node}' is already down`);
        down.add(step.node);
        break;
      case 'restart':
        mustKnow([step.node]);
        if (!down.has(step.node)) fail(`'${step.node}' is not down`);
        down.delete(step.node);
        break;
      case 'partition':
      case 'partition-one-way': {
        const groups = step.verb === 'partition' ? step.groups : [step.from, step.to];
        groups.forEach(mustKnow);
        const all = groups.flat();
        if (new Set(all).size !== all.length) fail('a node is in more than one group');
        if (partitions.has(step.id)) fail(`partition '${step.id}' is already active`);
        partitions.add(step.id);
        break;
      }
      case 'heal':
        if (step.id === undefined) partitions.clear();
        else if (!partitions.delete(step.id)) fail(`no active partition '${step.id}'`);
        break;
      case 'degrade':
        mustKnow(step.from);
        mustKnow(step.to);
        if (degradations.has(step.id)) fail(`degradation '${step.id}' is already active`);
        degradations.add(step.id);
        break;
      case 'restore':
        if (step.id === undefined) degradations.clear();
        else if (!degradations.delete(step.id)) fail(`no active degradation '${step.id}'`);
        break;
    }
  });
}
