// Seed 000 §3.8 (split brain): the current master is cut off from the other controller instances but not
// from its switches. Three instances master three tenants' LDPSs and four edge switches; at 3 s instance
// ctl-1 — the first to come up, so the CM leader and master of switches and an LDPS — is partitioned
// from ctl-2 and ctl-3 while every switch still reaches all three. Its CM session lapses, so its lease
// runs out and it stops acting before the others' CM declares it down and elects new masters at higher
// epochs; the switches fence it (any late write it sends is refused as stale and traced). At 6 s the
// partition heals and ctl-1 rejoins without taking work back. Invariants: the NV testbed's and the
// cluster's — above all single-master (never two instances acting for one switch or LDPS) and
// flowmods-from-epoch-master.

import { parseFaultSchedule } from '../sim/faults/schedule.ts';
import { defineScenario } from '../sim/testbed/index.ts';
import { ClusterChecks } from './models/cluster-checks.ts';
import { threeTenantCluster } from './models/cluster-topology.ts';

export default defineScenario({
  name: 'master-partition',
  description: 'split-brain attempt: the master instance is cut off from its peers but not from its switches',
  duration: '10s',
  liveness: { from: '7s', within: '3s' },
  setup(world) {
    const t = threeTenantCluster(world, { instances: 3 });
    t.installInvariants().installMetrics();
    new ClusterChecks(t).installInvariants().installMetrics();
  },
  faults: () =>
    parseFaultSchedule([
      { at: '3s', verb: 'partition', id: 'split-brain', groups: [['ctl-1'], ['ctl-2', 'ctl-3']] },
      { at: '6s', verb: 'heal', id: 'split-brain' },
    ]),
});
