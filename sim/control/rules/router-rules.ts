// Control-app and placement rules for distributed logical routers (first-hop, OVN style): the switch-side
// flows of 'router'-type ports (dispatch, hand-off into the router, ARP responder for the router's IPs),
// the router pipeline (admission, longest-prefix-match routing, next-hop MAC resolution, delivery into
// the peer switch, echo replies), and where router flows go (every chassis that implements a switch
// attached to the router) together with the extra placement a routed packet needs on the far switch.
// Owns these rules only; the L2 stages are logical-switch-rules.ts's, ACLs acl-rules.ts's.
//
// A routed packet, all on the chassis where it entered (A and B switches, R the router):
//   A: LS_IN_PORT_SEC → LS_IN_MB → LS_IN_ACL → LS_IN_L2_LOOKUP (dst MAC = router port MAC → reg7 = A's
//      router-type port, an ordinary port_address_mac flow) → LS_OUT_DISPATCH (router-type port: egress
//      here) → LS_OUT_ACL (to-lport, outport = router port) → LS_OUT_MB → LS_OUT_PORT_SEC: metadata = R,
//      reg6 = router port.
//   R: LR_IN_ADMISSION (reg6 = router port, dst MAC = its MAC, IPv4) → LR_IN_MIRROR → LR_IN_POLICY (the
//      router's middleboxes, middlebox-rules.ts) → LR_IN_IP_ROUTING (LPM: reg7 = egress router port,
//      reg0 = next hop, eth src = its MAC, dec-ttl) → LR_IN_ARP_RESOLVE ((reg7, reg0) → eth dst; unknown
//      next hop: drop) → LR_OUT_DELIVER: metadata = B, reg6 = B's router-type port.
//   B: LS_IN_PORT_SEC (router-type ports accept any source) → LS_IN_MB → LS_IN_ACL → LS_IN_L2_LOOKUP →
//      LS_OUT_DISPATCH: local VIF, or tunnel to the destination's chassis, where only B's egress stages
//      run. The tunnel carries reg6 (B's router-type port) with the egress port, so B's to-lport ACLs see
//      that inport there.
// Registers are cleared where a datapath is left (reg7 on entering R; reg7 and reg0 on entering B), so
// nothing of one datapath's pipeline leaks into the next one's matches.
//
// Routing priority: 100 + 2·prefix length, +1 for a connected network, so the longest prefix wins and a
// connected network beats a static route of the same length. Echo requests to a router IP (ICMP type 8
// in l4Src) are answered at priority 300: swap the addresses, type 0, TTL 255, and route the reply.
//
// Crossing datapaths. Every rule lies within one datapath (the engine's LDPS discipline), so facts that
// one datapath's flows need from another's go through a global relation derived from the owning side:
// `router_switch_chassis` (router → chassis of its switches) and `router_neighbour` (router port → the
// IP/MAC pairs on its peer switch). In a cluster the instance computing the router must see those facts
// for switches it does not master; that is the cluster issue's to arrange (NIB export), as in seed 001.
//
// Placement. A packet may enter R on any chassis that implements a switch attached to R, so:
//   - router_chassis(R, X): X implements some switch attached to R; R's logical flows go to every such X.
//   - dp_reach(S, X): S is attached to a router with X in router_chassis; S's logical flows go there too
//     (routed packets run S's ingress on X), and so do S's tunnel dispatch flows toward every chassis
//     hosting a port of S (physical-rules.ts places those only on dp_chassis, which X may not be in).
//   dp_chassis itself is left alone: it still means "hosts a port of S", so tunnel ingress and flood
//   replication (physical-rules.ts) do not send S's broadcasts to chassis that only route into S.
// Limitation: one router hop. A chassis gets the flows of its switches' routers and of those routers'
// switches, not of routers behind those (router → transit switch → router chains need a fixpoint the
// non-recursive engine does not give; a bounded number of hops would be further rules of this shape).

import type { Action } from '../../dataplane/flow.ts';
import { ARP_OP_REPLY, ARP_OP_REQUEST } from '../../dataplane/arp.ts';
import { ETH_TYPE_ARP, ETH_TYPE_IPV4, IP_PROTO_ICMP, prefixContains } from '../../dataplane/headers.ts';
import { lit } from '../../rules/index.ts';
import type { ProgramParts } from '../control-program.ts';
import { encodeActions, encodeMatch } from '../flow-text.ts';
import { REG_IN_PORT, REG_NEXT_HOP, REG_OUT_PORT, TABLE } from '../pipeline.ts';
import { tunnelDispatchFlow } from './physical-rules.ts';

const resubmit = (table: number): Action => ({ type: 'resubmit', table });
const set = (field: Extract<Action, { type: 'set' }>['field'], value: number): Action => ({ type: 'set', field, value });
const move = (from: Extract<Action, { type: 'move' }>['from'], to: Extract<Action, { type: 'move' }>['to']): Action => ({ type: 'move', from, to });

const ICMP_ECHO_REQUEST = 8;
const ICMP_ECHO_REPLY = 0;
const ECHO_REPLY_TTL = 255;

/** LR_IN_IP_ROUTING priority: longest prefix first; connected before static at equal length. */
export function routePriority(prefixLen: number, connected: boolean): number {
  return 100 + 2 * prefixLen + (connected ? 1 : 0);
}
const ECHO_PRIORITY = 300;
/** The ARP responder sits in the L2 lookup above the broadcast flood (priority 100). */
const ARP_RESPONDER_PRIORITY = 110;

export function addRouterRules({ engine, lcp, physical, logicalFlow, portChassis, dpChassis, routerChassis, routerNeighbour, physicalFlow }: ProgramParts): void {
  const dpKey = { datapath: 'dp' } as const;
  const global = { datapath: null } as const;

  // ---- cross-datapath facts (global), each derived on the side that owns it ---------------------------
  /** Router `router` has a switch implemented on `chassis`. */
  const routerSwitchChassis = engine.relation('router_switch_chassis', { router: 'number', chassis: 'string' }, { ...global, output: false });
  engine.rule(routerSwitchChassis, (q) =>
    q
      .from(lcp.logical_switch_port_peer, { dp: 'sw', peer_dp: 'router' })
      .join(dpChassis, { dp: 'sw', chassis: 'chassis' })
      .select((v) => ({ router: v.router, chassis: v.chassis })),
  );
  engine.rule(routerNeighbour, (q) =>
    q
      .from(lcp.logical_switch_port_peer, { dp: 'sw', port: 'peerPort', peer_dp: 'router', peer_port: 'rport' })
      .join(lcp.port_address_ip, { dp: 'sw', port: 'port', mac: 'mac', ip: 'ip' })
      .where((v) => v.port !== v.peerPort)
      .select((v) => ({ router: v.router, rport: v.rport, ip: v.ip, mac: v.mac })),
  );

  // ---- placement relations -------------------------------------------------------------------------
  engine.rule(routerChassis, (q) =>
    q
      .from(lcp.logical_router, { dp: 'dp' })
      .join(routerSwitchChassis, { router: 'dp', chassis: 'chassis' })
      .select((v) => ({ dp: v.dp, chassis: v.chassis })),
  );
  /** The chassis that may run a switch's ingress for packets routed into it (a superset of its own). */
  const dpReach = engine.relation('dp_reach', { dp: 'number', chassis: 'string' }, { ...dpKey, output: false });
  engine.rule(dpReach, (q) =>
    q
      .from(lcp.logical_switch_port_peer, { dp: 'dp', peer_dp: 'router' })
      .join(routerSwitchChassis, { router: 'router', chassis: 'chassis' })
      .select((v) => ({ dp: v.dp, chassis: v.chassis })),
  );

  // ---- switch side of a router-type port --------------------------------------------------------------
  // The router port is "local" on every chassis: its egress stages run here...
  engine.rule(logicalFlow, (q) =>
    q.from(lcp.logical_switch_port_peer, { dp: 'dp', port: 'port' }).select((v) => ({
      dp: v.dp,
      table: TABLE.LS_OUT_DISPATCH,
      priority: 100,
      match: encodeMatch({ metadata: v.dp, [REG_OUT_PORT]: v.port }),
      actions: encodeActions([resubmit(TABLE.LS_OUT_ACL)]),
    })),
  );
  // ...and its "output" enters the router's pipeline at the peer router port.
  engine.rule(logicalFlow, (q) =>
    q.from(lcp.logical_switch_port_peer, { dp: 'dp', port: 'port', peer_dp: 'router', peer_port: 'rport' }).select((v) => ({
      dp: v.dp,
      table: TABLE.LS_OUT_PORT_SEC,
      priority: 100,
      match: encodeMatch({ metadata: v.dp, [REG_OUT_PORT]: v.port }),
      actions: encodeActions([set('metadata', v.router), set(REG_IN_PORT, v.rport), set(REG_OUT_PORT, 0), resubmit(TABLE.LR_IN_ADMISSION)]),
    })),
  );
  // ARP responder: a request for a router port's IP on its switch becomes the reply, sent back to the
  // asking port (reg6 cleared so the egress no-hairpin flow lets it out where it came in).
  engine.rule(logicalFlow, (q) =>
    q
      .from(lcp.logical_switch_port_peer, { dp: 'dp', port: 'port' })
      .join(lcp.port_address_ip, { dp: 'dp', port: 'port', mac: 'mac', ip: 'ip' })
      .select((v) => ({
        dp: v.dp,
        table: TABLE.LS_IN_L2_LOOKUP,
        priority: ARP_RESPONDER_PRIORITY,
        match: encodeMatch({ metadata: v.dp, ethType: ETH_TYPE_ARP, ipDst: { addr: v.ip, len: 32 }, ipProto: ARP_OP_REQUEST }),
        actions: encodeActions([
          move('ethSrc', 'ethDst'),
          set('ethSrc', v.mac),
          move('ipSrc', 'ipDst'),
          set('ipSrc', v.ip),
          set('ipProto', ARP_OP_REPLY),
          move(REG_IN_PORT, REG_OUT_PORT),
          set(REG_IN_PORT, 0),
          resubmit(TABLE.LS_OUT_DISPATCH),
        ]),
      })),
  );

  // ---- router pipeline (keyed by the router datapath) ---------------------------------------------
  // Admission: IPv4 addressed to the MAC of the port it came in on; on to the middlebox stages
  // (middlebox-rules.ts: mirror, policy), which end in LR_IN_IP_ROUTING.
  engine.rule(logicalFlow, (q) =>
    q.from(lcp.logical_router_port, { dp: 'dp', port: 'port', mac: 'mac' }).select((v) => ({
      dp: v.dp,
      table: TABLE.LR_IN_ADMISSION,
      priority: 50,
      match: encodeMatch({ metadata: v.dp, [REG_IN_PORT]: v.port, ethDst: v.mac, ethType: ETH_TYPE_IPV4 }),
      actions: encodeActions([resubmit(TABLE.LR_IN_MIRROR)]),
    })),
  );
  // Connected networks: the next hop is the destination itself.
  engine.rule(logicalFlow, (q) =>
    q.from(lcp.logical_router_port, { dp: 'dp', port: 'port', mac: 'mac', net_addr: 'addr', net_len: 'len' }).select((v) => ({
      dp: v.dp,
      table: TABLE.LR_IN_IP_ROUTING,
      priority: routePriority(v.len, true),
      match: encodeMatch({ metadata: v.dp, ethType: ETH_TYPE_IPV4, ipDst: { addr: v.addr, len: v.len } }),
      actions: encodeActions(routeActions(v.port, v.mac, null)),
    })),
  );
  // Static routes through a named port...
  engine.rule(logicalFlow, (q) =>
    q
      .from(lcp.static_route, { dp: 'dp', prefix_addr: 'addr', prefix_len: 'len', nexthop: 'nexthop', out_port: 'port' })
      .where((v) => v.port !== 0)
      .join(lcp.logical_router_port, { dp: 'dp', port: 'port', mac: 'mac' })
      .select((v) => staticRouteFlow(v.dp, v.addr, v.len, v.port, v.mac, v.nexthop)),
  );
  // ...or through the port whose network holds the next hop (at most one: networks never overlap).
  engine.rule(logicalFlow, (q) =>
    q
      .from(lcp.static_route, { dp: 'dp', prefix_addr: 'addr', prefix_len: 'len', nexthop: 'nexthop', out_port: lit(0) })
      .join(lcp.logical_router_port, { dp: 'dp', port: 'port', mac: 'mac', net_addr: 'netAddr', net_len: 'netLen' })
      .where((v) => prefixContains({ addr: v.netAddr, len: v.netLen }, v.nexthop))
      .select((v) => staticRouteFlow(v.dp, v.addr, v.len, v.port, v.mac, v.nexthop)),
  );
  // Echo requests to any of the router's IPs are answered, then routed back like any packet.
  engine.rule(logicalFlow, (q) =>
    q.from(lcp.logical_router_port, { dp: 'dp', ip: 'ip' }).select((v) => ({
      dp: v.dp,
      table: TABLE.LR_IN_IP_ROUTING,
      priority: ECHO_PRIORITY,
      match: encodeMatch({ metadata: v.dp, ethType: ETH_TYPE_IPV4, ipDst: { addr: v.ip, len: 32 }, ipProto: IP_PROTO_ICMP, l4Src: ICMP_ECHO_REQUEST }),
      actions: encodeActions([
        move('ipSrc', 'ipDst'),
        set('ipSrc', v.ip),
        set('l4Src', ICMP_ECHO_REPLY),
        set('ipTtl', ECHO_REPLY_TTL),
        resubmit(TABLE.LR_IN_IP_ROUTING),
      ]),
    })),
  );
  // Next hop → MAC, from the addresses of the ports on the egress port's switch...
  engine.rule(logicalFlow, (q) =>
    q
      .from(lcp.logical_router_port, { dp: 'dp', port: 'port' })
      .join(routerNeighbour, { router: 'dp', rport: 'port', ip: 'ip', mac: 'mac' })
      .select((v) => ({
        dp: v.dp,
        table: TABLE.LR_IN_ARP_RESOLVE,
        priority: 100,
        match: encodeMatch({ metadata: v.dp, [REG_OUT_PORT]: v.port, [REG_NEXT_HOP]: v.ip }),
        actions: encodeActions([set('ethDst', v.mac), resubmit(TABLE.LR_OUT_DELIVER)]),
      })),
  );
  // ...and a next hop no port owns is dropped (the router does not send ARP requests of its own).
  engine.rule(logicalFlow, (q) =>
    q.from(lcp.logical_router, { dp: 'dp' }).select((v) => ({
      dp: v.dp,
      table: TABLE.LR_IN_ARP_RESOLVE,
      priority: 0,
      match: encodeMatch({ metadata: v.dp }),
      actions: encodeActions([{ type: 'drop' }]),
    })),
  );
  // Delivery: into the peer switch's ingress, entering from the router-type port.
  engine.rule(logicalFlow, (q) =>
    q.from(lcp.logical_router_port, { dp: 'dp', port: 'port', peer_dp: 'sw', peer_port: 'swPort' }).select((v) => ({
      dp: v.dp,
      table: TABLE.LR_OUT_DELIVER,
      priority: 100,
      match: encodeMatch({ metadata: v.dp, [REG_OUT_PORT]: v.port }),
      actions: encodeActions([set('metadata', v.sw), set(REG_IN_PORT, v.swPort), set(REG_OUT_PORT, 0), set(REG_NEXT_HOP, 0), resubmit(TABLE.LS_IN_PORT_SEC)]),
    })),
  );

  // ---- placement -----------------------------------------------------------------------------------
  // Router flows go to every chassis of the router (physical-rules.ts places by dp_chassis, which routers,
  // having no bound ports, are never in).
  engine.rule(physicalFlow, (q) =>
    q
      .from(logicalFlow, { dp: 'dp', table: 'table', priority: 'priority', match: 'match', actions: 'actions' })
      .join(routerChassis, { dp: 'dp', chassis: 'chassis' })
      .select((v) => ({ dp: v.dp, chassis: v.chassis, table: v.table, priority: v.priority, match: v.match, actions: v.actions })),
  );
  // A switch's flows also go where packets may be routed into it (where dp_chassis already put them,
  // the same tuples are derived twice and kept once)...
  engine.rule(physicalFlow, (q) =>
    q
      .from(logicalFlow, { dp: 'dp', table: 'table', priority: 'priority', match: 'match', actions: 'actions' })
      .join(dpReach, { dp: 'dp', chassis: 'chassis' })
      .select((v) => ({ dp: v.dp, chassis: v.chassis, table: v.table, priority: v.priority, match: v.match, actions: v.actions })),
  );
  // ...with its tunnel dispatch toward each chassis hosting one of its ports (the same flow physical-rules
  // makes for chassis of dp_chassis, from the same builder).
  engine.rule(physicalFlow, (q) =>
    q
      .from(portChassis, { dp: 'dp', port: 'port', chassis: 'remote' })
      .join(dpReach, { dp: 'dp', chassis: 'chassis' })
      .where((v) => v.chassis !== v.remote)
      .join(physical.tunnelPort, { chassis: 'chassis', remote: 'remote', ofport: 'tunnel' })
      .select((v) => tunnelDispatchFlow(v.dp, v.chassis, v.port, v.tunnel)),
  );
}

/** Routing actions: dec-ttl, egress port and next hop (null: the destination itself), source MAC. */
export function routeActions(port: number, mac: number, nexthop: number | null): Action[] {
  return [
    { type: 'dec-ttl' },
    nexthop === null ? move('ipDst', REG_NEXT_HOP) : set(REG_NEXT_HOP, nexthop),
    set(REG_OUT_PORT, port),
    set('ethSrc', mac),
    resubmit(TABLE.LR_IN_ARP_RESOLVE),
  ];
}

function staticRouteFlow(dp: number, addr: number, len: number, port: number, mac: number, nexthop: number) {
  return {
    dp,
    table: TABLE.LR_IN_IP_ROUTING,
    priority: routePriority(len, false),
    match: encodeMatch({ metadata: dp, ethType: ETH_TYPE_IPV4, ipDst: { addr, len } }),
    actions: encodeActions(routeActions(port, mac, nexthop)),
  };
}
