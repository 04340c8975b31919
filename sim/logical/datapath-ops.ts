// Create, update and delete of the two kinds of logical datapath (LDPS): logical switches and logical
// routers. Owns their validation and cascades; must finish validating before the first mutation of the
// model state (rollback is the safety net, not the plan). Port, ACL and route rules live in their own
// *-ops.ts files.

import { formatCidr, formatIpv4, prefixContains } from '../dataplane/headers.ts';
import type { DeleteOptions, RouterSpec, RouterUpdate, SwitchSpec, SwitchUpdate } from './api-types.ts';
import { parsePrefix } from './address-text.ts';
import type { RouterRecord, SwitchRecord } from './entities.ts';
import { byName, checkFields, checkName, listNames, q } from './input-checks.ts';
import type { ModelState } from './model-state.ts';
import { middleboxesOn, removeMiddleboxCascade, removeRouterPortCascade, removeSwitchPortCascade } from './cascades.ts';

export function createSwitch(st: ModelState, spec: SwitchSpec): SwitchRecord {
  checkFields(spec, ['name', 'tenant', 'subnet'], 'createSwitch');
  const name = checkName(spec.name, 'logical switch name');
  const tenant = checkName(spec.tenant, `logical switch ${q(name)}: tenant`);
  if (st.nameTaken('switch', name)) throw new Error(`logical switch ${q(name)} already exists`);
  const subnet = spec.subnet === undefined ? undefined : parsePrefix(spec.subnet, `logical switch ${q(name)}: subnet`);
  const record: SwitchRecord = { dp: st.allocateDatapathKey(), name, tenant, ...(subnet !== undefined && { subnet }) };
  st.putSwitch(record);
  return record;
}

export function updateSwitch(st: ModelState, name: string, update: SwitchUpdate): SwitchRecord {
  const old = st.switchNamed(name);
  checkFields(update, ['name', 'subnet'], `updateSwitch ${q(name)}`);
  const newName = update.name === undefined ? old.name : checkName(update.name, 'logical switch name');
  if (newName !== old.name && st.nameTaken('switch', newName)) throw new Error(`logical switch ${q(newName)} already exists`);
  let subnet = old.subnet;
  if (update.subnet === null) subnet = undefined;
  else if (update.subnet !== undefined) subnet = parsePrefix(update.subnet, `logical switch ${q(name)}: subnet`);
  if (subnet !== undefined) {
    // A new subnet must still hold every address already on the switch.
    for (const p of switchPortsSorted(st, old.dp)) {
      for (const e of p.addresses) {
        for (const ip of e.ips) {
          if (!prefixContains(subnet, ip)) {
            throw new Error(`logical switch ${q(name)}: port ${q(p.name)} has IP ${formatIpv4(ip)} outside the new subnet ${formatCidr(subnet)}`);
          }
        }
      }
    }
  }
  const record: SwitchRecord = { dp: old.dp, name: newName, tenant: old.tenant, ...(subnet !== undefined && { subnet }) };
  st.putSwitch(record);
  return record;
}

/**
 * Deletes the switch and its ACLs; its ports and the middleboxes on their wires too with cascade (router
 * peers included), else it must have none.
 */
export function deleteSwitch(st: ModelState, name: string, options: DeleteOptions = {}): void {
  const old = st.switchNamed(name);
  checkFields(options, ['cascade'], `deleteSwitch ${q(name)}`);
  const ports = switchPortsSorted(st, old.dp);
  if (options.cascade !== true) refuseWithMiddleboxes(st, old.dp, `logical switch ${q(name)}`);
  if (ports.length > 0 && options.cascade !== true) {
    throw new Error(`logical switch ${q(name)} still has ${ports.length} port(s) (${listNames(ports.map((p) => p.name))}); delete them first or pass { cascade: true }`);
  }
  for (const p of ports) {
    // A cascade over a router-type port takes the whole link (and what depends on the router port) with it.
    if (p.peer !== undefined) removeRouterPortCascade(st, st.routerPortAt(p.peer.dp, p.peer.port)!);
    else removeSwitchPortCascade(st, p);
  }
  // ACLs belong to their switch (as in OVN) and go with it.
  for (const id of st.aclsOf.members(old.dp)) st.removeAcl(id);
  st.removeSwitch(old.dp);
}

export function createRouter(st: ModelState, spec: RouterSpec): RouterRecord {
  checkFields(spec, ['name', 'tenant'], 'createRouter');
  const name = checkName(spec.name, 'logical router name');
  const tenant = checkName(spec.tenant, `logical router ${q(name)}: tenant`);
  if (st.nameTaken('router', name)) throw new Error(`logical router ${q(name)} already exists`);
  const record: RouterRecord = { dp: st.allocateDatapathKey(), name, tenant };
  st.putRouter(record);
  return record;
}

export function updateRouter(st: ModelState, name: string, update: RouterUpdate): RouterRecord {
  const old = st.routerNamed(name);
  checkFields(update, ['name'], `updateRouter ${q(name)}`);
  const newName = update.name === undefined ? old.name : checkName(update.name, 'logical router name');
  if (newName !== old.name && st.nameTaken('router', newName)) throw new Error(`logical router ${q(newName)} already exists`);
  const record: RouterRecord = { ...old, name: newName };
  st.putRouter(record);
  return record;
}

/**
 * Deletes the router and its static routes; its ports (and their switch-side peers) and its middleboxes
 * (with their policies and rules) too with cascade, else it must have none.
 */
export function deleteRouter(st: ModelState, name: string, options: DeleteOptions = {}): void {
  const old = st.routerNamed(name);
  checkFields(options, ['cascade'], `deleteRouter ${q(name)}`);
  if (options.cascade !== true) refuseWithMiddleboxes(st, old.dp, `logical router ${q(name)}`);
  const ports = st.portsOf
    .members(old.dp)
    .map((id) => st.routerPorts.get(id)!)
    .sort(byName);
  if (ports.length > 0 && options.cascade !== true) {
    throw new Error(`logical router ${q(name)} still has ${ports.length} port(s) (${listNames(ports.map((p) => p.name))}); delete them first or pass { cascade: true }`);
  }
  for (const id of st.routesOf.members(old.dp)) st.removeRoute(id);
  for (const p of ports) removeRouterPortCascade(st, p);
  for (const m of middleboxesOn(st, old.dp)) removeMiddleboxCascade(st, m);
  st.removeRouter(old.dp);
}

function refuseWithMiddleboxes(st: ModelState, dp: number, ctx: string): void {
  const middleboxes = middleboxesOn(st, dp);
  if (middleboxes.length > 0) {
    throw new Error(`${ctx} has middlebox(es) ${listNames(middleboxes.map((m) => m.name))}; delete them first or pass { cascade: true }`);
  }
}

function switchPortsSorted(st: ModelState, dp: number) {
  return st.portsOf
    .members(dp)
    .map((id) => st.switchPorts.get(id)!)
    .sort(byName);
}
