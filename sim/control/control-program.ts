// The controller's table-mapping program on the rules engine: the control app (LCP → logical flows, the
// LFP) and the virtualization app (logical flows + physical facts → physical flows per chassis), as
// nLog-style rules. Every rule's first join is on the logical datapath, so an instance computes only for
// the LDPSs it is told to (the cluster issue uses this). Owns the engine, every input relation (the whole
// LCP of sim/logical/relations.ts and the physical facts switches report) and the relations shared by the
// rule files in rules/; each rule file owns one feature's rules.

import { RELATION_COLUMNS, type RelationName, type RelationTuples } from '../logical/relations.ts';
import type { FlowRow } from './flow-text.ts';
import { RulesEngine, type Relation } from '../rules/index.ts';
import { addAclRules } from './rules/acl-rules.ts';
import { addLogicalSwitchRules } from './rules/logical-switch-rules.ts';
import { addPhysicalRules } from './rules/physical-rules.ts';
import { addReplicationRules } from './rules/replication-rules.ts';
import { addGatewayRules } from './rules/gateway-rules.ts';
import { addMiddleboxRules } from './rules/middlebox-rules.ts';
import { addRouterRules } from './rules/router-rules.ts';

/** Column types of every LCP relation (names and strings are strings; everything else is a number). */
const STRING_COLUMNS = new Set(['name', 'tenant', 'type', 'vif_id', 'network', 'gateway', 'direction', 'action', 'kind', 'default_action']);

function lcpSchema(relation: RelationName): Record<string, 'number' | 'string'> {
  return Object.fromEntries(RELATION_COLUMNS[relation].map((c) => [c, STRING_COLUMNS.has(c) ? 'string' : 'number']));
}

export function buildControlProgram(): ControlProgram {
  const engine = new RulesEngine();
  const dpKey = { datapath: 'dp' } as const;
  const global = { datapath: null } as const;

  // ---- inputs: the LCP, one engine relation per relation of sim/logical/relations.ts -----------------
  const lcp = Object.fromEntries(
    (Object.keys(RELATION_COLUMNS) as RelationName[]).map((name) => [name, engine.input(name, lcpSchema(name), dpKey)]),
  ) as unknown as ProgramParts['lcp'];

  // ---- inputs: physical facts the switches report, and the controller's configuration (global) -------
  const physical = {
    /** A VIF (by interface id) is attached to `chassis` at switch port `ofport`. */
    vifLocation: engine.input('vif_location', { vif_id: 'string', chassis: 'string', ofport: 'number' }, global),
    /** `chassis` has a tunnel port `ofport` toward `remote`. */
    tunnelPort: engine.input('tunnel_port', { chassis: 'string', remote: 'string', ofport: 'number' }, global),
    /** A gateway `chassis` has its physical port `ofport` wired to external segment `segment`. */
    physicalPort: engine.input('physical_port', { chassis: 'string', segment: 'string', ofport: 'number' }, global),
    /** A chassis the controller is configured to use as a pool node for replication. */
    poolNode: engine.input('pool_node', { chassis: 'string' }, global),
  };

  // ---- shared relations ------------------------------------------------------------------------------
  /** Logical flows (the LFP): chassis-independent; the virtualization app places them. */
  const logicalFlow = engine.relation('logical_flow', { dp: 'number', table: 'number', priority: 'number', match: 'string', actions: 'string' }, { ...dpKey, output: false });
  /** Where each bound logical port is: chassis and switch port. */
  const portChassis = engine.relation('port_chassis', { dp: 'number', port: 'number', chassis: 'string', ofport: 'number' }, { ...dpKey, output: false });
  /** The chassis that implement a datapath (placement). */
  const dpChassis = engine.relation('dp_chassis', { dp: 'number', chassis: 'string' }, { ...dpKey, output: false });
  /** The chassis that implement a router: those implementing one of its switches (router-rules.ts). */
  const routerChassis = engine.relation('router_chassis', { dp: 'number', chassis: 'string' }, { ...dpKey, output: false });
  /** On the switch behind router port (router, rport), address `ip` belongs to `mac` (other than the router's own); global, derived on the switch side (router-rules.ts). */
  const routerNeighbour = engine.relation('router_neighbour', { router: 'number', rport: 'number', ip: 'number', mac: 'number' }, { ...global, output: false });
  /** The flows for each switch, the program's output. */
  const physicalFlow = engine.relation(
    'physical_flow',
    { dp: 'number', chassis: 'string', table: 'number', priority: 'number', match: 'string', actions: 'string' },
    dpKey,
  );

  const program: ControlProgram = { engine, lcp, physical, logicalFlow, portChassis, dpChassis, routerChassis, routerNeighbour, physicalFlow };
  addLogicalSwitchRules(program);
  addAclRules(program);
  addRouterRules(program);
  addPhysicalRules(program);
  addReplicationRules(program);
  addGatewayRules(program);
  addMiddleboxRules(program);
  return program;
}

/** What a rule file receives: the engine, the inputs and the shared relations. */
export interface ProgramParts {
  readonly engine: RulesEngine;
  readonly lcp: { readonly [R in RelationName]: Relation<RelationTuples[R]> };
  readonly physical: {
    readonly vifLocation: Relation<{ readonly vif_id: string; readonly chassis: string; readonly ofport: number }>;
    readonly tunnelPort: Relation<{ readonly chassis: string; readonly remote: string; readonly ofport: number }>;
    readonly physicalPort: Relation<{ readonly chassis: string; readonly segment: string; readonly ofport: number }>;
    readonly poolNode: Relation<{ readonly chassis: string }>;
  };
  readonly logicalFlow: Relation<LogicalFlowRow>;
  readonly portChassis: Relation<{ readonly dp: number; readonly port: number; readonly chassis: string; readonly ofport: number }>;
  readonly dpChassis: Relation<{ readonly dp: number; readonly chassis: string }>;
  readonly routerChassis: Relation<{ readonly dp: number; readonly chassis: string }>;
  readonly routerNeighbour: Relation<{ readonly router: number; readonly rport: number; readonly ip: number; readonly mac: number }>;
  readonly physicalFlow: Relation<FlowRow>;
}

export type ControlProgram = ProgramParts;

type LogicalFlowRow = { readonly dp: number; readonly table: number; readonly priority: number; readonly match: string; readonly actions: string };
