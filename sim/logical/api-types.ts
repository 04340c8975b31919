// What users of LogicalNetworks write and read: the input specs of every call, in text forms an OVN
// user would recognise, and the views the read accessors return (the same text forms, canonicalised,
// plus the allocated keys). Owns these shapes only; not validation or storage.
//
// Address text follows OVN's Logical_Switch_Port columns: an address entry is "MAC IP IP..." or
// "unknown"; a port-security entry is "MAC IP[/len]...". MACs are written "02:00:00:00:00:01".

import type { AclAction, AclDirection, MiddleboxKind, MiddleboxRuleAction } from './relations.ts';

export interface SwitchSpec {
  name: string;
  tenant: string;
  /** CIDR, e.g. "10.0.1.0/24": every IP address of the switch's ports must lie inside it. */
  subnet?: string;
}

export interface SwitchUpdate {
  name?: string;
  /** null removes the subnet. */
  subnet?: string | null;
}

export interface SwitchPortSpec {
  name: string;
  switch: string;
  /** Default 'vif'. 'router'-type ports are made by connectRouter. */
  type?: 'vif' | 'localnet';
  /** Default [] for 'vif', ['unknown'] for 'localnet' (the physical network's MACs are not known). */
  addresses?: readonly string[];
  /** 'vif' ports only; [] (the default) turns port security off. */
  portSecurity?: readonly string[];
  /** 'vif' ports only: the VIF interface id (OVS external_ids:iface-id) to bind to. */
  vifId?: string;
  /** 'localnet' ports: the physical network's name and the gateway node that bridges to it. */
  network?: string;
  gateway?: string;
}

export interface SwitchPortUpdate {
  name?: string;
  addresses?: readonly string[];
  portSecurity?: readonly string[];
  network?: string;
  gateway?: string;
}

export interface RouterSpec {
  name: string;
  tenant: string;
}

export interface RouterUpdate {
  name?: string;
}

/** Creates router port `name` on `router` and its 'router'-type peer port on `switch`. */
export interface RouterConnectSpec {
  router: string;
  switch: string;
  /** The router port's name. */
  name: string;
  mac: string;
  /** The router port's address with its network's prefix length, e.g. "10.0.1.1/24". */
  ip: string;
  /** The switch-side port's name; default `${name}-peer`. */
  switchPort?: string;
}

export interface RouterPortUpdate {
  name?: string;
  mac?: string;
  ip?: string;
}

export interface StaticRouteSpec {
  router: string;
  /** Destination prefix, e.g. "0.0.0.0/0". One route per prefix per router. */
  prefix: string;
  nexthop: string;
  /** A port of the router whose network contains the next hop; default: the controller resolves it. */
  outputPort?: string;
}

export interface StaticRouteUpdate {
  nexthop?: string;
  /** null goes back to resolving the port from the next hop. */
  outputPort?: string | null;
}

/** Every field given must match; absent fields match anything. */
export interface AclMatchSpec {
  /** A port of the ACL's switch (names). `outport` only in 'to-lport' ACLs. */
  inport?: string;
  outport?: string;
  ethType?: number | 'ipv4' | 'arp';
  /** CIDR or a single address (a /32). Any IP field implies ethType ipv4. */
  ipSrc?: string;
  ipDst?: string;
  ipProto?: 'tcp' | 'udp' | 'icmp' | number;
  /** A port or an inclusive [low, high] range; needs ipProto tcp or udp. */
  l4Src?: number | readonly [number, number];
  l4Dst?: number | readonly [number, number];
}

export interface AclSpec {
  name: string;
  switch: string;
  /** 0..32767, higher first. */
  priority: number;
  direction: AclDirection;
  action: AclAction;
  match?: AclMatchSpec;
}

/** `match`, when given, replaces the whole match. */
export interface AclUpdate {
  name?: string;
  priority?: number;
  direction?: AclDirection;
  action?: AclAction;
  match?: AclMatchSpec;
}

/**
 * A logical middlebox (seed 001 §1.7): attached out of band to a router (packets reach it through
 * middlebox policies) or inline on the wire of a 'vif' switch port (all the port's traffic, both ways).
 * Give exactly one of `router` and `wire`.
 */
export interface MiddleboxSpec {
  name: string;
  kind: MiddleboxKind;
  /** A router has at most one middlebox that is not 'ids', plus any number of 'ids'. */
  router?: string;
  /** A 'vif' switch port; at most one middlebox per wire. */
  wire?: string;
  /** What a firewall does with a new connection no rule matches; default 'allow' (only firewalls may drop). */
  defaultAction?: 'allow' | 'drop';
}

export interface MiddleboxUpdate {
  name?: string;
  defaultAction?: 'allow' | 'drop';
}

/** Every field given must match; forms as in AclMatchSpec (an L4 port needs ipProto tcp or udp). */
export interface MiddleboxPolicyMatchSpec {
  ipSrc?: string;
  ipDst?: string;
  ipProto?: 'tcp' | 'udp' | 'icmp' | number;
  l4Dst?: number | readonly [number, number];
}

/** A policy-routing rule of a router: routed packets that match go to the router's middlebox first. */
export interface MiddleboxPolicySpec {
  name: string;
  /** A middlebox attached to a router. */
  middlebox: string;
  /** 0..32767, higher first. */
  priority: number;
  match?: MiddleboxPolicyMatchSpec;
}

/** `match`, when given, replaces the whole match; `middlebox` must be on the same router. */
export interface MiddleboxPolicyUpdate {
  name?: string;
  middlebox?: string;
  priority?: number;
  match?: MiddleboxPolicyMatchSpec;
}

export interface MiddleboxRuleMatchSpec extends MiddleboxPolicyMatchSpec {
  l4Src?: number | readonly [number, number];
}

/**
 * One rule of a middlebox. Actions by kind: firewall allow | drop | reject; nat snat | dnat (with `to`);
 * lb lb (the match names the VIP: a single ipDst, ipProto tcp or udp and a single l4Dst; `backends` the
 * pool); ids alert. Fields another kind's rules use are errors.
 */
export interface MiddleboxRuleSpec {
  name: string;
  middlebox: string;
  /** 0..32767, higher first. */
  priority: number;
  action: MiddleboxRuleAction;
  match?: MiddleboxRuleMatchSpec;
  /** nat: the translated address, "ip", "ip:port" or "ip:low-high" (no port keeps the packet's). */
  to?: string;
  /** lb: at least one "ip:port", no repeats. */
  backends?: readonly string[];
}

/** `match` and `backends`, when given, replace the old ones. */
export interface MiddleboxRuleUpdate {
  name?: string;
  priority?: number;
  action?: MiddleboxRuleAction;
  match?: MiddleboxRuleMatchSpec;
  to?: string;
  backends?: readonly string[];
}

export interface DeleteOptions {
  /** Also delete what depends on the entity (ports, peer ports, routes, ACLs, middleboxes, their policies and rules). */
  cascade?: boolean;
}

export interface LogicalSwitchView {
  name: string;
  tenant: string;
  dp: number;
  subnet?: string;
  /** Port and ACL names, sorted. */
  ports: string[];
  acls: string[];
}

export interface LogicalSwitchPortView {
  name: string;
  switch: string;
  dp: number;
  port: number;
  type: 'vif' | 'router' | 'localnet';
  addresses: string[];
  portSecurity: string[];
  vifId?: string;
  network?: string;
  gateway?: string;
  /** 'router' ports: the router port on the other end. */
  routerPort?: string;
}

export interface LogicalRouterView {
  name: string;
  tenant: string;
  dp: number;
  /** Router port names, sorted. */
  ports: string[];
  /** Static route prefixes, longest first. */
  routes: string[];
}

export interface LogicalRouterPortView {
  name: string;
  router: string;
  dp: number;
  port: number;
  mac: string;
  ip: string;
  switch: string;
  switchPort: string;
}

export interface StaticRouteView {
  router: string;
  dp: number;
  prefix: string;
  nexthop: string;
  outputPort?: string;
}

export interface AclView {
  name: string;
  switch: string;
  dp: number;
  acl: number;
  priority: number;
  direction: AclDirection;
  action: AclAction;
  match: AclMatchSpec;
}

export interface MiddleboxView {
  name: string;
  kind: MiddleboxKind;
  tenant: string;
  /** The router's or the switch's datapath key. */
  dp: number;
  mb: number;
  /** The external slice id. */
  tag: number;
  defaultAction: 'allow' | 'drop';
  /** Attached to this router... */
  router?: string;
  /** ...or inline on the wire of port `wire` of this switch. */
  switch?: string;
  wire?: string;
  /** Policy and rule names, sorted. */
  policies: string[];
  rules: string[];
}

export interface MiddleboxPolicyView {
  name: string;
  middlebox: string;
  router: string;
  dp: number;
  policy: number;
  priority: number;
  match: MiddleboxPolicyMatchSpec;
}

export interface MiddleboxRuleView {
  name: string;
  middlebox: string;
  dp: number;
  rule: number;
  priority: number;
  action: MiddleboxRuleAction;
  match: MiddleboxRuleMatchSpec;
  /** nat rules. */
  to?: string;
  /** lb rules, sorted by address then port. */
  backends?: string[];
}
