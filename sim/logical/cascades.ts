// What depends on a logical port, and the deletions a cascade makes. Owns the dependency rules between
// entities: ACLs name switch ports, static routes name router ports, a router port and its 'router'-type
// switch port exist only as a pair, a middlebox hangs off its router or its wire's port, and policies and
// rules name their middlebox. Shared by the *-ops.ts files, which decide whether a
// dependency is an error (no cascade) or goes too (cascade).

import type { AclRecord, MiddleboxPolicyRecord, MiddleboxRecord, MiddleboxRuleRecord, RouterPortRecord, StaticRouteRecord, SwitchPortRecord } from './entities.ts';
import { entityId } from './entities.ts';
import { byName } from './input-checks.ts';
import type { ModelState } from './model-state.ts';

/** The ACLs of the port's switch that match on it as inport or outport, by name. */
export function aclsNaming(st: ModelState, p: { dp: number; port: number }): AclRecord[] {
  return st.aclsOf
    .members(p.dp)
    .map((id) => st.acls.get(id)!)
    .filter((a) => a.match.inport === p.port || a.match.outport === p.port)
    .sort(byName);
}

/** The router's static routes whose output port is `p`. */
export function routesVia(st: ModelState, p: RouterPortRecord): StaticRouteRecord[] {
  return st.routesOf
    .members(p.dp)
    .map((id) => st.routes.get(id)!)
    .filter((r) => r.outPort === p.port);
}

/** The middleboxes on datapath `dp` (attached to the router, or inline on the switch's wires), by name. */
export function middleboxesOn(st: ModelState, dp: number): MiddleboxRecord[] {
  return st.middleboxesOf
    .members(dp)
    .map((id) => st.middleboxes.get(id)!)
    .sort(byName);
}

export function policiesOf(st: ModelState, m: MiddleboxRecord): MiddleboxPolicyRecord[] {
  return st.policiesOf
    .members(entityId.middlebox(m.dp, m.key))
    .map((id) => st.middleboxPolicies.get(id)!)
    .sort(byName);
}

export function rulesOf(st: ModelState, m: MiddleboxRecord): MiddleboxRuleRecord[] {
  return st.rulesOf
    .members(entityId.middlebox(m.dp, m.key))
    .map((id) => st.middleboxRules.get(id)!)
    .sort(byName);
}

/** Deletes a middlebox with its policies and rules. */
export function removeMiddleboxCascade(st: ModelState, m: MiddleboxRecord): void {
  for (const p of policiesOf(st, m)) st.removeMiddleboxPolicy(entityId.middleboxPolicy(p.dp, p.key));
  for (const r of rulesOf(st, m)) st.removeMiddleboxRule(entityId.middleboxRule(r.dp, r.key));
  st.removeMiddlebox(entityId.middlebox(m.dp, m.key));
}

/** Deletes a non-router switch port, the ACLs that name it and the middlebox on its wire. */
export function removeSwitchPortCascade(st: ModelState, p: SwitchPortRecord): void {
  for (const a of aclsNaming(st, p)) st.removeAcl(entityId.acl(a.dp, a.key));
  const inline = st.middleboxOnWire(p.dp, p.port);
  if (inline !== undefined) removeMiddleboxCascade(st, inline);
  st.removeSwitchPort(p.dp, p.port);
}

/** Deletes a router port, its switch-side peer, the routes through it and the ACLs naming the peer. */
export function removeRouterPortCascade(st: ModelState, rp: RouterPortRecord): void {
  for (const r of routesVia(st, rp)) st.removeRoute(entityId.route(r.dp, r.prefix));
  const peer = st.switchPortAt(rp.peer.dp, rp.peer.port)!;
  removeSwitchPortCascade(st, peer);
  st.removeRouterPort(rp.dp, rp.port);
}
