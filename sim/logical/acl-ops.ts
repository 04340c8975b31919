// Create, update and delete of ACLs on logical switches. Owns the ACL rules beside the match (see
// acl-match.ts): unique names, priority 0..32767, a known direction and action. The evaluation
// semantics (highest priority wins, ties toward the stricter action, default allow) are documented with
// the acl relation in relations.ts.

import type { AclSpec, AclUpdate } from './api-types.ts';
import { checkDirection, parseAclMatch } from './acl-match.ts';
import { ACL_PRIORITY_MAX, ACL_PRIORITY_MIN, entityId, type AclRecord } from './entities.ts';
import { checkFields, checkInteger, checkName, checkOneOf, q } from './input-checks.ts';
import type { ModelState } from './model-state.ts';
import type { AclAction, AclDirection } from './relations.ts';

const DIRECTIONS: readonly AclDirection[] = ['from-lport', 'to-lport'];
const ACTIONS: readonly AclAction[] = ['allow', 'allow-related', 'drop', 'reject'];

export function createAcl(st: ModelState, spec: AclSpec): AclRecord {
  checkFields(spec, ['name', 'switch', 'priority', 'direction', 'action', 'match'], 'createAcl');
  const name = checkName(spec.name, 'ACL name');
  if (st.nameTaken('ACL', name)) throw new Error(`ACL ${q(name)} already exists`);
  const sw = st.switchNamed(spec.switch);
  const ctx = `ACL ${q(name)}`;
  const priority = checkInteger(spec.priority, `${ctx}: priority`, ACL_PRIORITY_MIN, ACL_PRIORITY_MAX);
  const direction = checkOneOf(spec.direction, `${ctx}: direction`, DIRECTIONS);
  const action = checkOneOf(spec.action, `${ctx}: action`, ACTIONS);
  const match = parseAclMatch(st, sw, spec.match ?? {}, direction, ctx);
  const record: AclRecord = { dp: sw.dp, key: st.allocateAclKey(sw.dp), name, priority, direction, action, match };
  st.putAcl(record);
  return record;
}

export function updateAcl(st: ModelState, name: string, update: AclUpdate): AclRecord {
  const old = st.aclNamed(name);
  checkFields(update, ['name', 'priority', 'direction', 'action', 'match'], `updateAcl ${q(name)}`);
  const ctx = `ACL ${q(name)}`;
  const newName = update.name === undefined ? old.name : checkName(update.name, 'ACL name');
  if (newName !== old.name && st.nameTaken('ACL', newName)) throw new Error(`ACL ${q(newName)} already exists`);
  const priority = update.priority === undefined ? old.priority : checkInteger(update.priority, `${ctx}: priority`, ACL_PRIORITY_MIN, ACL_PRIORITY_MAX);
  const direction = update.direction === undefined ? old.direction : checkOneOf(update.direction, `${ctx}: direction`, DIRECTIONS);
  const action = update.action === undefined ? old.action : checkOneOf(update.action, `${ctx}: action`, ACTIONS);
  const sw = st.switches.get(old.dp)!;
  const match = update.match === undefined ? old.match : parseAclMatch(st, sw, update.match, direction, ctx);
  checkDirection(match, direction, ctx);
  const record: AclRecord = { ...old, name: newName, priority, direction, action, match };
  st.putAcl(record);
  return record;
}

export function deleteAcl(st: ModelState, name: string): void {
  const old = st.aclNamed(name);
  st.removeAcl(entityId.acl(old.dp, old.key));
}
