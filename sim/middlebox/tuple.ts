// Connection tuples: the 5-tuple of a packet, its reverse, the header rewrite a translation implies, and
// the string keys connection tables index by. Owns these helpers only; not what is tracked.

import { ETH_TYPE_IPV4, IP_PROTO_ICMP, IP_PROTO_TCP, IP_PROTO_UDP, type Headers } from '../dataplane/headers.ts';
import type { ConnectionTuple } from './vm-state.ts';

/** Only IPv4 TCP, UDP and ICMP are tracked; everything else passes the element untouched. */
export function isTrackable(h: Headers): boolean {
  return h.ethType === ETH_TYPE_IPV4 && (h.ipProto === IP_PROTO_TCP || h.ipProto === IP_PROTO_UDP || h.ipProto === IP_PROTO_ICMP);
}

/** ICMP keeps its type and code in the port fields, as the headers carry them. */
export function tupleOf(h: Headers): ConnectionTuple {
  return { proto: h.ipProto, srcIp: h.ipSrc, srcPort: h.l4Src, dstIp: h.ipDst, dstPort: h.l4Dst };
}

export function reverseTuple(t: ConnectionTuple): ConnectionTuple {
  return { proto: t.proto, srcIp: t.dstIp, srcPort: t.dstPort, dstIp: t.srcIp, dstPort: t.srcPort };
}

export function tupleKey(t: ConnectionTuple): string {
  return `${t.proto}|${t.srcIp}|${t.srcPort}|${t.dstIp}|${t.dstPort}`;
}

export function sameTuple(a: ConnectionTuple, b: ConnectionTuple): boolean {
  return a.proto === b.proto && a.srcIp === b.srcIp && a.srcPort === b.srcPort && a.dstIp === b.dstIp && a.dstPort === b.dstPort;
}

export function compareTuples(a: ConnectionTuple, b: ConnectionTuple): number {
  return a.proto - b.proto || a.srcIp - b.srcIp || a.srcPort - b.srcPort || a.dstIp - b.dstIp || a.dstPort - b.dstPort;
}

/** The packet with its addresses and ports replaced by `to`'s (MACs and everything else kept). */
export function rewrite(h: Headers, to: ConnectionTuple): Headers {
  return { ...h, ipSrc: to.srcIp, l4Src: to.srcPort, ipDst: to.dstIp, l4Dst: to.dstPort };
}
