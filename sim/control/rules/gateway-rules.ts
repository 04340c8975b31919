// Virtualization-app rules for gateways (extenders, seed 000 §1.10: bridging a managed network with an
// unmanaged one): a logical switch's 'localnet' port is bound to its gateway chassis' physical port, as a
// port_chassis fact. Everything else follows from that one fact, through the rules every bound port
// already has: the gateway implements the datapath (placement), frames arriving on the physical port enter
// the logical switch as coming from the localnet port (table 0), frames for the localnet port leave by the
// physical port, floods include it, and — since the localnet port has the 'unknown' address — unicast to
// an external MAC reaches it through the unknown-unicast path (replication-rules.ts). Owns that binding.
//
// Bridge mapping: the localnet port's `network` names the external segment; it is bound only when its
// `gateway` chassis reports a physical port wired to that very segment. VLAN-less bridging: one physical
// port can carry one logical switch, so when several localnet ports claim the same physical port the one
// on the lowest datapath key (the oldest switch) keeps it and the others stay unbound — never two
// switches on one wire, and a new misconfiguration cannot take a working bridge away. (The claim is a
// global view across datapaths; an instance computing only some LDPSs sees only their claims.)

import type { ProgramParts } from '../control-program.ts';

export function addGatewayRules({ engine, lcp, physical, portChassis }: ProgramParts): void {
  /** Localnet port of datapath `dp` wants physical port `ofport` of `chassis`. */
  const claim = engine.relation('localnet_claim', { chassis: 'string', ofport: 'number', dp: 'number' }, { datapath: null, output: false });
  engine.rule(claim, (q) =>
    q
      .from(lcp.localnet_port, { dp: 'dp', network: 'network', gateway: 'chassis' })
      .join(physical.physicalPort, { chassis: 'chassis', segment: 'network', ofport: 'ofport' })
      .select((v) => ({ chassis: v.chassis, ofport: v.ofport, dp: v.dp })),
  );
  const claims = engine.collect('localnet_claims', { from: claim, groupBy: ['chassis', 'ofport'], value: 'dp', as: 'dps', output: false });
  engine.rule(portChassis, (q) =>
    q
      .from(lcp.localnet_port, { dp: 'dp', port: 'port', network: 'network', gateway: 'chassis' })
      .join(physical.physicalPort, { chassis: 'chassis', segment: 'network', ofport: 'ofport' })
      .join(claims, { chassis: 'chassis', ofport: 'ofport', dps: 'dps' })
      .where((v) => v.dps[0] === v.dp)
      .select((v) => ({ dp: v.dp, port: v.port, chassis: v.chassis, ofport: v.ofport })),
  );
}
