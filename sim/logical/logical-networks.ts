// The logical control plane (LCP) API: what a tenant (or a scenario acting for one) calls to describe
// logical networks — switches, ports, routers, router ports, static routes, ACLs, and the middlebox API
// (middleboxes, their policies and rules; seed 001 §3) — and what the
// controller subscribes to, as relation deltas (relations.ts). Owns call atomicity, transactions, and
// delivery of change sets; the rules of each entity live in the *-ops.ts files. Knows nothing of the
// controller or the data plane (only headers.ts's address parsing).
//
// Every call validates its input and either applies completely or throws a one-line Error naming the
// problem, with nothing changed (not even a key allocator's position). `transaction(fn)` makes a group of
// calls all-or-nothing. After each successful outermost call or transaction, subscribers receive its net
// change set: deletes (children first), then inserts (parents first), each relation's tuples sorted, so
// the same calls always give the same deltas. Everything is synchronous; there is no hidden state
// between instances.

import { createAcl, deleteAcl, updateAcl } from './acl-ops.ts';
import type {
  AclSpec,
  AclUpdate,
  AclView,
  DeleteOptions,
  LogicalRouterPortView,
  LogicalRouterView,
  LogicalSwitchPortView,
  LogicalSwitchView,
  MiddleboxPolicySpec,
  MiddleboxPolicyUpdate,
  MiddleboxPolicyView,
  MiddleboxRuleSpec,
  MiddleboxRuleUpdate,
  MiddleboxRuleView,
  MiddleboxSpec,
  MiddleboxUpdate,
  MiddleboxView,
  RouterConnectSpec,
  RouterPortUpdate,
  RouterSpec,
  RouterUpdate,
  StaticRouteSpec,
  StaticRouteUpdate,
  StaticRouteView,
  SwitchPortSpec,
  SwitchPortUpdate,
  SwitchSpec,
  SwitchUpdate,
} from './api-types.ts';
import { parsePrefix } from './address-text.ts';
import { orderFacts } from './change-tracker.ts';
import { createRouter, createSwitch, deleteRouter, deleteSwitch, updateRouter, updateSwitch } from './datapath-ops.ts';
import { entityId, type MiddleboxRecord } from './entities.ts';
import { byName, oneLine, q } from './input-checks.ts';
import { createMiddlebox, deleteMiddlebox, updateMiddlebox } from './middlebox-ops.ts';
import { createMiddleboxPolicy, deleteMiddleboxPolicy, updateMiddleboxPolicy } from './middlebox-policy-ops.ts';
import { createMiddleboxRule, deleteMiddleboxRule, updateMiddleboxRule } from './middlebox-rule-ops.ts';
import { ModelState } from './model-state.ts';
import { RELATION_ORDER, type Delta, type Snapshot } from './relations.ts';
import { connectRouter, deleteRouterPort, updateRouterPort } from './router-port-ops.ts';
import { createStaticRoute, deleteStaticRoute, updateStaticRoute } from './static-route-ops.ts';
import { bindPort, createSwitchPort, deleteSwitchPort, unbindPort, updateSwitchPort } from './switch-port-ops.ts';
import { middleboxesOn, policiesOf, rulesOf } from './cascades.ts';
import {
  aclView,
  compareRoutes,
  middleboxPolicyView,
  middleboxRuleView,
  middleboxView,
  routerPortView,
  routerView,
  staticRouteView,
  switchPortView,
  switchView,
} from './views.ts';

/** Receives one committed change set (never empty). */
export type ChangeListener = (changes: readonly Delta[]) => void;

export class LogicalNetworks {
  private readonly st = new ModelState();
  /** Nesting depth of apply(): 0 outside any call. */
  private depth = 0;
  private readonly listeners: ChangeListener[] = [];
  private readonly outbox: (readonly Delta[])[] = [];
  private delivering = false;

  // ---- logical switches ----------------------------------------------------------------------------

  /** Creates a logical switch (an LDPS) with a fresh datapath key. */
  createSwitch(spec: SwitchSpec): LogicalSwitchView {
    return this.apply(() => switchView(this.st, createSwitch(this.st, spec)));
  }

  /** Renames the switch or sets/clears its subnet (every port IP must fit the new subnet). */
  updateSwitch(name: string, update: SwitchUpdate): LogicalSwitchView {
    return this.apply(() => switchView(this.st, updateSwitch(this.st, name, update)));
  }

  /** Deletes the switch and its ACLs; a switch with ports (or middleboxes on their wires) needs { cascade: true }. */
  deleteSwitch(name: string, options?: DeleteOptions): void {
    this.apply(() => deleteSwitch(this.st, name, options));
  }

  getSwitch(name: string): LogicalSwitchView | undefined {
    const s = this.st.findSwitch(name);
    return s === undefined ? undefined : switchView(this.st, s);
  }

  /** Every switch, by name. */
  switches(): LogicalSwitchView[] {
    return [...this.st.switches.values()].sort(byName).map((s) => switchView(this.st, s));
  }

  // ---- logical switch ports ------------------------------------------------------------------------

  /** Creates a 'vif' or 'localnet' port with a fresh port key on its switch. */
  createSwitchPort(spec: SwitchPortSpec): LogicalSwitchPortView {
    return this.apply(() => switchPortView(this.st, createSwitchPort(this.st, spec)));
  }

  /** Renames the port or replaces its addresses, port security, or (localnet) network and gateway. */
  updateSwitchPort(name: string, update: SwitchPortUpdate): LogicalSwitchPortView {
    return this.apply(() => switchPortView(this.st, updateSwitchPort(this.st, name, update)));
  }

  /** Deletes the port; ACLs naming it, a middlebox on its wire or a router peer need { cascade: true } (and go too). */
  deleteSwitchPort(name: string, options?: DeleteOptions): void {
    this.apply(() => deleteSwitchPort(this.st, name, options));
  }

  /** Binds an unbound 'vif' port to the VIF with interface id `vifId` (which no other port is bound to). */
  bindPort(name: string, vifId: string): LogicalSwitchPortView {
    return this.apply(() => switchPortView(this.st, bindPort(this.st, name, vifId)));
  }

  /** Removes a port's VIF binding. */
  unbindPort(name: string): LogicalSwitchPortView {
    return this.apply(() => switchPortView(this.st, unbindPort(this.st, name)));
  }

  getSwitchPort(name: string): LogicalSwitchPortView | undefined {
    const p = this.st.findSwitchPort(name);
    return p === undefined ? undefined : switchPortView(this.st, p);
  }

  /** The switch ports (of one switch, or all), by name. */
  switchPorts(switchName?: string): LogicalSwitchPortView[] {
    const records =
      switchName === undefined ? [...this.st.switchPorts.values()] : this.st.portsOf.members(this.st.switchNamed(switchName).dp).map((id) => this.st.switchPorts.get(id)!);
    return records.sort(byName).map((p) => switchPortView(this.st, p));
  }

  /** The port bound to VIF `vifId`, if any. */
  portByVif(vifId: string): LogicalSwitchPortView | undefined {
    const p = this.st.vifOwnerOf(vifId);
    return p === undefined ? undefined : switchPortView(this.st, p);
  }

  // ---- logical routers and router ports ------------------------------------------------------------

  /** Creates a logical router (an LDPS) with a fresh datapath key. */
  createRouter(spec: RouterSpec): LogicalRouterView {
    return this.apply(() => routerView(this.st, createRouter(this.st, spec)));
  }

  /** Renames the router. */
  updateRouter(name: string, update: RouterUpdate): LogicalRouterView {
    return this.apply(() => routerView(this.st, updateRouter(this.st, name, update)));
  }

  /** Deletes the router and its static routes; a router with ports or middleboxes needs { cascade: true }. */
  deleteRouter(name: string, options?: DeleteOptions): void {
    this.apply(() => deleteRouter(this.st, name, options));
  }

  getRouter(name: string): LogicalRouterView | undefined {
    const r = this.st.findRouter(name);
    return r === undefined ? undefined : routerView(this.st, r);
  }

  routers(): LogicalRouterView[] {
    return [...this.st.routers.values()].sort(byName).map((r) => routerView(this.st, r));
  }

  /** Creates a router port and its 'router'-type peer port on the switch, in one step. */
  connectRouter(spec: RouterConnectSpec): LogicalRouterPortView {
    return this.apply(() => routerPortView(this.st, connectRouter(this.st, spec)));
  }

  /** Renames the router port or changes its MAC or address/prefix (the switch side follows). */
  updateRouterPort(name: string, update: RouterPortUpdate): LogicalRouterPortView {
    return this.apply(() => routerPortView(this.st, updateRouterPort(this.st, name, update)));
  }

  /** Deletes the router port and its switch-side peer; routes or ACLs depending on them need { cascade: true }. */
  deleteRouterPort(name: string, options?: DeleteOptions): void {
    this.apply(() => deleteRouterPort(this.st, name, options));
  }

  getRouterPort(name: string): LogicalRouterPortView | undefined {
    const p = this.st.findRouterPort(name);
    return p === undefined ? undefined : routerPortView(this.st, p);
  }

  routerPorts(routerName?: string): LogicalRouterPortView[] {
    const records =
      routerName === undefined ? [...this.st.routerPorts.values()] : this.st.portsOf.members(this.st.routerNamed(routerName).dp).map((id) => this.st.routerPorts.get(id)!);
    return records.sort(byName).map((p) => routerPortView(this.st, p));
  }

  // ---- static routes -------------------------------------------------------------------------------

  createStaticRoute(spec: StaticRouteSpec): StaticRouteView {
    return this.apply(() => staticRouteView(this.st, createStaticRoute(this.st, spec)));
  }

  /** Changes the next hop and/or output port of the router's route for `prefix`. */
  updateStaticRoute(router: string, prefix: string, update: StaticRouteUpdate): StaticRouteView {
    return this.apply(() => staticRouteView(this.st, updateStaticRoute(this.st, router, prefix, update)));
  }

  deleteStaticRoute(router: string, prefix: string): void {
    this.apply(() => deleteStaticRoute(this.st, router, prefix));
  }

  getStaticRoute(router: string, prefix: string): StaticRouteView | undefined {
    const r = this.st.findRouter(router);
    if (r === undefined) return undefined;
    let id: string;
    try {
      id = entityId.route(r.dp, parsePrefix(prefix, 'prefix'));
    } catch {
      return undefined;
    }
    const route = this.st.routes.get(id);
    return route === undefined ? undefined : staticRouteView(this.st, route);
  }

  /** Static routes (of one router, or all by router name), longest prefix first. */
  staticRoutes(routerName?: string): StaticRouteView[] {
    const routers = routerName === undefined ? [...this.st.routers.values()].sort(byName) : [this.st.routerNamed(routerName)];
    return routers.flatMap((r) =>
      this.st.routesOf
        .members(r.dp)
        .map((id) => this.st.routes.get(id)!)
        .sort(compareRoutes)
        .map((x) => staticRouteView(this.st, x)),
    );
  }

  // ---- ACLs ----------------------------------------------------------------------------------------

  createAcl(spec: AclSpec): AclView {
    return this.apply(() => aclView(this.st, createAcl(this.st, spec)));
  }

  /** Changes any of name, priority, direction, action, or the whole match. */
  updateAcl(name: string, update: AclUpdate): AclView {
    return this.apply(() => aclView(this.st, updateAcl(this.st, name, update)));
  }

  deleteAcl(name: string): void {
    this.apply(() => deleteAcl(this.st, name));
  }

  getAcl(name: string): AclView | undefined {
    const a = this.st.findAcl(name);
    return a === undefined ? undefined : aclView(this.st, a);
  }

  /** ACLs (of one switch, or all), by name. */
  acls(switchName?: string): AclView[] {
    const records = switchName === undefined ? [...this.st.acls.values()] : this.st.aclsOf.members(this.st.switchNamed(switchName).dp).map((id) => this.st.acls.get(id)!);
    return records.sort(byName).map((a) => aclView(this.st, a));
  }

  // ---- middleboxes ---------------------------------------------------------------------------------

  /** Creates a middlebox attached to a router or inline on a 'vif' port's wire, with a fresh key and tag. */
  createMiddlebox(spec: MiddleboxSpec): MiddleboxView {
    return this.apply(() => middleboxView(this.st, createMiddlebox(this.st, spec)));
  }

  /** Renames the middlebox or changes its default action (firewalls only may drop). */
  updateMiddlebox(name: string, update: MiddleboxUpdate): MiddleboxView {
    return this.apply(() => middleboxView(this.st, updateMiddlebox(this.st, name, update)));
  }

  /** Deletes the middlebox; one with policies or rules needs { cascade: true } (and they go too). */
  deleteMiddlebox(name: string, options?: DeleteOptions): void {
    this.apply(() => deleteMiddlebox(this.st, name, options));
  }

  getMiddlebox(name: string): MiddleboxView | undefined {
    const m = this.st.findMiddlebox(name);
    return m === undefined ? undefined : middleboxView(this.st, m);
  }

  /**
   * Middleboxes by name: all, or those on the router or switch named `datapathName` (both, should a
   * router and a switch share the name).
   */
  middleboxes(datapathName?: string): MiddleboxView[] {
    let records: MiddleboxRecord[];
    if (datapathName === undefined) {
      records = [...this.st.middleboxes.values()];
    } else {
      const datapaths = [this.st.findRouter(datapathName), this.st.findSwitch(datapathName)].filter((d) => d !== undefined);
      if (datapaths.length === 0) throw new Error(`unknown logical router or switch ${q(datapathName)}`);
      records = datapaths.flatMap((d) => middleboxesOn(this.st, d.dp));
    }
    return records.sort(byName).map((m) => middleboxView(this.st, m));
  }

  /** Creates a policy-routing rule sending a router's matching packets to its middlebox. */
  createMiddleboxPolicy(spec: MiddleboxPolicySpec): MiddleboxPolicyView {
    return this.apply(() => middleboxPolicyView(this.st, createMiddleboxPolicy(this.st, spec)));
  }

  /** Changes any of name, priority, the whole match, or the middlebox (one on the same router). */
  updateMiddleboxPolicy(name: string, update: MiddleboxPolicyUpdate): MiddleboxPolicyView {
    return this.apply(() => middleboxPolicyView(this.st, updateMiddleboxPolicy(this.st, name, update)));
  }

  deleteMiddleboxPolicy(name: string): void {
    this.apply(() => deleteMiddleboxPolicy(this.st, name));
  }

  getMiddleboxPolicy(name: string): MiddleboxPolicyView | undefined {
    const p = this.st.findMiddleboxPolicy(name);
    return p === undefined ? undefined : middleboxPolicyView(this.st, p);
  }

  /** Middlebox policies (of one middlebox, or all), by name. */
  middleboxPolicies(middlebox?: string): MiddleboxPolicyView[] {
    const records = middlebox === undefined ? [...this.st.middleboxPolicies.values()] : policiesOf(this.st, this.st.middleboxNamed(middlebox));
    return records.sort(byName).map((p) => middleboxPolicyView(this.st, p));
  }

  /** Creates a rule of a middlebox; which actions and fields it may use depends on the middlebox's kind. */
  createMiddleboxRule(spec: MiddleboxRuleSpec): MiddleboxRuleView {
    return this.apply(() => middleboxRuleView(this.st, createMiddleboxRule(this.st, spec)));
  }

  /** Changes any of name, priority, action, the whole match, the NAT target or the backend pool. */
  updateMiddleboxRule(name: string, update: MiddleboxRuleUpdate): MiddleboxRuleView {
    return this.apply(() => middleboxRuleView(this.st, updateMiddleboxRule(this.st, name, update)));
  }

  deleteMiddleboxRule(name: string): void {
    this.apply(() => deleteMiddleboxRule(this.st, name));
  }

  getMiddleboxRule(name: string): MiddleboxRuleView | undefined {
    const r = this.st.findMiddleboxRule(name);
    return r === undefined ? undefined : middleboxRuleView(this.st, r);
  }

  /** Middlebox rules (of one middlebox, or all), by name. */
  middleboxRules(middlebox?: string): MiddleboxRuleView[] {
    const records = middlebox === undefined ? [...this.st.middleboxRules.values()] : rulesOf(this.st, this.st.middleboxNamed(middlebox));
    return records.sort(byName).map((r) => middleboxRuleView(this.st, r));
  }

  // ---- transactions, change stream, snapshot -------------------------------------------------------

  /**
   * Runs `fn` (which makes calls on this object) all-or-nothing: if it throws, every change it made is
   * undone and the error rethrown; otherwise subscribers get one change set for the whole group.
   * Transactions nest; an inner one that throws is undone on its own if `fn` catches the error.
   */
  transaction<T>(fn: (net: this) => T): T {
    return this.apply(() => fn(this));
  }

  /**
   * Calls `listener` with each committed change set, in commit order, after the change is applied.
   * Calls made from inside a listener are committed at once, and their change sets are delivered after
   * the current one has reached every listener. A listener that throws does not stop the others; the
   * first error is rethrown to the caller once all have run (the change stays committed).
   * Returns a function that unsubscribes.
   */
  subscribe(listener: ChangeListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /**
   * Every tuple of every relation as the model stands now (inside a transaction: including its
   * uncommitted changes), each relation sorted: the input for a from-scratch computation. Replaying
   * every change set since the model was created onto empty relations gives exactly this.
   */
  snapshot(): Snapshot {
    const out = {} as Record<string, unknown[]>;
    for (const r of RELATION_ORDER) out[r] = [];
    for (const f of orderFacts(this.st.allFacts(), false)) out[f.relation].push(f.tuple);
    return out as Snapshot;
  }

  private apply<T>(fn: () => T): T {
    const mark = this.st.journal.mark;
    this.depth++;
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.st.journal.rollbackTo(mark);
      if (this.depth === 1) this.st.changes.clear();
      if (e instanceof Error) e.message = oneLine(e.message);
      throw e;
    } finally {
      this.depth--;
    }
    if (this.depth === 0) this.commit();
    return result;
  }

  private commit(): void {
    const changes = this.st.changes.drain((id) => this.st.factsOf(id));
    this.st.journal.clear();
    if (changes.length === 0) return;
    this.outbox.push(changes);
    if (this.delivering) return;
    this.delivering = true;
    let firstError: unknown;
    let failed = false;
    try {
      while (this.outbox.length > 0) {
        const batch = this.outbox.shift()!;
        for (const listener of [...this.listeners]) {
          try {
            listener(batch);
          } catch (e) {
            if (!failed) [failed, firstError] = [true, e];
          }
        }
      }
    } finally {
      this.delivering = false;
    }
    if (failed) throw firstError;
  }
}
