// Seed 000 claims 12/24 (notes §6 S27): controller failover. Three controller instances share four edge
// hosts and three tenants; the coordination manager spreads the switches and the tenants' logical
// datapath sets over them. At 3 s instance ctl-1 — the first up, so CM leader and PTD master, and master
// of some switches and an LDPS — crashes; the others elect a new CM leader, detect the crash by session
// timeout, elect new masters at higher epochs and a new master PTD, and the new master of each orphaned
// switch alone pushes to it, with flows the LDPS masters export through the PTD. A VM is added at 4.5 s,
// while the failover is under way. ctl-1 restarts at 6 s and rejoins without taking work back (policy:
// unassigned only). Invariants: the NV testbed's (isolation, exactly-once delivery, placement,
// convergence) and the cluster's (one master per entity at every instant, CM replicas agree, every
// accepted flow-mod from the master of its epoch, every exported flow record from its LDPS's master, one
// live master each at the end). summary.json reports the failover time and the control messages.

import { parseFaultSchedule } from '../sim/faults/schedule.ts';
import { defineScenario, type World } from '../sim/testbed/index.ts';
import { ClusterChecks } from './models/cluster-checks.ts';
import { threeTenantCluster } from './models/cluster-topology.ts';
import type { NvTestbedOptions } from './models/nv-testbed.ts';

/**
 * The scenario's world, with cluster settings overridden (bench/failover-sweep.ts varies the timeouts) and
 * the traffic running until `trafficUntil` (a variant with a longer liveness phase keeps probing through it).
 */
export function setupFailover(world: World, cluster: Omit<NonNullable<NvTestbedOptions['cluster']>, 'instances'> = {}, trafficUntil?: string): void {
  const t = threeTenantCluster(world, { instances: 3, ...cluster }, trafficUntil);
  t.at('4500ms', () => t.addVm('a9', { host: 'h2', switch: 'ls-A', mac: '02:00:00:00:01:09', ip: '10.0.0.9' }));
  t.installInvariants().installMetrics();
  new ClusterChecks(t).installInvariants().installMetrics();
}

export default defineScenario({
  name: 'controller-failover',
  description: 'claims 12/24: the master of a switch set crashes; another instance takes over and alone pushes',
  duration: '10s',
  liveness: { from: '7s', within: '3s' },
  setup: (world) => setupFailover(world),
  faults: () =>
    parseFaultSchedule([
      { at: '3s', verb: 'crash', node: 'ctl-1' },
      { at: '6s', verb: 'restart', node: 'ctl-1' },
    ]),
});
