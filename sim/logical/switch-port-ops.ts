// Create, update, bind, unbind and delete of logical switch ports ('vif' and 'localnet'; 'router'-type
// ports come from router-port-ops.ts). Owns the port rules: unique names, MACs and IPs unique within the
// switch (tenants may reuse them on other switches), IPs inside the switch subnet, type-specific fields,
// one VIF per port and one port per VIF, one localnet port per switch. Validates completely before the
// first mutation.

import { formatCidr, formatIpv4, formatMac, prefixContains } from '../dataplane/headers.ts';
import type { DeleteOptions, SwitchPortSpec, SwitchPortUpdate } from './api-types.ts';
import { parseAddresses, parsePortSecurity } from './address-text.ts';
import { aclsNaming, removeRouterPortCascade, removeSwitchPortCascade } from './cascades.ts';
import { entityId, type AddressEntry, type SwitchPortRecord, type SwitchRecord } from './entities.ts';
import { checkFields, checkName, checkOneOf, listNames, q } from './input-checks.ts';
import type { ModelState } from './model-state.ts';

export function createSwitchPort(st: ModelState, spec: SwitchPortSpec): SwitchPortRecord {
  checkFields(spec, ['name', 'switch', 'type', 'addresses', 'portSecurity', 'vifId', 'network', 'gateway'], 'createSwitchPort');
  const name = checkName(spec.name, 'logical switch port name');
  if (st.nameTaken('switch port', name)) throw new Error(`logical switch port ${q(name)} already exists`);
  const sw = st.switchNamed(spec.switch);
  const ctx = `logical switch port ${q(name)}`;
  if ((spec.type as string) === 'router') throw new Error(`${ctx}: 'router'-type ports are made by connectRouter`);
  const type = checkOneOf(spec.type ?? 'vif', `${ctx}: type`, ['vif', 'localnet'] as const);
  const addresses = parseAddresses(spec.addresses ?? (type === 'localnet' ? ['unknown'] : []), ctx);
  const record: SwitchPortRecord = {
    dp: sw.dp,
    port: 0, // allocated once everything has been checked
    name,
    type,
    addresses: addresses.entries,
    unknown: addresses.unknown,
    portSecurity: spec.portSecurity === undefined ? [] : parsePortSecurity(spec.portSecurity, ctx),
    ...(spec.vifId !== undefined && { vifId: checkName(spec.vifId, `${ctx}: vifId`) }),
    ...(spec.network !== undefined && { network: checkName(spec.network, `${ctx}: network`) }),
    ...(spec.gateway !== undefined && { gateway: checkName(spec.gateway, `${ctx}: gateway`) }),
  };
  checkPort(st, sw, record, undefined, ctx);
  const created = { ...record, port: st.allocatePortKey(sw.dp) };
  st.putSwitchPort(created);
  return created;
}

export function updateSwitchPort(st: ModelState, name: string, update: SwitchPortUpdate): SwitchPortRecord {
  const old = st.switchPortNamed(name);
  checkFields(update, ['name', 'addresses', 'portSecurity', 'network', 'gateway'], `updateSwitchPort ${q(name)}`);
  const ctx = `logical switch port ${q(name)}`;
  if (old.type === 'router' && (update.addresses !== undefined || update.portSecurity !== undefined)) {
    throw new Error(`${ctx}: a 'router'-type port takes its address from its router port; update that instead`);
  }
  const newName = update.name === undefined ? old.name : checkName(update.name, 'logical switch port name');
  if (newName !== old.name && st.nameTaken('switch port', newName)) throw new Error(`logical switch port ${q(newName)} already exists`);
  const addresses = update.addresses === undefined ? undefined : parseAddresses(update.addresses, ctx);
  const record: SwitchPortRecord = {
    ...old,
    name: newName,
    ...(addresses !== undefined && { addresses: addresses.entries, unknown: addresses.unknown }),
    ...(update.portSecurity !== undefined && { portSecurity: parsePortSecurity(update.portSecurity, ctx) }),
    ...(update.network !== undefined && { network: checkName(update.network, `${ctx}: network`) }),
    ...(update.gateway !== undefined && { gateway: checkName(update.gateway, `${ctx}: gateway`) }),
  };
  checkPort(st, st.switches.get(old.dp)!, record, entityId.switchPort(old.dp, old.port), ctx);
  st.putSwitchPort(record);
  return record;
}

/** Asks for the 'vif' port to be bound to VIF `vifId`; a port is bound to at most one VIF and vice versa. */
export function bindPort(st: ModelState, name: string, vifId: string): SwitchPortRecord {
  const old = st.switchPortNamed(name);
  const ctx = `logical switch port ${q(name)}`;
  if (old.type !== 'vif') throw new Error(`${ctx} is a '${old.type}' port; only 'vif' ports bind to VIFs`);
  if (old.vifId !== undefined) throw new Error(`${ctx} is already bound to VIF ${q(old.vifId)}; unbind it first`);
  const record: SwitchPortRecord = { ...old, vifId: checkName(vifId, `${ctx}: vifId`) };
  checkPort(st, st.switches.get(old.dp)!, record, entityId.switchPort(old.dp, old.port), ctx);
  st.putSwitchPort(record);
  return record;
}

export function unbindPort(st: ModelState, name: string): SwitchPortRecord {
  const old = st.switchPortNamed(name);
  if (old.vifId === undefined) throw new Error(`logical switch port ${q(name)} is not bound to a VIF`);
  const { vifId: _dropped, ...record } = old;
  st.putSwitchPort(record);
  return record;
}

/**
 * Deletes the port. Without cascade it must not be named by an ACL, nor carry a middlebox on its wire, nor
 * be the switch side of a router port (delete the router port instead); with cascade those go too.
 */
export function deleteSwitchPort(st: ModelState, name: string, options: DeleteOptions = {}): void {
  const old = st.switchPortNamed(name);
  checkFields(options, ['cascade'], `deleteSwitchPort ${q(name)}`);
  const cascade = options.cascade === true;
  const ctx = `logical switch port ${q(name)}`;
  if (old.peer !== undefined) {
    const rp = st.routerPortAt(old.peer.dp, old.peer.port)!;
    if (!cascade) throw new Error(`${ctx} is the switch side of router port ${q(rp.name)}; delete the router port, or pass { cascade: true } to delete both`);
    removeRouterPortCascade(st, rp);
    return;
  }
  const acls = aclsNaming(st, old);
  if (acls.length > 0 && !cascade) {
    throw new Error(`${ctx} is named by ACL(s) ${listNames(acls.map((a) => a.name))}; delete or change them first, or pass { cascade: true }`);
  }
  const inline = st.middleboxOnWire(old.dp, old.port);
  if (inline !== undefined && !cascade) throw new Error(`${ctx} has middlebox ${q(inline.name)} on its wire; delete it first, or pass { cascade: true }`);
  removeSwitchPortCascade(st, old);
}

/** Checks a port record (new or updated; `selfId` is its own id when updating) against the switch. */
function checkPort(st: ModelState, sw: SwitchRecord, p: SwitchPortRecord, selfId: string | undefined, ctx: string): void {
  if (p.type !== 'localnet' && (p.network !== undefined || p.gateway !== undefined)) {
    throw new Error(`${ctx}: network and gateway are for 'localnet' ports only`);
  }
  if (p.type !== 'vif' && p.vifId !== undefined) throw new Error(`${ctx}: only 'vif' ports bind to VIFs`);
  if (p.type !== 'vif' && p.portSecurity.length > 0) throw new Error(`${ctx}: port security applies to 'vif' ports only`);
  if (p.type === 'localnet') {
    if (p.network === undefined || p.gateway === undefined) throw new Error(`${ctx}: a 'localnet' port needs a network and a gateway`);
    // Bridging one logical switch onto more than one physical segment could make a loop.
    for (const id of st.portsOf.members(sw.dp)) {
      const other = st.switchPorts.get(id)!;
      if (id !== selfId && other.type === 'localnet') {
        throw new Error(`${ctx}: logical switch ${q(sw.name)} already has localnet port ${q(other.name)} (one per switch)`);
      }
    }
  }
  if (p.vifId !== undefined) {
    const owner = st.vifOwnerOf(p.vifId);
    if (owner !== undefined && entityId.switchPort(owner.dp, owner.port) !== selfId) {
      throw new Error(`${ctx}: VIF ${q(p.vifId)} is already bound to logical switch port ${q(owner.name)}`);
    }
  }
  checkSwitchAddresses(st, sw, p.addresses, selfId, ctx);
}

/**
 * MACs and IPs must be unique within the switch and IPs inside its subnet (when it has one). Other
 * switches, including other tenants', may use the same addresses. Shared with router ports, whose
 * switch side owns the router port's MAC and IP.
 */
export function checkSwitchAddresses(st: ModelState, sw: SwitchRecord, entries: readonly AddressEntry[], selfId: string | undefined, ctx: string): void {
  for (const e of entries) {
    const macOwner = st.macOwnerOf(sw.dp, e.mac);
    if (macOwner !== undefined && macOwner !== selfId) {
      throw new Error(`${ctx}: MAC ${formatMac(e.mac)} is already used by port ${q(st.switchPorts.get(macOwner)!.name)} on logical switch ${q(sw.name)}`);
    }
    for (const ip of e.ips) {
      if (sw.subnet !== undefined && !prefixContains(sw.subnet, ip)) {
        throw new Error(`${ctx}: IP ${formatIpv4(ip)} is outside subnet ${formatCidr(sw.subnet)} of logical switch ${q(sw.name)}`);
      }
      const ipOwner = st.ipOwnerOf(sw.dp, ip);
      if (ipOwner !== undefined && ipOwner !== selfId) {
        throw new Error(`${ctx}: IP ${formatIpv4(ip)} is already used by port ${q(st.switchPorts.get(ipOwner)!.name)} on logical switch ${q(sw.name)}`);
      }
    }
  }
}
