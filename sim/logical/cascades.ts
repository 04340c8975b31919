// What depends on a logical port, and the deletions a cascade makes. Owns the dependency rules between
// entities: ACLs name switch ports, static routes name router ports, and a router port and its
// 'router'-type switch port exist only as a pair. Shared by the *-ops.ts files, which decide whether a
// dependency is an error (no cascade) or goes too (cascade).

import type { AclRecord, RouterPortRecord, StaticRouteRecord, SwitchPortRecord } from './entities.ts';
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

/** Deletes a non-router switch port and the ACLs that name it. */
export function removeSwitchPortCascade(st: ModelState, p: SwitchPortRecord): void {
  for (const a of aclsNaming(st, p)) st.removeAcl(entityId.acl(a.dp, a.key));
  st.removeSwitchPort(p.dp, p.port);
}

/** Deletes a router port, its switch-side peer, the routes through it and the ACLs naming the peer. */
export function removeRouterPortCascade(st: ModelState, rp: RouterPortRecord): void {
  for (const r of routesVia(st, rp)) st.removeRoute(entityId.route(r.dp, r.prefix));
  const peer = st.switchPortAt(rp.peer.dp, rp.peer.port)!;
  removeSwitchPortCascade(st, peer);
  st.removeRouterPort(rp.dp, rp.port);
}
