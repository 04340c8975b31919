// The physical pipeline the controller programs into every managed switch: table numbers, register
// conventions and reserved logical-port values. It is the contract between the virtualization app (which
// writes flows in these terms) and the checkers that read flow tables. Owns constants only, and the
// VM key's encoding.
//
// First-hop processing, as OVN does it: the switch where a packet enters runs the whole logical pipeline
// (switch ingress, routers, the peer switch) and tunnels it straight to the chassis of the destination
// port, carrying the logical datapath in tunKey and both logical ports in tunMeta, laid out as OVN's
// Geneve option: ingress port << 16 | egress port (or the OUT_FLOOD / OUT_UNKNOWN marker). The receiving
// chassis runs only the egress stages for that port, and they see the real inport (reg6), so to-lport
// ACLs that match inport hold there as they do on the sending chassis. Port keys are 15 bits
// (PORT_KEY_MAX) and the markers 16, so both halves fit.
//
//   0  PHYSICAL_IN       classify: VIF port -> (datapath, logical in port, VM key in reg5); tunnel ->
//                        (datapath, and tunMeta split into reg6 = ingress port, reg7 = egress port or marker),
//                        then LS_FROM_TUNNEL
//  10  LS_IN_PORT_SEC    port security on ingress (allowed MAC / IPs)
//  11  LS_IN_MB          a middlebox inline on the wire of the ingress port (seed 001 §1.7)
//  12  LS_IN_ACL         from-lport ACLs
//  13  LS_IN_L2_LOOKUP   destination MAC -> logical egress port; group bit -> flood; else unknown
//  20  LS_OUT_DISPATCH   egress port local / remote (tunnel) / router port / flood fan-out
//  21  LS_FLOOD_LOCAL    deliver a flood or unknown-destination packet to this chassis' ports only
//  22  LS_FROM_TUNNEL    a tunnelled packet, by reg7: a port -> egress stages; a marker -> LS_FLOOD_LOCAL;
//                        on a pool node, a marker from a sender -> relay copies (tunMeta as received)
//  30  LS_OUT_ACL        to-lport ACLs
//  31  LS_OUT_MB         a middlebox inline on the egress port's wire; the reply side of a router's
//                        stateful middleboxes, on the chassis of the VM the reply is for
//  32  LS_OUT_PORT_SEC   port security on egress, then output to the VIF port
//  40  LR_IN_ADMISSION   router: accept packets addressed to the router port's MAC
//  41  LR_IN_MIRROR      router: a copy to a passive middlebox (IDS) its policy selects
//  42  LR_IN_POLICY      router: policy routing to an active middlebox, which resumes at LR_IN_IP_ROUTING
//  43  LR_IN_IP_ROUTING  longest prefix match -> egress router port and next hop (reg0)
//  44  LR_IN_ARP_RESOLVE next hop -> destination MAC
//  45  LR_OUT_DELIVER    into the peer logical switch's ingress
//  50  POOL_REPLICATE    pool nodes: replicate flood / unknown-destination packets to chassis
// 250  HOST_DB_TABLE     middlebox records for the host's element (sim/dataplane/middlebox-hook.ts); never run
//
// A middlebox stage hands the packet to the host's element and the element's pass recirculates it at a
// later stage, so a returned packet never meets the flow that sent it again (seed 001 invariant 19).

import { VM_KEY_FIELD } from '../dataplane/middlebox-hook.ts';

export const TABLE = {
  PHYSICAL_IN: 0,
  LS_IN_PORT_SEC: 10,
  LS_IN_MB: 11,
  LS_IN_ACL: 12,
  LS_IN_L2_LOOKUP: 13,
  LS_OUT_DISPATCH: 20,
  LS_FLOOD_LOCAL: 21,
  LS_FROM_TUNNEL: 22,
  LS_OUT_ACL: 30,
  LS_OUT_MB: 31,
  LS_OUT_PORT_SEC: 32,
  LR_IN_ADMISSION: 40,
  LR_IN_MIRROR: 41,
  LR_IN_POLICY: 42,
  LR_IN_IP_ROUTING: 43,
  LR_IN_ARP_RESOLVE: 44,
  LR_OUT_DELIVER: 45,
  POOL_REPLICATE: 50,
} as const;

/**
 * Registers: reg6 holds the logical ingress port, reg7 the logical egress port, reg0 a next-hop IP,
 * reg5 (VM_KEY_FIELD) the VM key a middlebox keys its state by, reg4 the step within a chain of
 * middleboxes in one stage (0 outside a chain).
 */
export const REG_IN_PORT = 'reg6';
export const REG_OUT_PORT = 'reg7';
export const REG_NEXT_HOP = 'reg0';
export const REG_VM_KEY = VM_KEY_FIELD;
export const REG_MB_CHAIN = 'reg4';

/**
 * The VM-specific id of VIF port `port` of switch `dp` (seed 001 §1.2): unique in the world, the same on
 * every host, so a migrated VM keeps it. Port keys are below 2^15 (PORT_KEY_MAX), hence the factor.
 */
export function vmKeyOf(dp: number, port: number): number {
  return dp * 32768 + port;
}

/** Logical egress port values that are not ports: flood to every port, or to the unknown-address ports. */
export const OUT_FLOOD = 0xffff;
export const OUT_UNKNOWN = 0xfffe;

/** tunMeta layout: the ingress port in bits 16..31, the egress port or marker in bits 0..15. */
export const TUN_META_IN_PORT_BIT = 16;
export const TUN_META_PORT_BITS = 16;
