// Control-app rules for logical switches (LCP → logical flows): port security on ingress, the L2 lookup
// (a port's MAC → that port; the group bit → flood), and the egress stage's no-hairpin rule. ACLs, routers,
// middleboxes and unknown-destination handling live in their own rule files. Owns these rules only.
// What passes port security goes on to the middlebox stage (LS_IN_MB), and what the to-lport ACLs let
// through to LS_OUT_MB; both stages pass everything on when no middlebox is there (middlebox-rules.ts).

import type { Action } from '../../dataplane/flow.ts';
import { ETH_TYPE_ARP, ETH_TYPE_IPV4 } from '../../dataplane/headers.ts';
import { lit } from '../../rules/index.ts';
import type { ProgramParts } from '../control-program.ts';
import { encodeActions, encodeMatch } from '../flow-text.ts';
import { OUT_FLOOD, REG_IN_PORT, REG_OUT_PORT, TABLE } from '../pipeline.ts';

const resubmit = (table: number): Action => ({ type: 'resubmit', table });

export function addLogicalSwitchRules({ engine, lcp, logicalFlow }: ProgramParts): void {
  // Ports without port security accept any source.
  engine.rule(logicalFlow, (q) =>
    q.from(lcp.port_security, { dp: 'dp', port: 'port', enabled: lit(0) }).select((v) => ({
      dp: v.dp,
      table: TABLE.LS_IN_PORT_SEC,
      priority: 50,
      match: encodeMatch({ metadata: v.dp, [REG_IN_PORT]: v.port }),
      actions: encodeActions([resubmit(TABLE.LS_IN_MB)]),
    })),
  );
  // A port with port security drops what no allowed source matches...
  engine.rule(logicalFlow, (q) =>
    q.from(lcp.port_security, { dp: 'dp', port: 'port', enabled: lit(1) }).select((v) => ({
      dp: v.dp,
      table: TABLE.LS_IN_PORT_SEC,
      priority: 10,
      match: encodeMatch({ metadata: v.dp, [REG_IN_PORT]: v.port }),
      actions: encodeActions([{ type: 'drop' }]),
    })),
  );
  // ...accepts any frame from an allowed MAC whose IPs are not restricted...
  engine.rule(logicalFlow, (q) =>
    q.from(lcp.port_security_mac, { dp: 'dp', port: 'port', mac: 'mac', ip_restricted: lit(0) }).select((v) => ({
      dp: v.dp,
      table: TABLE.LS_IN_PORT_SEC,
      priority: 90,
      match: encodeMatch({ metadata: v.dp, [REG_IN_PORT]: v.port, ethSrc: v.mac }),
      actions: encodeActions([resubmit(TABLE.LS_IN_MB)]),
    })),
  );
  // ...and from a MAC with restricted IPs, only IPv4 and ARP whose source address is allowed.
  for (const ethType of [ETH_TYPE_IPV4, ETH_TYPE_ARP]) {
    engine.rule(logicalFlow, (q) =>
      q
        .from(lcp.port_security_mac, { dp: 'dp', port: 'port', mac: 'mac', ip_restricted: lit(1) })
        .join(lcp.port_security_ip, { dp: 'dp', port: 'port', mac: 'mac', ip_addr: 'addr', ip_len: 'len' })
        .select((v) => ({
          dp: v.dp,
          table: TABLE.LS_IN_PORT_SEC,
          priority: 90,
          match: encodeMatch({ metadata: v.dp, [REG_IN_PORT]: v.port, ethSrc: v.mac, ethType, ipSrc: { addr: v.addr, len: v.len } }),
          actions: encodeActions([resubmit(TABLE.LS_IN_MB)]),
        })),
    );
  }
  // No from-lport ACL matched (acl-rules.ts): everything that passed port security goes on to the L2 lookup.
  engine.rule(logicalFlow, (q) =>
    q.from(lcp.logical_switch, { dp: 'dp' }).select((v) => ({
      dp: v.dp,
      table: TABLE.LS_IN_ACL,
      priority: 0,
      match: encodeMatch({ metadata: v.dp }),
      actions: encodeActions([resubmit(TABLE.LS_IN_L2_LOOKUP)]),
    })),
  );
  // L2 lookup: a port's MAC → that port; the group bit → flood.
  engine.rule(logicalFlow, (q) =>
    q.from(lcp.port_address_mac, { dp: 'dp', port: 'port', mac: 'mac' }).select((v) => ({
      dp: v.dp,
      table: TABLE.LS_IN_L2_LOOKUP,
      priority: 50,
      match: encodeMatch({ metadata: v.dp, ethDst: v.mac }),
      actions: encodeActions([{ type: 'set', field: REG_OUT_PORT, value: v.port }, resubmit(TABLE.LS_OUT_DISPATCH)]),
    })),
  );
  engine.rule(logicalFlow, (q) =>
    q.from(lcp.logical_switch, { dp: 'dp' }).select((v) => ({
      dp: v.dp,
      table: TABLE.LS_IN_L2_LOOKUP,
      priority: 100,
      match: encodeMatch({ metadata: v.dp, ethDstGroup: true }),
      actions: encodeActions([{ type: 'set', field: REG_OUT_PORT, value: OUT_FLOOD }, resubmit(TABLE.LS_OUT_DISPATCH)]),
    })),
  );
  // Egress: no to-lport ACL matched (acl-rules.ts): allow; never send a packet back out of the port it came in on.
  engine.rule(logicalFlow, (q) =>
    q.from(lcp.logical_switch, { dp: 'dp' }).select((v) => ({
      dp: v.dp,
      table: TABLE.LS_OUT_ACL,
      priority: 0,
      match: encodeMatch({ metadata: v.dp }),
      actions: encodeActions([resubmit(TABLE.LS_OUT_MB)]),
    })),
  );
  engine.rule(logicalFlow, (q) =>
    q.from(lcp.logical_switch_port, { dp: 'dp', port: 'port' }).select((v) => ({
      dp: v.dp,
      table: TABLE.LS_OUT_PORT_SEC,
      priority: 200,
      match: encodeMatch({ metadata: v.dp, [REG_IN_PORT]: v.port, [REG_OUT_PORT]: v.port }),
      actions: encodeActions([]),
    })),
  );
}
