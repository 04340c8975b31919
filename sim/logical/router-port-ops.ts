// Connecting logical routers to logical switches: create, update and delete of a router port together
// with its 'router'-type peer port on the switch (they exist only as a pair). Owns the router port rules:
// same tenant on both ends, router port networks on one router never overlap and MACs never repeat, the
// switch side obeys the switch's address rules, and static routes through the port stay consistent.

import { formatCidr, formatIpv4, formatMac, prefixContains, type Ipv4Prefix } from '../dataplane/headers.ts';
import type { DeleteOptions, RouterConnectSpec, RouterPortUpdate } from './api-types.ts';
import { parseHostWithPrefix, parseUnicastMac, prefixesOverlap } from './address-text.ts';
import { aclsNaming, removeRouterPortCascade, routesVia } from './cascades.ts';
import { entityId, type RouterPortRecord, type RouterRecord, type SwitchPortRecord } from './entities.ts';
import { checkFields, checkName, listNames, q } from './input-checks.ts';
import type { ModelState } from './model-state.ts';
import { checkSwitchAddresses } from './switch-port-ops.ts';

export function connectRouter(st: ModelState, spec: RouterConnectSpec): RouterPortRecord {
  checkFields(spec, ['router', 'switch', 'name', 'mac', 'ip', 'switchPort'], 'connectRouter');
  const name = checkName(spec.name, 'logical router port name');
  if (st.nameTaken('router port', name)) throw new Error(`logical router port ${q(name)} already exists`);
  const switchPortName = checkName(spec.switchPort ?? `${name}-peer`, 'logical switch port name');
  if (st.nameTaken('switch port', switchPortName)) throw new Error(`logical switch port ${q(switchPortName)} already exists`);
  const router = st.routerNamed(spec.router);
  const sw = st.switchNamed(spec.switch);
  const ctx = `logical router port ${q(name)}`;
  if (router.tenant !== sw.tenant) {
    throw new Error(`${ctx}: logical router ${q(router.name)} (tenant ${q(router.tenant)}) and logical switch ${q(sw.name)} (tenant ${q(sw.tenant)}) belong to different tenants`);
  }
  const mac = parseUnicastMac(spec.mac, `${ctx}: mac`);
  const { ip, net } = parseHostWithPrefix(spec.ip, `${ctx}: ip`);
  checkRouterAddressing(st, router, mac, net, undefined, ctx);
  checkSwitchAddresses(st, sw, [{ mac, ips: [ip] }], undefined, ctx);

  const routerPort = st.allocatePortKey(router.dp);
  const switchPort = st.allocatePortKey(sw.dp);
  const record: RouterPortRecord = { dp: router.dp, port: routerPort, name, mac, ip, net, peer: { dp: sw.dp, port: switchPort } };
  st.putRouterPort(record);
  st.putSwitchPort(peerRecord(record, switchPortName));
  return record;
}

export function updateRouterPort(st: ModelState, name: string, update: RouterPortUpdate): RouterPortRecord {
  const old = st.routerPortNamed(name);
  checkFields(update, ['name', 'mac', 'ip'], `updateRouterPort ${q(name)}`);
  const ctx = `logical router port ${q(name)}`;
  const newName = update.name === undefined ? old.name : checkName(update.name, 'logical router port name');
  if (newName !== old.name && st.nameTaken('router port', newName)) throw new Error(`logical router port ${q(newName)} already exists`);
  const mac = update.mac === undefined ? old.mac : parseUnicastMac(update.mac, `${ctx}: mac`);
  const { ip, net } = update.ip === undefined ? old : parseHostWithPrefix(update.ip, `${ctx}: ip`);
  const router = st.routers.get(old.dp)!;
  const peer = st.switchPortAt(old.peer.dp, old.peer.port)!;
  const sw = st.switches.get(peer.dp)!;
  checkRouterAddressing(st, router, mac, net, old.port, ctx);
  checkSwitchAddresses(st, sw, [{ mac, ips: [ip] }], entityId.switchPort(peer.dp, peer.port), ctx);
  for (const r of routesVia(st, old)) {
    if (!prefixContains(net, r.nexthop)) {
      throw new Error(`${ctx}: static route ${formatCidr(r.prefix)} via ${formatIpv4(r.nexthop)} leaves through this port and would be outside its network ${formatCidr(net)}`);
    }
  }
  const record: RouterPortRecord = { ...old, name: newName, mac, ip, net };
  st.putRouterPort(record);
  st.putSwitchPort(peerRecord(record, peer.name));
  return record;
}

/**
 * Deletes the router port and its switch-side peer. Without cascade, no static route may leave through
 * it and no ACL may name its peer; with cascade those go too.
 */
export function deleteRouterPort(st: ModelState, name: string, options: DeleteOptions = {}): void {
  const old = st.routerPortNamed(name);
  checkFields(options, ['cascade'], `deleteRouterPort ${q(name)}`);
  if (options.cascade !== true) {
    const ctx = `logical router port ${q(name)}`;
    const routes = routesVia(st, old);
    if (routes.length > 0) {
      throw new Error(`${ctx} is the output port of static route(s) ${listNames(routes.map((r) => formatCidr(r.prefix)))}; delete them first, or pass { cascade: true }`);
    }
    const peer = st.switchPortAt(old.peer.dp, old.peer.port)!;
    const acls = aclsNaming(st, peer);
    if (acls.length > 0) {
      throw new Error(`${ctx}: its switch-side port ${q(peer.name)} is named by ACL(s) ${listNames(acls.map((a) => a.name))}; delete or change them first, or pass { cascade: true }`);
    }
  }
  removeRouterPortCascade(st, old);
}

/** A router's port networks must not overlap (so each destination has one connected port) nor MACs repeat. */
function checkRouterAddressing(st: ModelState, router: RouterRecord, mac: number, net: Ipv4Prefix, selfPort: number | undefined, ctx: string): void {
  for (const id of st.portsOf.members(router.dp)) {
    const other = st.routerPorts.get(id)!;
    if (other.port === selfPort) continue;
    if (prefixesOverlap(other.net, net)) {
      throw new Error(`${ctx}: network ${formatCidr(net)} overlaps ${formatCidr(other.net)} of router port ${q(other.name)} on logical router ${q(router.name)}`);
    }
    if (other.mac === mac) throw new Error(`${ctx}: MAC ${formatMac(mac)} is already used by router port ${q(other.name)} on logical router ${q(router.name)}`);
  }
}

/** The switch side of a router port: owns the router port's MAC and IP on the switch. */
function peerRecord(rp: RouterPortRecord, name: string): SwitchPortRecord {
  return {
    dp: rp.peer.dp,
    port: rp.peer.port,
    name,
    type: 'router',
    addresses: [Object.freeze({ mac: rp.mac, ips: Object.freeze([rp.ip]) })],
    unknown: false,
    portSecurity: [],
    peer: { dp: rp.dp, port: rp.port },
  };
}
