// Virtualization-app rules for BUM traffic on logical switches: flooding (broadcast/multicast) and
// unknown-unicast delivery, with replication either at the source or through a pool node (seed 000
// §1.10: non-leaf switches take unknown destinations and turn a broadcast into a series of unicasts).
// Owns the L2 lookup's default (unknown destination), the OUT_FLOOD / OUT_UNKNOWN dispatch, the local
// fan-out in LS_FLOOD_LOCAL, every POOL_REPLICATE flow, the LS_FROM_TUNNEL flows of flood/unknown copies,
// and the pool node's flows. Unicast dispatch, placement and the tunnel encoding (encapsulate, the table-0
// split) are physical-rules.ts's.
//
// The marker travels in reg7 on a chassis and in the low 16 bits of tunMeta on the wire, beside the
// logical ingress port in the high 16 (pipeline.ts): OUT_FLOOD (every port) or OUT_UNKNOWN (the ports with
// port_address_unknown, e.g. a localnet port). On a chassis:
//   LS_OUT_DISPATCH  reg7=marker      -> resubmit LS_FLOOD_LOCAL, reg7=marker, resubmit POOL_REPLICATE
//   LS_FLOOD_LOCAL   reg7=marker      -> each local target port p: reg7=p, resubmit LS_OUT_ACL
//   POOL_REPLICATE   reg7=marker      -> tunKey=dp, tunMeta=reg6<<16|marker, output to the tunnels below
//   PHYSICAL_IN      tunKey=dp        -> metadata=dp, reg7=tunMeta[0..15], reg6=tunMeta[16..31] (the one
//                                       split flow of physical-rules.ts), resubmit LS_FROM_TUNNEL
//   LS_FROM_TUNNEL   reg7=marker      -> resubmit LS_FLOOD_LOCAL (never a tunnel again, so replication
//                                       cannot loop)
// Since reg6 holds the sender's ingress port on every receiver, a to-lport ACL matching inport judges each
// flooded copy there exactly as it would on the first hop.
// A switch with no unknown-address port drops unknown unicast (LS_OUT_DISPATCH priority 1).
//
// The knob (seed: "in some embodiments"): with no pool node configured, the first hop replicates at the
// source — one tunnel copy per other chassis of the datapath (OUT_FLOOD) or per chassis holding an
// unknown-address port (OUT_UNKNOWN). With pool nodes, each logical switch uses one of them, the sorted
// pool list's entry at index dp mod its length; the first hop then sends ONE copy to that pool node P,
// and P (table 0's split, then LS_FROM_TUNNEL matching the marker in reg7 and the tunnel it came in on)
// sends it to every target chassis but the sender, with tunKey and tunMeta as they arrived: the ingress
// port bits pass through the pool node untouched.
// P holds flows for a datapath only while it serves someone: two or more chassis implement it (flood) or
// some chassis other than the sender holds an unknown-address port (unknown). Its flows carry dp, so
// their cookie is dp:N. A pool node that also hosts ports of the datapath replicates its own floods at
// the source and delivers copies it relays to its local ports too.
//
// Negation is not available (AND-only rules), so "no pool" is a positive fact: every logical switch has
// the candidate '' (the source) beside each pool node, and `replicator` picks one.

import type { Action, Match } from '../../dataplane/flow.ts';
import type { RuleStart } from '../../rules/index.ts';
import type { ProgramParts } from '../control-program.ts';
import { encodeActions, encodeMatch, type FlowRow } from '../flow-text.ts';
import { OUT_FLOOD, OUT_UNKNOWN, REG_OUT_PORT, TABLE } from '../pipeline.ts';
import { encapsulate, tunnelIngressFlow } from './physical-rules.ts';

/** The replicator value that means "replicate at the source". Chassis names are never empty. */
export const SOURCE_REPLICATION = '';

/** The pool node a logical switch uses: none ('') without pool nodes, else the sorted list's entry dp mod n. */
export function pickReplicator(dp: number, candidates: readonly string[]): string {
  const pools = candidates.filter((c) => c !== SOURCE_REPLICATION);
  return pools.length === 0 ? SOURCE_REPLICATION : pools[dp % pools.length];
}

/** Priority of a pool node's relay flows in LS_FROM_TUNNEL (above the receivers' 50/60). */
const POOL_RELAY_PRIORITY = 110;
/** Priority of a flood or unknown-unicast copy in LS_FROM_TUNNEL (above the unicast receiver's 50). */
const BUM_RECEIVE_PRIORITY = 60;

const resubmit = (table: number): Action => ({ type: 'resubmit', table });
const row = (dp: number, chassis: string, table: number, priority: number, match: Match, actions: readonly Action[]): FlowRow => ({
  dp,
  chassis,
  table,
  priority,
  match: encodeMatch(match),
  actions: encodeActions(actions),
});
const outputs = (ofports: readonly number[]): Action[] => ofports.map((port): Action => ({ type: 'output', port }));
/** Encapsulate with the datapath, the ingress port and the marker (reg7 holds it), one output per tunnel port. */
const tunnelCopies = (dp: number, ofports: readonly number[]): Action[] => [...encapsulate(dp), ...outputs(ofports)];
/** A copy from the tunnel (already split: metadata, reg6, reg7 = marker) goes to this chassis' own target ports. */
const receiveCopy = (dp: number, chassis: string, marker: number): FlowRow =>
  row(dp, chassis, TABLE.LS_FROM_TUNNEL, BUM_RECEIVE_PRIORITY, { metadata: dp, [REG_OUT_PORT]: marker }, [resubmit(TABLE.LS_FLOOD_LOCAL)]);

export function addReplicationRules({ engine, lcp, physical, logicalFlow, portChassis, dpChassis, physicalFlow }: ProgramParts): void {
  const hidden = { datapath: 'dp', output: false } as const;

  // ---- which replicator each logical switch uses ------------------------------------------------------
  const candidate = engine.relation('replicator_candidate', { dp: 'number', pool: 'string' }, hidden);
  engine.rule(candidate, (q) => q.from(lcp.logical_switch, { dp: 'dp' }).select((v) => ({ dp: v.dp, pool: SOURCE_REPLICATION })));
  engine.rule(candidate, (q) =>
    q
      .from(lcp.logical_switch, { dp: 'dp' })
      .join(physical.poolNode, { chassis: 'pool' })
      .select((v) => ({ dp: v.dp, pool: v.pool })),
  );
  const candidates = engine.collect('replicator_candidates', { from: candidate, groupBy: ['dp'], value: 'pool', as: 'pools', output: false });
  /** Exactly one per logical switch: its pool node, or '' for source replication. */
  const replicator = engine.relation('replicator', { dp: 'number', pool: 'string' }, hidden);
  engine.rule(replicator, (q) => q.from(candidates, { dp: 'dp', pools: 'pools' }).select((v) => ({ dp: v.dp, pool: pickReplicator(v.dp, v.pools) })));

  // ---- targets: chassis of the datapath (flood) and chassis holding unknown-address ports (unknown) -----
  const chassisList = engine.collect('bum_chassis_list', { from: dpChassis, groupBy: ['dp'], value: 'chassis', as: 'all', output: false });
  const unknownAt = engine.relation('unknown_port_at', { dp: 'number', chassis: 'string', port: 'number' }, hidden);
  engine.rule(unknownAt, (q) =>
    q
      .from(lcp.port_address_unknown, { dp: 'dp', port: 'port' })
      .join(portChassis, { dp: 'dp', port: 'port', chassis: 'chassis' })
      .select((v) => ({ dp: v.dp, chassis: v.chassis, port: v.port })),
  );
  const holderList = engine.collect('unknown_chassis_list', { from: unknownAt, groupBy: ['dp'], value: 'chassis', as: 'holders', output: false });

  /** Direct tunnel copies from `chassis` (marker, tunnel port): the source-replication fan-out. */
  const direct = engine.relation('bum_direct_tunnel', { dp: 'number', chassis: 'string', marker: 'number', ofport: 'number' }, hidden);
  engine.rule(direct, (q) =>
    q
      .from(dpChassis, { dp: 'dp', chassis: 'chassis' })
      .join(dpChassis, { dp: 'dp', chassis: 'remote' })
      .where((v) => v.chassis !== v.remote)
      .join(physical.tunnelPort, { chassis: 'chassis', remote: 'remote', ofport: 'ofport' })
      .select((v) => ({ dp: v.dp, chassis: v.chassis, marker: OUT_FLOOD, ofport: v.ofport })),
  );
  engine.rule(direct, (q) =>
    q
      .from(unknownAt, { dp: 'dp', chassis: 'remote' })
      .join(dpChassis, { dp: 'dp', chassis: 'chassis' })
      .where((v) => v.chassis !== v.remote)
      .join(physical.tunnelPort, { chassis: 'chassis', remote: 'remote', ofport: 'ofport' })
      .select((v) => ({ dp: v.dp, chassis: v.chassis, marker: OUT_UNKNOWN, ofport: v.ofport })),
  );
  const directs = engine.collect('bum_direct_tunnels', { from: direct, groupBy: ['dp', 'chassis', 'marker'], value: 'ofport', as: 'ofports', output: false });

  /** A pool node's tunnel port toward each target chassis (marker, tunnel port). */
  const poolTarget = engine.relation('pool_target', { dp: 'number', pool: 'string', marker: 'number', ofport: 'number' }, hidden);
  engine.rule(poolTarget, (q) =>
    q
      .from(replicator, { dp: 'dp', pool: 'pool' })
      .where((v) => v.pool !== SOURCE_REPLICATION)
      .join(dpChassis, { dp: 'dp', chassis: 'remote' })
      .where((v) => v.remote !== v.pool)
      .join(physical.tunnelPort, { chassis: 'pool', remote: 'remote', ofport: 'ofport' })
      .select((v) => ({ dp: v.dp, pool: v.pool, marker: OUT_FLOOD, ofport: v.ofport })),
  );
  engine.rule(poolTarget, (q) =>
    q
      .from(replicator, { dp: 'dp', pool: 'pool' })
      .where((v) => v.pool !== SOURCE_REPLICATION)
      .join(unknownAt, { dp: 'dp', chassis: 'remote' })
      .where((v) => v.remote !== v.pool)
      .join(physical.tunnelPort, { chassis: 'pool', remote: 'remote', ofport: 'ofport' })
      .select((v) => ({ dp: v.dp, pool: v.pool, marker: OUT_UNKNOWN, ofport: v.ofport })),
  );
  const poolTargets = engine.collect('pool_targets', { from: poolTarget, groupBy: ['dp', 'pool', 'marker'], value: 'ofport', as: 'ofports', output: false });

  /** `chassis` sends its marker copies to pool node `pool` through tunnel port `ofport` (when someone else needs them). */
  const viaPool = engine.relation('bum_via_pool', { dp: 'number', chassis: 'string', marker: 'number', pool: 'string', ofport: 'number' }, hidden);
  engine.rule(viaPool, (q) =>
    q
      .from(replicator, { dp: 'dp', pool: 'pool' })
      .where((v) => v.pool !== SOURCE_REPLICATION)
      .join(chassisList, { dp: 'dp', all: 'all' })
      .join(dpChassis, { dp: 'dp', chassis: 'chassis' })
      .where((v) => v.chassis !== v.pool && v.all.some((c) => c !== v.chassis))
      .join(physical.tunnelPort, { chassis: 'chassis', remote: 'pool', ofport: 'ofport' })
      .select((v) => ({ dp: v.dp, chassis: v.chassis, marker: OUT_FLOOD, pool: v.pool, ofport: v.ofport })),
  );
  engine.rule(viaPool, (q) =>
    q
      .from(replicator, { dp: 'dp', pool: 'pool' })
      .where((v) => v.pool !== SOURCE_REPLICATION)
      .join(holderList, { dp: 'dp', holders: 'holders' })
      .join(dpChassis, { dp: 'dp', chassis: 'chassis' })
      .where((v) => v.chassis !== v.pool && v.holders.some((c) => c !== v.chassis))
      .join(physical.tunnelPort, { chassis: 'chassis', remote: 'pool', ofport: 'ofport' })
      .select((v) => ({ dp: v.dp, chassis: v.chassis, marker: OUT_UNKNOWN, pool: v.pool, ofport: v.ofport })),
  );

  // ---- L2 lookup default: a destination no port owns is unknown unicast (logical flows) ----------------
  engine.rule(logicalFlow, (q) =>
    q.from(lcp.logical_switch, { dp: 'dp' }).select((v) => ({
      dp: v.dp,
      table: TABLE.LS_IN_L2_LOOKUP,
      priority: 0,
      match: encodeMatch({ metadata: v.dp }),
      actions: encodeActions([{ type: 'set', field: REG_OUT_PORT, value: OUT_UNKNOWN }, resubmit(TABLE.LS_OUT_DISPATCH)]),
    })),
  );
  engine.rule(logicalFlow, (q) =>
    q.from(lcp.logical_switch, { dp: 'dp' }).select((v) => ({
      dp: v.dp,
      table: TABLE.LS_OUT_DISPATCH,
      priority: 1,
      match: encodeMatch({ metadata: v.dp, [REG_OUT_PORT]: OUT_UNKNOWN }),
      actions: encodeActions([{ type: 'drop' }]),
    })),
  );

  // ---- dispatch of a marker on every chassis of the switch: local fan-out, then replication -----------
  const dispatch = (dp: number, chassis: string, marker: number): FlowRow =>
    row(dp, chassis, TABLE.LS_OUT_DISPATCH, 100, { metadata: dp, [REG_OUT_PORT]: marker }, [
      resubmit(TABLE.LS_FLOOD_LOCAL),
      { type: 'set', field: REG_OUT_PORT, value: marker }, // the local fan-out left the last port in reg7
      resubmit(TABLE.POOL_REPLICATE),
    ]);
  engine.rule(physicalFlow, (q) =>
    q
      .from(replicator, { dp: 'dp' })
      .join(dpChassis, { dp: 'dp', chassis: 'chassis' })
      .select((v) => dispatch(v.dp, v.chassis, OUT_FLOOD)),
  );
  engine.rule(physicalFlow, (q) =>
    q
      .from(holderList, { dp: 'dp' })
      .join(dpChassis, { dp: 'dp', chassis: 'chassis' })
      .select((v) => dispatch(v.dp, v.chassis, OUT_UNKNOWN)),
  );

  // ---- local fan-out: every port here (flood), the unknown-address ports here (unknown) ---------------
  const localPorts = engine.collect('flood_local_ports', { from: portChassis, groupBy: ['dp', 'chassis'], value: 'port', as: 'ports', output: false });
  const localUnknown = engine.collect('unknown_local_ports', { from: unknownAt, groupBy: ['dp', 'chassis'], value: 'port', as: 'ports', output: false });
  const fanOut = (dp: number, chassis: string, marker: number, ports: readonly number[]): FlowRow =>
    row(
      dp,
      chassis,
      TABLE.LS_FLOOD_LOCAL,
      100,
      { metadata: dp, [REG_OUT_PORT]: marker },
      ports.flatMap((p): Action[] => [{ type: 'set', field: REG_OUT_PORT, value: p }, resubmit(TABLE.LS_OUT_ACL)]),
    );
  engine.rule(physicalFlow, (q) =>
    q
      .from(localPorts, { dp: 'dp', chassis: 'chassis', ports: 'ports' })
      .join(replicator, { dp: 'dp' })
      .select((v) => fanOut(v.dp, v.chassis, OUT_FLOOD, v.ports)),
  );
  engine.rule(physicalFlow, (q) =>
    q.from(localUnknown, { dp: 'dp', chassis: 'chassis', ports: 'ports' }).select((v) => fanOut(v.dp, v.chassis, OUT_UNKNOWN, v.ports)),
  );

  // ---- tunnel ingress of a copy (after physical-rules.ts' split): the local fan-out only -------------
  engine.rule(physicalFlow, (q) =>
    q
      .from(replicator, { dp: 'dp' })
      .join(dpChassis, { dp: 'dp', chassis: 'chassis' })
      .select((v) => receiveCopy(v.dp, v.chassis, OUT_FLOOD)),
  );
  engine.rule(physicalFlow, (q) => q.from(localUnknown, { dp: 'dp', chassis: 'chassis' }).select((v) => receiveCopy(v.dp, v.chassis, OUT_UNKNOWN)));

  // ---- replication on the first hop ------------------------------------------------------------------
  // At the source: no pool node, or this chassis is the switch's pool node.
  engine.rule(physicalFlow, (q) =>
    q
      .from(directs, { dp: 'dp', chassis: 'chassis', marker: 'marker', ofports: 'ofports' })
      .join(replicator, { dp: 'dp', pool: 'pool' })
      .where((v) => v.pool === SOURCE_REPLICATION || v.pool === v.chassis)
      .select((v) => row(v.dp, v.chassis, TABLE.POOL_REPLICATE, 100, { metadata: v.dp, [REG_OUT_PORT]: v.marker }, tunnelCopies(v.dp, v.ofports))),
  );
  // Through the pool node: one copy.
  engine.rule(physicalFlow, (q) =>
    q
      .from(viaPool, { dp: 'dp', chassis: 'chassis', marker: 'marker', ofport: 'ofport' })
      .select((v) => row(v.dp, v.chassis, TABLE.POOL_REPLICATE, 100, { metadata: v.dp, [REG_OUT_PORT]: v.marker }, tunnelCopies(v.dp, [v.ofport]))),
  );

  // ---- the pool node: a copy from sender S goes to every target chassis but S (and to P's own ports) ----
  // The relay matches the marker in reg7, after the table-0 split, never tunMeta itself: tunMeta also holds
  // the ingress port, and the copies must carry it on unchanged — so they leave with tunKey and tunMeta
  // exactly as they arrived (no encapsulation here), and only then does the local fan-out touch reg7.
  const relay = (q: RuleStart<FlowRow>) =>
    q
      .from(poolTargets, { dp: 'dp', pool: 'pool', marker: 'marker', ofports: 'ofports' })
      .join(viaPool, { dp: 'dp', chassis: 'sender', marker: 'marker', pool: 'pool' })
      .join(physical.tunnelPort, { chassis: 'pool', remote: 'sender', ofport: 'fromSender' });
  engine.rule(physicalFlow, (q) =>
    relay(q).select((v) =>
      row(v.dp, v.pool, TABLE.LS_FROM_TUNNEL, POOL_RELAY_PRIORITY, { inPort: v.fromSender, metadata: v.dp, [REG_OUT_PORT]: v.marker }, [
        ...outputs(v.ofports.filter((p) => p !== v.fromSender)),
        resubmit(TABLE.LS_FLOOD_LOCAL),
      ]),
    ),
  );
  // The pool node splits tunMeta like any receiver, with the same flow (one row where P also implements dp).
  engine.rule(physicalFlow, (q) => relay(q).select((v) => tunnelIngressFlow(v.dp, v.pool)));
}
