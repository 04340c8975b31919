// Seed 000 §4.2's ordering note, measured: FIG. 42 records the update in the master PTD after the slaves'
// acks ('ack-then-write'), FIG. 43 before them ('write-then-notify'); and FIG. 42 4230 waits for 'all'
// slaves or a 'majority'. One world holds four independent PTD groups, one per combination, each of three
// PTD servers and a client (node ids prefixed by the policy: maj-atw-s1 … all-wtn-c), with a coordination
// manager naming each group's master (models/ptd-group.ts). Each client writes a fresh key every 8 ms and
// records which writes were acknowledged. Every group gets the same faults at the same offsets, aimed at
// whichever server holds the role at that moment: its master crashes mid-stream (restarting 2 s later, after
// the CM has failed over), then a slave crashes and restarts, then the master is cut off from both slaves —
// not from its client — for 2 s. After quiescence summary.json reports, per policy, the acknowledged writes missing from the final
// master PTD (`acknowledgedWritesLost`, also by the fault window they were acknowledged in), with the acked,
// failed and unanswered counts. Invariants: each group's FIG. 43 stage checks, and for 'ack-then-write'
// that no acknowledged write is lost; 'write-then-notify' losses are reported, not judged.

import { NS_PER_MS, type Nanos } from '../sim/kernel/time.ts';
import type { NodeId } from '../sim/net/index.ts';
import type { PtdRecord } from '../sim/store/ptd.ts';
import { defineScenario, type MetricValue, type World } from '../sim/testbed/index.ts';
import { addPtdGroup, currentPtdMaster, PtdGroupNode } from './models/ptd-group.ts';
import { PtdStageChecks } from './models/ptd-stage-checks.ts';

export interface Policy {
  readonly id: string;
  readonly commit: 'all' | 'majority';
  readonly order: 'ack-then-write' | 'write-then-notify';
}

export const POLICIES: readonly Policy[] = [
  { id: 'maj-atw', commit: 'majority', order: 'ack-then-write' },
  { id: 'all-atw', commit: 'all', order: 'ack-then-write' },
  { id: 'maj-wtn', commit: 'majority', order: 'write-then-notify' },
  { id: 'all-wtn', commit: 'all', order: 'write-then-notify' },
];

const ms = (n: number): Nanos => n * NS_PER_MS;
const WRITES = { fromNs: ms(500), untilNs: ms(7500), everyNs: ms(8) };
/** The fault windows, the same for every group; a write counts for a window when acknowledged within it. */
export const WINDOWS = {
  masterCrash: { fromNs: ms(1500), untilNs: ms(3500) },
  slaveCrash: { fromNs: ms(4000), untilNs: ms(4600) },
  masterCutOff: { fromNs: ms(5000), untilNs: ms(7000) },
} as const;
const PREFIX = 'v/';
/**
 * The CM's failure detector, tighter than a controller cluster's (1 s), so that a failover (new CM leader,
 * its grace, then the session timeout: about 1.3 s) completes well within each fault window.
 */
const SESSION = { sessionHeartbeatNs: ms(50), sessionTimeoutNs: ms(400) };

interface Write {
  readonly key: string;
  readonly value: string;
  readonly submittedNs: Nanos;
  ackedNs: Nanos | null;
  error: string | null;
}

export default defineScenario({
  name: 'ptd-ordering-ablation',
  description: 'PTD commit all|majority x order ack-then-write|write-then-notify under one master-crash schedule: acknowledged writes lost',
  duration: '10s',
  liveness: { from: '8s', within: '2s' },
  setup(world) {
    for (const policy of POLICIES) setupGroup(world, policy);
  },
});

function setupGroup(world: World, policy: Policy): void {
  const servers = [1, 2, 3].map((i) => `${policy.id}-s${i}`);
  const client = `${policy.id}-c`;
  addPtdGroup(world, { servers, clients: [client], commit: policy.commit, order: policy.order, watch: [PREFIX], ...SESSION });
  const ptdOf = (id: NodeId) => world.fabric.process<PtdGroupNode>(id)?.ptd;
  new PtdStageChecks(world, { label: policy.id, commit: policy.commit, order: policy.order, replicas: servers, importers: servers, ptdOf }).installInvariants();

  const writes: Write[] = [];
  let n = 0;
  const writeNext = () => {
    const node = world.fabric.process<PtdGroupNode>(client);
    if (node !== undefined) {
      const w: Write = { key: `${PREFIX}${++n}`, value: `${client}-${n}`, submittedNs: world.now, ackedNs: null, error: null };
      writes.push(w);
      node.ptd.submit({ statements: [{ op: 'put', key: w.key, value: w.value }] }, (r) => {
        if (r.ok) w.ackedNs = world.now;
        else w.error = r.error;
      });
    }
    if (world.now + WRITES.everyNs < WRITES.untilNs) world.scheduler.after(WRITES.everyNs, writeNext);
  };
  world.scheduler.at(WRITES.fromNs, writeNext);
  scheduleFaults(world, policy, servers);

  const finalRecords = (): ReadonlyMap<string, PtdRecord> | null => {
    const master = currentPtdMaster(world, servers);
    const ptd = master === null ? undefined : ptdOf(master);
    return ptd?.isReadyMaster === true ? ptd.records() : null;
  };
  const lost = (records: ReadonlyMap<string, PtdRecord>) => writes.filter((w) => w.ackedNs !== null && records.get(w.key)?.value !== w.value);

  if (policy.order === 'ack-then-write') {
    world.invariant({
      kind: 'safety',
      id: `${policy.id}-acked-writes-survive`,
      description: `with '${policy.commit}' commit and 'ack-then-write', every acknowledged write is in the final master PTD`,
      atEnd: () => {
        const records = finalRecords();
        if (records === null) return 'no ready master PTD at the end';
        const missing = lost(records);
        return missing.length === 0 ? true : `${missing.length} acknowledged write(s) lost, first ${missing[0].key} (acked at ${missing[0].ackedNs! / NS_PER_MS} ms)`;
      },
    });
  }

  world.metric(policy.id, () => {
    const records = finalRecords();
    const missing = records === null ? null : lost(records);
    const during = (from: Nanos, until: Nanos) => missing?.filter((w) => w.ackedNs! >= from && w.ackedNs! < until).length ?? null;
    const failed: Record<string, MetricValue> = {};
    for (const w of writes) if (w.error !== null) failed[w.error] = ((failed[w.error] as number | undefined) ?? 0) + 1;
    return {
      commit: policy.commit,
      order: policy.order,
      submitted: writes.length,
      acked: writes.filter((w) => w.ackedNs !== null).length,
      failed: writes.filter((w) => w.error !== null).length,
      failedBy: failed,
      unanswered: writes.filter((w) => w.ackedNs === null && w.error === null).length,
      acknowledgedWritesLost: missing?.length ?? null,
      lostByWindow: {
        masterCrash: during(WINDOWS.masterCrash.fromNs, WINDOWS.masterCrash.untilNs),
        slaveCrash: during(WINDOWS.slaveCrash.fromNs, WINDOWS.slaveCrash.untilNs),
        masterCutOff: during(WINDOWS.masterCutOff.fromNs, WINDOWS.masterCutOff.untilNs),
      },
      lostExamples: (missing ?? []).slice(0, 3).map((w) => `${w.key} acked at ${w.ackedNs! / NS_PER_MS} ms`),
      finalMaster: currentPtdMaster(world, servers),
    };
  });
}

/**
 * The group's faults, aimed when they happen: crash the acting master, restart it; crash a slave, restart
 * it; cut the acting master off from the other servers (its client reaches both sides), heal. A step whose
 * target is already in that state (random faults may have got there first) is skipped.
 */
function scheduleFaults(world: World, policy: Policy, servers: readonly NodeId[]): void {
  const fabric = world.fabric;
  const crash = (id: NodeId | null) => {
    if (id !== null && fabric.isUp(id)) fabric.crash(id);
  };
  const restart = (id: NodeId | null) => {
    if (id !== null && !fabric.isUp(id)) fabric.restart(id);
  };
  let crashedMaster: NodeId | null = null;
  world.scheduler.at(WINDOWS.masterCrash.fromNs, () => crash((crashedMaster = currentPtdMaster(world, servers))));
  world.scheduler.at(WINDOWS.masterCrash.untilNs, () => restart(crashedMaster));
  let crashedSlave: NodeId | null = null;
  world.scheduler.at(WINDOWS.slaveCrash.fromNs, () => {
    const master = currentPtdMaster(world, servers);
    crash((crashedSlave = servers.find((id) => id !== master && fabric.isUp(id)) ?? null));
  });
  world.scheduler.at(WINDOWS.slaveCrash.untilNs, () => restart(crashedSlave));
  const cut = `${policy.id}-cut-off`;
  world.scheduler.at(WINDOWS.masterCutOff.fromNs, () => {
    const master = currentPtdMaster(world, servers);
    if (master !== null) fabric.partition(cut, [[master], servers.filter((id) => id !== master)]);
  });
  world.scheduler.at(WINDOWS.masterCutOff.untilNs, () => {
    if (fabric.activePartitions().includes(cut)) fabric.heal(cut);
  });
}
