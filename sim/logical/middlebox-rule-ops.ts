// Create, update and delete of middlebox rules: the configuration a middlebox's elements compile (seed
// 001 §3, one rule per record). Owns the rules of a rule: unique names, priority 0..32767, the actions
// each kind of middlebox takes, and the fields each kind needs or refuses (a NAT target for nat, a
// VIP match and a backend pool for lb, neither for the others). A rule never moves to another
// middlebox, since its key and action set belong to its middlebox. The field syntax lives in
// middlebox-text.ts.

import type { MiddleboxRuleSpec, MiddleboxRuleUpdate } from './api-types.ts';
import { entityId, MIDDLEBOX_PRIORITY_MAX, MIDDLEBOX_PRIORITY_MIN, type MiddleboxMatchRecord, type MiddleboxRecord, type MiddleboxRuleRecord } from './entities.ts';
import { checkFields, checkInteger, checkName, checkOneOf, q } from './input-checks.ts';
import { snatBlockSize } from '../middlebox/snat-blocks.ts';
import { isTransportProto } from './match-fields.ts';
import { parseBackends, parseMiddleboxMatch, parseNatTarget, RULE_MATCH_FIELDS } from './middlebox-text.ts';
import type { ModelState } from './model-state.ts';
import type { MiddleboxKind, MiddleboxRuleAction } from './relations.ts';

const ACTIONS_BY_KIND: { readonly [K in MiddleboxKind]: readonly MiddleboxRuleAction[] } = {
  firewall: ['allow', 'drop', 'reject'],
  nat: ['snat', 'dnat'],
  lb: ['lb'],
  ids: ['alert'],
};

const NO_PORTS = Object.freeze([0, 0]) as readonly [number, number];

export function createMiddleboxRule(st: ModelState, spec: MiddleboxRuleSpec): MiddleboxRuleRecord {
  checkFields(spec, ['name', 'middlebox', 'priority', 'action', 'match', 'to', 'backends'], 'createMiddleboxRule');
  const name = checkName(spec.name, 'middlebox rule name');
  if (st.nameTaken('middlebox rule', name)) throw new Error(`middlebox rule ${q(name)} already exists`);
  const ctx = `middlebox rule ${q(name)}`;
  const mb = st.findMiddlebox(spec.middlebox);
  if (mb === undefined) throw new Error(`${ctx}: unknown middlebox ${q(spec.middlebox)}`);
  checkKindFields(mb, spec, ctx);
  const priority = checkInteger(spec.priority, `${ctx}: priority`, MIDDLEBOX_PRIORITY_MIN, MIDDLEBOX_PRIORITY_MAX);
  const action = checkOneOf(spec.action, `${ctx}: action for ${mb.kind} middlebox ${q(mb.name)}`, ACTIONS_BY_KIND[mb.kind]);
  const match = parseMiddleboxMatch(spec.match ?? {}, RULE_MATCH_FIELDS, ctx);
  const to = spec.to === undefined ? undefined : parseNatTarget(spec.to, `${ctx}: to`);
  const backends = spec.backends === undefined ? [] : parseBackends(spec.backends, ctx);
  const record: MiddleboxRuleRecord = { dp: mb.dp, key: 0, mb: mb.key, name, priority, action, match, toIp: to?.ip ?? 0, toPorts: to?.ports ?? NO_PORTS, backends };
  checkComplete(mb, record, ctx);
  const created = { ...record, key: st.allocateMiddleboxRuleKey(mb.dp) };
  st.putMiddleboxRule(created);
  return created;
}

export function updateMiddleboxRule(st: ModelState, name: string, update: MiddleboxRuleUpdate): MiddleboxRuleRecord {
  const old = st.middleboxRuleNamed(name);
  checkFields(update, ['name', 'priority', 'action', 'match', 'to', 'backends'], `updateMiddleboxRule ${q(name)}`);
  const ctx = `middlebox rule ${q(name)}`;
  const mb = st.middleboxAt(old.dp, old.mb)!;
  checkKindFields(mb, update, ctx);
  const newName = update.name === undefined ? old.name : checkName(update.name, 'middlebox rule name');
  if (newName !== old.name && st.nameTaken('middlebox rule', newName)) throw new Error(`middlebox rule ${q(newName)} already exists`);
  const priority = update.priority === undefined ? old.priority : checkInteger(update.priority, `${ctx}: priority`, MIDDLEBOX_PRIORITY_MIN, MIDDLEBOX_PRIORITY_MAX);
  const action = update.action === undefined ? old.action : checkOneOf(update.action, `${ctx}: action for ${mb.kind} middlebox ${q(mb.name)}`, ACTIONS_BY_KIND[mb.kind]);
  const match = update.match === undefined ? old.match : parseMiddleboxMatch(update.match, RULE_MATCH_FIELDS, ctx);
  const to = update.to === undefined ? undefined : parseNatTarget(update.to, `${ctx}: to`);
  const backends = update.backends === undefined ? old.backends : parseBackends(update.backends, ctx);
  const record: MiddleboxRuleRecord = { ...old, name: newName, priority, action, match, toIp: to?.ip ?? old.toIp, toPorts: to?.ports ?? old.toPorts, backends };
  checkComplete(mb, record, ctx);
  st.putMiddleboxRule(record);
  return record;
}

export function deleteMiddleboxRule(st: ModelState, name: string): void {
  const old = st.middleboxRuleNamed(name);
  st.removeMiddleboxRule(entityId.middleboxRule(old.dp, old.key));
}

/** Fields that only another kind's rules use are errors, even when empty. */
function checkKindFields(mb: MiddleboxRecord, input: { to?: unknown; backends?: unknown }, ctx: string): void {
  if (input.to !== undefined && mb.kind !== 'nat') throw new Error(`${ctx}: 'to' is for nat rules, and ${q(mb.name)} is a ${mb.kind} middlebox`);
  if (input.backends !== undefined && mb.kind !== 'lb') throw new Error(`${ctx}: backends are for lb rules, and ${q(mb.name)} is a ${mb.kind} middlebox`);
}

/** What a rule of the kind needs: a NAT target (for snat, one its replies can find the way back from), or a VIP match and a pool. */
function checkComplete(mb: MiddleboxRecord, r: MiddleboxRuleRecord, ctx: string): void {
  if (mb.kind === 'nat' && r.toIp === 0) throw new Error(`${ctx}: a ${r.action} rule needs 'to' ("ip", "ip:port" or "ip:low-high")`);
  if (r.action === 'snat') checkSnat(mb, r, ctx);
  if (mb.kind === 'lb') {
    checkVip(r.match, ctx);
    if (r.backends.length === 0) throw new Error(`${ctx}: an lb rule needs at least one backend "ip:port"`);
  }
}

/**
 * Distributed SNAT routes a reply by the port block of the address it answers (sim/middlebox/snat-blocks.ts),
 * so an snat rule sits on a router, names TCP or UDP (ports to translate), a source prefix, and a port range
 * that gives each of the prefix's addresses at least one port.
 */
function checkSnat(mb: MiddleboxRecord, r: MiddleboxRuleRecord, ctx: string): void {
  if (mb.wirePort !== 0) throw new Error(`${ctx}: snat rules belong on a router middlebox (the router routes their replies back), and ${q(mb.name)} sits on a wire`);
  if (!isTransportProto(r.match.ipProto)) throw new Error(`${ctx}: an snat rule's match needs ipProto tcp or udp`);
  if (r.match.ipSrc.len === 0) throw new Error(`${ctx}: an snat rule's match needs ipSrc, the prefix whose addresses share the ports`);
  const [low, high] = r.toPorts;
  if (low === 0) throw new Error(`${ctx}: an snat rule needs a port range in 'to' ("ip:low-high")`);
  const range = { srcPrefix: r.match.ipSrc, portMin: low, portMax: high };
  if (snatBlockSize(range) < 1) {
    throw new Error(`${ctx}: ports ${low}-${high} leave no port for each of the ${2 ** (32 - r.match.ipSrc.len)} addresses of ipSrc /${r.match.ipSrc.len}: narrow the prefix or widen the range`);
  }
}

/** An lb rule's match names one VIP: a single address, TCP or UDP, and a single port. */
function checkVip(m: MiddleboxMatchRecord, ctx: string): void {
  if (m.ipDst.len !== 32) throw new Error(`${ctx}: an lb rule's match needs ipDst as a single address (the VIP)`);
  if (!isTransportProto(m.ipProto)) throw new Error(`${ctx}: an lb rule's match needs ipProto tcp or udp`);
  if (m.l4Dst[0] !== m.l4Dst[1]) throw new Error(`${ctx}: an lb rule's match needs l4Dst as a single port`);
}
