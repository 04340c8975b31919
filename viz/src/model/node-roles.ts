// What a node is, from the kind its `node.start` record names. Owns the kind → role table; the kinds are
// those the simulator gives its nodes (sim/dataplane/topology-builder.ts NODE_KIND for hosts, pool nodes,
// gateways and external segments; the testbed's controllers, northbound and network manager). It is
// copied rather than imported so the page does not pull the data plane in just for five strings; a test
// holds the copy to NODE_KIND.

import type { NodeRole } from './types.ts';

const ROLE_BY_KIND: ReadonlyMap<string, NodeRole> = new Map([
  ['controller', 'controller'],
  ['host', 'host'],
  ['pool', 'pool'],
  ['gateway', 'gateway'],
  ['external-net', 'segment'],
  ['northbound', 'northbound'],
  ['network-manager', 'network-manager'],
]);

export function roleOfKind(kind: string): NodeRole {
  return ROLE_BY_KIND.get(kind) ?? 'other';
}

/** Hosts, pool nodes and gateways run a managed switch; a switch's id is its node's id. */
export function hasSwitch(role: NodeRole): boolean {
  return role === 'host' || role === 'pool' || role === 'gateway';
}
