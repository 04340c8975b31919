// ACL matches: from the user's AclMatchSpec to the explicit-wildcard record the acl relation carries, and
// back for views. Owns the match rules: ports of the ACL's own switch, no outport before the output port
// is chosen ('from-lport'), IP fields imply IPv4, L4 ports need TCP or UDP. Not priorities or actions.

import { ETH_TYPE_ARP, ETH_TYPE_IPV4 } from '../dataplane/headers.ts';
import type { AclMatchSpec } from './api-types.ts';
import { parsePrefixOrAddress } from './address-text.ts';
import type { AclMatchRecord, SwitchRecord } from './entities.ts';
import { checkFields, checkInteger, q } from './input-checks.ts';
import { ANY_L4, ANY_PREFIX, formatIpL4Match, isTransportProto, parseIpProto, parseL4Range } from './match-fields.ts';
import type { ModelState } from './model-state.ts';
import type { AclDirection } from './relations.ts';

const ETH_TYPE_NAMES: Readonly<Record<string, number>> = { ipv4: ETH_TYPE_IPV4, arp: ETH_TYPE_ARP };

export function parseAclMatch(st: ModelState, sw: SwitchRecord, spec: AclMatchSpec, direction: AclDirection, ctx: string): AclMatchRecord {
  checkFields(spec, ['inport', 'outport', 'ethType', 'ipSrc', 'ipDst', 'ipProto', 'l4Src', 'l4Dst'], `${ctx}: match`);
  const inport = spec.inport === undefined ? 0 : portOf(st, sw, spec.inport, 'inport', ctx);
  const outport = spec.outport === undefined ? 0 : portOf(st, sw, spec.outport, 'outport', ctx);
  let ethType = 0;
  if (spec.ethType !== undefined) {
    ethType = typeof spec.ethType === 'string' && spec.ethType in ETH_TYPE_NAMES ? ETH_TYPE_NAMES[spec.ethType] : checkInteger(spec.ethType, `${ctx}: ethType (ipv4, arp or 0x0600..0xffff)`, 0x0600, 0xffff);
  }
  const ipProto = spec.ipProto === undefined ? 0 : parseIpProto(spec.ipProto, `${ctx}: ipProto`);
  const ipSrc = spec.ipSrc === undefined ? ANY_PREFIX : parsePrefixOrAddress(spec.ipSrc, `${ctx}: ipSrc`);
  const ipDst = spec.ipDst === undefined ? ANY_PREFIX : parsePrefixOrAddress(spec.ipDst, `${ctx}: ipDst`);
  const l4Src = spec.l4Src === undefined ? ANY_L4 : parseL4Range(spec.l4Src, `${ctx}: l4Src`);
  const l4Dst = spec.l4Dst === undefined ? ANY_L4 : parseL4Range(spec.l4Dst, `${ctx}: l4Dst`);
  for (const field of ['ipSrc', 'ipDst', 'ipProto'] as const) {
    if (spec[field] === undefined) continue;
    // Matching an IP field means matching IPv4 packets only, as in OVN (ip4.src implies ip4).
    if (ethType !== 0 && ethType !== ETH_TYPE_IPV4) throw new Error(`${ctx}: ${field} needs ethType ipv4, not 0x${ethType.toString(16).padStart(4, '0')}`);
    ethType = ETH_TYPE_IPV4;
  }
  for (const field of ['l4Src', 'l4Dst'] as const) {
    if (spec[field] !== undefined && !isTransportProto(ipProto)) throw new Error(`${ctx}: ${field} needs ipProto tcp or udp`);
  }
  const record: AclMatchRecord = { inport, outport, ethType, ipProto, ipSrc, ipDst, l4Src, l4Dst };
  checkDirection(record, direction, ctx);
  return Object.freeze(record);
}

/** A 'from-lport' ACL runs before the L2 lookup, so there is no output port to match yet. */
export function checkDirection(m: AclMatchRecord, direction: AclDirection, ctx: string): void {
  if (direction === 'from-lport' && m.outport !== 0) throw new Error(`${ctx}: a 'from-lport' ACL cannot match outport (the output port is not chosen yet)`);
}

/** The match as the user would write it, wildcards left out and port keys named. */
export function formatAclMatch(st: ModelState, dp: number, m: AclMatchRecord): AclMatchSpec {
  const out: AclMatchSpec = {};
  if (m.inport !== 0) out.inport = st.switchPortAt(dp, m.inport)!.name;
  if (m.outport !== 0) out.outport = st.switchPortAt(dp, m.outport)!.name;
  if (m.ethType !== 0) out.ethType = m.ethType === ETH_TYPE_IPV4 ? 'ipv4' : m.ethType === ETH_TYPE_ARP ? 'arp' : m.ethType;
  return { ...out, ...formatIpL4Match(m) };
}

function portOf(st: ModelState, sw: SwitchRecord, name: unknown, field: string, ctx: string): number {
  const p = typeof name === 'string' ? st.findSwitchPort(name) : undefined;
  if (p === undefined) throw new Error(`${ctx}: ${field} ${q(name)} is not a logical switch port`);
  if (p.dp !== sw.dp) throw new Error(`${ctx}: ${field} ${q(name)} is not a port of logical switch ${q(sw.name)}`);
  return p.port;
}
