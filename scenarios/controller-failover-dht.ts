// controller-failover with the flow records in the DHT (seed 000 §4.3, §4.6): the same cluster, tenants,
// crash of ctl-1 at 3 s, VM added at 4.5 s and restart at 6 s, but the LDPS masters put the flows they
// compute for each switch in the DHT (`pcpTransport: 'dht'`), and a failover elects LDPS and switch
// masters separately (`electionMode: 'separate'`), so a crashed instance's LDPSs and switches may go to
// two different instances. The DHT is volatile: the records ctl-1 owned are gone with it, and the range
// change makes every LDPS master export again; lost notifications are repaired by the instances' audit.
// Invariants: controller-failover's, plus the DHT's — every
// CM replica's range list partitions the hash space at every membership change, and once faults stop every
// live instance's get of every flow record agrees. Owns only this variant's settings.

import { ClusterInstance } from '../sim/control/cluster-instance.ts';
import { DEFAULT_CM_POLICY } from '../sim/coord/cm-state.ts';
import type { NodeId } from '../sim/net/message.ts';
import { defineScenario } from '../sim/testbed/index.ts';
import controllerFailover, { setupFailover } from './controller-failover.ts';
import { DhtChecks } from './models/dht-checks.ts';

export default defineScenario({
  name: 'controller-failover-dht',
  description: 'controller-failover with flow records in the DHT and LDPSs and switches elected separately',
  // Two seconds more than controller-failover to converge: the DHT's notifications are not confirmed, so a
  // lost one is repaired by the instances' periodic audit (1 s), and traffic is judged until the end.
  duration: '12s',
  liveness: { from: '7s', within: '5s' },
  setup(world) {
    setupFailover(world, { pcpTransport: 'dht', policy: { ...DEFAULT_CM_POLICY, electionMode: 'separate' } }, '11800ms');
    const instances: NodeId[] = world.fabric.nodeIds('controller');
    new DhtChecks(world, {
      instances,
      instance: (id) => {
        const p = world.fabric.process(id);
        return p instanceof ClusterInstance ? p : undefined;
      },
    })
      .installInvariants()
      .installMetrics();
  },
  faults: controllerFailover.faults,
});
