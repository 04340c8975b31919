// Packet headers and the packets that carry them. Addresses are integers so matching compares numbers:
// a MAC is a 48-bit integer, an IPv4 address an unsigned 32-bit integer. Owns the header shapes and the
// text forms ("02:00:00:00:00:01", "10.0.0.1", "10.0.0.0/24"); not how packets are processed.

export const ETH_TYPE_IPV4 = 0x0800;
export const ETH_TYPE_ARP = 0x0806;
export const IP_PROTO_ICMP = 1;
export const IP_PROTO_TCP = 6;
export const IP_PROTO_UDP = 17;
export const MAC_BROADCAST = 0xffff_ffff_ffff;
/** Bytes an overlay encapsulation adds (outer Ethernet + IPv4 + UDP + Geneve with one option). */
export const TUNNEL_OVERHEAD_BYTES = 58;

export interface Headers {
  ethSrc: number;
  ethDst: number;
  ethType: number;
  /** 0 when the packet is not IPv4 (for ARP: sender and target protocol addresses). */
  ipSrc: number;
  ipDst: number;
  ipProto: number;
  ipTtl: number;
  /** TCP/UDP ports; ICMP type and code. 0 otherwise. */
  l4Src: number;
  l4Dst: number;
  /** TCP flags (SYN=0x02, ACK=0x10, FIN=0x01, RST=0x04), for connection tracking later. */
  tcpFlags: number;
}

export interface Packet {
  /** Unique within a run; a copy made by flooding or duplication gets its own id and names its parent. */
  readonly id: number;
  readonly parentId?: number;
  /**
   * The id of the packet as its first sender (a VM or an external endpoint) sent it; every copy keeps it,
   * so a checker can tell which send a delivery belongs to without following parent links. Absent means
   * the packet is its own origin (originId = id).
   */
  readonly originId?: number;
  headers: Headers;
  /** Bytes above the headers. */
  payloadBytes: number;
}

/** Ethernet + IPv4 + L4 header bytes, so a packet's size on the wire is payload + this (+ tunnel overhead). */
export function headerBytes(h: Headers): number {
  if (h.ethType !== ETH_TYPE_IPV4) return h.ethType === ETH_TYPE_ARP ? 42 : 14;
  return 14 + 20 + (h.ipProto === IP_PROTO_TCP ? 20 : h.ipProto === IP_PROTO_UDP ? 8 : 8);
}

export function isMulticastMac(mac: number): boolean {
  // The group bit is the least significant bit of the first octet.
  return Math.floor(mac / 2 ** 40) % 2 === 1;
}

const MAC_TEXT = /^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$/i;

export function parseMac(text: string): number {
  const m = MAC_TEXT.exec(text);
  if (!m) throw new Error(`not a MAC address: '${text}'`);
  let v = 0;
  for (let i = 1; i <= 6; i++) v = v * 256 + parseInt(m[i], 16);
  return v;
}

export function formatMac(mac: number): string {
  const out: string[] = [];
  for (let i = 5; i >= 0; i--) out.push((Math.floor(mac / 2 ** (8 * i)) % 256).toString(16).padStart(2, '0'));
  return out.join(':');
}

export function parseIpv4(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new Error(`not an IPv4 address: '${text}'`);
  return parts.reduce((v, p) => v * 256 + Number(p), 0);
}

export function formatIpv4(ip: number): string {
  return [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.');
}

export interface Ipv4Prefix {
  readonly addr: number;
  readonly len: number;
}

/** "10.0.0.0/24" → { addr, len }; the address must have no bits set past the prefix. */
export function parseCidr(text: string): Ipv4Prefix {
  const [addrText, lenText, extra] = text.split('/');
  if (extra !== undefined || lenText === undefined || !/^\d{1,2}$/.test(lenText) || Number(lenText) > 32) {
    throw new Error(`not an IPv4 prefix: '${text}' (expected e.g. 10.0.0.0/24)`);
  }
  const addr = parseIpv4(addrText);
  const len = Number(lenText);
  if ((addr & ~prefixMask(len)) >>> 0 !== 0) throw new Error(`not an IPv4 prefix: '${text}' has host bits set`);
  return { addr, len };
}

export function prefixMask(len: number): number {
  return len === 0 ? 0 : (0xffff_ffff << (32 - len)) >>> 0;
}

export function prefixContains(p: Ipv4Prefix, ip: number): boolean {
  return ((ip & prefixMask(p.len)) >>> 0) === p.addr;
}

export function formatCidr(p: Ipv4Prefix): string {
  return `${formatIpv4(p.addr)}/${p.len}`;
}
