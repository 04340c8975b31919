// Control-app rules for ACLs (LCP `acl` → logical flows): 'from-lport' ACLs in LS_IN_ACL (between the
// ingress middlebox stage and the L2 lookup), 'to-lport' ACLs in LS_OUT_ACL (between dispatch and the
// egress middlebox stage). The
// priority-0 "no ACL matched: allow" flows of both tables are logical-switch-rules.ts's. Owns these rules
// and the ACL → flow mapping only.
//
// Where ACLs run: first-hop, like the rest of the logical pipeline, except the egress stage. A 'to-lport'
// ACL runs where the egress port is delivered: on the chassis of the VIF (after the tunnel) for a remote
// port, and, for a flooded packet, once per destination port (LS_FLOOD_LOCAL resubmits LS_OUT_ACL per
// port). Router-type ports are delivered on every chassis, so traffic routed between switches meets the
// ACLs of both switches: from-lport and to-lport (outport = router port) on the source switch, then
// from-lport (inport = router port) and to-lport on the destination switch.
//
// Priorities. The highest ACL priority decides; at equal priority the more restrictive action wins
// (reject > drop > allow-related > allow). Flow priorities only go to 65535 and ACL priorities to 32767,
// so there are two flow priorities per ACL priority: 2·p + 1 for the denying actions (reject, drop) and
// 2·p for the permitting ones (allow-related, allow). Within a class the actions are identical flows for
// now (reject is a plain drop, allow-related a plain allow, see below), so nothing is lost; when
// allow-related gets connection tracking, two ACLs differing only in allow/allow-related would map to
// one flow key with different actions, and this mapping must move (e.g. a narrower ACL priority range).
// An ACL of priority 0 that allows everything is the very flow the default already is (same key, same
// actions), which the engine's set semantics merges.
//
// Actions.
//   allow, allow-related  go on to the next stage (allow-related is stateless until connection tracking).
//   drop, reject          stop. reject is a drop: no ICMP unreachable or TCP RST is sent.
// A denying from-lport flow uses the explicit drop action (packet traces say 'drop-action'): the ingress
// stage runs once per packet. A denying to-lport flow has no actions at all: the egress stage may run
// inside a flood fan-out, where an explicit drop would end the whole packet (every other port's copy and
// the tunnel copies); doing nothing just returns to the fan-out, so only that port's copy is lost.
//
// Match. Wildcards (port 0, eth type 0, proto 0, prefix length 0, L4 range 0..65535) add no field; a
// single L4 port is an exact match, a sub-range an l4SrcRange/l4DstRange. inport is reg6, outport reg7.
// Both hold wherever the egress stage runs: the tunnel carries the ingress port beside the egress port
// (tunMeta = reg6 << 16 | reg7, physical-rules.ts), through flood replication and pool nodes too, so a
// to-lport ACL matching inport judges a packet on the destination's chassis as it would on the first hop.
// For a routed packet the inport on the destination switch is its router-type port.

import type { Action, Match } from '../../dataplane/flow.ts';
import type { AclAction, AclDirection, RelationTuples } from '../../logical/relations.ts';
import type { ProgramParts } from '../control-program.ts';
import { encodeActions, encodeMatch } from '../flow-text.ts';
import { REG_IN_PORT, REG_OUT_PORT, TABLE } from '../pipeline.ts';

const ANY_L4_MIN = 0;
const ANY_L4_MAX = 65535;

/** Whether an ACL action denies (the restrictive class, which wins ties). */
export function aclDenies(action: AclAction): boolean {
  return action === 'drop' || action === 'reject';
}

/** The flow priority of an ACL: higher ACL priority first; at equal priority, deny before permit. */
export function aclFlowPriority(priority: number, action: AclAction): number {
  return 2 * priority + (aclDenies(action) ? 1 : 0);
}

/** The table an ACL's flow lives in. */
export function aclTable(direction: AclDirection): number {
  return direction === 'from-lport' ? TABLE.LS_IN_ACL : TABLE.LS_OUT_ACL;
}

type AclTuple = RelationTuples['acl'];

/** The flow match of an ACL, fields in a fixed order so equal ACL matches give equal text. */
export function aclMatch(a: AclTuple): Match {
  const m: { -readonly [K in keyof Match]: Match[K] } = { metadata: a.dp };
  if (a.inport !== 0) m[REG_IN_PORT] = a.inport;
  if (a.outport !== 0) m[REG_OUT_PORT] = a.outport;
  if (a.eth_type !== 0) m.ethType = a.eth_type;
  if (a.ip_src_len !== 0) m.ipSrc = { addr: a.ip_src_addr, len: a.ip_src_len };
  if (a.ip_dst_len !== 0) m.ipDst = { addr: a.ip_dst_addr, len: a.ip_dst_len };
  if (a.ip_proto !== 0) m.ipProto = a.ip_proto;
  if (a.l4_src_min === a.l4_src_max) m.l4Src = a.l4_src_min;
  else if (a.l4_src_min !== ANY_L4_MIN || a.l4_src_max !== ANY_L4_MAX) m.l4SrcRange = [a.l4_src_min, a.l4_src_max];
  if (a.l4_dst_min === a.l4_dst_max) m.l4Dst = a.l4_dst_min;
  else if (a.l4_dst_min !== ANY_L4_MIN || a.l4_dst_max !== ANY_L4_MAX) m.l4DstRange = [a.l4_dst_min, a.l4_dst_max];
  return m;
}

/** What an ACL's flow does: go on to the next stage, or stop (see the header for the two kinds of stop). */
export function aclActions(direction: AclDirection, action: AclAction): Action[] {
  const ingress = direction === 'from-lport';
  if (aclDenies(action)) return ingress ? [{ type: 'drop' }] : [];
  return [{ type: 'resubmit', table: ingress ? TABLE.LS_IN_L2_LOOKUP : TABLE.LS_OUT_MB }];
}

export function addAclRules({ engine, lcp, logicalFlow }: ProgramParts): void {
  // One flow per ACL. ACLs that differ only in key or name give the same flow (counted twice, kept once).
  engine.rule(logicalFlow, (q) =>
    q.from(lcp.acl).select((v) => ({
      dp: v.dp,
      table: aclTable(v.direction),
      priority: aclFlowPriority(v.priority, v.action),
      match: encodeMatch(aclMatch(v)),
      actions: encodeActions(aclActions(v.direction, v.action)),
    })),
  );
}
