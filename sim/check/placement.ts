// Placement (seed 000 §7 invariant 11, FIG. 7): a switch holds flows for a logical datapath (flow cookie
// `dp:N`) only if it needs them — it hosts a port of that datapath, or of one reachable from it through
// logical routers (first-hop processing runs the whole logical pipeline where a packet enters), or it is a
// pool node or gateway serving it. Interior switches hold no tenant flows at all. Owns the cookie
// convention's reading, the intent (which datapaths each switch may hold, from the logical configuration
// and the VIFs each switch has) and the checks: at quiescence over installed tables, and at every
// accepted flow-mod for switches that must never hold certain datapaths. Changes nothing.

import type { Flow } from '../dataplane/flow.ts';
import '../dataplane/trace-events.ts';
import type { Snapshot } from '../logical/relations.ts';
import type { NodeId } from '../net/message.ts';
import type { TraceRecorder } from '../kernel/trace.ts';
import type { LivenessInvariant, SafetyInvariant, Verdict } from './invariant.ts';

/** The logical datapath a flow implements, from its cookie (`dp:N`), or undefined for infrastructure flows. */
export function datapathOfCookie(cookie: string): number | undefined {
  if (!cookie.startsWith('dp:')) return undefined;
  const n = Number(cookie.slice(3));
  return Number.isInteger(n) ? n : undefined;
}

/** The datapaths a table holds flows for, with the number of flows of each. */
export function datapathsOf(flows: readonly Flow[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const f of flows) {
    const dp = datapathOfCookie(f.cookie);
    if (dp !== undefined) out.set(dp, (out.get(dp) ?? 0) + 1);
  }
  return out;
}

/** Which datapaths a switch may hold: a set, or every one (a pool node serves them all). */
export type AllowedDatapaths = ReadonlySet<number> | 'any';

export interface PlacementIntentInputs {
  readonly snapshot: Snapshot;
  /** The VIF interface ids attached to each switch now. */
  readonly vifsBySwitch: ReadonlyMap<NodeId, readonly string[]>;
  readonly poolNodes: readonly NodeId[];
}

/**
 * The datapaths each switch may hold: those with a port bound to one of its VIFs, those whose localnet
 * port names it as gateway, closed over logical routers (a router and every switch on it belong to the
 * same first-hop pipeline); pool nodes may hold any.
 */
export function placementIntent(inputs: PlacementIntentInputs): (id: NodeId) => AllowedDatapaths {
  const { snapshot } = inputs;
  const dpOfVif = new Map<string, number>();
  for (const b of snapshot.port_binding_request) dpOfVif.set(b.vif_id, b.dp);
  const neighbours = new Map<number, number[]>();
  const link = (a: number, b: number) => {
    if (!neighbours.has(a)) neighbours.set(a, []);
    neighbours.get(a)!.push(b);
  };
  for (const p of snapshot.logical_switch_port_peer) {
    link(p.dp, p.peer_dp);
    link(p.peer_dp, p.dp);
  }
  const gatewayDps = new Map<NodeId, number[]>();
  for (const l of snapshot.localnet_port) {
    if (!gatewayDps.has(l.gateway)) gatewayDps.set(l.gateway, []);
    gatewayDps.get(l.gateway)!.push(l.dp);
  }
  const pools = new Set(inputs.poolNodes);
  return (id) => {
    if (pools.has(id)) return 'any';
    const out = new Set<number>();
    const stack: number[] = [];
    const add = (dp: number | undefined) => {
      if (dp === undefined || out.has(dp)) return;
      out.add(dp);
      stack.push(dp);
    };
    for (const vif of inputs.vifsBySwitch.get(id) ?? []) add(dpOfVif.get(vif));
    for (const dp of gatewayDps.get(id) ?? []) add(dp);
    while (stack.length > 0) for (const n of neighbours.get(stack.pop()!) ?? []) add(n);
    return out;
  };
}

export interface PlacementView {
  switches(): readonly NodeId[];
  installed(id: NodeId): readonly Flow[] | undefined;
  allowed(): (id: NodeId) => AllowedDatapaths;
}

/** Every up switch holds flows only for datapaths it may hold. */
export function checkPlacement(view: PlacementView): Verdict {
  const allowed = view.allowed();
  for (const id of view.switches()) {
    const flows = view.installed(id);
    if (flows === undefined) continue;
    const may = allowed(id);
    if (may === 'any') continue;
    for (const [dp, n] of datapathsOf(flows)) {
      if (!may.has(dp)) return `${id} holds ${n} flow(s) of datapath ${dp}, which it neither hosts a port of nor serves`;
    }
  }
  return true;
}

/** Placement at quiescence: must come to hold (flows of a departed port are removed, not left behind). */
export function placementInvariant(view: PlacementView, options: { id?: string; description?: string } = {}): LivenessInvariant {
  return {
    kind: 'liveness',
    id: options.id ?? 'placement',
    description: options.description ?? 'a switch holds flows for a logical datapath only if it hosts one of its ports or serves it',
    holds: () => checkPlacement(view),
  };
}

/**
 * A switch must never accept a flow of certain datapaths (an interior switch: none at all; an edge switch
 * that never hosts a tenant: none of that tenant's), checked at every accepted flow-mod and on the final
 * tables. `forbidden(node, dp)` gives a reason when `node` may not hold `dp`.
 */
export function forbiddenFlowsInvariant(
  trace: TraceRecorder,
  forbidden: (node: NodeId, dp: number) => string | undefined,
  finalTables: () => ReadonlyMap<NodeId, readonly Flow[]>,
  options: { id: string; description: string },
): SafetyInvariant {
  const check = (node: NodeId, dp: number | undefined): string | undefined => (dp === undefined ? undefined : forbidden(node, dp));
  return {
    kind: 'safety',
    id: options.id,
    description: options.description,
    watch(violated) {
      trace.on('switch.flowmod', (e) => {
        if (e.command !== 'add' && e.command !== 'modify') return;
        const why = check(e.node, datapathOfCookie(e.cookie));
        if (why !== undefined) violated(`${e.node} accepted a flow of datapath ${e.cookie}: ${why}`);
      });
    },
    atEnd() {
      for (const [node, flows] of finalTables()) {
        for (const [dp, n] of datapathsOf(flows)) {
          const why = check(node, dp);
          if (why !== undefined) return `${node} holds ${n} flow(s) of datapath ${dp} at the end: ${why}`;
        }
      }
      return true;
    },
  };
}
