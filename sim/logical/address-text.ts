// Parsing and formatting of the address text the logical API accepts: MACs, IPv4 addresses, prefixes,
// a router port's "address/len", and OVN-style address and port-security entries. Owns the syntax and
// the per-entry rules (unicast MACs, no repeats within one port); not uniqueness across ports or the
// switch subnet (switch-port-ops.ts). Uses sim/dataplane/headers.ts for the primitive forms.

import { formatCidr, formatIpv4, formatMac, isMulticastMac, parseCidr, parseIpv4, parseMac, prefixMask, type Ipv4Prefix } from '../dataplane/headers.ts';
import type { AddressEntry, SecurityEntry } from './entities.ts';
import { checkStringList, parseWith, q } from './input-checks.ts';

/** A MAC a port or router port may own: unicast and not all zeros. */
export function parseUnicastMac(text: unknown, context: string): number {
  const mac = parseWith(parseMac, text, context);
  if (mac === 0) throw new Error(`${context}: MAC 00:00:00:00:00:00 is not a usable address`);
  if (isMulticastMac(mac)) throw new Error(`${context}: MAC ${formatMac(mac)} is multicast or broadcast, not a port address`);
  return mac;
}

export function parseIp(text: unknown, context: string): number {
  return parseWith(parseIpv4, text, context);
}

export function parseHostIp(text: unknown, context: string): number {
  const ip = parseIp(text, context);
  if (ip === 0 || ip === 0xffff_ffff) throw new Error(`${context}: ${formatIpv4(ip)} is not a host address`);
  return ip;
}

/** A prefix with no host bits set: "10.0.0.0/24". */
export function parsePrefix(text: unknown, context: string): Ipv4Prefix {
  return parseWith(parseCidr, text, context);
}

/** A prefix, or a single address taken as a /32 (ACL matches, port security). */
export function parsePrefixOrAddress(text: unknown, context: string): Ipv4Prefix {
  if (typeof text === 'string' && !text.includes('/')) return { addr: parseIp(text, context), len: 32 };
  return parsePrefix(text, context);
}

/**
 * A router port address with its network's length: "10.0.1.1/24" → ip 10.0.1.1, net 10.0.1.0/24. The
 * address must be a host of that network (not the network or broadcast address, except in /31 and /32).
 */
export function parseHostWithPrefix(text: unknown, context: string): { ip: number; net: Ipv4Prefix } {
  if (typeof text !== 'string' || !text.includes('/')) throw new Error(`${context}: expected an address with a prefix length, e.g. 10.0.1.1/24, got ${q(text)}`);
  const [addrText, lenText, extra] = text.split('/');
  const ip = parseIp(addrText, context);
  if (extra !== undefined || !/^\d{1,2}$/.test(lenText) || Number(lenText) < 1 || Number(lenText) > 32) {
    throw new Error(`${context}: prefix length in ${q(text)} must be 1..32`);
  }
  const len = Number(lenText);
  const mask = prefixMask(len);
  const net = { addr: (ip & mask) >>> 0, len };
  if (len <= 30 && (ip === net.addr || ((ip | ~mask) >>> 0) === ip)) {
    throw new Error(`${context}: ${formatIpv4(ip)} is the network or broadcast address of ${formatCidr(net)}`);
  }
  return { ip, net };
}

/** A port's "addresses": entries "MAC IP..." and at most one "unknown". */
export function parseAddresses(value: unknown, context: string): { entries: AddressEntry[]; unknown: boolean } {
  const list = checkStringList(value, `${context}: addresses`);
  const entries: AddressEntry[] = [];
  let unknown = false;
  const macs = new Set<number>();
  const ips = new Set<number>();
  for (const text of list) {
    if (text === 'unknown') {
      if (unknown) throw new Error(`${context}: address 'unknown' is listed twice`);
      unknown = true;
      continue;
    }
    const [macText, ...ipTexts] = text.trim().split(/\s+/);
    const entryContext = `${context}: address entry ${q(text)}`;
    const mac = parseUnicastMac(macText, entryContext);
    if (macs.has(mac)) throw new Error(`${context}: MAC ${formatMac(mac)} is listed twice`);
    macs.add(mac);
    const entryIps: number[] = [];
    for (const ipText of ipTexts) {
      const ip = parseHostIp(ipText, entryContext);
      if (ips.has(ip)) throw new Error(`${context}: IP ${formatIpv4(ip)} is listed twice`);
      ips.add(ip);
      entryIps.push(ip);
    }
    entries.push(Object.freeze({ mac, ips: Object.freeze(entryIps) }));
  }
  return { entries, unknown };
}

/** A port's "portSecurity": entries "MAC [IP[/len]...]". */
export function parsePortSecurity(value: unknown, context: string): SecurityEntry[] {
  const list = checkStringList(value, `${context}: portSecurity`);
  const entries: SecurityEntry[] = [];
  const macs = new Set<number>();
  for (const text of list) {
    const [macText, ...ipTexts] = text.trim().split(/\s+/);
    const entryContext = `${context}: port-security entry ${q(text)}`;
    const mac = parseUnicastMac(macText, entryContext);
    if (macs.has(mac)) throw new Error(`${context}: port security lists MAC ${formatMac(mac)} twice`);
    macs.add(mac);
    const prefixes: Ipv4Prefix[] = [];
    const seen = new Set<string>();
    for (const ipText of ipTexts) {
      const p = parsePrefixOrAddress(ipText, entryContext);
      const key = `${p.addr}/${p.len}`;
      if (seen.has(key)) throw new Error(`${entryContext}: ${formatCidr(p)} is listed twice`);
      seen.add(key);
      prefixes.push(Object.freeze(p));
    }
    entries.push(Object.freeze({ mac, ips: Object.freeze(prefixes) }));
  }
  return entries;
}

export function formatAddressEntry(e: AddressEntry): string {
  return [formatMac(e.mac), ...e.ips.map(formatIpv4)].join(' ');
}

export function formatSecurityEntry(e: SecurityEntry): string {
  return [formatMac(e.mac), ...e.ips.map((p) => (p.len === 32 ? formatIpv4(p.addr) : formatCidr(p)))].join(' ');
}

export function prefixesOverlap(a: Ipv4Prefix, b: Ipv4Prefix): boolean {
  const len = Math.min(a.len, b.len);
  const mask = prefixMask(len);
  return ((a.addr & mask) >>> 0) === ((b.addr & mask) >>> 0);
}
