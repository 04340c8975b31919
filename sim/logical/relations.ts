// The logical control plane (LCP) as relations: the one place that documents every relation the logical
// model emits, its columns, their types and meaning. The controller's rules engine consumes these tuples
// (as deltas from LogicalNetworks.subscribe and as a whole from snapshot()). Owns only the schema and the
// relation order; not how tuples are derived from entities (entity-tuples.ts) nor how they are compared
// (tuple-order.ts).
//
// Conventions (so rules can join on plain numbers and never meet a null):
//   - Every tuple is a flat object of numbers and strings; columns appear in the order listed here.
//   - `dp` (the logical datapath key of the switch or router the fact belongs to, 1..2^24-1) is always the
//     first column, so a controller instance can restrict work to the LDPSs it masters by the first join.
//   - `port` is a logical port key, unique within its datapath, 1..2^15-1. 0 in a port column means "none".
//   - MACs are 48-bit integers, IPv4 addresses unsigned 32-bit integers (as in sim/dataplane/headers.ts);
//     a prefix is two columns, `<name>_addr` (host bits zero) and `<name>_len` (0..32).
//   - Optional attributes are separate relations rather than nullable columns: a fact is present or not.
//   - Names are the user's names; keys never change for the life of an entity, names may (renames).

export type PortType = 'vif' | 'router' | 'localnet';
export type AclDirection = 'from-lport' | 'to-lport';
export type AclAction = 'allow' | 'allow-related' | 'drop' | 'reject';
export type { MiddleboxKind, RuleAction as MiddleboxRuleAction } from '../middlebox/records.ts';
import type { MiddleboxKind, RuleAction as MiddleboxRuleAction } from '../middlebox/records.ts';

export interface RelationTuples {
  /** One per logical switch (an LDPS). */
  logical_switch: { dp: number; name: string; tenant: string };
  /** The switch's subnet, when one is set: every port IP on the switch lies inside it. */
  logical_switch_subnet: { dp: number; subnet_addr: number; subnet_len: number };
  /** One per logical router (an LDPS). */
  logical_router: { dp: number; name: string; tenant: string };
  /** One per logical switch port. `type` is 'vif' | 'router' | 'localnet'. */
  logical_switch_port: { dp: number; port: number; name: string; type: PortType };
  /**
   * One per logical router port. `ip` is the port's own address; (net_addr, net_len) its connected
   * network. (peer_dp, peer_port) is the 'router'-type switch port it is wired to (always present).
   */
  logical_router_port: {
    dp: number;
    port: number;
    name: string;
    mac: number;
    ip: number;
    net_addr: number;
    net_len: number;
    peer_dp: number;
    peer_port: number;
  };
  /** A 'router'-type switch port's peer: the router datapath and router port key. */
  logical_switch_port_peer: { dp: number; port: number; peer_dp: number; peer_port: number };
  /** A MAC the switch port owns: the L2 lookup delivers frames for `mac` on datapath `dp` to `port`. */
  port_address_mac: { dp: number; port: number; mac: number };
  /** An IPv4 address the port owns, with the MAC it belongs to (ARP replies, router next hops). */
  port_address_ip: { dp: number; port: number; mac: number; ip: number };
  /** The port also receives frames for unknown destination MACs (OVN's "unknown" address). */
  port_address_unknown: { dp: number; port: number };
  /**
   * Exactly one per switch port: `enabled` is 1 when port security is on (some port_security_mac
   * tuples exist for the port), 0 when any source is accepted. A positive fact for both states lets
   * AND-only rules handle ports without port security.
   */
  port_security: { dp: number; port: number; enabled: number };
  /**
   * A source MAC the port may send from. `ip_restricted` is 1 when IPv4 packets (and ARP) from this MAC
   * must also carry a source address inside one of its port_security_ip prefixes, 0 when any IP is fine.
   */
  port_security_mac: { dp: number; port: number; mac: number; ip_restricted: number };
  /** An IPv4 prefix allowed as source together with `mac` (a single address is a /32). */
  port_security_ip: { dp: number; port: number; mac: number; ip_addr: number; ip_len: number };
  /**
   * A 'vif' port asks to be bound to the VIF whose interface id (OVS external_ids:iface-id) is
   * `vif_id`. Where that VIF is (which host) is a physical fact the controller learns from switches.
   */
  port_binding_request: { dp: number; port: number; vif_id: string };
  /** A 'localnet' port: the switch is bridged to physical network `network` through node `gateway`. */
  localnet_port: { dp: number; port: number; network: string; gateway: string };
  /**
   * A static route on router `dp`: packets whose destination matches (prefix_addr, prefix_len) go to
   * `nexthop`. `out_port` is the router port to use, or 0: the controller picks the router port whose
   * network contains `nexthop` (router port networks never overlap, so there is at most one).
   * Lookup is longest prefix match over static routes and the routers' connected networks together;
   * at equal length a connected network wins over a static route.
   */
  static_route: { dp: number; prefix_addr: number; prefix_len: number; nexthop: number; out_port: number };
  /**
   * An ACL on switch `dp`, with key `acl` (unique within the datapath). Wildcards: inport/outport 0,
   * eth_type 0, ip_proto 0, a prefix of length 0, an L4 range of 0..65535. Any IP field implies
   * eth_type 0x0800 (already filled in); an L4 range implies ip_proto 6 or 17 (already present).
   * `direction`: 'from-lport' runs as the packet enters the switch from `inport` (the output port is not
   * known yet, so outport is always 0); 'to-lport' as it leaves toward `outport`.
   * `action`: 'allow', 'allow-related' (stateful; until the middlebox issue adds connection tracking
   * the controller treats it as 'allow'), 'drop', 'reject' (drop and tell the sender; may be a drop).
   * The highest `priority` matching ACL of a direction decides; equal priorities break ties toward the
   * more restrictive action (reject, drop, allow-related, allow); no match means allow. ACLs see the
   * traffic of every port type, so traffic routed between switches meets the ACLs of both switches.
   */
  acl: {
    dp: number;
    acl: number;
    name: string;
    priority: number;
    direction: AclDirection;
    action: AclAction;
    inport: number;
    outport: number;
    eth_type: number;
    ip_proto: number;
    ip_src_addr: number;
    ip_src_len: number;
    ip_dst_addr: number;
    ip_dst_len: number;
    l4_src_min: number;
    l4_src_max: number;
    l4_dst_min: number;
    l4_dst_max: number;
  };
  /**
   * A logical middlebox (seed 001): on router `dp`, attached out of band (packets reach it through
   * middlebox_policy), or on switch `dp`, inline on the wire of one of its VIF ports (middlebox_wire).
   * `mb` is its key within the datapath; `tag` its external slice id, unique in the world and never
   * reused, the same on every element. `default_action` decides a new connection no rule matches
   * (firewalls; the other kinds pass such packets untouched).
   */
  middlebox: { dp: number; mb: number; name: string; tenant: string; kind: MiddleboxKind; tag: number; default_action: 'allow' | 'drop' };
  /**
   * A policy-routing rule of router `dp`: a routed packet that matches goes to middlebox `mb` before
   * routing (highest priority first). `policy` is the rule's key within the router. Wildcards as in acl.
   */
  middlebox_policy: {
    dp: number;
    policy: number;
    mb: number;
    priority: number;
    ip_src_addr: number;
    ip_src_len: number;
    ip_dst_addr: number;
    ip_dst_len: number;
    ip_proto: number;
    l4_dst_min: number;
    l4_dst_max: number;
  };
  /** Middlebox `mb` of switch `dp` sits inline on the wire of VIF port `port`: all its traffic, both ways. */
  middlebox_wire: { dp: number; mb: number; port: number };
  /**
   * One rule of middlebox `mb` (key `rule` within the datapath). `action` by kind: firewall allow, drop,
   * reject; nat snat, dnat (to to_ip and a port in to_port_min..to_port_max; 0..0 keeps the port); lb
   * (the match names the VIP, middlebox_backend the pool); ids alert. Wildcards as in acl.
   */
  middlebox_rule: {
    dp: number;
    rule: number;
    mb: number;
    name: string;
    priority: number;
    action: MiddleboxRuleAction;
    ip_src_addr: number;
    ip_src_len: number;
    ip_dst_addr: number;
    ip_dst_len: number;
    ip_proto: number;
    l4_src_min: number;
    l4_src_max: number;
    l4_dst_min: number;
    l4_dst_max: number;
    to_ip: number;
    to_port_min: number;
    to_port_max: number;
  };
  /** A backend (ip, port) of load-balancing rule `rule`. */
  middlebox_backend: { dp: number; rule: number; ip: number; port: number };
}

export type RelationName = keyof RelationTuples;
export type Tuple<R extends RelationName = RelationName> = RelationTuples[R];

/** Each relation's columns in tuple order (the order tuples are built in and compared by). */
export const RELATION_COLUMNS: { readonly [R in RelationName]: readonly (keyof RelationTuples[R] & string)[] } = {
  logical_switch: ['dp', 'name', 'tenant'],
  logical_switch_subnet: ['dp', 'subnet_addr', 'subnet_len'],
  logical_router: ['dp', 'name', 'tenant'],
  logical_switch_port: ['dp', 'port', 'name', 'type'],
  logical_router_port: ['dp', 'port', 'name', 'mac', 'ip', 'net_addr', 'net_len', 'peer_dp', 'peer_port'],
  logical_switch_port_peer: ['dp', 'port', 'peer_dp', 'peer_port'],
  port_address_mac: ['dp', 'port', 'mac'],
  port_address_ip: ['dp', 'port', 'mac', 'ip'],
  port_address_unknown: ['dp', 'port'],
  port_security: ['dp', 'port', 'enabled'],
  port_security_mac: ['dp', 'port', 'mac', 'ip_restricted'],
  port_security_ip: ['dp', 'port', 'mac', 'ip_addr', 'ip_len'],
  port_binding_request: ['dp', 'port', 'vif_id'],
  localnet_port: ['dp', 'port', 'network', 'gateway'],
  static_route: ['dp', 'prefix_addr', 'prefix_len', 'nexthop', 'out_port'],
  acl: [
    'dp',
    'acl',
    'name',
    'priority',
    'direction',
    'action',
    'inport',
    'outport',
    'eth_type',
    'ip_proto',
    'ip_src_addr',
    'ip_src_len',
    'ip_dst_addr',
    'ip_dst_len',
    'l4_src_min',
    'l4_src_max',
    'l4_dst_min',
    'l4_dst_max',
  ],
  middlebox: ['dp', 'mb', 'name', 'tenant', 'kind', 'tag', 'default_action'],
  middlebox_policy: ['dp', 'policy', 'mb', 'priority', 'ip_src_addr', 'ip_src_len', 'ip_dst_addr', 'ip_dst_len', 'ip_proto', 'l4_dst_min', 'l4_dst_max'],
  middlebox_wire: ['dp', 'mb', 'port'],
  middlebox_rule: [
    'dp',
    'rule',
    'mb',
    'name',
    'priority',
    'action',
    'ip_src_addr',
    'ip_src_len',
    'ip_dst_addr',
    'ip_dst_len',
    'ip_proto',
    'l4_src_min',
    'l4_src_max',
    'l4_dst_min',
    'l4_dst_max',
    'to_ip',
    'to_port_min',
    'to_port_max',
  ],
  middlebox_backend: ['dp', 'rule', 'ip', 'port'],
};

/**
 * Relations in dependency order: a tuple only refers to tuples of relations before it (a port to its
 * datapath, a router port to its peer switch port). A change set lists deletes in the reverse of this
 * order and inserts in this order, so applied in order it never inserts a child before its parent nor
 * deletes a parent before its children. (While an updated parent's old tuple is deleted and its new one
 * not yet inserted, its children briefly point at neither; at the end of the set all is consistent.)
 */
export const RELATION_ORDER: readonly RelationName[] = [
  'logical_switch',
  'logical_switch_subnet',
  'logical_router',
  'logical_switch_port',
  'logical_router_port',
  'logical_switch_port_peer',
  'port_address_mac',
  'port_address_ip',
  'port_address_unknown',
  'port_security',
  'port_security_mac',
  'port_security_ip',
  'port_binding_request',
  'localnet_port',
  'static_route',
  'acl',
  'middlebox',
  'middlebox_policy',
  'middlebox_wire',
  'middlebox_rule',
  'middlebox_backend',
];

export type DeltaOp = 'insert' | 'delete';

/** One change to one relation. An update of an entity is a delete of its old tuple and an insert of the new. */
export type Delta = { [R in RelationName]: { readonly relation: R; readonly op: DeltaOp; readonly tuple: RelationTuples[R] } }[RelationName];

/** Every relation's current tuples, each list sorted by tuple-order.ts. */
export type Snapshot = { [R in RelationName]: RelationTuples[R][] };

/** A fact tagged with its relation (what entity-tuples.ts produces). */
export type Fact = { [R in RelationName]: { readonly relation: R; readonly tuple: RelationTuples[R] } }[RelationName];
