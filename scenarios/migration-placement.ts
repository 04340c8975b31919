// Seed 003 §003.4 invariants 1–2 (Q13/Q14, D14/D15, Q17): where a live migration may go. In the migration
// lab (scenarios/models/migration-lab.ts) the network manager changes what it publishes while tenant A's
// clients move, and every migration's placement is checked against it:
//   a1 h1 → [h5 h6 h4]: h5 is outside the transport zone (no-network), h6's switch is unavailable, h4 takes it;
//   h3's switch is redefined with no free VIF port, so a2 h1 → [h3 h2] is refused by h3 and goes to h2;
//   ls-a-cli is pulled back from h2 (Q17): a1 h4 → [h2] is refused and a1 keeps running on h4; once restored,
//   the same move completes;
//   h1's switch turns unavailable at run time: a3 h2 → [h1] is refused.
// The steps run in order: each starts at its time, once the one before has settled (the host concerned
// acknowledged the NM's change, or the migration ended), so under injected faults no migration races a
// change of what its destination may take. Checks: the lab's migration checks (one running copy, placed
// only where the NM's configuration allows, no stale state use, only the migrated VM's state moves, config
// scoping), its connection checks (a1's connections survive each move — on h4 a1 shares the host with its
// server as2 — and every move of a1 ends before its fast connection stops at 5.7 s), and
// placement-outcomes (fault-free runs: each migration's outcome and per-host refusals as above).
// Owns the script and its expected outcomes; the world and shared checks are the lab's.

import type { OpaqueSwitch } from '../sim/migration/constructs.ts';
import type { NetworkManagerNode } from '../sim/migration/network-manager.ts';
import type { MigrationRecord } from '../sim/migration/migration-manager.ts';
import type { NodeId } from '../sim/net/message.ts';
import { defineScenario, type World } from '../sim/testbed/index.ts';
import {
  buildLab,
  HOST_UNAVAILABLE,
  HOST_WITHOUT_NETWORK,
  installConnectionChecks,
  installMigrationChecks,
  installMigrationMetrics,
} from './models/migration-lab.ts';
import { NM_NODE, type NvTestbed } from './models/nv-testbed.ts';

/** The logical network the pull-back hides (tenant A's clients are on it). */
const PULLED_BACK = 'ls-a-cli';

/** Changes what the NM publishes; done once `host` (whose placement it concerns) holds the new version. */
interface ChangeStep {
  readonly at: string;
  readonly host: NodeId;
  readonly change: (nm: NetworkManagerNode, t: NvTestbed) => void;
}

/** Migrates `vm` (then on `from`) to the first of `to` that accepts; done once the migration ended. */
interface MigrationStep {
  readonly at: string;
  readonly vm: string;
  readonly from: NodeId;
  readonly to: readonly NodeId[];
  /** The outcome placement-outcomes expects, as outcomeOf() spells it. */
  readonly expect: string;
}

type Step = ChangeStep | MigrationStep;

const SCRIPT: readonly Step[] = [
  { at: '3200ms', vm: 'a1', from: 'h1', to: [HOST_WITHOUT_NETWORK, HOST_UNAVAILABLE, 'h4'], expect: 'done on h4; refused by h5:no-network h6:switch-unavailable' },
  { at: '3700ms', host: 'h3', change: (nm, t) => nm.defineSwitch('h3', { tzs: switchOf(t, 'h3').tzs, capacity: vifPortsOf(t, 'h3') }) },
  { at: '3800ms', vm: 'a2', from: 'h1', to: ['h3', 'h2'], expect: 'done on h2; refused by h3:no-free-port' },
  { at: '4300ms', host: 'h2', change: (nm) => nm.pullBack(PULLED_BACK, 'h2') },
  { at: '4400ms', vm: 'a1', from: 'h4', to: ['h2'], expect: 'refused (no-network); refused by h2:no-network' },
  { at: '4500ms', host: 'h2', change: (nm) => nm.restore(PULLED_BACK, 'h2') },
  { at: '4600ms', vm: 'a1', from: 'h4', to: ['h2'], expect: 'done on h2; refused by none' },
  { at: '5200ms', host: 'h1', change: (nm) => nm.setSwitchStatus('h1', 'unavailable') },
  { at: '5300ms', vm: 'a3', from: 'h2', to: ['h1'], expect: 'refused (switch-unavailable); refused by h1:switch-unavailable' },
];

const LIVE_PRENOTIFIED = { mode: 'live', handoff: 'prenotify', ssm: false } as const;

function switchOf(t: NvTestbed, host: NodeId): OpaqueSwitch {
  const lfe = t.networkManagerPublication(host).switches.find((s) => s.host === host);
  if (lfe === undefined) throw new Error(`migration-placement: the network manager publishes no switch of ${host}`);
  return lfe;
}

function vifPortsOf(t: NvTestbed, host: NodeId): number {
  return t.dp.host(host).switch.ports.list().filter((p) => p.kind === 'vif').length;
}

function outcomeOf(m: MigrationRecord): string {
  const outcome = m.phase === 'done' ? `done on ${m.to}` : m.phase === 'refused' ? `refused (${m.refused})` : m.phase;
  const refusals = m.placementRefused.map((r) => `${r.host}:${r.reason}`).join(' ');
  return `${outcome}; refused by ${refusals === '' ? 'none' : refusals}`;
}

function heading(vm: string, from: NodeId, to: readonly NodeId[]): string {
  return `${vm} ${from} → [${to.join(' ')}]`;
}

/**
 * Runs the script: each step at its time, once the step before has settled; while it cannot start (the NM,
 * the host or the VM is not there, or the step before is unsettled) it is retried every 100 ms.
 */
function runScript(t: NvTestbed, steps: readonly Step[]): void {
  const w = t.world;
  const nm = (): NetworkManagerNode | undefined => (w.fabric.isUp(NM_NODE) ? t.networkManagerNode() : undefined);
  const settled: (() => boolean)[] = [];
  let started = -1;
  steps.forEach((step, i) => {
    let start: () => boolean;
    if ('vm' in step) {
      let id: string | null = null;
      start = () => {
        const host = t.hostOf(step.vm);
        if (!w.fabric.isUp(host) || !t.dp.host(host).hasVm(step.vm) || t.dp.host(host).vm(step.vm).runState !== 'running') return false;
        return t.migrate(step.vm, step.to, LIVE_PRENOTIFIED, (mig) => (id = mig));
      };
      settled.push(() => t.migrations().some((m) => m.id === id && (m.phase === 'done' || m.phase === 'refused')));
    } else {
      let version = Infinity;
      start = () => {
        const manager = nm();
        if (manager === undefined || !w.fabric.isUp(step.host)) return false;
        step.change(manager, t);
        version = manager.version;
        return true;
      };
      settled.push(() => (nm()?.ackedBy(step.host) ?? 0) >= version);
    }
    t.at(step.at, () => {
      if (started !== i - 1 || (i > 0 && !settled[i - 1]())) return false;
      if (!start()) return false;
      started = i;
    });
  });
}

function installPlacementOutcomes(world: World, t: NvTestbed): void {
  const expected = SCRIPT.flatMap((s) => ('vm' in s ? [`${heading(s.vm, s.from, s.to)}: ${s.expect}`] : []));
  world.invariant({
    kind: 'safety',
    id: 'placement-outcomes',
    description: 'each migration is placed or refused as seed 003 says: outside the zone, unavailable switch, full switch and pulled-back network refused',
    atEnd: () => {
      // Faults may delay or cut short the script; the migration invariants judge those runs.
      if (world.nemesis.applied.length > 0) return true;
      const actual = t.migrations().map((m) => `${heading(m.vm, m.from, m.candidates)}: ${outcomeOf(m)}`);
      for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
        if (actual[i] !== expected[i]) return `migration ${i + 1}: expected ${expected[i] ?? 'none'}, got ${actual[i] ?? 'none'}`;
      }
      return true;
    },
  });
}

export default defineScenario({
  name: 'migration-placement',
  description: 'seed 003 D14/D15, Q17: live migrations skip hosts outside the zone, with an unavailable or full switch, or with the network pulled back',
  duration: '10s',
  liveness: { from: '8s', within: '2s' },
  setup: (world) => {
    const lab = buildLab(world);
    runScript(lab.t, SCRIPT);
    installConnectionChecks(lab, { expectContinuity: true });
    installMigrationChecks(lab);
    installMigrationMetrics(lab);
    installPlacementOutcomes(world, lab.t);
  },
});
