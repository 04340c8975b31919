// The match fields ACLs and middlebox policies and rules share: IP protocol names and L4 port ranges,
// their wildcards, and their text forms in both directions. Owns these field forms only; which fields a
// match may use and what they imply belong to acl-match.ts and middlebox-text.ts.

import { IP_PROTO_ICMP, IP_PROTO_TCP, IP_PROTO_UDP, formatCidr, type Ipv4Prefix } from '../dataplane/headers.ts';
import { checkInteger, q } from './input-checks.ts';

export type L4Range = readonly [number, number];

export const ANY_PREFIX: Ipv4Prefix = Object.freeze({ addr: 0, len: 0 });
export const ANY_L4: L4Range = Object.freeze([0, 65535]) as L4Range;

const IP_PROTO_NAMES: Readonly<Record<string, number>> = { tcp: IP_PROTO_TCP, udp: IP_PROTO_UDP, icmp: IP_PROTO_ICMP };

/** 'tcp', 'udp', 'icmp' or a protocol number 1..255. */
export function parseIpProto(value: unknown, ctx: string): number {
  if (typeof value === 'string' && value in IP_PROTO_NAMES) return IP_PROTO_NAMES[value];
  return checkInteger(value, `${ctx} (tcp, udp, icmp or 1..255)`, 1, 255);
}

export function formatIpProto(proto: number): 'tcp' | 'udp' | 'icmp' | number {
  return (Object.keys(IP_PROTO_NAMES).find((k) => IP_PROTO_NAMES[k] === proto) as 'tcp' | 'udp' | 'icmp' | undefined) ?? proto;
}

export function isTransportProto(proto: number): boolean {
  return proto === IP_PROTO_TCP || proto === IP_PROTO_UDP;
}

/** A port or an inclusive [low, high] range. */
export function parseL4Range(value: unknown, ctx: string): L4Range {
  if (typeof value === 'number') {
    const port = checkInteger(value, ctx, 0, 65535);
    return Object.freeze([port, port]) as L4Range;
  }
  if (!Array.isArray(value) || value.length !== 2) throw new Error(`${ctx}: expected a port or a [low, high] range, got ${q(value)}`);
  const lo = checkInteger(value[0], `${ctx} low`, 0, 65535);
  const hi = checkInteger(value[1], `${ctx} high`, 0, 65535);
  if (lo > hi) throw new Error(`${ctx}: range ${lo}..${hi} is empty`);
  return Object.freeze([lo, hi]) as L4Range;
}

/** The range as the user would write it: undefined for the wildcard, a number for a single port. */
export function formatL4Range(r: L4Range): number | [number, number] | undefined {
  if (r[0] === 0 && r[1] === 65535) return undefined;
  return r[0] === r[1] ? r[0] : [r[0], r[1]];
}

/** The IP and L4 fields of a match record (ACLs and middleboxes share them). */
export interface IpL4Match {
  readonly ipSrc: Ipv4Prefix;
  readonly ipDst: Ipv4Prefix;
  readonly ipProto: number;
  readonly l4Src: L4Range;
  readonly l4Dst: L4Range;
}

/** Those fields as the user would write them, wildcards left out. */
export function formatIpL4Match(m: IpL4Match): { ipSrc?: string; ipDst?: string; ipProto?: 'tcp' | 'udp' | 'icmp' | number; l4Src?: number | [number, number]; l4Dst?: number | [number, number] } {
  const out: ReturnType<typeof formatIpL4Match> = {};
  if (m.ipSrc.len !== 0) out.ipSrc = formatCidr(m.ipSrc);
  if (m.ipDst.len !== 0) out.ipDst = formatCidr(m.ipDst);
  if (m.ipProto !== 0) out.ipProto = formatIpProto(m.ipProto);
  const l4Src = formatL4Range(m.l4Src);
  if (l4Src !== undefined) out.l4Src = l4Src;
  const l4Dst = formatL4Range(m.l4Dst);
  if (l4Dst !== undefined) out.l4Dst = l4Dst;
  return out;
}
