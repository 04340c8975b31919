// The read side of the logical API: entity records turned into the views users see (api-types.ts), with
// keys resolved to names and addresses in canonical text. Owns formatting and the listing orders (by
// name; routes by router name, then longest prefix first). Reads model state; never changes it.

import { formatCidr, formatIpv4, formatMac } from '../dataplane/headers.ts';
import { formatAclMatch } from './acl-match.ts';
import { formatAddressEntry, formatSecurityEntry } from './address-text.ts';
import type {
  AclView,
  LogicalRouterPortView,
  LogicalRouterView,
  LogicalSwitchPortView,
  LogicalSwitchView,
  MiddleboxPolicyView,
  MiddleboxRuleView,
  MiddleboxView,
  StaticRouteView,
} from './api-types.ts';
import { policiesOf, rulesOf } from './cascades.ts';
import type {
  AclRecord,
  MiddleboxPolicyRecord,
  MiddleboxRecord,
  MiddleboxRuleRecord,
  RouterPortRecord,
  RouterRecord,
  StaticRouteRecord,
  SwitchPortRecord,
  SwitchRecord,
} from './entities.ts';
import { formatBackend, formatMiddleboxMatch, formatNatTarget } from './middlebox-text.ts';
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

export function middleboxView(st: ModelState, m: MiddleboxRecord): MiddleboxView {
  const placement = m.wirePort === 0 ? { router: st.routers.get(m.dp)!.name } : { switch: st.switches.get(m.dp)!.name, wire: st.switchPortAt(m.dp, m.wirePort)!.name };
  return {
    name: m.name,
    kind: m.kind,
    tenant: m.tenant,
    dp: m.dp,
    mb: m.key,
    tag: m.tag,
    defaultAction: m.defaultAction,
    ...placement,
    policies: policiesOf(st, m).map((p) => p.name),
    rules: rulesOf(st, m).map((r) => r.name),
  };
}

export function middleboxPolicyView(st: ModelState, p: MiddleboxPolicyRecord): MiddleboxPolicyView {
  return {
    name: p.name,
    middlebox: st.middleboxAt(p.dp, p.mb)!.name,
    router: st.routers.get(p.dp)!.name,
    dp: p.dp,
    policy: p.key,
    priority: p.priority,
    match: formatMiddleboxMatch(p.match),
  };
}

export function middleboxRuleView(st: ModelState, r: MiddleboxRuleRecord): MiddleboxRuleView {
  return {
    name: r.name,
    middlebox: st.middleboxAt(r.dp, r.mb)!.name,
    dp: r.dp,
    rule: r.key,
    priority: r.priority,
    action: r.action,
    match: formatMiddleboxMatch(r.match),
    ...(r.toIp !== 0 && { to: formatNatTarget(r.toIp, r.toPorts) }),
    ...(r.backends.length > 0 && { backends: r.backends.map(formatBackend) }),
  };
}

/** Longest prefix first, then by address: the order a longest-prefix-match lookup tries them in. */
export function compareRoutes(a: StaticRouteRecord, b: StaticRouteRecord): number {
  return b.prefix.len - a.prefix.len || a.prefix.addr - b.prefix.addr;
}

export function sortedNames(names: string[]): string[] {
  return names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
