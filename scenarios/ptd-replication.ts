// Seed 000 FIG. 43 (notes §4.2, S24): PTD replication in eight stages across four controller instances —
// two PTD slaves, the master PTD and one PTD-less instance (ctl-3) — as a real cluster, so every NIB change
// (a switch's ports `phys/…`, an LDPS master's flows `pcp/…`) goes from the instance that makes it through
// the master PTD to every PTD and then to the import modules of all four instances. Which PTD holder the
// coordination manager makes master depends on the seed; the stage checks read it from the journal. VMs
// come and go during the run so that NIB changes keep originating on slaves, and at 4 s a PTD holder
// (ctl-2, a slave on the default seeds; the `ptdStages` metric lists the masters) crashes; it restarts at
// 5.5 s, replays its PTD from disk and catches up from the master. Invariants: the NV testbed's, the
// cluster's and the stage checks (stage order for the run's `order` knob, the PTD-less NIB converging, all
// PTD replicas equal). The knob defaults to FIG. 43's 'write-then-notify' (the master writes its PTD first);
// `setupPtdReplication` runs FIG. 42's 'ack-then-write' too. Note that with 'write-then-notify' the master
// notifies the import modules (stage 8) as it writes, before stages 5–7 (sim/store/ptd.ts).

import { parseFaultSchedule } from '../sim/faults/schedule.ts';
import { defineScenario, type World } from '../sim/testbed/index.ts';
import { ClusterChecks } from './models/cluster-checks.ts';
import { threeTenantCluster } from './models/cluster-topology.ts';
import { PtdStageChecks } from './models/ptd-stage-checks.ts';

export const PTD_HOLDERS = ['ctl-1', 'ctl-2', 'ctl-4'];
export const PTD_LESS = 'ctl-3';

export interface PtdReplicationKnobs {
  order?: 'ack-then-write' | 'write-then-notify';
  commit?: 'all' | 'majority';
}

export function setupPtdReplication(world: World, knobs: PtdReplicationKnobs = {}): void {
  const order = knobs.order ?? 'write-then-notify';
  const commit = knobs.commit ?? 'majority';
  const t = threeTenantCluster(world, { instances: 4, ptdHolders: PTD_HOLDERS, ptdOrder: order, ptdCommit: commit });
  // NIB changes all through the run: each new or removed VM changes its host's ports and its LDPS's flows.
  t.at('2000ms', () => t.addVm('a9', { host: 'h2', switch: 'ls-A', mac: '02:00:00:00:01:09', ip: '10.0.0.9' }));
  t.at('3000ms', () => t.addVm('b9', { host: 'h3', switch: 'ls-B', mac: '02:00:00:00:02:09', ip: '10.1.0.9' }));
  t.at('4500ms', () => t.addVm('c9', { host: 'h1', switch: 'ls-C', mac: '02:00:00:00:03:09', ip: '10.2.0.9' }));
  t.at('6000ms', () => t.removeVm('a9'));
  t.at('6500ms', () => t.addVm('b10', { host: 'h4', switch: 'ls-B', mac: '02:00:00:00:02:0a', ip: '10.1.0.10' }));
  t.installInvariants().installMetrics();
  new ClusterChecks(t).installInvariants().installMetrics();
  new PtdStageChecks(world, { order, commit, replicas: PTD_HOLDERS, importers: t.instances, ptdOf: (id) => t.instance(id)?.ptd }).installInvariants().installMetrics();
}

export default defineScenario({
  name: 'ptd-replication',
  description: 'FIG. 43: NIB changes through the master PTD to two slaves and every import module, a PTD-less one included',
  duration: '10s',
  liveness: { from: '7s', within: '3s' },
  setup: (world) => setupPtdReplication(world),
  faults: () =>
    parseFaultSchedule([
      { at: '4s', verb: 'crash', node: 'ctl-2' },
      { at: '5500ms', verb: 'restart', node: 'ctl-2' },
    ]),
});
