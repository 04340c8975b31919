// Control-app and placement rules for distributed middleboxes (seed 001 §3, §4): the four middlebox
// stages (LS_IN_MB, LS_OUT_MB, LR_IN_MIRROR, LR_IN_POLICY) with their pass-through defaults, the flows that
// hand packets to the host's element, and the middlebox records written into the host database
// (HOST_DB_TABLE), each only on the chassis that need it. Owns these rules only; the element, the record
// format (sim/middlebox/records.ts) and the stages around these are others'.
//
// Where packets meet a middlebox, all on the first hop (the packet never leaves the host to reach it):
//   router middlebox M on R   LR_IN_POLICY: a routed packet matching one of M's policies goes to M
//                             ('inspect'), which resumes at LR_IN_IP_ROUTING; an IDS is mirrored instead
//                             (LR_IN_MIRROR: 'copy', then on to LR_IN_POLICY). The key is the sender's
//                             VM (reg5, set by table 0 on its port). Replies: a stateful M also runs
//                             'reply-only' in LS_OUT_MB for every VIF port of R's switches, where the
//                             port is delivered, keyed by that VM — so a VM's connections live on its
//                             own host's element in both directions, wherever the peer is.
//   wire middlebox M on (S,P) LS_IN_MB for packets from P and LS_OUT_MB for packets to P, keyed by P's
//                             VM; 'inspect' resuming at the next stage, or for an IDS 'copy' and go on.
// A VIF port's egress is one chain: the reply steps of its switch's routers first (a reply is translated
// back before the wire's middleboxes see it, as they saw the VM's own addresses on the way out), then its
// wire's middleboxes.
// These stage flows take IPv4 only (middleboxes judge IP connections; ARP and the rest pass on), and on
// egress unicast only: the egress stage also runs inside a flood fan-out, where a middlebox action, which
// ends the pass (it recirculates), would cut off every later copy; a group-addressed frame is never part
// of a connection anyway. (An unknown-unicast fan-out to a VIF with the 'unknown' address and a
// middlebox still ends at that port.)
// Several middleboxes at one place form a chain: step k matches reg4 = k (step 0 anything), hands the
// packet on with reg4 = k + 1 and resumes in the same stage; the last step clears reg4 and resumes at the
// next stage. A single middlebox is one flow that neither matches nor sets reg4. A chain goes by tag,
// ascending; the wire part of an egress chain descending, so packets to the VM meet its middleboxes in
// reverse.
// Two policies of one router with equal priority and equal match name two flows with one key: the
// logical model must keep them apart.
//
// Records (seed 001 §3, "per record" node choice; invariant 14: a host gets a record only if it runs a
// VM the record applies to):
//   router M on R  slice and rules on every chassis of router_chassis(R) (the first hop of any packet
//                  routed by R, gateways included); a rule with a source prefix only on chassis hosting a
//                  VIF of R's switches with an address inside it; a 'vm' record per VIF of R's switches,
//                  on its chassis.
//   wire M on (S,P) slice, rules and P's 'vm' record on P's chassis only.
// An lb rule is one record per backend (the element unions records of one rule key); an lb rule without
// backends has no record. Flow keys: slice {tunKey: tag} priority 1, rule {tunKey: tag, reg1: rule (lb:
// reg2, reg3 the backend)} priority 2, vm {tunKey: tag, reg5: vm key} priority 3.
//
// Distributed SNAT (snat-blocks.ts): each address inside an snat rule's source prefix owns a block of its
// ports, so a reply to the shared address is routed, on whichever chassis first routes it, by its
// destination port to the VM owning that block (LR_IN_IP_ROUTING, next hop the VM's own address). It then
// reaches the VM's port, wherever the VM runs now, and the VM's reply-only step there reverses the
// translation from the connection state that moved with it.
//
// Crossing datapaths (see router-rules.ts): R's records and S's reply flows need facts of the other side,
// carried by global relations derived on the owning side: router_stateful_tag (R's stateful middleboxes),
// router_vif and router_vif_ip (where R's switches' VMs are, with their addresses).

import type { Action, Match } from '../../dataplane/flow.ts';
import { ETH_TYPE_IPV4, prefixContains } from '../../dataplane/headers.ts';
import { HOST_DB_TABLE, type MiddleboxMode } from '../../dataplane/middlebox-hook.ts';
import type { RelationTuples } from '../../logical/relations.ts';
import { encodeMiddleboxRecord, type RuleMatch } from '../../middlebox/records.ts';
import { snatPortBlock } from '../../middlebox/snat-blocks.ts';
import { lit } from '../../rules/index.ts';
import type { ProgramParts } from '../control-program.ts';
import { encodeActions, encodeMatch, type FlowRow } from '../flow-text.ts';
import { REG_IN_PORT, REG_MB_CHAIN, REG_OUT_PORT, REG_VM_KEY, TABLE, vmKeyOf } from '../pipeline.ts';
import { routeActions, routePriority } from './router-rules.ts';

const resubmit = (table: number): Action => ({ type: 'resubmit', table });
const middlebox = (tag: number, mode: MiddleboxMode, table: number): Action => ({ type: 'middlebox', tag, mode, table });

const ANY_L4_MIN = 0;
const ANY_L4_MAX = 65535;
const POLICY_BASE_PRIORITY = 100;
const EGRESS_BASE_PRIORITY = 100;
const WIRE_BASE_PRIORITY = 200;
/** Above every tag (tags are below 2^24): a wire step's order, WIRE_EGRESS_ORDER − tag, sorts after every reply step's. */
const WIRE_EGRESS_ORDER = 2 ** 25;
const SLICE_RECORD_PRIORITY = 1;
const RULE_RECORD_PRIORITY = 2;
const VM_RECORD_PRIORITY = 3;
/** Above every route, a /32 to the SNAT address included: the port picks the VM. */
const SNAT_RETURN_PRIORITY = routePriority(32, true) + 1;

/** One step of a chain of middleboxes in `table` (see the header). */
interface ChainStep {
  readonly dp: number;
  readonly table: number;
  readonly basePriority: number;
  /** The port register the stage matches: reg6 for a wire's ingress, reg7 for egress. */
  readonly portField: typeof REG_IN_PORT | typeof REG_OUT_PORT;
  readonly port: number;
  readonly step: number;
  readonly steps: number;
  readonly tag: number;
  /** 'copy' for a passive middlebox (IDS): the pipeline goes on at once. */
  readonly mode: MiddleboxMode;
  readonly exitTable: number;
}

function chainFlow(c: ChainStep) {
  const last = c.step + 1 === c.steps;
  const next = last ? c.exitTable : c.table;
  const egress = c.portField === REG_OUT_PORT;
  const match: Match = {
    metadata: c.dp,
    ...(c.step > 0 && { [REG_MB_CHAIN]: c.step }),
    [c.portField]: c.port,
    ...(egress && { ethDstGroup: false }),
    ethType: ETH_TYPE_IPV4,
  };
  const actions: Action[] = [{ type: 'set', field: REG_VM_KEY, value: vmKeyOf(c.dp, c.port) }];
  if (c.steps > 1) actions.push({ type: 'set', field: REG_MB_CHAIN, value: last ? 0 : c.step + 1 });
  if (c.mode === 'copy') actions.push(middlebox(c.tag, 'copy', 0), resubmit(next));
  else actions.push(middlebox(c.tag, c.mode, next));
  return { dp: c.dp, table: c.table, priority: c.basePriority + c.step, match: encodeMatch(match), actions: encodeActions(actions) };
}

type PolicyTuple = RelationTuples['middlebox_policy'];
type RuleTuple = RelationTuples['middlebox_rule'];

/** The flow match of a router policy, fields in a fixed order. */
function policyMatch(p: PolicyTuple): Match {
  const m: { -readonly [K in keyof Match]: Match[K] } = { metadata: p.dp };
  if (p.ip_src_len !== 0) m.ipSrc = { addr: p.ip_src_addr, len: p.ip_src_len };
  if (p.ip_dst_len !== 0) m.ipDst = { addr: p.ip_dst_addr, len: p.ip_dst_len };
  if (p.ip_proto !== 0) m.ipProto = p.ip_proto;
  if (p.l4_dst_min === p.l4_dst_max) m.l4Dst = p.l4_dst_min;
  else if (p.l4_dst_min !== ANY_L4_MIN || p.l4_dst_max !== ANY_L4_MAX) m.l4DstRange = [p.l4_dst_min, p.l4_dst_max];
  return m;
}

function ruleMatch(r: RuleTuple): RuleMatch {
  const anyRange = (lo: number, hi: number) => lo === ANY_L4_MIN && hi === ANY_L4_MAX;
  return {
    ...(r.ip_src_len !== 0 && { ipSrc: { addr: r.ip_src_addr, len: r.ip_src_len } }),
    ...(r.ip_dst_len !== 0 && { ipDst: { addr: r.ip_dst_addr, len: r.ip_dst_len } }),
    ...(r.ip_proto !== 0 && { ipProto: r.ip_proto }),
    ...(!anyRange(r.l4_src_min, r.l4_src_max) && { l4Src: [r.l4_src_min, r.l4_src_max] as const }),
    ...(!anyRange(r.l4_dst_min, r.l4_dst_max) && { l4Dst: [r.l4_dst_min, r.l4_dst_max] as const }),
  };
}

/** A rule's record text; `backend` is the one backend this record carries (lb), or null. */
function ruleRecordText(tag: number, r: RuleTuple, backend: { ip: number; port: number } | null): string {
  return encodeMiddleboxRecord({
    r: 'rule',
    tag,
    rule: r.rule,
    name: r.name,
    priority: r.priority,
    action: r.action,
    match: ruleMatch(r),
    toIp: r.to_ip,
    toPortMin: r.to_port_min,
    toPortMax: r.to_port_max,
    backends: backend === null ? [] : [backend],
  });
}

/** A record in the host database: `key` (an encoded match) only makes the flow unique; it never runs. */
function hostDbRow(dp: number, chassis: string, priority: number, key: string, text: string): FlowRow {
  return { dp, chassis, table: HOST_DB_TABLE, priority, match: key, actions: encodeActions([{ type: 'note', text }]) };
}

export function addMiddleboxRules({ engine, lcp, logicalFlow, portChassis, routerChassis, routerNeighbour, physicalFlow }: ProgramParts): void {
  const hidden = { datapath: 'dp', output: false } as const;
  const global = { datapath: null, output: false } as const;

  // ---- the stages pass everything on where no middlebox is --------------------------------------------
  const passThrough = (dp: number, table: number, next: number) => ({
    dp,
    table,
    priority: 0,
    match: encodeMatch({ metadata: dp }),
    actions: encodeActions([resubmit(next)]),
  });
  engine.rule(logicalFlow, (q) => q.from(lcp.logical_switch, { dp: 'dp' }).select((v) => passThrough(v.dp, TABLE.LS_IN_MB, TABLE.LS_IN_ACL)));
  engine.rule(logicalFlow, (q) => q.from(lcp.logical_switch, { dp: 'dp' }).select((v) => passThrough(v.dp, TABLE.LS_OUT_MB, TABLE.LS_OUT_PORT_SEC)));
  engine.rule(logicalFlow, (q) => q.from(lcp.logical_router, { dp: 'dp' }).select((v) => passThrough(v.dp, TABLE.LR_IN_MIRROR, TABLE.LR_IN_POLICY)));
  engine.rule(logicalFlow, (q) => q.from(lcp.logical_router, { dp: 'dp' }).select((v) => passThrough(v.dp, TABLE.LR_IN_POLICY, TABLE.LR_IN_IP_ROUTING)));

  // ---- router middleboxes: policy routing and mirroring --------------------------------------------
  engine.rule(logicalFlow, (q) =>
    q
      .from(lcp.middlebox_policy)
      .join(lcp.middlebox, { dp: 'dp', mb: 'mb', tag: 'tag', kind: 'kind' })
      .select((v) => ({
        dp: v.dp,
        table: v.kind === 'ids' ? TABLE.LR_IN_MIRROR : TABLE.LR_IN_POLICY,
        priority: POLICY_BASE_PRIORITY + v.priority,
        match: encodeMatch(policyMatch(v)),
        actions: encodeActions(
          v.kind === 'ids' ? [middlebox(v.tag, 'copy', 0), resubmit(TABLE.LR_IN_POLICY)] : [middlebox(v.tag, 'inspect', TABLE.LR_IN_IP_ROUTING)],
        ),
      })),
  );

  // ---- router middleboxes: the reply side, where each VM of the router's switches is delivered --------
  /** Router `router` has stateful (non-IDS) middlebox `tag`. */
  const routerStatefulTag = engine.relation('router_stateful_tag', { router: 'number', tag: 'number' }, global);
  engine.rule(routerStatefulTag, (q) =>
    q
      .from(lcp.middlebox, { dp: 'router', tag: 'tag', kind: 'kind' })
      .where((v) => v.kind !== 'ids')
      .join(lcp.logical_router, { dp: 'router' })
      .select((v) => ({ router: v.router, tag: v.tag })),
  );
  /** Switch `dp` delivers replies through stateful middlebox `tag` of a router it is attached to. */
  const replyTag = engine.relation('switch_reply_tag', { dp: 'number', tag: 'number' }, hidden);
  engine.rule(replyTag, (q) =>
    q
      .from(lcp.logical_switch_port_peer, { dp: 'dp', peer_dp: 'router' })
      .join(routerStatefulTag, { router: 'router', tag: 'tag' })
      .select((v) => ({ dp: v.dp, tag: v.tag })),
  );

  // ---- one egress chain per VIF port: the routers' reply steps, then the port's wire middleboxes ------
  // Toward the VM a router middlebox's reverse translation must come first, so the wire's middleboxes
  // see the addresses the VM used (as they did on the way out). A step's `order` sorts the chain: reply
  // steps by tag, then wire steps by descending tag (the reverse of the wire's ingress order).
  const egressStep = engine.relation('egress_mb_step', { dp: 'number', port: 'number', order: 'number', tag: 'number', mode: 'string' }, hidden);
  engine.rule(egressStep, (q) =>
    q
      .from(lcp.logical_switch_port, { dp: 'dp', port: 'port', type: lit('vif') })
      .join(replyTag, { dp: 'dp', tag: 'tag' })
      .select((v) => ({ dp: v.dp, port: v.port, order: v.tag, tag: v.tag, mode: 'reply-only' })),
  );
  engine.rule(egressStep, (q) =>
    q
      .from(lcp.middlebox_wire, { dp: 'dp', mb: 'mb', port: 'port' })
      .join(lcp.middlebox, { dp: 'dp', mb: 'mb', tag: 'tag', kind: 'kind' })
      .select((v) => ({ dp: v.dp, port: v.port, order: WIRE_EGRESS_ORDER - v.tag, tag: v.tag, mode: v.kind === 'ids' ? 'copy' : 'inspect' })),
  );
  const egressOrders = engine.collect('egress_mb_orders', { from: egressStep, groupBy: ['dp', 'port'], value: 'order', as: 'orders', output: false });
  engine.rule(logicalFlow, (q) =>
    q
      .from(egressStep, { dp: 'dp', port: 'port', order: 'order', tag: 'tag', mode: 'mode' })
      .join(egressOrders, { dp: 'dp', port: 'port', orders: 'orders' })
      .select((v) =>
        chainFlow({
          dp: v.dp,
          table: TABLE.LS_OUT_MB,
          basePriority: EGRESS_BASE_PRIORITY,
          portField: REG_OUT_PORT,
          port: v.port,
          step: v.orders.indexOf(v.order),
          steps: v.orders.length,
          tag: v.tag,
          mode: v.mode as MiddleboxMode,
          exitTable: TABLE.LS_OUT_PORT_SEC,
        }),
      ),
  );

  // ---- distributed SNAT: a reply to the shared address goes to the VM whose block holds its port ------
  engine.rule(logicalFlow, (q) =>
    q
      .from(lcp.middlebox_rule, { dp: 'dp', action: lit('snat'), ip_src_addr: 'srcAddr', ip_src_len: 'srcLen', ip_proto: 'proto', to_ip: 'toIp', to_port_min: 'low', to_port_max: 'high' })
      .join(routerNeighbour, { router: 'dp', rport: 'rport', ip: 'ip' })
      .where((v) => v.srcLen !== 0 && prefixContains({ addr: v.srcAddr, len: v.srcLen }, v.ip) && snatBlockOf(v) !== null)
      .join(lcp.logical_router_port, { dp: 'dp', port: 'rport', mac: 'rmac' })
      .select((v) => {
        const block = snatBlockOf(v)!;
        return {
          dp: v.dp,
          table: TABLE.LR_IN_IP_ROUTING,
          priority: SNAT_RETURN_PRIORITY,
          match: encodeMatch({ metadata: v.dp, ethType: ETH_TYPE_IPV4, ipDst: { addr: v.toIp, len: 32 }, ipProto: v.proto, ...portMatch(block) }),
          actions: encodeActions(routeActions(v.rport, v.rmac, v.ip)),
        };
      }),
  );

  // ---- wire middleboxes: ingress (egress is the port's chain above) --------------------------------
  const wireTag = engine.relation('wire_tag', { dp: 'number', port: 'number', tag: 'number' }, hidden);
  engine.rule(wireTag, (q) =>
    q
      .from(lcp.middlebox_wire, { dp: 'dp', mb: 'mb', port: 'port' })
      .join(lcp.middlebox, { dp: 'dp', mb: 'mb', tag: 'tag' })
      .select((v) => ({ dp: v.dp, port: v.port, tag: v.tag })),
  );
  const wireTags = engine.collect('wire_tags', { from: wireTag, groupBy: ['dp', 'port'], value: 'tag', as: 'tags', output: false });
  engine.rule(logicalFlow, (q) =>
    q
      .from(lcp.middlebox_wire, { dp: 'dp', mb: 'mb', port: 'port' })
      .join(lcp.middlebox, { dp: 'dp', mb: 'mb', tag: 'tag', kind: 'kind' })
      .join(wireTags, { dp: 'dp', port: 'port', tags: 'tags' })
      .select((v) =>
        chainFlow({
          dp: v.dp,
          table: TABLE.LS_IN_MB,
          basePriority: WIRE_BASE_PRIORITY,
          portField: REG_IN_PORT,
          port: v.port,
          step: v.tags.indexOf(v.tag),
          steps: v.tags.length,
          tag: v.tag,
          mode: v.kind === 'ids' ? 'copy' : 'inspect',
          exitTable: TABLE.LS_IN_ACL,
        }),
      ),
  );

  // ---- records, as data (placed below) ------------------------------------------------------------
  const sliceRecord = engine.relation('mb_slice_record', { dp: 'number', mb: 'number', tag: 'number', text: 'string' }, hidden);
  engine.rule(sliceRecord, (q) =>
    q.from(lcp.middlebox).select((v) => ({
      dp: v.dp,
      mb: v.mb,
      tag: v.tag,
      text: encodeMiddleboxRecord({ r: 'slice', tag: v.tag, kind: v.kind, name: v.name, tenant: v.tenant, defaultAction: v.default_action }),
    })),
  );
  /** One record per rule, or per backend of an lb rule; `src_len` 0 when the rule applies to any source. */
  const ruleRecord = engine.relation(
    'mb_rule_record',
    { dp: 'number', mb: 'number', tag: 'number', src_addr: 'number', src_len: 'number', key: 'string', text: 'string' },
    hidden,
  );
  const ruleKey = (tag: number, rule: number, backend: { ip: number; port: number } | null): string =>
    encodeMatch(backend === null ? { tunKey: tag, reg1: rule } : { tunKey: tag, reg1: rule, reg2: backend.ip, reg3: backend.port });
  engine.rule(ruleRecord, (q) =>
    q
      .from(lcp.middlebox_rule)
      .where((v) => v.action !== 'lb')
      .join(lcp.middlebox, { dp: 'dp', mb: 'mb', tag: 'tag' })
      .select((v) => ({ dp: v.dp, mb: v.mb, tag: v.tag, src_addr: v.ip_src_addr, src_len: v.ip_src_len, key: ruleKey(v.tag, v.rule, null), text: ruleRecordText(v.tag, v, null) })),
  );
  engine.rule(ruleRecord, (q) =>
    q
      .from(lcp.middlebox_rule)
      .where((v) => v.action === 'lb')
      .join(lcp.middlebox, { dp: 'dp', mb: 'mb', tag: 'tag' })
      .join(lcp.middlebox_backend, { dp: 'dp', rule: 'rule', ip: 'backend_ip', port: 'backend_port' })
      .select((v) => {
        const backend = { ip: v.backend_ip, port: v.backend_port };
        return { dp: v.dp, mb: v.mb, tag: v.tag, src_addr: v.ip_src_addr, src_len: v.ip_src_len, key: ruleKey(v.tag, v.rule, backend), text: ruleRecordText(v.tag, v, backend) };
      }),
  );

  // ---- where router middleboxes' VMs are (global, derived on the switch side) -----------------------
  /** A VIF of one of `router`'s switches is bound on `chassis`, with VM key `vm_key`. */
  const routerVif = engine.relation('router_vif', { router: 'number', chassis: 'string', vm_key: 'number', vif_id: 'string' }, global);
  engine.rule(routerVif, (q) =>
    q
      .from(lcp.logical_switch_port_peer, { dp: 'sw', peer_dp: 'router' })
      .join(lcp.port_binding_request, { dp: 'sw', port: 'port', vif_id: 'vif_id' })
      .join(portChassis, { dp: 'sw', port: 'port', chassis: 'chassis' })
      .select((v) => ({ router: v.router, chassis: v.chassis, vm_key: vmKeyOf(v.sw, v.port), vif_id: v.vif_id })),
  );
  /** A VIF of one of `router`'s switches with address `ip` is bound on `chassis`. */
  const routerVifIp = engine.relation('router_vif_ip', { router: 'number', chassis: 'string', ip: 'number' }, global);
  engine.rule(routerVifIp, (q) =>
    q
      .from(lcp.logical_switch_port_peer, { dp: 'sw', peer_dp: 'router' })
      .join(lcp.port_binding_request, { dp: 'sw', port: 'port' })
      .join(portChassis, { dp: 'sw', port: 'port', chassis: 'chassis' })
      .join(lcp.port_address_ip, { dp: 'sw', port: 'port', ip: 'ip' })
      .select((v) => ({ router: v.router, chassis: v.chassis, ip: v.ip })),
  );

  // ---- placement of router middleboxes' records ---------------------------------------------------
  engine.rule(physicalFlow, (q) =>
    q
      .from(sliceRecord, { dp: 'dp', tag: 'tag', text: 'text' })
      .join(routerChassis, { dp: 'dp', chassis: 'chassis' })
      .select((v) => hostDbRow(v.dp, v.chassis, SLICE_RECORD_PRIORITY, encodeMatch({ tunKey: v.tag }), v.text)),
  );
  engine.rule(physicalFlow, (q) =>
    q
      .from(ruleRecord, { dp: 'dp', src_len: lit(0), key: 'key', text: 'text' })
      .join(routerChassis, { dp: 'dp', chassis: 'chassis' })
      .select((v) => hostDbRow(v.dp, v.chassis, RULE_RECORD_PRIORITY, v.key, v.text)),
  );
  engine.rule(physicalFlow, (q) =>
    q
      .from(ruleRecord, { dp: 'dp', src_addr: 'addr', src_len: 'len', key: 'key', text: 'text' })
      .where((v) => v.len !== 0)
      .join(routerVifIp, { router: 'dp', chassis: 'chassis', ip: 'ip' })
      .where((v) => prefixContains({ addr: v.addr, len: v.len }, v.ip))
      .select((v) => hostDbRow(v.dp, v.chassis, RULE_RECORD_PRIORITY, v.key, v.text)),
  );
  engine.rule(physicalFlow, (q) =>
    q
      .from(lcp.middlebox, { dp: 'dp', tag: 'tag' })
      .join(routerVif, { router: 'dp', chassis: 'chassis', vm_key: 'vmKey', vif_id: 'vif' })
      .select((v) => hostDbRow(v.dp, v.chassis, VM_RECORD_PRIORITY, encodeMatch({ tunKey: v.tag, [REG_VM_KEY]: v.vmKey }), vmRecordText(v.tag, v.vmKey, v.vif))),
  );

  // ---- placement of wire middleboxes' records: the wire port's chassis only ---------------------------
  engine.rule(physicalFlow, (q) =>
    q
      .from(lcp.middlebox_wire, { dp: 'dp', mb: 'mb', port: 'port' })
      .join(sliceRecord, { dp: 'dp', mb: 'mb', tag: 'tag', text: 'text' })
      .join(portChassis, { dp: 'dp', port: 'port', chassis: 'chassis' })
      .select((v) => hostDbRow(v.dp, v.chassis, SLICE_RECORD_PRIORITY, encodeMatch({ tunKey: v.tag }), v.text)),
  );
  engine.rule(physicalFlow, (q) =>
    q
      .from(lcp.middlebox_wire, { dp: 'dp', mb: 'mb', port: 'port' })
      .join(ruleRecord, { dp: 'dp', mb: 'mb', key: 'key', text: 'text' })
      .join(portChassis, { dp: 'dp', port: 'port', chassis: 'chassis' })
      .select((v) => hostDbRow(v.dp, v.chassis, RULE_RECORD_PRIORITY, v.key, v.text)),
  );
  engine.rule(physicalFlow, (q) =>
    q
      .from(lcp.middlebox_wire, { dp: 'dp', mb: 'mb', port: 'port' })
      .join(lcp.middlebox, { dp: 'dp', mb: 'mb', tag: 'tag' })
      .join(lcp.port_binding_request, { dp: 'dp', port: 'port', vif_id: 'vif' })
      .join(portChassis, { dp: 'dp', port: 'port', chassis: 'chassis' })
      .select((v) => {
        const vmKey = vmKeyOf(v.dp, v.port);
        return hostDbRow(v.dp, v.chassis, VM_RECORD_PRIORITY, encodeMatch({ tunKey: v.tag, [REG_VM_KEY]: vmKey }), vmRecordText(v.tag, vmKey, v.vif));
      }),
  );
}

function snatBlockOf(v: { srcAddr: number; srcLen: number; low: number; high: number; ip: number }): readonly [number, number] | null {
  return snatPortBlock({ srcPrefix: { addr: v.srcAddr, len: v.srcLen }, portMin: v.low, portMax: v.high }, v.ip);
}

function portMatch([low, high]: readonly [number, number]): Pick<Match, 'l4Dst' | 'l4DstRange'> {
  return low === high ? { l4Dst: low } : { l4DstRange: [low, high] };
}

function vmRecordText(tag: number, vmKey: number, vifId: string): string {
  return encodeMiddleboxRecord({ r: 'vm', tag, vmKey, vifId });
}
