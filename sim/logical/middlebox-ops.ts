// Create, update and delete of logical middleboxes (seed 001 §1.7, §3). Owns the attachment rules: a
// middlebox is attached out of band to one router or sits inline on the wire of one 'vif' switch port;
// a router has at most one active (non-'ids') middlebox, since its policies must send a packet to one
// place, while passive 'ids' boxes only get copies; a wire carries at most one middlebox. Owns the tag
// rule too: allocated once, world-unique, never reused. Policies and rules live in their own files.

import type { DeleteOptions, MiddleboxSpec, MiddleboxUpdate } from './api-types.ts';
import { policiesOf, removeMiddleboxCascade, rulesOf } from './cascades.ts';
import type { MiddleboxRecord } from './entities.ts';
import { checkFields, checkName, checkOneOf, listNames, q } from './input-checks.ts';
import type { ModelState } from './model-state.ts';
import { MIDDLEBOX_KINDS } from '../middlebox/records.ts';

const DEFAULT_ACTIONS = ['allow', 'drop'] as const;

export function createMiddlebox(st: ModelState, spec: MiddleboxSpec): MiddleboxRecord {
  checkFields(spec, ['name', 'kind', 'router', 'wire', 'defaultAction'], 'createMiddlebox');
  const name = checkName(spec.name, 'middlebox name');
  if (st.nameTaken('middlebox', name)) throw new Error(`middlebox ${q(name)} already exists`);
  const ctx = `middlebox ${q(name)}`;
  const kind = checkOneOf(spec.kind, `${ctx}: kind`, MIDDLEBOX_KINDS);
  const defaultAction = checkDefaultAction(kind, spec.defaultAction ?? 'allow', ctx);
  if ((spec.router === undefined) === (spec.wire === undefined)) throw new Error(`${ctx}: give exactly one of router (attached) and wire (inline)`);
  let dp: number;
  let tenant: string;
  let wirePort = 0;
  if (spec.router !== undefined) {
    const router = st.routerNamed(spec.router);
    if (kind !== 'ids') {
      const active = st.middleboxesOf
        .members(router.dp)
        .map((id) => st.middleboxes.get(id)!)
        .find((m) => m.kind !== 'ids');
      if (active !== undefined) {
        throw new Error(`${ctx}: logical router ${q(router.name)} already has ${active.kind} middlebox ${q(active.name)} (one that is not 'ids' per router)`);
      }
    }
    [dp, tenant] = [router.dp, router.tenant];
  } else {
    const port = st.switchPortNamed(spec.wire!);
    if (port.type !== 'vif') throw new Error(`${ctx}: wire port ${q(port.name)} is a '${port.type}' port; inline middleboxes sit on 'vif' ports`);
    const taken = st.middleboxOnWire(port.dp, port.port);
    if (taken !== undefined) throw new Error(`${ctx}: the wire of port ${q(port.name)} already has middlebox ${q(taken.name)}`);
    [dp, tenant, wirePort] = [port.dp, st.switches.get(port.dp)!.tenant, port.port];
  }
  const record: MiddleboxRecord = { dp, key: st.allocateMiddleboxKey(dp), name, tenant, kind, tag: st.allocateMiddleboxTag(), defaultAction, wirePort };
  st.putMiddlebox(record);
  return record;
}

export function updateMiddlebox(st: ModelState, name: string, update: MiddleboxUpdate): MiddleboxRecord {
  const old = st.middleboxNamed(name);
  checkFields(update, ['name', 'defaultAction'], `updateMiddlebox ${q(name)}`);
  const ctx = `middlebox ${q(name)}`;
  const newName = update.name === undefined ? old.name : checkName(update.name, 'middlebox name');
  if (newName !== old.name && st.nameTaken('middlebox', newName)) throw new Error(`middlebox ${q(newName)} already exists`);
  const defaultAction = update.defaultAction === undefined ? old.defaultAction : checkDefaultAction(old.kind, update.defaultAction, ctx);
  const record: MiddleboxRecord = { ...old, name: newName, defaultAction };
  st.putMiddlebox(record);
  return record;
}

/** Deletes the middlebox; its policies and rules too with cascade, else it must have none. */
export function deleteMiddlebox(st: ModelState, name: string, options: DeleteOptions = {}): void {
  const old = st.middleboxNamed(name);
  checkFields(options, ['cascade'], `deleteMiddlebox ${q(name)}`);
  if (options.cascade !== true) {
    const policies = policiesOf(st, old).map((p) => p.name);
    const rules = rulesOf(st, old).map((r) => r.name);
    const dependents = [...(policies.length > 0 ? [`policy(ies) ${listNames(policies)}`] : []), ...(rules.length > 0 ? [`rule(s) ${listNames(rules)}`] : [])];
    if (dependents.length > 0) throw new Error(`middlebox ${q(name)} still has ${dependents.join(' and ')}; delete them first or pass { cascade: true }`);
  }
  removeMiddleboxCascade(st, old);
}

/** Only a firewall decides connections no rule matches; the other kinds pass those packets untouched. */
function checkDefaultAction(kind: MiddleboxRecord['kind'], value: unknown, ctx: string): 'allow' | 'drop' {
  const action = checkOneOf(value, `${ctx}: defaultAction`, DEFAULT_ACTIONS);
  if (action === 'drop' && kind !== 'firewall') throw new Error(`${ctx}: defaultAction 'drop' is for firewalls only (a ${kind} passes unmatched packets)`);
  return action;
}
