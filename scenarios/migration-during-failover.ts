// Seed 001 §2.B (FIG. 3) under seed 000's failover: migration detected at the destination while the
// physical master of the destination host's switch crashes. The lab and migrations are the handoff
// variants' (scenarios/models/migration-lab.ts): a1, b1 and c1 move h1 → h2 at 5 s, 5.5 s and 6 s, the
// middlebox state following by the controller's fetch. When a1 is stunned, the scenario crashes the
// instance that masters h2's switch at that moment; it restarts 2 s later. The VIF's arrival at h2 then has
// no master to hear it: a1 resumes at once (detected variants do not wait), and its packets meet the
// destination element's state gap until the coordination manager's session timeout deposes the dead
// master, a new one takes h2's switch, reads the VIF's origin from the switch and fetches the state from
// h1's migration manager. The gap policy (default buffer) decides what those packets meet; summary.json
// counts them per migration (gapPackets). Checks: the lab's (one running copy, placed with network, no
// stale state use, isolation, translations unchanged, connections answered again — within 3 s here, the
// failover's time) and the cluster's; plus, judged without injected faults, that the crash hit a1's
// migration and each migration's state was fetched by a live master and installed at h2.

import type { NodeId } from '../sim/net/message.ts';
import { NS_PER_MS, NS_PER_S } from '../sim/kernel/time.ts';
import type { StateGapPolicy } from '../sim/middlebox/vm-state.ts';
import { defineScenario, type World } from '../sim/testbed/index.ts';
import { MIGRATION_DESTINATION, MIGRATIONS, setupHandoffVariant, type Lab } from './models/migration-lab.ts';

/** How long the crashed master stays down. */
const RESTART_AFTER_NS = 2 * NS_PER_S;
/** Session timeout (1 s), election, the switch's new master and the fetch: connections must be back within this of the resume. */
const FAILOVER_RECOVERY_NS = 3000 * NS_PER_MS;

interface FailoverRecord {
  /** The instance that mastered the destination switch when the first migration stunned its VM. */
  crashed: NodeId | null;
  crashedAtNs: number | null;
}

export function setupMigrationDuringFailover(world: World, gapPolicy: StateGapPolicy = 'buffer'): Lab {
  // The fast connections keep sending past the outage, so their answers show whether they survived it.
  const lab = setupHandoffVariant(world, { handoff: 'detected', ssm: false, gapPolicy }, { recoveryNs: FAILOVER_RECOVERY_NS, fastConnectionForNs: 3500 * NS_PER_MS });
  const { t } = lab;
  const fabric = world.fabric;
  const failover: FailoverRecord = { crashed: null, crashedAtNs: null };
  const first = MIGRATIONS[0].vm;
  world.trace.on('mig.stun', (e) => {
    if (e.vm !== first || failover.crashed !== null) return;
    // Under injected faults the switch may have no live master just now: then there is nothing to crash.
    const master = t.mastersOf(MIGRATION_DESTINATION)[0];
    if (master === undefined) return;
    failover.crashed = master;
    // After the stun's own work, not inside it; injected faults may have taken it down or brought it back.
    world.scheduler.after(0, () => {
      if (!fabric.isUp(master)) return;
      fabric.crash(master);
      failover.crashedAtNs = world.now;
    });
    world.scheduler.after(RESTART_AFTER_NS, () => void (fabric.isUp(master) || fabric.restart(master)));
  });

  // Which instance fetched each migrating VM's state for its destination, and whether the state got there.
  const fetchedBy = new Map<string, NodeId>();
  world.trace.on('mig.fetch', (e) => {
    if (e.fresh && e.to === MIGRATION_DESTINATION) fetchedBy.set(e.vm, e.controller);
  });
  const installedAt = new Map<string, number>();
  world.trace.on('mig.state.installed', (e) => {
    if (e.node === MIGRATION_DESTINATION && !installedAt.has(e.vm)) installedAt.set(e.vm, world.now);
  });
  world.invariant({
    kind: 'safety',
    id: 'state-fetched-through-failover',
    description: "the destination master crashed during the first migration, and every migration's state was fetched by another instance and installed at the destination",
    atEnd: () => {
      if (world.nemesis.applied.length > 0) return true;
      if (failover.crashedAtNs === null) return 'the destination switch had no master to crash when the first VM was stunned';
      const problems: string[] = [];
      for (const m of MIGRATIONS) {
        const by = fetchedBy.get(m.vm);
        if (by === undefined) problems.push(`${m.vm}'s state was never fetched`);
        else if (by === failover.crashed) problems.push(`${m.vm}'s state was fetched by the crashed master ${by}`);
        if (!installedAt.has(m.vm)) problems.push(`${m.vm}'s state was never installed at ${MIGRATION_DESTINATION}`);
      }
      return problems.length === 0 ? true : problems.join('; ');
    },
  });
  world.metric('failover', () => ({
    crashed: failover.crashed ?? '',
    crashedAtMs: failover.crashedAtNs === null ? -1 : failover.crashedAtNs / NS_PER_MS,
    ...Object.fromEntries(MIGRATIONS.map((m) => [`${m.vm}FetchedBy`, fetchedBy.get(m.vm) ?? ''])),
    ...Object.fromEntries(MIGRATIONS.map((m) => [`${m.vm}StateInstalledAtMs`, (installedAt.get(m.vm) ?? -NS_PER_MS) / NS_PER_MS])),
    ...Object.fromEntries(MIGRATIONS.map((m) => [`${m.vm}OutageMs`, outageMs(lab, m.vm)])),
    ...Object.fromEntries(MIGRATIONS.map((m) => [`${m.vm}LostSends`, lostSends(lab, m.vm)])),
  }));
  return lab;
}

/**
 * From the VM's stun to the first send of its fast connection that was answered after it resumed (-1: none):
 * how long the VM's traffic was cut, whether by the stun, missing flows or the state gap.
 */
function outageMs(lab: Lab, vm: string): number {
  const m = lab.t.migrations().find((r) => r.vm === vm);
  const stun = m?.times.stun;
  const resume = m?.times.resume;
  if (stun === undefined || resume === undefined) return -1;
  const first = lab.workload.record(`${vm}-fast`).answeredSendTimes.find((at) => at >= resume);
  return first === undefined ? -1 : (first - stun) / NS_PER_MS;
}

/** Sends of the VM's connections that never reached a server. */
function lostSends(lab: Lab, vm: string): number {
  return lab.workload
    .records()
    .filter((c) => c.decl.client === vm && c.decl.id !== 'a1-late')
    .reduce((n, c) => n + c.sent - c.reached, 0);
}

export default defineScenario({
  name: 'migration-during-failover',
  description: "seed 001 FIG. 3 under failover: the destination switch's master crashes mid-migration; a new master fetches the state while packets meet the gap",
  duration: '10s',
  liveness: { from: '8s', within: '2s' },
  setup: (world) => void setupMigrationDuringFailover(world),
});
