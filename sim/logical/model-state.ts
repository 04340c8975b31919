// The logical model's state: every entity record, the indexes that keep validation cheap (names, VIF
// bindings, MACs and IPs per switch, children per datapath) and the key allocators, all journaled so a
// failed call or transaction rolls back completely. Every mutation goes through a put/remove method here,
// which also tells the change tracker, so no caller can change state without producing its deltas.
// Owns storage and indexes; not validation (the *-ops.ts files), which must finish before it mutates.

import { ChangeTracker } from './change-tracker.ts';
import {
  ACL_KEY_MAX,
  ACL_KEY_MIN,
  DATAPATH_KEY_MAX,
  DATAPATH_KEY_MIN,
  MIDDLEBOX_KEY_MAX,
  MIDDLEBOX_KEY_MIN,
  MIDDLEBOX_TAG_MAX,
  MIDDLEBOX_TAG_MIN,
  PORT_KEY_MAX,
  PORT_KEY_MIN,
  entityId,
  type AclRecord,
  type MiddleboxPolicyRecord,
  type MiddleboxRecord,
  type MiddleboxRuleRecord,
  type RouterPortRecord,
  type RouterRecord,
  type StaticRouteRecord,
  type SwitchPortRecord,
  type SwitchRecord,
} from './entities.ts';
import {
  aclFacts,
  middleboxFacts,
  middleboxPolicyFacts,
  middleboxRuleFacts,
  routerFacts,
  routerPortFacts,
  staticRouteFacts,
  switchFacts,
  switchPortFacts,
} from './entity-tuples.ts';
import { q } from './input-checks.ts';
import { Journal, JournaledGroups, JournaledMap } from './journal.ts';
import { KeyAllocator } from './key-allocator.ts';
import type { Fact } from './relations.ts';

export class ModelState {
  readonly journal = new Journal();
  readonly changes = new ChangeTracker();

  private readonly datapathKeys = new KeyAllocator(this.journal, 'datapath key', DATAPATH_KEY_MIN, DATAPATH_KEY_MAX);
  private readonly portKeys = new JournaledMap<number, KeyAllocator>(this.journal);
  private readonly aclKeys = new JournaledMap<number, KeyAllocator>(this.journal);
  private readonly middleboxKeys = new JournaledMap<number, KeyAllocator>(this.journal);
  private readonly middleboxPolicyKeys = new JournaledMap<number, KeyAllocator>(this.journal);
  private readonly middleboxRuleKeys = new JournaledMap<number, KeyAllocator>(this.journal);
  /** Never released: a tag names one middlebox for the life of the world (seed 001 §1.2 slice ids). */
  private readonly middleboxTags = new KeyAllocator(this.journal, 'middlebox tag', MIDDLEBOX_TAG_MIN, MIDDLEBOX_TAG_MAX);

  readonly switches = new JournaledMap<number, SwitchRecord>(this.journal);
  readonly routers = new JournaledMap<number, RouterRecord>(this.journal);
  /** Keyed by entity id (entities.ts). */
  readonly switchPorts = new JournaledMap<string, SwitchPortRecord>(this.journal);
  readonly routerPorts = new JournaledMap<string, RouterPortRecord>(this.journal);
  readonly routes = new JournaledMap<string, StaticRouteRecord>(this.journal);
  readonly acls = new JournaledMap<string, AclRecord>(this.journal);
  readonly middleboxes = new JournaledMap<string, MiddleboxRecord>(this.journal);
  readonly middleboxPolicies = new JournaledMap<string, MiddleboxPolicyRecord>(this.journal);
  readonly middleboxRules = new JournaledMap<string, MiddleboxRuleRecord>(this.journal);

  private readonly switchByName = new JournaledMap<string, number>(this.journal);
  private readonly routerByName = new JournaledMap<string, number>(this.journal);
  private readonly switchPortByName = new JournaledMap<string, string>(this.journal);
  private readonly routerPortByName = new JournaledMap<string, string>(this.journal);
  private readonly aclByName = new JournaledMap<string, string>(this.journal);
  private readonly middleboxByName = new JournaledMap<string, string>(this.journal);
  private readonly middleboxPolicyByName = new JournaledMap<string, string>(this.journal);
  private readonly middleboxRuleByName = new JournaledMap<string, string>(this.journal);
  /** `${dp}/${port}` of a VIF port → the id of the middlebox on its wire. */
  private readonly wireOwner = new JournaledMap<string, string>(this.journal);
  /** iface-id → switch port id. */
  private readonly vifOwner = new JournaledMap<string, string>(this.journal);
  /** `${dp}/${mac}` and `${dp}/${ip}` → switch port id: MACs and IPs are unique within one switch. */
  private readonly macOwner = new JournaledMap<string, string>(this.journal);
  private readonly ipOwner = new JournaledMap<string, string>(this.journal);
  /** Per datapath: its port ids (switch or router ports), ACL ids and route ids. */
  readonly portsOf = new JournaledGroups<number, string>(this.journal);
  readonly aclsOf = new JournaledGroups<number, string>(this.journal);
  readonly routesOf = new JournaledGroups<number, string>(this.journal);
  /** Per datapath: its middlebox ids. Per middlebox id: its policy ids and rule ids. */
  readonly middleboxesOf = new JournaledGroups<number, string>(this.journal);
  readonly policiesOf = new JournaledGroups<string, string>(this.journal);
  readonly rulesOf = new JournaledGroups<string, string>(this.journal);

  // ---- lookups -------------------------------------------------------------------------------------

  findSwitch(name: string): SwitchRecord | undefined {
    const dp = this.switchByName.get(name);
    return dp === undefined ? undefined : this.switches.get(dp);
  }

  findRouter(name: string): RouterRecord | undefined {
    const dp = this.routerByName.get(name);
    return dp === undefined ? undefined : this.routers.get(dp);
  }

  findSwitchPort(name: string): SwitchPortRecord | undefined {
    const id = this.switchPortByName.get(name);
    return id === undefined ? undefined : this.switchPorts.get(id);
  }

  findRouterPort(name: string): RouterPortRecord | undefined {
    const id = this.routerPortByName.get(name);
    return id === undefined ? undefined : this.routerPorts.get(id);
  }

  findAcl(name: string): AclRecord | undefined {
    const id = this.aclByName.get(name);
    return id === undefined ? undefined : this.acls.get(id);
  }

  findMiddlebox(name: string): MiddleboxRecord | undefined {
    const id = this.middleboxByName.get(name);
    return id === undefined ? undefined : this.middleboxes.get(id);
  }

  findMiddleboxPolicy(name: string): MiddleboxPolicyRecord | undefined {
    const id = this.middleboxPolicyByName.get(name);
    return id === undefined ? undefined : this.middleboxPolicies.get(id);
  }

  findMiddleboxRule(name: string): MiddleboxRuleRecord | undefined {
    const id = this.middleboxRuleByName.get(name);
    return id === undefined ? undefined : this.middleboxRules.get(id);
  }

  switchNamed(name: string): SwitchRecord {
    const s = this.findSwitch(name);
    if (s === undefined) throw new Error(`unknown logical switch ${q(name)}`);
    return s;
  }

  routerNamed(name: string): RouterRecord {
    const r = this.findRouter(name);
    if (r === undefined) throw new Error(`unknown logical router ${q(name)}`);
    return r;
  }

  switchPortNamed(name: string): SwitchPortRecord {
    const p = this.findSwitchPort(name);
    if (p === undefined) throw new Error(`unknown logical switch port ${q(name)}`);
    return p;
  }

  routerPortNamed(name: string): RouterPortRecord {
    const p = this.findRouterPort(name);
    if (p === undefined) throw new Error(`unknown logical router port ${q(name)}`);
    return p;
  }

  aclNamed(name: string): AclRecord {
    const a = this.findAcl(name);
    if (a === undefined) throw new Error(`unknown ACL ${q(name)}`);
    return a;
  }

  middleboxNamed(name: string): MiddleboxRecord {
    const m = this.findMiddlebox(name);
    if (m === undefined) throw new Error(`unknown middlebox ${q(name)}`);
    return m;
  }

  middleboxPolicyNamed(name: string): MiddleboxPolicyRecord {
    const p = this.findMiddleboxPolicy(name);
    if (p === undefined) throw new Error(`unknown middlebox policy ${q(name)}`);
    return p;
  }

  middleboxRuleNamed(name: string): MiddleboxRuleRecord {
    const r = this.findMiddleboxRule(name);
    if (r === undefined) throw new Error(`unknown middlebox rule ${q(name)}`);
    return r;
  }

  middleboxAt(dp: number, key: number): MiddleboxRecord | undefined {
    return this.middleboxes.get(entityId.middlebox(dp, key));
  }

  /** The middlebox inline on the wire of switch port (dp, port), if any. */
  middleboxOnWire(dp: number, port: number): MiddleboxRecord | undefined {
    const id = this.wireOwner.get(`${dp}/${port}`);
    return id === undefined ? undefined : this.middleboxes.get(id);
  }

  switchPortAt(dp: number, port: number): SwitchPortRecord | undefined {
    return this.switchPorts.get(entityId.switchPort(dp, port));
  }

  routerPortAt(dp: number, port: number): RouterPortRecord | undefined {
    return this.routerPorts.get(entityId.routerPort(dp, port));
  }

  /** Which switch port (id) owns `mac` / `ip` on switch `dp`, if any. */
  macOwnerOf(dp: number, mac: number): string | undefined {
    return this.macOwner.get(`${dp}/${mac}`);
  }

  ipOwnerOf(dp: number, ip: number): string | undefined {
    return this.ipOwner.get(`${dp}/${ip}`);
  }

  vifOwnerOf(vifId: string): SwitchPortRecord | undefined {
    const id = this.vifOwner.get(vifId);
    return id === undefined ? undefined : this.switchPorts.get(id);
  }

  /** Whether an entity of `kind` already uses `name` (each kind has its own names). */
  nameTaken(kind: 'switch' | 'router' | 'switch port' | 'router port' | 'ACL' | 'middlebox' | 'middlebox policy' | 'middlebox rule', name: string): boolean {
    switch (kind) {
      case 'switch':
        return this.switchByName.has(name);
      case 'router':
        return this.routerByName.has(name);
      case 'switch port':
        return this.switchPortByName.has(name);
      case 'router port':
        return this.routerPortByName.has(name);
      case 'ACL':
        return this.aclByName.has(name);
      case 'middlebox':
        return this.middleboxByName.has(name);
      case 'middlebox policy':
        return this.middleboxPolicyByName.has(name);
      case 'middlebox rule':
        return this.middleboxRuleByName.has(name);
    }
  }

  // ---- keys ----------------------------------------------------------------------------------------

  allocateDatapathKey(): number {
    const dp = this.datapathKeys.allocate();
    this.portKeys.set(dp, new KeyAllocator(this.journal, `port key on datapath ${dp}`, PORT_KEY_MIN, PORT_KEY_MAX));
    this.aclKeys.set(dp, new KeyAllocator(this.journal, `ACL key on datapath ${dp}`, ACL_KEY_MIN, ACL_KEY_MAX));
    this.middleboxKeys.set(dp, new KeyAllocator(this.journal, `middlebox key on datapath ${dp}`, MIDDLEBOX_KEY_MIN, MIDDLEBOX_KEY_MAX));
    this.middleboxPolicyKeys.set(dp, new KeyAllocator(this.journal, `middlebox policy key on datapath ${dp}`, MIDDLEBOX_KEY_MIN, MIDDLEBOX_KEY_MAX));
    this.middleboxRuleKeys.set(dp, new KeyAllocator(this.journal, `middlebox rule key on datapath ${dp}`, MIDDLEBOX_KEY_MIN, MIDDLEBOX_KEY_MAX));
    return dp;
  }

  allocatePortKey(dp: number): number {
    return this.portKeys.get(dp)!.allocate();
  }

  allocateAclKey(dp: number): number {
    return this.aclKeys.get(dp)!.allocate();
  }

  allocateMiddleboxKey(dp: number): number {
    return this.middleboxKeys.get(dp)!.allocate();
  }

  allocateMiddleboxPolicyKey(dp: number): number {
    return this.middleboxPolicyKeys.get(dp)!.allocate();
  }

  allocateMiddleboxRuleKey(dp: number): number {
    return this.middleboxRuleKeys.get(dp)!.allocate();
  }

  allocateMiddleboxTag(): number {
    return this.middleboxTags.allocate();
  }

  private releaseDatapath(dp: number): void {
    this.datapathKeys.release(dp);
    this.portKeys.delete(dp);
    this.aclKeys.delete(dp);
    this.middleboxKeys.delete(dp);
    this.middleboxPolicyKeys.delete(dp);
    this.middleboxRuleKeys.delete(dp);
  }

  // ---- mutations (each tells the change tracker first) ---------------------------------------------

  putSwitch(s: SwitchRecord): void {
    const old = this.touch(entityId.switch(s.dp), this.switches.get(s.dp), switchFacts);
    if (old !== undefined && old.name !== s.name) this.switchByName.delete(old.name);
    this.switches.set(s.dp, Object.freeze(s));
    this.switchByName.set(s.name, s.dp);
  }

  removeSwitch(dp: number): void {
    const old = this.touch(entityId.switch(dp), this.switches.get(dp), switchFacts)!;
    this.switches.delete(dp);
    this.switchByName.delete(old.name);
    this.releaseDatapath(dp);
  }

  putRouter(r: RouterRecord): void {
    const old = this.touch(entityId.router(r.dp), this.routers.get(r.dp), routerFacts);
    if (old !== undefined && old.name !== r.name) this.routerByName.delete(old.name);
    this.routers.set(r.dp, Object.freeze(r));
    this.routerByName.set(r.name, r.dp);
  }

  removeRouter(dp: number): void {
    const old = this.touch(entityId.router(dp), this.routers.get(dp), routerFacts)!;
    this.routers.delete(dp);
    this.routerByName.delete(old.name);
    this.releaseDatapath(dp);
  }

  putSwitchPort(p: SwitchPortRecord): void {
    const id = entityId.switchPort(p.dp, p.port);
    const old = this.touch(id, this.switchPorts.get(id), switchPortFacts);
    if (old !== undefined) this.unindexSwitchPort(old);
    this.switchPorts.set(id, Object.freeze(p));
    this.switchPortByName.set(p.name, id);
    if (p.vifId !== undefined) this.vifOwner.set(p.vifId, id);
    for (const e of p.addresses) {
      this.macOwner.set(`${p.dp}/${e.mac}`, id);
      for (const ip of e.ips) this.ipOwner.set(`${p.dp}/${ip}`, id);
    }
    this.portsOf.add(p.dp, id);
  }

  removeSwitchPort(dp: number, port: number): void {
    const id = entityId.switchPort(dp, port);
    const old = this.touch(id, this.switchPorts.get(id), switchPortFacts)!;
    this.unindexSwitchPort(old);
    this.switchPorts.delete(id);
    this.portsOf.delete(dp, id);
    this.portKeys.get(dp)!.release(port);
  }

  private unindexSwitchPort(p: SwitchPortRecord): void {
    this.switchPortByName.delete(p.name);
    if (p.vifId !== undefined) this.vifOwner.delete(p.vifId);
    for (const e of p.addresses) {
      this.macOwner.delete(`${p.dp}/${e.mac}`);
      for (const ip of e.ips) this.ipOwner.delete(`${p.dp}/${ip}`);
    }
  }

  putRouterPort(p: RouterPortRecord): void {
    const id = entityId.routerPort(p.dp, p.port);
    const old = this.touch(id, this.routerPorts.get(id), routerPortFacts);
    if (old !== undefined) this.routerPortByName.delete(old.name);
    this.routerPorts.set(id, Object.freeze(p));
    this.routerPortByName.set(p.name, id);
    this.portsOf.add(p.dp, id);
  }

  removeRouterPort(dp: number, port: number): void {
    const id = entityId.routerPort(dp, port);
    const old = this.touch(id, this.routerPorts.get(id), routerPortFacts)!;
    this.routerPortByName.delete(old.name);
    this.routerPorts.delete(id);
    this.portsOf.delete(dp, id);
    this.portKeys.get(dp)!.release(port);
  }

  putRoute(r: StaticRouteRecord): void {
    const id = entityId.route(r.dp, r.prefix);
    this.touch(id, this.routes.get(id), staticRouteFacts);
    this.routes.set(id, Object.freeze(r));
    this.routesOf.add(r.dp, id);
  }

  removeRoute(id: string): void {
    const old = this.touch(id, this.routes.get(id), staticRouteFacts)!;
    this.routes.delete(id);
    this.routesOf.delete(old.dp, id);
  }

  putAcl(a: AclRecord): void {
    const id = entityId.acl(a.dp, a.key);
    const old = this.touch(id, this.acls.get(id), aclFacts);
    if (old !== undefined) this.aclByName.delete(old.name);
    this.acls.set(id, Object.freeze(a));
    this.aclByName.set(a.name, id);
    this.aclsOf.add(a.dp, id);
  }

  removeAcl(id: string): void {
    const old = this.touch(id, this.acls.get(id), aclFacts)!;
    this.acls.delete(id);
    this.aclByName.delete(old.name);
    this.aclsOf.delete(old.dp, id);
    this.aclKeys.get(old.dp)!.release(old.key);
  }

  putMiddlebox(m: MiddleboxRecord): void {
    const id = entityId.middlebox(m.dp, m.key);
    const old = this.touch(id, this.middleboxes.get(id), middleboxFacts);
    if (old !== undefined) this.middleboxByName.delete(old.name);
    this.middleboxes.set(id, Object.freeze(m));
    this.middleboxByName.set(m.name, id);
    if (m.wirePort !== 0) this.wireOwner.set(`${m.dp}/${m.wirePort}`, id);
    this.middleboxesOf.add(m.dp, id);
  }

  /** Removes the middlebox (its policies and rules must be gone); its tag stays used for good. */
  removeMiddlebox(id: string): void {
    const old = this.touch(id, this.middleboxes.get(id), middleboxFacts)!;
    this.middleboxes.delete(id);
    this.middleboxByName.delete(old.name);
    if (old.wirePort !== 0) this.wireOwner.delete(`${old.dp}/${old.wirePort}`);
    this.middleboxesOf.delete(old.dp, id);
    this.middleboxKeys.get(old.dp)!.release(old.key);
  }

  putMiddleboxPolicy(p: MiddleboxPolicyRecord): void {
    const id = entityId.middleboxPolicy(p.dp, p.key);
    const old = this.touch(id, this.middleboxPolicies.get(id), middleboxPolicyFacts);
    if (old !== undefined) {
      this.middleboxPolicyByName.delete(old.name);
      this.policiesOf.delete(entityId.middlebox(old.dp, old.mb), id);
    }
    this.middleboxPolicies.set(id, Object.freeze(p));
    this.middleboxPolicyByName.set(p.name, id);
    this.policiesOf.add(entityId.middlebox(p.dp, p.mb), id);
  }

  removeMiddleboxPolicy(id: string): void {
    const old = this.touch(id, this.middleboxPolicies.get(id), middleboxPolicyFacts)!;
    this.middleboxPolicies.delete(id);
    this.middleboxPolicyByName.delete(old.name);
    this.policiesOf.delete(entityId.middlebox(old.dp, old.mb), id);
    this.middleboxPolicyKeys.get(old.dp)!.release(old.key);
  }

  putMiddleboxRule(r: MiddleboxRuleRecord): void {
    const id = entityId.middleboxRule(r.dp, r.key);
    const old = this.touch(id, this.middleboxRules.get(id), middleboxRuleFacts);
    if (old !== undefined) this.middleboxRuleByName.delete(old.name);
    this.middleboxRules.set(id, Object.freeze(r));
    this.middleboxRuleByName.set(r.name, id);
    this.rulesOf.add(entityId.middlebox(r.dp, r.mb), id);
  }

  removeMiddleboxRule(id: string): void {
    const old = this.touch(id, this.middleboxRules.get(id), middleboxRuleFacts)!;
    this.middleboxRules.delete(id);
    this.middleboxRuleByName.delete(old.name);
    this.rulesOf.delete(entityId.middlebox(old.dp, old.mb), id);
    this.middleboxRuleKeys.get(old.dp)!.release(old.key);
  }

  private touch<T>(id: string, current: T | undefined, facts: (record: T) => Fact[]): T | undefined {
    this.changes.touch(id, () => (current === undefined ? [] : facts(current)));
    return current;
  }

  // ---- relations -----------------------------------------------------------------------------------

  /** The current tuples of one entity (none if it no longer exists). */
  factsOf(id: string): Fact[] {
    const [kind, a, b] = id.split('/');
    switch (kind) {
      case 'ls': {
        const s = this.switches.get(Number(a));
        return s === undefined ? [] : switchFacts(s);
      }
      case 'lr': {
        const r = this.routers.get(Number(a));
        return r === undefined ? [] : routerFacts(r);
      }
      case 'lsp': {
        const p = this.switchPortAt(Number(a), Number(b));
        return p === undefined ? [] : switchPortFacts(p);
      }
      case 'lrp': {
        const p = this.routerPortAt(Number(a), Number(b));
        return p === undefined ? [] : routerPortFacts(p);
      }
      case 'route': {
        const r = this.routes.get(id);
        return r === undefined ? [] : staticRouteFacts(r);
      }
      case 'acl': {
        const x = this.acls.get(id);
        return x === undefined ? [] : aclFacts(x);
      }
      case 'mb': {
        const m = this.middleboxes.get(id);
        return m === undefined ? [] : middleboxFacts(m);
      }
      case 'mbp': {
        const p = this.middleboxPolicies.get(id);
        return p === undefined ? [] : middleboxPolicyFacts(p);
      }
      case 'mbr': {
        const r = this.middleboxRules.get(id);
        return r === undefined ? [] : middleboxRuleFacts(r);
      }
      default:
        throw new Error(`internal: bad entity id ${q(id)}`);
    }
  }

  /** Every current tuple, unordered. */
  allFacts(): Fact[] {
    const out: Fact[] = [];
    for (const s of this.switches.values()) out.push(...switchFacts(s));
    for (const r of this.routers.values()) out.push(...routerFacts(r));
    for (const p of this.switchPorts.values()) out.push(...switchPortFacts(p));
    for (const p of this.routerPorts.values()) out.push(...routerPortFacts(p));
    for (const r of this.routes.values()) out.push(...staticRouteFacts(r));
    for (const a of this.acls.values()) out.push(...aclFacts(a));
    for (const m of this.middleboxes.values()) out.push(...middleboxFacts(m));
    for (const p of this.middleboxPolicies.values()) out.push(...middleboxPolicyFacts(p));
    for (const r of this.middleboxRules.values()) out.push(...middleboxRuleFacts(r));
    return out;
  }
}
