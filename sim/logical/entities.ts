// The logical model's entity records as the model stores them: parsed, numeric, referring to other
// entities by key (so a rename touches one record). Owns the shapes and the limits of keys and
// priorities; not validation (the *-ops.ts files), not relations (entity-tuples.ts), not the user's text
// forms (api-types.ts). Records are frozen and replaced whole on update.

import type { Ipv4Prefix } from '../dataplane/headers.ts';
import type { AclAction, AclDirection, MiddleboxKind, MiddleboxRuleAction, PortType } from './relations.ts';

/** Datapath keys travel as tunnel keys (24-bit VNI), so 1..2^24-1. */
export const DATAPATH_KEY_MIN = 1;
export const DATAPATH_KEY_MAX = 2 ** 24 - 1;
/** Port keys share 16-bit halves of tunnel metadata with one bit to spare, so 1..2^15-1. */
export const PORT_KEY_MIN = 1;
export const PORT_KEY_MAX = 2 ** 15 - 1;
/** ACL keys only need to be unique within a datapath. */
export const ACL_KEY_MIN = 1;
export const ACL_KEY_MAX = 2 ** 24 - 1;
export const ACL_PRIORITY_MIN = 0;
export const ACL_PRIORITY_MAX = 32767;
/** Middlebox, middlebox policy and middlebox rule keys, like ACL keys, are unique within a datapath. */
export const MIDDLEBOX_KEY_MIN = 1;
export const MIDDLEBOX_KEY_MAX = 2 ** 24 - 1;
/** A middlebox's external slice id travels in a 24-bit tag; unique in the world and never reused. */
export const MIDDLEBOX_TAG_MIN = 1;
export const MIDDLEBOX_TAG_MAX = 2 ** 24 - 1;
/** Middlebox policies and rules take ACL priorities. */
export const MIDDLEBOX_PRIORITY_MIN = ACL_PRIORITY_MIN;
export const MIDDLEBOX_PRIORITY_MAX = ACL_PRIORITY_MAX;

/** A logical port anywhere: the datapath it is on and its key there. */
export interface PortRef {
  readonly dp: number;
  readonly port: number;
}

export interface SwitchRecord {
  readonly dp: number;
  readonly name: string;
  readonly tenant: string;
  readonly subnet?: Ipv4Prefix;
}

export interface RouterRecord {
  readonly dp: number;
  readonly name: string;
  readonly tenant: string;
}

/** One address entry of a switch port: a MAC and the IPv4 addresses that go with it. */
export interface AddressEntry {
  readonly mac: number;
  readonly ips: readonly number[];
}

/** One port-security entry: a source MAC, and (if any) the only IPv4 prefixes allowed with it. */
export interface SecurityEntry {
  readonly mac: number;
  readonly ips: readonly Ipv4Prefix[];
}

export interface SwitchPortRecord {
  readonly dp: number;
  readonly port: number;
  readonly name: string;
  readonly type: PortType;
  readonly addresses: readonly AddressEntry[];
  /** Receives frames for unknown destination MACs. */
  readonly unknown: boolean;
  /** Empty: port security off. */
  readonly portSecurity: readonly SecurityEntry[];
  /** 'vif' ports only: the iface-id of the VIF the port asks to be bound to. */
  readonly vifId?: string;
  /** 'localnet' ports only. */
  readonly network?: string;
  readonly gateway?: string;
  /** 'router' ports only: the router port on the other end. */
  readonly peer?: PortRef;
}

export interface RouterPortRecord {
  readonly dp: number;
  readonly port: number;
  readonly name: string;
  readonly mac: number;
  readonly ip: number;
  /** The connected network: `ip` with the host bits cleared, and the prefix length. */
  readonly net: Ipv4Prefix;
  /** The 'router'-type switch port on the other end. */
  readonly peer: PortRef;
}

export interface StaticRouteRecord {
  readonly dp: number;
  readonly prefix: Ipv4Prefix;
  readonly nexthop: number;
  /** Router port key, or 0 when the controller resolves the port from the next hop. */
  readonly outPort: number;
}

/** An ACL match with every wildcard made explicit (see the acl relation in relations.ts). */
export interface AclMatchRecord {
  readonly inport: number;
  readonly outport: number;
  readonly ethType: number;
  readonly ipProto: number;
  readonly ipSrc: Ipv4Prefix;
  readonly ipDst: Ipv4Prefix;
  readonly l4Src: readonly [number, number];
  readonly l4Dst: readonly [number, number];
}

export interface AclRecord {
  readonly dp: number;
  readonly key: number;
  readonly name: string;
  readonly priority: number;
  readonly direction: AclDirection;
  readonly action: AclAction;
  readonly match: AclMatchRecord;
}

export interface MiddleboxRecord {
  /** The router it is attached to, or the switch on whose wire it sits. */
  readonly dp: number;
  readonly key: number;
  readonly name: string;
  /** The datapath's tenant (datapaths never change tenant). */
  readonly tenant: string;
  readonly kind: MiddleboxKind;
  readonly tag: number;
  readonly defaultAction: 'allow' | 'drop';
  /** Inline middleboxes: the VIF port of `dp` whose wire it sits on; 0 when attached to a router. */
  readonly wirePort: number;
}

/** A middlebox policy or rule match with every wildcard explicit (policies keep l4Src a wildcard). */
export interface MiddleboxMatchRecord {
  readonly ipSrc: Ipv4Prefix;
  readonly ipDst: Ipv4Prefix;
  readonly ipProto: number;
  readonly l4Src: readonly [number, number];
  readonly l4Dst: readonly [number, number];
}

export interface MiddleboxPolicyRecord {
  /** The router (the middlebox's datapath). */
  readonly dp: number;
  readonly key: number;
  readonly mb: number;
  readonly name: string;
  readonly priority: number;
  readonly match: MiddleboxMatchRecord;
}

export interface Backend {
  readonly ip: number;
  readonly port: number;
}

export interface MiddleboxRuleRecord {
  readonly dp: number;
  readonly key: number;
  readonly mb: number;
  readonly name: string;
  readonly priority: number;
  readonly action: MiddleboxRuleAction;
  readonly match: MiddleboxMatchRecord;
  /** NAT rules: the translated address (0: none) and port range (0..0 keeps the port). */
  readonly toIp: number;
  readonly toPorts: readonly [number, number];
  /** lb rules: the pool, sorted by address then port; empty for other actions. */
  readonly backends: readonly Backend[];
}

/** Entity ids identify a record for change tracking: the tuples of one id are replaced together. */
export const entityId = {
  switch: (dp: number) => `ls/${dp}`,
  router: (dp: number) => `lr/${dp}`,
  switchPort: (dp: number, port: number) => `lsp/${dp}/${port}`,
  routerPort: (dp: number, port: number) => `lrp/${dp}/${port}`,
  route: (dp: number, prefix: Ipv4Prefix) => `route/${dp}/${prefix.addr}/${prefix.len}`,
  acl: (dp: number, key: number) => `acl/${dp}/${key}`,
  middlebox: (dp: number, key: number) => `mb/${dp}/${key}`,
  middleboxPolicy: (dp: number, key: number) => `mbp/${dp}/${key}`,
  middleboxRule: (dp: number, key: number) => `mbr/${dp}/${key}`,
};
