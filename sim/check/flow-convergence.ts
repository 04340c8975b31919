// Flow convergence (seed 000 §7 invariants 12–13): once quiet, every switch's installed flow table equals
// the flows its controller wants there, and both equal a from-scratch computation of the current intent
// (the logical configuration plus the physical facts) — incremental equals batch, and nothing is stale.
// Owns the table comparison, the from-scratch reference (a fresh control program evaluated in batch by
// the rules engine's oracle) and the liveness invariant; reads switches and controllers through a view
// the caller supplies, so a controller cluster can plug in its masters. Changes nothing.

import { buildControlProgram, type ControlProgram } from '../control/control-program.ts';
import { rowToFlow, type FlowRow } from '../control/flow-text.ts';
import { formatFlow, type Flow } from '../dataplane/flow.ts';
import type { Port } from '../dataplane/ports.ts';
import { RELATION_ORDER, type Snapshot } from '../logical/relations.ts';
import type { NodeId } from '../net/message.ts';
import { evaluateFromScratch, insertTuple, type Change, type RulesEngine } from '../rules/index.ts';
import type { LivenessInvariant, Verdict } from './invariant.ts';

/** What a flow-table comparison reads. */
export interface FlowTablesView {
  /** The switches to compare (those up now). */
  switches(): readonly NodeId[];
  /** A switch's installed flows (undefined when it is down). */
  installed(id: NodeId): readonly Flow[] | undefined;
  /** The flows the switch's controller wants on it. */
  desired(id: NodeId): readonly Flow[];
  /** The from-scratch flows per switch for the current intent (switches absent hold none). */
  reference(): ReadonlyMap<NodeId, readonly Flow[]>;
  /** Whether every controller considers its switches in sync (no dump, diff or barrier outstanding). */
  inSync(): boolean;
}

/** Flows in one table that are not in the other, as formatted lines (sorted). */
export function diffFlows(actual: readonly Flow[], expected: readonly Flow[]): { missing: string[]; extra: string[] } {
  const a = new Set(actual.map(formatFlow));
  const e = new Set(expected.map(formatFlow));
  return { missing: [...e].filter((f) => !a.has(f)).sort(), extra: [...a].filter((f) => !e.has(f)).sort() };
}

function describeDiff(what: string, d: { missing: string[]; extra: string[] }): string | undefined {
  if (d.missing.length === 0 && d.extra.length === 0) return undefined;
  const first = d.missing.length > 0 ? `lacks '${d.missing[0]}'` : `has extra '${d.extra[0]}'`;
  return `${what}: ${d.missing.length} missing, ${d.extra.length} extra (e.g. ${first})`;
}

/** installed == desired == reference on every switch, and the controllers in sync. */
export function checkFlowConvergence(view: FlowTablesView): Verdict {
  if (!view.inSync()) return 'a controller still has switches out of sync';
  const reference = view.reference();
  const switches = view.switches();
  for (const id of switches) {
    const installed = view.installed(id);
    if (installed === undefined) return `${id} is down`;
    const desired = view.desired(id);
    const wrong =
      describeDiff(`${id} installed vs desired`, diffFlows(installed, desired)) ??
      describeDiff(`${id} desired vs from-scratch`, diffFlows(desired, reference.get(id) ?? []));
    if (wrong !== undefined) return wrong;
  }
  const known = new Set(switches);
  for (const [id, flows] of reference) {
    if (!known.has(id) && flows.length > 0) return `the from-scratch computation puts ${flows.length} flow(s) on '${id}', which is not a running switch`;
  }
  return true;
}

export function flowConvergenceInvariant(view: FlowTablesView, options: { id?: string; description?: string } = {}): LivenessInvariant {
  return {
    kind: 'liveness',
    id: options.id ?? 'flows-converge',
    description: options.description ?? "every switch's flow table equals its controller's desired flows and a from-scratch computation of the final configuration",
    holds: () => checkFlowConvergence(view),
  };
}

// ---- the from-scratch reference ------------------------------------------------------------------------

export interface IntentInputs {
  /** The logical configuration (LogicalNetworks.snapshot()). */
  readonly snapshot: Snapshot;
  /** Each managed switch's ports as they are now (the physical facts switches report). */
  readonly switchPorts: ReadonlyMap<NodeId, readonly Port[]>;
  /** Chassis configured as pool nodes. */
  readonly poolNodes: readonly NodeId[];
  /**
   * Where to copy any other input relation of the program from (one this module does not derive, added
   * by a later feature), by relation name; usually the controller's engine.
   */
  readonly otherInputsFrom?: RulesEngine;
}

/** The physical facts of the switches' ports, as the controller program's input tuples. */
export function physicalFactChanges(program: ControlProgram, switchPorts: ReadonlyMap<NodeId, readonly Port[]>, poolNodes: readonly NodeId[]): Change[] {
  const { vifLocation, tunnelPort, physicalPort, poolNode } = program.physical;
  const changes: Change[] = [];
  for (const [chassis, ports] of switchPorts) {
    for (const p of ports) {
      if (p.kind === 'vif') changes.push(insertTuple(vifLocation, { vif_id: p.vifId, chassis, ofport: p.number }));
      else if (p.kind === 'tunnel') changes.push(insertTuple(tunnelPort, { chassis, remote: p.remote, ofport: p.number }));
      else changes.push(insertTuple(physicalPort, { chassis, segment: p.segment, ofport: p.number }));
    }
  }
  for (const chassis of poolNodes) changes.push(insertTuple(poolNode, { chassis }));
  return changes;
}

/**
 * The physical flows per chassis that a fresh control program computes, in batch, from the intent: a
 * new program loaded with the inputs and evaluated by the rules engine's from-scratch oracle.
 */
export function referenceFlows(inputs: IntentInputs): Map<NodeId, Flow[]> {
  const program = buildControlProgram();
  const changes: Change[] = [];
  for (const name of RELATION_ORDER) {
    const rel = program.lcp[name];
    for (const tuple of inputs.snapshot[name] as object[]) changes.push(insertTuple(rel as never, tuple as never));
  }
  changes.push(...physicalFactChanges(program, inputs.switchPorts, inputs.poolNodes));
  if (inputs.otherInputsFrom !== undefined) {
    const derived = new Set<string>([...RELATION_ORDER, 'vif_location', 'tunnel_port', 'physical_port', 'pool_node']);
    for (const rel of program.engine.program().relations) {
      if (rel.kind !== 'input' || derived.has(rel.name)) continue;
      const source = inputs.otherInputsFrom.relationNamed(rel.name);
      if (source === undefined) continue;
      for (const tuple of inputs.otherInputsFrom.storedInputs(source)) changes.push(insertTuple(rel, tuple));
    }
  }
  program.engine.apply(changes);
  const rows = (evaluateFromScratch(program.engine).get(program.physicalFlow.name) ?? []) as unknown as FlowRow[];
  const out = new Map<NodeId, Flow[]>();
  for (const row of rows) {
    let list = out.get(row.chassis);
    if (list === undefined) out.set(row.chassis, (list = []));
    list.push(rowToFlow(row));
  }
  return out;
}
