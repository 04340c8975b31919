// The read side of the logical API: entity records turned into the views users see (api-types.ts), with
// keys resolved to names and addresses in canonical text. Owns formatting and the listing orders (by
// name; routes by router name, then longest prefix first). Reads model state; never changes it.

import { formatCidr, formatIpv4, formatMac } from '../dataplane/headers.ts';
import { formatAclMatch } from './acl-match.ts';
import { formatAddressEntry, formatSecurityEntry } from './address-text.ts';
import type { AclView, LogicalRouterPortView, LogicalRouterView, LogicalSwitchPortView, LogicalSwitchView, StaticRouteView } from './api-types.ts';
import type { AclRecord, RouterPortRecord, RouterRecord, StaticRouteRecord, SwitchPortRecord, SwitchRecord } from './entities.ts';
import type { ModelState } from './model-state.ts';

export function switchView(st: ModelState, s: SwitchRecord): LogicalSwitchView {
  return {
    name: s.name,
    tenant: s.tenant,
    dp: s.dp,
    ...(s.subnet !== undefined && { subnet: formatCidr(s.subnet) }),
    ports: sortedNames(st.portsOf.members(s.dp).map((id) => st.switchPorts.get(id)!.name)),
    acls: sortedNames(st.aclsOf.members(s.dp).map((id) => st.acls.get(id)!.name)),
  };
}

export function switchPortView(st: ModelState, p: SwitchPortRecord): LogicalSwitchPortView {
  return {
    name: p.name,
    switch: st.switches.get(p.dp)!.name,
    dp: p.dp,
    port: p.port,
    type: p.type,
    addresses: [...p.addresses.map(formatAddressEntry), ...(p.unknown ? ['unknown'] : [])],
    portSecurity: p.portSecurity.map(formatSecurityEntry),
    ...(p.vifId !== undefined && { vifId: p.vifId }),
    ...(p.network !== undefined && { network: p.network }),
    ...(p.gateway !== undefined && { gateway: p.gateway }),
    ...(p.peer !== undefined && { routerPort: st.routerPortAt(p.peer.dp, p.peer.port)!.name }),
  };
}

export function routerView(st: ModelState, r: RouterRecord): LogicalRouterView {
  return {
    name: r.name,
    tenant: r.tenant,
    dp: r.dp,
    ports: sortedNames(st.portsOf.members(r.dp).map((id) => st.routerPorts.get(id)!.name)),
    routes: st.routesOf
      .members(r.dp)
      .map((id) => st.routes.get(id)!)
      .sort(compareRoutes)
      .map((x) => formatCidr(x.prefix)),
  };
}

export function routerPortView(st: ModelState, p: RouterPortRecord): LogicalRouterPortView {
  return {
    name: p.name,
    router: st.routers.get(p.dp)!.name,
    dp: p.dp,
    port: p.port,
    mac: formatMac(p.mac),
    ip: `${formatIpv4(p.ip)}/${p.net.len}`,
    switch: st.switches.get(p.peer.dp)!.name,
    switchPort: st.switchPortAt(p.peer.dp, p.peer.port)!.name,
  };
}

export function staticRouteView(st: ModelState, r: StaticRouteRecord): StaticRouteView {
  return {
    router: st.routers.get(r.dp)!.name,
    dp: r.dp,
    prefix: formatCidr(r.prefix),
    nexthop: formatIpv4(r.nexthop),
    ...(r.outPort !== 0 && { outputPort: st.routerPortAt(r.dp, r.outPort)!.name }),
  };
}

export function aclView(st: ModelState, a: AclRecord): AclView {
  return {
    name: a.name,
    switch: st.switches.get(a.dp)!.name,
    dp: a.dp,
    acl: a.key,
    priority: a.priority,
    direction: a.direction,
    action: a.action,
    match: formatAclMatch(st, a.dp, a.match),
  };
}

/** Longest prefix first, then by address: the order a longest-prefix-match lookup tries them in. */
export function compareRoutes(a: StaticRouteRecord, b: StaticRouteRecord): number {
  return b.prefix.len - a.prefix.len || a.prefix.addr - b.prefix.addr;
}

export function sortedNames(names: string[]): string[] {
  return names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
