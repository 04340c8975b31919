// Distributed SNAT's port blocks (seed 001 §1.1 "NAT" with §2's migration): every source address inside
// an snat rule's source prefix owns one fixed, equal block of the rule's port range. A reply to the shared
// SNAT address then names its VM by its destination port alone, so the router can send it to wherever
// that VM runs now without knowing any connection, and a migrated connection keeps its mapping because
// the block travels with the VM's address, not with its host. Owns the arithmetic only: the element
// allocates inside the block (new-connection.ts), the controller writes one return route per VM address
// (sim/control/rules/middlebox-rules.ts), and the logical API refuses a rule that leaves an address
// without a port (sim/logical/middlebox-rule-ops.ts).

import { prefixContains, type Ipv4Prefix } from '../dataplane/headers.ts';

export interface SnatRange {
  /** The rule's source prefix; undefined when it matches any source (then one block: the whole range). */
  readonly srcPrefix: Ipv4Prefix | undefined;
  readonly portMin: number;
  readonly portMax: number;
}

/** Ports per source address: the range split evenly over the prefix's addresses (0: too narrow). */
export function snatBlockSize(r: SnatRange): number {
  const span = r.portMax - r.portMin + 1;
  if (r.srcPrefix === undefined) return span;
  return Math.floor(span / 2 ** (32 - r.srcPrefix.len));
}

/** The inclusive ports `srcIp` may be translated to, or null when it is outside the prefix or the range is too narrow. */
export function snatPortBlock(r: SnatRange, srcIp: number): readonly [number, number] | null {
  const size = snatBlockSize(r);
  if (size < 1) return null;
  if (r.srcPrefix === undefined) return [r.portMin, r.portMax];
  if (!prefixContains(r.srcPrefix, srcIp)) return null;
  const slot = (srcIp - r.srcPrefix.addr) >>> 0;
  const low = r.portMin + slot * size;
  return [low, low + size - 1];
}
