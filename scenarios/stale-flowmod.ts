// Seed 000 §3.8 (fencing by generation id): a deposed master's writes reach a switch after the new master
// has written to it, and the switch refuses them as stale. Three instances master three tenants' LDPSs and
// four edge switches; ctl-1 — first up, so CM leader and master of switch h1 and LDPS A — pushes to h1
// over a link that, from 2.5 s, holds everything it sends for 4 s: the flows of a VM added on h1 at 2.6 s
// are in flight when, at 3 s, ctl-1 is cut off from its peers (as in master-partition). Its lease runs
// out; the others elect a new master of h1 at a higher epoch. Its claim — the master role request — is
// lost (until 5.5 s nothing from ctl-2 or ctl-3 reaches h1), so h1 never demotes ctl-1 to slave: only
// the generation id fences it. The new master resyncs h1 once the path clears, under its higher epoch,
// and when ctl-1's held flow-mods arrive (from 6.5 s) h1 rejects them as stale ('switch.flowmod.reject-
// stale'). Invariants: the NV testbed's and the cluster's — above all flowmods-from-epoch-master — and,
// with the scenario's own faults, that a stale write was refused. summary.json: staleWritesRejected.
// Owns this scenario's faults, its VM and its stale-write count; the cluster and its checks are shared.

import type { SafetyInvariant } from '../sim/check/invariant.ts';
import { parseFaultSchedule } from '../sim/faults/schedule.ts';
import { defineScenario } from '../sim/testbed/index.ts';
import { ClusterChecks } from './models/cluster-checks.ts';
import { threeTenantCluster } from './models/cluster-topology.ts';

export default defineScenario({
  name: 'stale-flowmod',
  description: "a deposed master's flow-mods, held in the network past its lease, are refused by the switch as stale",
  duration: '10s',
  liveness: { from: '7s', within: '3s' },
  setup(world) {
    const t = threeTenantCluster(world, { instances: 3 });
    t.at('2600ms', () => t.addVm('a5', { host: 'h1', switch: 'ls-A', mac: '02:00:00:00:01:05', ip: '10.0.0.5' }));
    t.installInvariants().installMetrics();
    new ClusterChecks(t).installInvariants().installMetrics();

    let rejected = 0;
    world.trace.on('switch.flowmod.reject-stale', () => rejected++);
    world.metric('staleWritesRejected', () => rejected);
    // The demonstration only stands with the faults that stage it; other schedules are held to the rest.
    let ownFaults = false;
    world.trace.on('fault.schedule', (e) => (ownFaults = e.source === 'scenario'));
    world.invariant({
      kind: 'safety',
      id: 'stale-write-refused',
      description: "with the scenario's faults, a switch refused at least one flow-mod carrying an older generation id",
      atEnd: () => (!ownFaults || rejected > 0 ? true : 'no flow-mod was refused as stale: the fencing was never exercised'),
    } satisfies SafetyInvariant);
  },
  faults: () =>
    parseFaultSchedule([
      { at: '2500ms', verb: 'degrade', id: 'held-to-h1', from: ['ctl-1'], to: ['h1'], symmetric: false, link: { latency: { kind: 'constant', ns: 4_000_000_000 } } },
      { at: '3s', verb: 'partition', id: 'split-brain', groups: [['ctl-1'], ['ctl-2', 'ctl-3']] },
      { at: '3s', verb: 'partition-one-way', id: 'claim-lost', from: ['ctl-2', 'ctl-3'], to: ['h1'] },
      { at: '5500ms', verb: 'heal', id: 'claim-lost' },
      { at: '6s', verb: 'heal', id: 'split-brain' },
      { at: '6s', verb: 'restore', id: 'held-to-h1' },
    ]),
});
