// ACL matches: from the user's AclMatchSpec to the explicit-wildcard record the acl relation carries, and
// back for views. Owns the match rules: ports of the ACL's own switch, no outport before the output port
// is chosen ('from-lport'), IP fields imply IPv4, L4 ports need TCP or UDP. Not priorities or actions.

import { ETH_TYPE_ARP, ETH_TYPE_IPV4, IP_PROTO_ICMP, IP_PROTO_TCP, IP_PROTO_UDP, formatCidr } from '../dataplane/headers.ts';
import type { AclMatchSpec } from './api-types.ts';
import { parsePrefixOrAddress } from './address-text.ts';
import type { AclMatchRecord, SwitchRecord } from './entities.ts';
import { checkFields, checkInteger, q } from './input-checks.ts';
import type { ModelState } from './model-state.ts';
import type { AclDirection } from './relations.ts';

const ANY_PREFIX = Object.freeze({ addr: 0, len: 0 });
const ANY_L4: readonly [number, number] = Object.freeze([0, 65535]) as readonly [number, number];
const ETH_TYPE_NAMES: Readonly<Record<string, number>> = { ipv4: ETH_TYPE_IPV4, arp: ETH_TYPE_ARP };
const IP_PROTO_NAMES: Readonly<Record<string, number>> = { tcp: IP_PROTO_TCP, udp: IP_PROTO_UDP, icmp: IP_PROTO_ICMP };

export function parseAclMatch(st: ModelState, sw: SwitchRecord, spec: AclMatchSpec, direction: AclDirection, ctx: string): AclMatchRecord {
  checkFields(spec, ['inport', 'outport', 'ethType', 'ipSrc', 'ipDst', 'ipProto', 'l4Src', 'l4Dst'], `${ctx}: match`);
  const inport = spec.inport === undefined ? 0 : portOf(st, sw, spec.inport, 'inport', ctx);
  const outport = spec.outport === undefined ? 0 : portOf(st, sw, spec.outport, 'outport', ctx);
  let ethType = 0;
  if (spec.ethType !== undefined) {
    ethType = typeof spec.ethType === 'string' && spec.ethType in ETH_TYPE_NAMES ? ETH_TYPE_NAMES[spec.ethType] : checkInteger(spec.ethType, `${ctx}: ethType (ipv4, arp or 0x0600..0xffff)`, 0x0600, 0xffff);
  }
  let ipProto = 0;
  if (spec.ipProto !== undefined) {
    ipProto = typeof spec.ipProto === 'string' && spec.ipProto in IP_PROTO_NAMES ? IP_PROTO_NAMES[spec.ipProto] : checkInteger(spec.ipProto, `${ctx}: ipProto (tcp, udp, icmp or 1..255)`, 1, 255);
  }
  const ipSrc = spec.ipSrc === undefined ? ANY_PREFIX : parsePrefixOrAddress(spec.ipSrc, `${ctx}: ipSrc`);
  const ipDst = spec.ipDst === undefined ? ANY_PREFIX : parsePrefixOrAddress(spec.ipDst, `${ctx}: ipDst`);
  const l4Src = spec.l4Src === undefined ? ANY_L4 : parseL4(spec.l4Src, `${ctx}: l4Src`);
  const l4Dst = spec.l4Dst === undefined ? ANY_L4 : parseL4(spec.l4Dst, `${ctx}: l4Dst`);
  for (const field of ['ipSrc', 'ipDst', 'ipProto'] as const) {
    if (spec[field] === undefined) continue;
    // Matching an IP field means matching IPv4 packets only, as in OVN (ip4.src implies ip4).
    if (ethType !== 0 && ethType !== ETH_TYPE_IPV4) throw new Error(`${ctx}: ${field} needs ethType ipv4, not 0x${ethType.toString(16).padStart(4, '0')}`);
    ethType = ETH_TYPE_IPV4;
  }
  for (const field of ['l4Src', 'l4Dst'] as const) {
    if (spec[field] !== undefined && ipProto !== IP_PROTO_TCP && ipProto !== IP_PROTO_UDP) throw new Error(`${ctx}: ${field} needs ipProto tcp or udp`);
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
  if (m.ipSrc.len !== 0) out.ipSrc = formatCidr(m.ipSrc);
  if (m.ipDst.len !== 0) out.ipDst = formatCidr(m.ipDst);
  if (m.ipProto !== 0) out.ipProto = (Object.keys(IP_PROTO_NAMES).find((k) => IP_PROTO_NAMES[k] === m.ipProto) as 'tcp' | 'udp' | 'icmp' | undefined) ?? m.ipProto;
  if (m.l4Src !== ANY_L4 && (m.l4Src[0] !== 0 || m.l4Src[1] !== 65535)) out.l4Src = m.l4Src[0] === m.l4Src[1] ? m.l4Src[0] : [m.l4Src[0], m.l4Src[1]];
  if (m.l4Dst !== ANY_L4 && (m.l4Dst[0] !== 0 || m.l4Dst[1] !== 65535)) out.l4Dst = m.l4Dst[0] === m.l4Dst[1] ? m.l4Dst[0] : [m.l4Dst[0], m.l4Dst[1]];
  return out;
}

function portOf(st: ModelState, sw: SwitchRecord, name: unknown, field: string, ctx: string): number {
  const p = typeof name === 'string' ? st.findSwitchPort(name) : undefined;
  if (p === undefined) throw new Error(`${ctx}: ${field} ${q(name)} is not a logical switch port`);
  if (p.dp !== sw.dp) throw new Error(`${ctx}: ${field} ${q(name)} is not a port of logical switch ${q(sw.name)}`);
  return p.port;
}

function parseL4(value: unknown, ctx: string): readonly [number, number] {
  if (typeof value === 'number') {
    const port = checkInteger(value, ctx, 0, 65535);
    return Object.freeze([port, port]) as readonly [number, number];
  }
  if (!Array.isArray(value) || value.length !== 2) throw new Error(`${ctx}: expected a port or a [low, high] range, got ${q(value)}`);
  const lo = checkInteger(value[0], `${ctx} low`, 0, 65535);
  const hi = checkInteger(value[1], `${ctx} high`, 0, 65535);
  if (lo > hi) throw new Error(`${ctx}: range ${lo}..${hi} is empty`);
  return Object.freeze([lo, hi]) as readonly [number, number];
}
