// Create, update and delete of middlebox policies: the policy-routing rules of a logical router that send
// matching routed packets to a middlebox attached to it (seed 001 §1.7, §3 flow entry (a)). Owns the
// policy rules: unique names, priority 0..32767, router-attached middleboxes only, a policy stays on its
// router. The match syntax lives in middlebox-text.ts.

import type { MiddleboxPolicySpec, MiddleboxPolicyUpdate } from './api-types.ts';
import { entityId, MIDDLEBOX_PRIORITY_MAX, MIDDLEBOX_PRIORITY_MIN, type MiddleboxPolicyRecord, type MiddleboxRecord } from './entities.ts';
import { checkFields, checkInteger, checkName, q } from './input-checks.ts';
import { parseMiddleboxMatch, POLICY_MATCH_FIELDS } from './middlebox-text.ts';
import type { ModelState } from './model-state.ts';

export function createMiddleboxPolicy(st: ModelState, spec: MiddleboxPolicySpec): MiddleboxPolicyRecord {
  checkFields(spec, ['name', 'middlebox', 'priority', 'match'], 'createMiddleboxPolicy');
  const name = checkName(spec.name, 'middlebox policy name');
  if (st.nameTaken('middlebox policy', name)) throw new Error(`middlebox policy ${q(name)} already exists`);
  const ctx = `middlebox policy ${q(name)}`;
  const mb = attachedMiddlebox(st, spec.middlebox, ctx);
  const priority = checkInteger(spec.priority, `${ctx}: priority`, MIDDLEBOX_PRIORITY_MIN, MIDDLEBOX_PRIORITY_MAX);
  const match = parseMiddleboxMatch(spec.match ?? {}, POLICY_MATCH_FIELDS, ctx);
  const record: MiddleboxPolicyRecord = { dp: mb.dp, key: st.allocateMiddleboxPolicyKey(mb.dp), mb: mb.key, name, priority, match };
  st.putMiddleboxPolicy(record);
  return record;
}

export function updateMiddleboxPolicy(st: ModelState, name: string, update: MiddleboxPolicyUpdate): MiddleboxPolicyRecord {
  const old = st.middleboxPolicyNamed(name);
  checkFields(update, ['name', 'middlebox', 'priority', 'match'], `updateMiddleboxPolicy ${q(name)}`);
  const ctx = `middlebox policy ${q(name)}`;
  const newName = update.name === undefined ? old.name : checkName(update.name, 'middlebox policy name');
  if (newName !== old.name && st.nameTaken('middlebox policy', newName)) throw new Error(`middlebox policy ${q(newName)} already exists`);
  let mb = old.mb;
  if (update.middlebox !== undefined) {
    const target = attachedMiddlebox(st, update.middlebox, ctx);
    // The policy's key belongs to its router; moving it to another router would be a new policy.
    if (target.dp !== old.dp) {
      throw new Error(`${ctx}: middlebox ${q(target.name)} is on another router than ${q(st.routers.get(old.dp)!.name)}; create a policy there instead`);
    }
    mb = target.key;
  }
  const priority = update.priority === undefined ? old.priority : checkInteger(update.priority, `${ctx}: priority`, MIDDLEBOX_PRIORITY_MIN, MIDDLEBOX_PRIORITY_MAX);
  const match = update.match === undefined ? old.match : parseMiddleboxMatch(update.match, POLICY_MATCH_FIELDS, ctx);
  const record: MiddleboxPolicyRecord = { ...old, name: newName, mb, priority, match };
  st.putMiddleboxPolicy(record);
  return record;
}

export function deleteMiddleboxPolicy(st: ModelState, name: string): void {
  const old = st.middleboxPolicyNamed(name);
  st.removeMiddleboxPolicy(entityId.middleboxPolicy(old.dp, old.key));
}

/** Policies route to middleboxes attached to a router; an inline one already sees all its wire's traffic. */
function attachedMiddlebox(st: ModelState, name: unknown, ctx: string): MiddleboxRecord {
  const mb = typeof name === 'string' ? st.findMiddlebox(name) : undefined;
  if (mb === undefined) throw new Error(`${ctx}: unknown middlebox ${q(name)}`);
  if (mb.wirePort !== 0) throw new Error(`${ctx}: middlebox ${q(mb.name)} is inline on a wire; policies route to router-attached middleboxes only`);
  return mb;
}
