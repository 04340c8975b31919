// A slice's compiled classifier (seed 001 §1.2: records compiled into packet classification rules): the
// rules of one slice in decision order, and the first one a packet matches. Owns rule order and matching;
// not what a matching rule does to the packet.

import { prefixContains, type Headers } from '../dataplane/headers.ts';
import type { MiddleboxKind, MiddleboxRecord, RuleAction, RuleMatch } from './records.ts';

/** A rule as its records give it, less the slice tag; for lb the pool is the union of the rule's records, sorted by (ip, port) without repeats. */
export type CompiledRule = Omit<Extract<MiddleboxRecord, { r: 'rule' }>, 'r' | 'tag'>;

/** The actions a slice of each kind acts on; a rule with another action does not belong to the slice. */
export const KIND_ACTIONS: Readonly<Record<MiddleboxKind, readonly RuleAction[]>> = {
  firewall: ['allow', 'drop', 'reject'],
  nat: ['snat', 'dnat'],
  lb: ['lb'],
  ids: ['alert'],
};

// At equal priority the more restrictive action decides, so adding an allow never opens what a drop shuts.
const ACTION_RANK: Readonly<Record<RuleAction, number>> = { reject: 0, drop: 1, allow: 2, snat: 2, dnat: 2, lb: 2, alert: 2 };

/** Decision order: higher priority first; then reject, drop, the rest; then the rule key. */
export function compileClassifier(rules: readonly CompiledRule[]): readonly CompiledRule[] {
  return [...rules].sort((a, b) => b.priority - a.priority || ACTION_RANK[a.action] - ACTION_RANK[b.action] || a.rule - b.rule);
}

export function ruleMatches(m: RuleMatch, h: Headers): boolean {
  if (m.ipSrc !== undefined && !prefixContains(m.ipSrc, h.ipSrc)) return false;
  if (m.ipDst !== undefined && !prefixContains(m.ipDst, h.ipDst)) return false;
  if (m.ipProto !== undefined && m.ipProto !== h.ipProto) return false;
  if (m.l4Src !== undefined && (h.l4Src < m.l4Src[0] || h.l4Src > m.l4Src[1])) return false;
  if (m.l4Dst !== undefined && (h.l4Dst < m.l4Dst[0] || h.l4Dst > m.l4Dst[1])) return false;
  return true;
}

export function firstMatch(classifier: readonly CompiledRule[], h: Headers): CompiledRule | null {
  for (const r of classifier) if (ruleMatches(r.match, h)) return r;
  return null;
}
