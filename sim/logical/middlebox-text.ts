// The text forms of middlebox policies and rules: their matches (the AclMatchSpec forms minus ports and
// Ethernet types: policies and rules only see IPv4 traffic), NAT targets ("ip", "ip:port",
// "ip:low-high") and load-balancer backends ("ip:port"), parsed into records and formatted back for
// views. Owns syntax and per-field rules; not which kind of middlebox may use which field
// (middlebox-rule-ops.ts).

import { formatIpv4 } from '../dataplane/headers.ts';
import { parseHostIp, parsePrefixOrAddress } from './address-text.ts';
import type { MiddleboxRuleMatchSpec } from './api-types.ts';
import type { Backend, MiddleboxMatchRecord } from './entities.ts';
import { checkFields, checkInteger, checkStringList, q } from './input-checks.ts';
import { ANY_L4, ANY_PREFIX, formatIpL4Match, isTransportProto, parseIpProto, parseL4Range, type L4Range } from './match-fields.ts';

type MatchField = keyof MiddleboxRuleMatchSpec & string;
export const POLICY_MATCH_FIELDS: readonly MatchField[] = ['ipSrc', 'ipDst', 'ipProto', 'l4Dst'];
export const RULE_MATCH_FIELDS: readonly MatchField[] = ['ipSrc', 'ipDst', 'ipProto', 'l4Src', 'l4Dst'];

/** Parses a match that may use `fields` only; an IP field implies nothing, ip_proto 0 means any. */
export function parseMiddleboxMatch(spec: MiddleboxRuleMatchSpec, fields: readonly MatchField[], ctx: string): MiddleboxMatchRecord {
  checkFields(spec, fields, `${ctx}: match`);
  const ipProto = spec.ipProto === undefined ? 0 : parseIpProto(spec.ipProto, `${ctx}: ipProto`);
  for (const field of ['l4Src', 'l4Dst'] as const) {
    if (spec[field] !== undefined && !isTransportProto(ipProto)) throw new Error(`${ctx}: ${field} needs ipProto tcp or udp`);
  }
  return Object.freeze({
    ipSrc: spec.ipSrc === undefined ? ANY_PREFIX : Object.freeze(parsePrefixOrAddress(spec.ipSrc, `${ctx}: ipSrc`)),
    ipDst: spec.ipDst === undefined ? ANY_PREFIX : Object.freeze(parsePrefixOrAddress(spec.ipDst, `${ctx}: ipDst`)),
    ipProto,
    l4Src: spec.l4Src === undefined ? ANY_L4 : parseL4Range(spec.l4Src, `${ctx}: l4Src`),
    l4Dst: spec.l4Dst === undefined ? ANY_L4 : parseL4Range(spec.l4Dst, `${ctx}: l4Dst`),
  });
}

/** The match as the user would write it, wildcards left out. */
export function formatMiddleboxMatch(m: MiddleboxMatchRecord): MiddleboxRuleMatchSpec {
  return formatIpL4Match(m);
}

const TO_TEXT = /^([^:]*)(?::(\d{1,5})(?:-(\d{1,5}))?)?$/;

/** A NAT target: "ip" keeps the port (0..0), "ip:p" is p..p, "ip:low-high" a range; ports 1..65535. */
export function parseNatTarget(text: unknown, ctx: string): { ip: number; ports: L4Range } {
  const m = typeof text === 'string' ? TO_TEXT.exec(text) : null;
  if (m === null) throw new Error(`${ctx}: expected "ip", "ip:port" or "ip:low-high", got ${q(text)}`);
  const ip = parseHostIp(m[1], ctx);
  if (m[2] === undefined) return { ip, ports: Object.freeze([0, 0]) as L4Range };
  const lo = checkInteger(Number(m[2]), `${ctx}: port`, 1, 65535);
  const hi = m[3] === undefined ? lo : checkInteger(Number(m[3]), `${ctx}: high port`, 1, 65535);
  if (lo > hi) throw new Error(`${ctx}: port range ${lo}-${hi} is empty`);
  return { ip, ports: Object.freeze([lo, hi]) as L4Range };
}

export function formatNatTarget(ip: number, ports: L4Range): string {
  if (ports[0] === 0) return formatIpv4(ip);
  return ports[0] === ports[1] ? `${formatIpv4(ip)}:${ports[0]}` : `${formatIpv4(ip)}:${ports[0]}-${ports[1]}`;
}

/** Backends "ip:port", no repeats; returned sorted (the pool is a set). */
export function parseBackends(value: unknown, ctx: string): Backend[] {
  const list = checkStringList(value, `${ctx}: backends`);
  const seen = new Set<string>();
  const out: Backend[] = [];
  for (const text of list) {
    const m = /^([^:]*):(\d{1,5})$/.exec(text);
    if (m === null) throw new Error(`${ctx}: backend ${q(text)} is not "ip:port"`);
    const ip = parseHostIp(m[1], `${ctx}: backend ${q(text)}`);
    const port = checkInteger(Number(m[2]), `${ctx}: backend ${q(text)} port`, 1, 65535);
    const key = `${ip}:${port}`;
    if (seen.has(key)) throw new Error(`${ctx}: backend ${formatIpv4(ip)}:${port} is listed twice`);
    seen.add(key);
    out.push(Object.freeze({ ip, port }));
  }
  return out.sort((a, b) => a.ip - b.ip || a.port - b.port);
}

export function formatBackend(b: Backend): string {
  return `${formatIpv4(b.ip)}:${b.port}`;
}
