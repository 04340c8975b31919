// Create, update and delete of static routes on logical routers. Owns the route rules: one route per
// destination prefix per router (no ECMP), a next hop that is a host address, and an output port (when
// given) that belongs to the router and whose network holds the next hop. Lookup semantics (longest
// prefix match over static and connected routes) are documented with the static_route relation.

import { formatCidr, formatIpv4, prefixContains } from '../dataplane/headers.ts';
import type { StaticRouteSpec, StaticRouteUpdate } from './api-types.ts';
import { parseHostIp, parsePrefix } from './address-text.ts';
import { entityId, type RouterPortRecord, type RouterRecord, type StaticRouteRecord } from './entities.ts';
import { checkFields, q } from './input-checks.ts';
import type { ModelState } from './model-state.ts';

export function createStaticRoute(st: ModelState, spec: StaticRouteSpec): StaticRouteRecord {
  checkFields(spec, ['router', 'prefix', 'nexthop', 'outputPort'], 'createStaticRoute');
  const router = st.routerNamed(spec.router);
  const prefix = parsePrefix(spec.prefix, `logical router ${q(router.name)}: static route prefix`);
  const ctx = `logical router ${q(router.name)}: static route ${formatCidr(prefix)}`;
  if (st.routes.has(entityId.route(router.dp, prefix))) throw new Error(`${ctx} already exists (one route per prefix)`);
  const nexthop = parseHostIp(spec.nexthop, `${ctx}: nexthop`);
  const out = spec.outputPort === undefined ? undefined : outputPortOf(st, router, spec.outputPort, nexthop, ctx);
  const record: StaticRouteRecord = { dp: router.dp, prefix, nexthop, outPort: out?.port ?? 0 };
  st.putRoute(record);
  return record;
}

export function updateStaticRoute(st: ModelState, routerName: string, prefixText: string, update: StaticRouteUpdate): StaticRouteRecord {
  const [router, old, ctx] = routeAt(st, routerName, prefixText);
  checkFields(update, ['nexthop', 'outputPort'], `updateStaticRoute ${q(routerName)} ${q(prefixText)}`);
  const nexthop = update.nexthop === undefined ? old.nexthop : parseHostIp(update.nexthop, `${ctx}: nexthop`);
  let outPort = old.outPort;
  if (update.outputPort === null) outPort = 0;
  else if (update.outputPort !== undefined) outPort = outputPortOf(st, router, update.outputPort, nexthop, ctx).port;
  else if (outPort !== 0) {
    // The port stays; a new next hop must still be on its network.
    outputPortOf(st, router, st.routerPortAt(router.dp, outPort)!.name, nexthop, ctx);
  }
  const record: StaticRouteRecord = { ...old, nexthop, outPort };
  st.putRoute(record);
  return record;
}

export function deleteStaticRoute(st: ModelState, routerName: string, prefixText: string): void {
  const [, old] = routeAt(st, routerName, prefixText);
  st.removeRoute(entityId.route(old.dp, old.prefix));
}

function routeAt(st: ModelState, routerName: string, prefixText: string): [RouterRecord, StaticRouteRecord, string] {
  const router = st.routerNamed(routerName);
  const prefix = parsePrefix(prefixText, `logical router ${q(router.name)}: static route prefix`);
  const ctx = `logical router ${q(router.name)}: static route ${formatCidr(prefix)}`;
  const route = st.routes.get(entityId.route(router.dp, prefix));
  if (route === undefined) throw new Error(`unknown static route ${formatCidr(prefix)} on logical router ${q(router.name)}`);
  return [router, route, ctx];
}

function outputPortOf(st: ModelState, router: RouterRecord, portName: unknown, nexthop: number, ctx: string): RouterPortRecord {
  const port = typeof portName === 'string' ? st.findRouterPort(portName) : undefined;
  if (port === undefined || port.dp !== router.dp) throw new Error(`${ctx}: output port ${q(portName)} is not a port of logical router ${q(router.name)}`);
  if (!prefixContains(port.net, nexthop)) {
    throw new Error(`${ctx}: next hop ${formatIpv4(nexthop)} is not on output port ${q(port.name)}'s network ${formatCidr(port.net)}`);
  }
  return port;
}
