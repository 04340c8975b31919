// Virtualization-app rules (logical flows + physical facts → physical flows per chassis): where each
// bound port is, which chassis implement a datapath (placement: only those get its flows), the physical
// ingress classification for VIFs and tunnels, dispatch of an egress port to a local VIF or a tunnel,
// and output to the VIF. Owns these rules only, and the encoding of the logical context on the tunnel
// (encapsulation and the table-0 split), which replication-rules.ts reuses; flooding and unknown unicast
// (dispatch of OUT_FLOOD / OUT_UNKNOWN, LS_FLOOD_LOCAL, POOL_REPLICATE, the LS_FROM_TUNNEL flows of
// markers) are replication-rules.ts's.
//
// On the wire tunKey = datapath and tunMeta = reg6 << 16 | reg7 (pipeline.ts). Every sender builds it with
// `encapsulate` and every receiver takes it apart with the one table-0 flow of `tunnelIngressFlow`, so the
// two sides cannot drift apart, and the logical ingress port survives the tunnel for the egress stages.

import type { Action } from '../../dataplane/flow.ts';
import type { ProgramParts } from '../control-program.ts';
import { encodeActions, encodeMatch, type FlowRow } from '../flow-text.ts';
import { REG_IN_PORT, REG_OUT_PORT, REG_VM_KEY, TABLE, TUN_META_IN_PORT_BIT, TUN_META_PORT_BITS, vmKeyOf } from '../pipeline.ts';

const resubmit = (table: number): Action => ({ type: 'resubmit', table });
const PORT_BITS = TUN_META_PORT_BITS;

/** Priority of the unicast case in LS_FROM_TUNNEL (below replication-rules.ts' markers and pool relays). */
const UNICAST_RECEIVE_PRIORITY = 50;

/**
 * Sets the tunnel context for datapath `dp` from the registers: tunKey = dp, tunMeta = reg6 << 16 | reg7.
 * The two moves write all 32 bits of tunMeta, so nothing of an earlier value is left. Then output.
 */
export function encapsulate(dp: number): Action[] {
  return [
    { type: 'set', field: 'tunKey', value: dp },
    { type: 'move', from: REG_OUT_PORT, to: 'tunMeta', fromBit: 0, toBit: 0, bits: PORT_BITS },
    { type: 'move', from: REG_IN_PORT, to: 'tunMeta', fromBit: 0, toBit: TUN_META_IN_PORT_BIT, bits: PORT_BITS },
  ];
}

/**
 * Table 0 for a packet from any tunnel with datapath `dp`: split tunMeta into reg7 (egress port or marker)
 * and reg6 (ingress port), then let LS_FROM_TUNNEL decide by reg7. Exported so replication-rules.ts puts
 * the very same flow on a pool node (where it also implements dp, the two derivations are one row).
 */
export function tunnelIngressFlow(dp: number, chassis: string): FlowRow {
  return {
    dp,
    chassis,
    table: TABLE.PHYSICAL_IN,
    priority: 50,
    match: encodeMatch({ tunKey: dp }),
    actions: encodeActions([
      { type: 'set', field: 'metadata', value: dp },
      { type: 'move', from: 'tunMeta', to: REG_OUT_PORT, fromBit: 0, toBit: 0, bits: PORT_BITS },
      { type: 'move', from: 'tunMeta', to: REG_IN_PORT, fromBit: TUN_META_IN_PORT_BIT, toBit: 0, bits: PORT_BITS },
      resubmit(TABLE.LS_FROM_TUNNEL),
    ]),
  };
}

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
    actions: encodeActions([...encapsulate(dp), { type: 'output', port: tunnel }]),
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
  // Ingress from a bound port: which datapath and logical port the packet belongs to, and for a VM's port
  // (a VIF, not a gateway's localnet port) the VM key its middleboxes keep its state under.
  engine.rule(physicalFlow, (q) =>
    q
      .from(portChassis, { dp: 'dp', port: 'port', chassis: 'chassis', ofport: 'ofport' })
      .join(lcp.logical_switch_port, { dp: 'dp', port: 'port', type: 'type' })
      .select((v) => ({
        dp: v.dp,
        chassis: v.chassis,
        table: TABLE.PHYSICAL_IN,
        priority: 100,
        match: encodeMatch({ inPort: v.ofport }),
        actions: encodeActions([
          { type: 'set', field: 'metadata', value: v.dp },
          { type: 'set', field: REG_IN_PORT, value: v.port },
          ...(v.type === 'vif' ? [{ type: 'set', field: REG_VM_KEY, value: vmKeyOf(v.dp, v.port) } as const] : []),
          resubmit(TABLE.LS_IN_PORT_SEC),
        ]),
      })),
  );
  // Ingress from a tunnel: the sender already ran the logical pipeline; recover its logical context...
  engine.rule(physicalFlow, (q) => q.from(dpChassis, { dp: 'dp', chassis: 'chassis' }).select((v) => tunnelIngressFlow(v.dp, v.chassis)));
  // ...and deliver to the egress port (flood and unknown-unicast markers: replication-rules.ts).
  engine.rule(physicalFlow, (q) =>
    q.from(dpChassis, { dp: 'dp', chassis: 'chassis' }).select((v) => ({
      dp: v.dp,
      chassis: v.chassis,
      table: TABLE.LS_FROM_TUNNEL,
      priority: UNICAST_RECEIVE_PRIORITY,
      match: encodeMatch({ metadata: v.dp }),
      actions: encodeActions([resubmit(TABLE.LS_OUT_ACL)]),
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
  // ...one on another chassis is tunnelled there, carrying the datapath and both logical ports.
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
