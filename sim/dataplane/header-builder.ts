// Convenience constructors for Headers, for workloads, scenarios and tests: every field defaults to zero
// (and an IPv4 packet's TTL to 64), so a caller names only what matters. Owns no behaviour.

import { ETH_TYPE_IPV4, IP_PROTO_TCP, IP_PROTO_UDP, type Headers } from './headers.ts';

/** Headers with every field zero except those given. */
export function headersWith(fields: Partial<Headers>): Headers {
  return { ethSrc: 0, ethDst: 0, ethType: 0, ipSrc: 0, ipDst: 0, ipProto: 0, ipTtl: 0, l4Src: 0, l4Dst: 0, tcpFlags: 0, ...fields };
}

/** An IPv4 packet's headers (TTL 64 unless given). */
export function ipv4Headers(fields: Partial<Headers>): Headers {
  return headersWith({ ethType: ETH_TYPE_IPV4, ipTtl: 64, ...fields });
}

export function udpHeaders(fields: Partial<Headers>): Headers {
  return ipv4Headers({ ipProto: IP_PROTO_UDP, ...fields });
}

export function tcpHeaders(fields: Partial<Headers>): Headers {
  return ipv4Headers({ ipProto: IP_PROTO_TCP, ...fields });
}
