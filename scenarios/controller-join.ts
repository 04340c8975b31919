// Seed 000 §3.5 (notes §6 S28): instances join a running controller cluster, under both join policies.
// Three instances (the CM voters and PTD replicas) master four edge switches and three tenants' LDPSs
// under 'unassigned-only'. At 3 s ctl-4 joins (a CM learner): no existing assignment may change. At 4 s
// tenant D appears — unassigned work, which goes to the least loaded member, the newcomer — and at
// 4.5 s tenant E (every member then has one LDPS: the tie goes by id). At 5 s the cluster switches to
// 'rebalance' (a replicated set-policy entry): the leader moves a switch to ctl-4, revoke then assign. At
// 6 s ctl-5 joins and gets its fair share the same way, until every kind is within one entity per member.
// Invariants: the NV testbed's (isolation, exactly-once delivery, placement, convergence), the cluster's
// (one master per entity at every instant, CM replicas agree, fenced pushes and exports, one live master
// each at the end) and the join's (under 'unassigned-only' only failovers change assignments; every move
// is two-phase; balanced once settled). summary.json: each step's assignments before and after, its
// moves and the ms until balanced ('joinSteps'), and the total of moves.

import { parseFaultSchedule } from '../sim/faults/schedule.ts';
import { toNanos } from '../sim/kernel/time.ts';
import { defineScenario } from '../sim/testbed/index.ts';
import { ClusterChecks } from './models/cluster-checks.ts';
import { HOSTS, threeTenantCluster } from './models/cluster-topology.ts';
import { JoinChecks } from './models/join-checks.ts';
import { NvTestbed } from './models/nv-testbed.ts';

/** The tenants that appear during the run: name, subnet index, when, and the hosts of their VMs. */
const NEW_TENANTS = [
  { tenant: 'D', net: 3, at: '4s', hosts: ['h1', 'h2', 'h4'] },
  { tenant: 'E', net: 4, at: '4500ms', hosts: ['h2', 'h3', 'h4'] },
] as const;

export default defineScenario({
  name: 'controller-join',
  description: "S28: instances join a controller cluster, first under 'unassigned-only' (nothing moves), then under 'rebalance' (two-phase moves)",
  duration: '11s',
  liveness: { from: '8s', within: '3s' },
  setup(world) {
    const t = threeTenantCluster(world, { instances: 3, joiners: [{ at: '3s' }, { at: '6s' }], policy: { electionMode: 'combined', joinPolicy: 'unassigned-only', backups: 1 } });
    const vms: string[] = [];
    for (const { tenant, net, at, hosts } of NEW_TENANTS) {
      t.at(at, () => void t.logicalSwitch(`ls-${tenant}`, tenant, `10.${net}.0.0/24`));
      for (const host of hosts) {
        const n = HOSTS.indexOf(host) + 1;
        const name = `${tenant.toLowerCase()}${n}`;
        vms.push(name);
        t.at(at, () => t.addVm(name, { host, switch: `ls-${tenant}`, mac: `02:00:00:00:${(net + 1).toString(16).padStart(2, '0')}:0${n}`, ip: `10.${net}.0.${n}` }));
      }
    }
    t.traffic({
      from: '5s',
      until: '9800ms',
      every: '250ms',
      probes: () => NEW_TENANTS.flatMap(({ tenant }) => NvTestbed.allPairs(t.attachedVms(vms.filter((v) => v.startsWith(tenant.toLowerCase()))))),
    });
    t.at('5s', () => t.setClusterPolicy({ joinPolicy: 'rebalance' }));
    t.installInvariants().installMetrics();
    new ClusterChecks(t).installInvariants().installMetrics();
    new JoinChecks(t, 'unassigned-only').step("policy -> 'rebalance'", toNanos('5s')).installInvariants().installMetrics();
  },
  // Lossy links among the instances while ctl-5 joins and work moves: a lost revoke, ack or session must
  // delay a move, never let two instances master one entity.
  faults: () =>
    parseFaultSchedule([
      { at: '6s', verb: 'degrade', id: 'lossy-cm', from: ['ctl-1', 'ctl-2', 'ctl-3'], to: ['ctl-4', 'ctl-5'], link: { lossProbability: 0.2 } },
      { at: '7s', verb: 'restore', id: 'lossy-cm' },
    ]),
});
