// The controller's table-mapping program on the rules engine: the control app (LCP → logical flows, the
// LFP) and the virtualization app (logical flows + physical facts → physical flows per chassis), as
// nLog-style rules. Every rule's first join is on the logical datapath, so an instance computes only for
// the LDPSs it is told to (the cluster issue uses this). Owns the rules and the relations they read and
// write; not how inputs arrive (controller-node.ts) nor how flows reach switches (switch-manager.ts).
//
// Covered so far: logical switches with VIF ports — port security on ingress, L2 lookup, broadcast and
// multicast flooding with replication at the source, unicast tunnelled straight to the destination's
// chassis, delivery to the VIF. Still to come (next sessions): ACLs, logical routers, unknown-unicast,
// pool-node replication and gateways (localnet ports).

import { TABLE, OUT_FLOOD, REG_IN_PORT, REG_OUT_PORT } from './pipeline.ts';
import { encodeActions, encodeMatch } from './flow-text.ts';
import { ETH_TYPE_ARP, ETH_TYPE_IPV4 } from '../dataplane/headers.ts';
import type { Action } from '../dataplane/flow.ts';
import { RulesEngine, lit, type Relation } from '../rules/index.ts';

const resubmit = (table: number): Action => ({ type: 'resubmit', table });

export function buildControlProgram() {
  const engine = new RulesEngine();
  const dpKey = { datapath: 'dp' } as const;
  const global = { datapath: null } as const;

  // ---- inputs: the LCP (sim/logical/relations.ts) ------------------------------------------------------
  const logicalSwitch = engine.input('logical_switch', { dp: 'number', name: 'string', tenant: 'string' }, dpKey);
  const switchPort = engine.input('logical_switch_port', { dp: 'number', port: 'number', name: 'string', type: 'string' }, dpKey);
  const addressMac = engine.input('port_address_mac', { dp: 'number', port: 'number', mac: 'number' }, dpKey);
  const portSecurity = engine.input('port_security', { dp: 'number', port: 'number', enabled: 'number' }, dpKey);
  const securityMac = engine.input('port_security_mac', { dp: 'number', port: 'number', mac: 'number', ip_restricted: 'number' }, dpKey);
  const securityIp = engine.input('port_security_ip', { dp: 'number', port: 'number', mac: 'number', ip_addr: 'number', ip_len: 'number' }, dpKey);
  const bindingRequest = engine.input('port_binding_request', { dp: 'number', port: 'number', vif_id: 'string' }, dpKey);

  // ---- inputs: physical facts the switches report (global: no datapath) ------------------------------
  const vifLocation = engine.input('vif_location', { vif_id: 'string', chassis: 'string', ofport: 'number' }, global);
  const tunnelPort = engine.input('tunnel_port', { chassis: 'string', remote: 'string', ofport: 'number' }, global);

  // ---- control app: LCP → logical flows (chassis-independent) ----------------------------------------
  const logicalFlow = engine.relation('logical_flow', { dp: 'number', table: 'number', priority: 'number', match: 'string', actions: 'string' }, { ...dpKey, output: false });

  // Ports without port security accept any source.
  engine.rule(logicalFlow, (q) =>
    q.from(portSecurity, { dp: 'dp', port: 'port', enabled: lit(0) }).select((v) => ({
      dp: v.dp,
      table: TABLE.LS_IN_PORT_SEC,
      priority: 50,
      match: encodeMatch({ metadata: v.dp, [REG_IN_PORT]: v.port }),
      actions: encodeActions([resubmit(TABLE.LS_IN_ACL)]),
    })),
  );
  // A port with port security drops what no allowed source matches...
  engine.rule(logicalFlow, (q) =>
    q.from(portSecurity, { dp: 'dp', port: 'port', enabled: lit(1) }).select((v) => ({
      dp: v.dp,
      table: TABLE.LS_IN_PORT_SEC,
      priority: 10,
      match: encodeMatch({ metadata: v.dp, [REG_IN_PORT]: v.port }),
      actions: encodeActions([{ type: 'drop' }]),
    })),
  );
  // ...accepts any frame from an allowed MAC whose IPs are not restricted...
  engine.rule(logicalFlow, (q) =>
    q.from(securityMac, { dp: 'dp', port: 'port', mac: 'mac', ip_restricted: lit(0) }).select((v) => ({
      dp: v.dp,
      table: TABLE.LS_IN_PORT_SEC,
      priority: 90,
      match: encodeMatch({ metadata: v.dp, [REG_IN_PORT]: v.port, ethSrc: v.mac }),
      actions: encodeActions([resubmit(TABLE.LS_IN_ACL)]),
    })),
  );
  // ...and from a MAC with restricted IPs, only IPv4 and ARP whose source address is allowed.
  for (const ethType of [ETH_TYPE_IPV4, ETH_TYPE_ARP]) {
    engine.rule(logicalFlow, (q) =>
      q
        .from(securityMac, { dp: 'dp', port: 'port', mac: 'mac', ip_restricted: lit(1) })
        .join(securityIp, { dp: 'dp', port: 'port', mac: 'mac', ip_addr: 'addr', ip_len: 'len' })
        .select((v) => ({
          dp: v.dp,
          table: TABLE.LS_IN_PORT_SEC,
          priority: 90,
          match: encodeMatch({ metadata: v.dp, [REG_IN_PORT]: v.port, ethSrc: v.mac, ethType, ipSrc: { addr: v.addr, len: v.len } }),
          actions: encodeActions([resubmit(TABLE.LS_IN_ACL)]),
        })),
    );
  }
  // No ACLs yet: everything that passed port security goes on to the L2 lookup.
  engine.rule(logicalFlow, (q) =>
    q.from(logicalSwitch, { dp: 'dp' }).select((v) => ({
      dp: v.dp,
      table: TABLE.LS_IN_ACL,
      priority: 0,
      match: encodeMatch({ metadata: v.dp }),
      actions: encodeActions([resubmit(TABLE.LS_IN_L2_LOOKUP)]),
    })),
  );
  // L2 lookup: a port's MAC → that port; the group bit → flood.
  engine.rule(logicalFlow, (q) =>
    q.from(addressMac, { dp: 'dp', port: 'port', mac: 'mac' }).select((v) => ({
      dp: v.dp,
      table: TABLE.LS_IN_L2_LOOKUP,
      priority: 50,
      match: encodeMatch({ metadata: v.dp, ethDst: v.mac }),
      actions: encodeActions([{ type: 'set', field: REG_OUT_PORT, value: v.port }, resubmit(TABLE.LS_OUT_DISPATCH)]),
    })),
  );
  engine.rule(logicalFlow, (q) =>
    q.from(logicalSwitch, { dp: 'dp' }).select((v) => ({
      dp: v.dp,
      table: TABLE.LS_IN_L2_LOOKUP,
      priority: 100,
      match: encodeMatch({ metadata: v.dp, ethDstGroup: true }),
      actions: encodeActions([{ type: 'set', field: REG_OUT_PORT, value: OUT_FLOOD }, resubmit(TABLE.LS_OUT_DISPATCH)]),
    })),
  );
  // Egress: no ACLs yet; never send a packet back out of the port it came in on.
  engine.rule(logicalFlow, (q) =>
    q.from(logicalSwitch, { dp: 'dp' }).select((v) => ({
      dp: v.dp,
      table: TABLE.LS_OUT_ACL,
      priority: 0,
      match: encodeMatch({ metadata: v.dp }),
      actions: encodeActions([resubmit(TABLE.LS_OUT_PORT_SEC)]),
    })),
  );
  engine.rule(logicalFlow, (q) =>
    q.from(switchPort, { dp: 'dp', port: 'port' }).select((v) => ({
      dp: v.dp,
      table: TABLE.LS_OUT_PORT_SEC,
      priority: 200,
      match: encodeMatch({ metadata: v.dp, [REG_IN_PORT]: v.port, [REG_OUT_PORT]: v.port }),
      actions: encodeActions([]),
    })),
  );

  // ---- virtualization app: logical flows + physical facts → physical flows per chassis ---------------
  const portChassis = engine.relation('port_chassis', { dp: 'number', port: 'number', chassis: 'string', ofport: 'number' }, { ...dpKey, output: false });
  engine.rule(portChassis, (q) =>
    q
      .from(bindingRequest, { dp: 'dp', port: 'port', vif_id: 'vif' })
      .join(vifLocation, { vif_id: 'vif', chassis: 'chassis', ofport: 'ofport' })
      .select((v) => ({ dp: v.dp, port: v.port, chassis: v.chassis, ofport: v.ofport })),
  );
  /** The chassis that implement a datapath: those hosting one of its ports (placement). */
  const dpChassis = engine.relation('dp_chassis', { dp: 'number', chassis: 'string' }, { ...dpKey, output: false });
  engine.rule(dpChassis, (q) => q.from(portChassis, { dp: 'dp', chassis: 'chassis' }).select((v) => ({ dp: v.dp, chassis: v.chassis })));
  /** For each chassis of a datapath, the tunnel port toward each other chassis of it. */
  const dpTunnel = engine.relation('dp_tunnel', { dp: 'number', chassis: 'string', remote: 'string', ofport: 'number' }, { ...dpKey, output: false });
  engine.rule(dpTunnel, (q) =>
    q
      .from(dpChassis, { dp: 'dp', chassis: 'chassis' })
      .join(dpChassis, { dp: 'dp', chassis: 'remote' })
      .where((v) => v.chassis !== v.remote)
      .join(tunnelPort, { chassis: 'chassis', remote: 'remote', ofport: 'ofport' })
      .select((v) => ({ dp: v.dp, chassis: v.chassis, remote: v.remote, ofport: v.ofport })),
  );
  const localPorts = engine.collect('local_ports', { from: portChassis, groupBy: ['dp', 'chassis'], value: 'port', as: 'ports', output: false });
  const remoteTunnels = engine.collect('remote_tunnels', { from: dpTunnel, groupBy: ['dp', 'chassis'], value: 'ofport', as: 'ofports', output: false });

  const physicalFlow = engine.relation('physical_flow', {
    dp: 'number',
    chassis: 'string',
    table: 'number',
    priority: 'number',
    match: 'string',
    actions: 'string',
  }, dpKey);
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

  const inputs = { logicalSwitch, switchPort, addressMac, portSecurity, securityMac, securityIp, bindingRequest, vifLocation, tunnelPort };
  return { engine, inputs, physicalFlow };
}

export type ControlProgram = ReturnType<typeof buildControlProgram>;
export type LcpInputName = 'logical_switch' | 'logical_switch_port' | 'port_address_mac' | 'port_security' | 'port_security_mac' | 'port_security_ip' | 'port_binding_request';
export type AnyRelation = Relation<any>;
