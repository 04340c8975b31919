// Virtualization-app rules (logical flows + physical facts → physical flows per chassis): where each
// bound port is, which chassis implement a datapath (placement: only those get its flows), the physical
// ingress classification for VIFs and tunnels, dispatch of an egress port to a local VIF or a tunnel,
// flooding with replication at the source, and output to the VIF. Owns these rules only.

import type { Action } from '../../dataplane/flow.ts';
import type { ProgramParts } from '../control-program.ts';
import { encodeActions, encodeMatch } from '../flow-text.ts';
import { OUT_FLOOD, REG_IN_PORT, REG_OUT_PORT, TABLE } from '../pipeline.ts';

const resubmit = (table: number): Action => ({ type: 'resubmit', table });

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
  const localPorts = engine.collect('local_ports', { from: portChassis, groupBy: ['dp', 'chassis'], value: 'port', as: 'ports', output: false });
  const remoteTunnels = engine.collect('remote_tunnels', { from: dpTunnel, groupBy: ['dp', 'chassis'], value: 'ofport', as: 'ofports', output: false });

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
  // Ingress from a tunnel: the sender already ran the logical pipeline; deliver to the egress port, or
  // flood to the local ports only (never back into a tunnel, so replication cannot loop).
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
  engine.rule(physicalFlow, (q) =>
    q.from(dpChassis, { dp: 'dp', chassis: 'chassis' }).select((v) => ({
      dp: v.dp,
      chassis: v.chassis,
      table: TABLE.PHYSICAL_IN,
      priority: 60,
      match: encodeMatch({ tunKey: v.dp, tunMeta: OUT_FLOOD }),
      actions: encodeActions([{ type: 'set', field: 'metadata', value: v.dp }, resubmit(TABLE.LS_FLOOD_LOCAL)]),
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
      .select((v) => ({
        dp: v.dp,
        chassis: v.chassis,
        table: TABLE.LS_OUT_DISPATCH,
        priority: 100,
        match: encodeMatch({ metadata: v.dp, [REG_OUT_PORT]: v.port }),
        actions: encodeActions([
          { type: 'set', field: 'tunKey', value: v.dp },
          { type: 'move', from: REG_OUT_PORT, to: 'tunMeta' },
          { type: 'output', port: v.tunnel },
        ]),
      })),
  );
  // Flood: the local ports, then one copy to each other chassis of the datapath (source replication).
  engine.rule(physicalFlow, (q) =>
    q.from(dpChassis, { dp: 'dp', chassis: 'chassis' }).select((v) => ({
      dp: v.dp,
      chassis: v.chassis,
      table: TABLE.LS_OUT_DISPATCH,
      priority: 100,
      match: encodeMatch({ metadata: v.dp, [REG_OUT_PORT]: OUT_FLOOD }),
      actions: encodeActions([resubmit(TABLE.LS_FLOOD_LOCAL), resubmit(TABLE.POOL_REPLICATE)]),
    })),
  );
  engine.rule(physicalFlow, (q) =>
    q.from(localPorts, { dp: 'dp', chassis: 'chassis', ports: 'ports' }).select((v) => ({
      dp: v.dp,
      chassis: v.chassis,
      table: TABLE.LS_FLOOD_LOCAL,
      priority: 100,
      match: encodeMatch({ metadata: v.dp }),
      actions: encodeActions(v.ports.flatMap((p) => [{ type: 'set', field: REG_OUT_PORT, value: p } as Action, resubmit(TABLE.LS_OUT_ACL)])),
    })),
  );
  engine.rule(physicalFlow, (q) =>
    q.from(remoteTunnels, { dp: 'dp', chassis: 'chassis', ofports: 'ofports' }).select((v) => ({
      dp: v.dp,
      chassis: v.chassis,
      table: TABLE.POOL_REPLICATE,
      priority: 100,
      match: encodeMatch({ metadata: v.dp }),
      actions: encodeActions([
        { type: 'set', field: 'tunKey', value: v.dp },
        { type: 'set', field: 'tunMeta', value: OUT_FLOOD },
        ...v.ofports.map((port): Action => ({ type: 'output', port })),
      ]),
    })),
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
