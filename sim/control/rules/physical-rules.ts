// Virtualization-app rules (logical flows + physical facts → physical flows per chassis): where each
// bound port is, which chassis implement a datapath (placement: only those get its flows), the physical
// ingress classification for VIFs and tunnels, dispatch of an egress port to a local VIF or a tunnel,
// and output to the VIF. Owns these rules only; flooding and unknown unicast (dispatch of OUT_FLOOD /
// OUT_UNKNOWN, LS_FLOOD_LOCAL, POOL_REPLICATE, their tunnel ingress) are replication-rules.ts's.

import type { Action } from '../../dataplane/flow.ts';
import type { ProgramParts } from '../control-program.ts';
import { encodeActions, encodeMatch, type FlowRow } from '../flow-text.ts';
import { REG_IN_PORT, REG_OUT_PORT, TABLE } from '../pipeline.ts';

const resubmit = (table: number): Action => ({ type: 'resubmit', table });

/**
 * Dispatch of egress port `port` of datapath `dp` on `chassis` into the tunnel port `tunnel` toward the
 * port's chassis. Exported so router-rules.ts places the very same flow on chassis that route into `dp`.
 */
export function tunnelDispatchFlow(dp: number, chassis: string, port: number, tunnel: number): FlowRow {
  return {
    dp,
    chassis,
    table: TABLE.LS_OUT_DISPATCH,
    priority: 100,
    match: encodeMatch({ metadata: dp, [REG_OUT_PORT]: port }),
    actions: encodeActions([
      { type: 'set', field: 'tunKey', value: dp },
      { type: 'move', from: REG_OUT_PORT, to: 'tunMeta' },
      { type: 'output', port: tunnel },
    ]),
  };
}

export function addPhysicalRules({ engine, lcp, physical, logicalFlow, portChassis, dpChassis, physicalFlow }: ProgramParts): void {
  const dpKey = { datapath: 'dp' } as const;
  engine.rule(portChassis, (q) =>
    q
      .from(lcp.port_binding_request, { dp: 'dp', port: 'port', vif_id: 'vif' })
      .join(physical.vifLocation, { vif_id: 'vif', chassis: 'chassis', ofport: 'ofport' })
      .select((v) => ({ dp: v.dp, port: v.port, chassis: v.chassis, ofport: v.ofport })),
  );
  engine.rule(dpChassis, (q) => q.from(portChassis, { dp: 'dp', chassis: 'chassis' }).select((v) => ({ dp: v.dp, chassis: v.chassis })));
  /** For each chassis of a datapath, the tunnel port toward each other chassis of it. */
  const dpTunnel = engine.relation('dp_tunnel', { dp: 'number', chassis: 'string', remote: 'string', ofport: 'number' }, { ...dpKey, output: false });
  engine.rule(dpTunnel, (q) =>
    q
      .from(dpChassis, { dp: 'dp', chassis: 'chassis' })
      .join(dpChassis, { dp: 'dp', chassis: 'remote' })
      .where((v) => v.chassis !== v.remote)
      .join(physical.tunnelPort, { chassis: 'chassis', remote: 'remote', ofport: 'ofport' })
      .select((v) => ({ dp: v.dp, chassis: v.chassis, remote: v.remote, ofport: v.ofport })),
  );

  // Every logical flow goes to every chassis that implements its datapath, and only there.
  engine.rule(physicalFlow, (q) =>
    q
      .from(logicalFlow, { dp: 'dp', table: 'table', priority: 'priority', match: 'match', actions: 'actions' })
      .join(dpChassis, { dp: 'dp', chassis: 'chassis' })
      .select((v) => ({ dp: v.dp, chassis: v.chassis, table: v.table, priority: v.priority, match: v.match, actions: v.actions })),
  );
  // Ingress from a VIF: which datapath and logical port the packet belongs to.
  engine.rule(physicalFlow, (q) =>
    q.from(portChassis, { dp: 'dp', port: 'port', chassis: 'chassis', ofport: 'ofport' }).select((v) => ({
      dp: v.dp,
      chassis: v.chassis,
      table: TABLE.PHYSICAL_IN,
      priority: 100,
      match: encodeMatch({ inPort: v.ofport }),
      actions: encodeActions([{ type: 'set', field: 'metadata', value: v.dp }, { type: 'set', field: REG_IN_PORT, value: v.port }, resubmit(TABLE.LS_IN_PORT_SEC)]),
    })),
  );
  // Ingress from a tunnel: the sender already ran the logical pipeline; deliver to the egress port (flood
  // and unknown-unicast copies: replication-rules.ts).
  engine.rule(physicalFlow, (q) =>
    q.from(dpChassis, { dp: 'dp', chassis: 'chassis' }).select((v) => ({
      dp: v.dp,
      chassis: v.chassis,
      table: TABLE.PHYSICAL_IN,
      priority: 50,
      match: encodeMatch({ tunKey: v.dp }),
      actions: encodeActions([{ type: 'set', field: 'metadata', value: v.dp }, { type: 'move', from: 'tunMeta', to: REG_OUT_PORT }, resubmit(TABLE.LS_OUT_ACL)]),
    })),
  );
  // Dispatch: an egress port on this chassis goes to the egress stages here...
  engine.rule(physicalFlow, (q) =>
    q.from(portChassis, { dp: 'dp', port: 'port', chassis: 'chassis' }).select((v) => ({
      dp: v.dp,
      chassis: v.chassis,
      table: TABLE.LS_OUT_DISPATCH,
      priority: 100,
      match: encodeMatch({ metadata: v.dp, [REG_OUT_PORT]: v.port }),
      actions: encodeActions([resubmit(TABLE.LS_OUT_ACL)]),
    })),
  );
  // ...one on another chassis is tunnelled there, carrying the datapath and the egress port.
  engine.rule(physicalFlow, (q) =>
    q
      .from(portChassis, { dp: 'dp', port: 'port', chassis: 'remote' })
      .join(dpTunnel, { dp: 'dp', chassis: 'chassis', remote: 'remote', ofport: 'tunnel' })
      .select((v) => tunnelDispatchFlow(v.dp, v.chassis, v.port, v.tunnel)),
  );
  // Output to the VIF of an egress port on this chassis.
  engine.rule(physicalFlow, (q) =>
    q.from(portChassis, { dp: 'dp', port: 'port', chassis: 'chassis', ofport: 'ofport' }).select((v) => ({
      dp: v.dp,
      chassis: v.chassis,
      table: TABLE.LS_OUT_PORT_SEC,
      priority: 100,
      match: encodeMatch({ metadata: v.dp, [REG_OUT_PORT]: v.port }),
      actions: encodeActions([{ type: 'output', port: v.ofport }]),
    })),
  );
}
