// How a slice judges a packet that belongs to no tracked connection (seed 001 §1.1): the firewall's
// allow/drop/reject by its first matching rule or default action, SNAT/DNAT's choice of translated
// address and port, the load balancer's round-robin choice among healthy backends. Pure: it reads the
// slice's configuration and state and returns a decision; the element applies it only for a committed
// packet, so a what-if trace gets the same answer and changes nothing. Owns these decisions and the
// reject response's shape; not connection tables or timers.

import { ETH_TYPE_IPV4, formatIpv4, IP_PROTO_ICMP, IP_PROTO_TCP, type Headers } from '../dataplane/headers.ts';
import type { MiddleboxKind } from './records.ts';
import { firstMatch, type CompiledRule } from './rule-match.ts';
import { snatPortBlock } from './snat-blocks.ts';
import type { SliceConfig } from './slice-config.ts';
import type { SliceState } from './slice-state.ts';
import { tupleOf } from './tuple.ts';
import type { ConnectionTuple } from './vm-state.ts';

export type NewConnectionDecision =
  /** Track a connection translated to `translated`; a load balancer also moves its round robin on. */
  | { readonly kind: 'track'; readonly translated: ConnectionTuple; readonly rule: number; readonly roundRobin?: { readonly rule: number; readonly next: number } }
  /** Not this slice's business: pass unchanged and untracked. */
  | { readonly kind: 'untracked' }
  | { readonly kind: 'drop'; readonly reason: string }
  | { readonly kind: 'reject'; readonly reason: string; readonly response: Headers | null };

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;

const ICMP_DEST_UNREACHABLE = 3;
const ICMP_ADMIN_PROHIBITED = 13;
const RESPONSE_TTL = 64;

export function judgeNewConnection(kind: MiddleboxKind, config: SliceConfig | null, state: SliceState, h: Headers): NewConnectionDecision {
  const t = tupleOf(h);
  switch (kind) {
    case 'firewall':
      return judgeFirewall(config, h, t);
    case 'nat': {
      const rule = config === null ? null : firstMatch(config.classifier, h);
      return rule === null ? { kind: 'untracked' } : translate(rule, state, t);
    }
    case 'lb': {
      const rule = config === null ? null : firstMatch(config.classifier, h);
      return rule === null ? { kind: 'untracked' } : chooseBackend(rule, state, t);
    }
    case 'ids':
      return { kind: 'untracked' };
  }
}

function judgeFirewall(config: SliceConfig | null, h: Headers, t: ConnectionTuple): NewConnectionDecision {
  // Installed state can precede the slice's records: with no rules, nothing new is admitted.
  if (config === null) return { kind: 'drop', reason: 'no-config' };
  const rule = firstMatch(config.classifier, h);
  const action = rule?.action ?? config.slice.defaultAction;
  const reason = rule === null ? `default-${action}` : `rule:${rule.rule}`;
  if (action === 'drop') return { kind: 'drop', reason };
  if (action === 'reject') return { kind: 'reject', reason, response: rejectResponse(h) };
  return { kind: 'track', translated: t, rule: rule?.rule ?? 0 };
}

/**
 * TCP: a RST|ACK from the destination back to the source (none for a RST, which must never be answered);
 * anything else: an ICMP "administratively prohibited" unreachable from the destination to the source.
 */
export function rejectResponse(h: Headers): Headers | null {
  const back = { ethSrc: h.ethDst, ethDst: h.ethSrc, ethType: ETH_TYPE_IPV4, ipSrc: h.ipDst, ipDst: h.ipSrc, ipTtl: RESPONSE_TTL };
  if (h.ipProto === IP_PROTO_TCP) {
    if ((h.tcpFlags & TCP_RST) !== 0) return null;
    return { ...back, ipProto: IP_PROTO_TCP, l4Src: h.l4Dst, l4Dst: h.l4Src, tcpFlags: TCP_RST | TCP_ACK };
  }
  return { ...back, ipProto: IP_PROTO_ICMP, l4Src: ICMP_DEST_UNREACHABLE, l4Dst: ICMP_ADMIN_PROHIBITED, tcpFlags: 0 };
}

/**
 * SNAT rewrites the source, DNAT the destination, to `toIp` and the lowest port whose reply tuple no live
 * connection of the slice uses (so every reply finds exactly one connection): for SNAT within the
 * source's block of the range (snat-blocks.ts), for DNAT anywhere in it; 0..0 keeps the port.
 */
function translate(rule: CompiledRule, state: SliceState, t: ConnectionTuple): NewConnectionDecision {
  const at = (port: number): ConnectionTuple =>
    rule.action === 'snat' ? { ...t, srcIp: rule.toIp, srcPort: port === 0 ? t.srcPort : port } : { ...t, dstIp: rule.toIp, dstPort: port === 0 ? t.dstPort : port };
  if (rule.toPortMin === 0) return { kind: 'track', translated: at(0), rule: rule.rule };
  const [low, high] =
    rule.action === 'snat' ? (snatPortBlock({ srcPrefix: rule.match.ipSrc, portMin: rule.toPortMin, portMax: rule.toPortMax }, t.srcIp) ?? [1, 0]) : [rule.toPortMin, rule.toPortMax];
  for (let port = low; port <= high; port++) {
    const translated = at(port);
    if (state.replyTupleFree(translated)) return { kind: 'track', translated, rule: rule.rule };
  }
  return { kind: 'drop', reason: 'nat-ports-exhausted' };
}

/** Round robin over the pool from the rule's position, skipping backends whose shared health says down. */
function chooseBackend(rule: CompiledRule, state: SliceState, t: ConnectionTuple): NewConnectionDecision {
  const pool = rule.backends;
  const start = state.roundRobin.get(rule.rule) ?? 0;
  for (let i = 0; i < pool.length; i++) {
    const index = (start + i) % pool.length;
    const b = pool[index];
    if (state.sliceShared.get(healthKey(b.ip, b.port)) === 0) continue;
    return { kind: 'track', translated: { ...t, dstIp: b.ip, dstPort: b.port }, rule: rule.rule, roundRobin: { rule: rule.rule, next: (index + 1) % pool.length } };
  }
  return { kind: 'drop', reason: 'lb-no-backend' };
}

/** The type-1 key of a backend's health: 1 up, 0 down, absent up. */
export function healthKey(ip: number, port: number): string {
  return `health/${formatIpv4(ip)}:${port}`;
}

/** The type-1 key of an IDS slice's per-source alert counter. */
export function alertKey(srcIp: number): string {
  return `alerts/${formatIpv4(srcIp)}`;
}
