// What every controller-cluster scenario checks and reports, on top of the NV testbed's own invariants:
// the mastership invariants of sim/check/mastership.ts, the request-list invariants of
// sim/check/requests.ts, and metrics — failover time (virtual ms from the
// crash or cut-off of an instance that mastered switches until every up switch again has exactly one live
// master and every table has converged; a partition counts for the instances on a side without a
// majority), the control messages sent by type, and the final mastership.
// Owns the failover clock and the message counts; reads the cluster only through the testbed.

import { checkFlowConvergence } from '../../sim/check/flow-convergence.ts';
import {
  AssignmentHistory,
  exportsFromLdpsMasterInvariant,
  fencedPushesInvariant,
  oneLiveMasterInvariant,
  replicasAgreeInvariant,
  singleMasterInvariant,
} from '../../sim/check/mastership.ts';
import { everyRequestAnsweredInvariant, oneDecisionPerRequestInvariant } from '../../sim/check/requests.ts';
import { pendingRequests, storedResponse } from '../../sim/control/request-list.ts';
import { ldpsEntity, switchEntity } from '../../sim/coord/cm-state.ts';
import { NS_PER_MS, type Nanos } from '../../sim/kernel/time.ts';
import type { NodeId } from '../../sim/net/message.ts';
import type { MetricValue } from '../../sim/testbed/index.ts';
import type { NvTestbed } from './nv-testbed.ts';

const POLL_NS: Nanos = 10 * NS_PER_MS;

interface Failover {
  readonly instance: NodeId;
  readonly cause: string;
  readonly atNs: Nanos;
  readonly switches: readonly NodeId[];
  recoveredAfterNs: Nanos | null;
}

export class ClusterChecks {
  readonly history: AssignmentHistory;
  readonly failovers: Failover[] = [];
  private readonly messages = new Map<string, number>();
  /** Who acts as master of each switch, from the journal (a crashed instance's process is gone already). */
  private readonly switchMasters = new Map<NodeId, NodeId>();

  constructor(private readonly t: NvTestbed) {
    const world = t.world;
    this.history = new AssignmentHistory(world.trace);
    const instances = new Set(t.instances);
    world.trace.on('net.send', (e) => {
      if (!instances.has(e.src)) return;
      const type = e.body.type;
      const family = type.slice(0, type.indexOf('.') + 1) + '*';
      this.messages.set(family, (this.messages.get(family) ?? 0) + 1);
    });
    world.trace.on('cm.master', (e) => {
      if (!e.entity.startsWith('switch:')) return;
      const id = e.entity.slice('switch:'.length);
      if (e.held) this.switchMasters.set(id, e.instance);
      else if (this.switchMasters.get(id) === e.instance) this.switchMasters.delete(id);
    });
    world.trace.on('fault.crash', (e) => {
      if (instances.has(e.node)) this.startFailover(e.node, 'crash');
    });
    // A partition cuts off the instances on a side without a majority of the cluster.
    world.trace.on('fault.partition', (e) => {
      for (const group of e.groups) {
        const members = group.filter((id) => instances.has(id));
        if (members.length <= instances.size / 2) for (const id of members) this.startFailover(id, `partition ${e.id}`);
      }
    });
  }

  /** The mastership invariants. */
  installInvariants(): this {
    const w = this.t.world;
    w.invariant(singleMasterInvariant(w.trace));
    w.invariant(replicasAgreeInvariant(this.history, w.trace));
    w.invariant(fencedPushesInvariant(this.history, w.trace));
    w.invariant(exportsFromLdpsMasterInvariant(this.history, w.trace));
    w.invariant(oneDecisionPerRequestInvariant(this.history, w.trace));
    w.invariant(
      everyRequestAnsweredInvariant(w.trace, {
        response: (id) => {
          const master = this.t.livePtdMaster();
          return master === undefined ? null : storedResponse(master.ptd.records(), id);
        },
        pending: () => {
          const master = this.t.livePtdMaster();
          return master === undefined ? null : pendingRequests(master.ptd.records());
        },
        isUp: (id) => w.fabric.isUp(id),
      }),
    );
    w.invariant(
      oneLiveMasterInvariant({
        entities: () => [
          ...this.t.dp.switches.filter((id) => w.fabric.isUp(id)).map(switchEntity),
          ...[...new Set(this.t.nb.switches().map((s) => s.tenant).concat(this.t.nb.routers().map((r) => r.tenant)))].sort().map(ldpsEntity),
        ],
        masters: (entity) => this.t.mastersOfEntity(entity),
      }),
    );
    return this;
  }

  installMetrics(): this {
    const w = this.t.world;
    w.metric('failovers', () =>
      this.failovers.map((f) => ({
        instance: f.instance,
        cause: f.cause,
        atMs: f.atNs / NS_PER_MS,
        switchesMastered: [...f.switches],
        recoveredAfterMs: f.recoveredAfterNs === null ? null : f.recoveredAfterNs / NS_PER_MS,
      })),
    );
    w.metric('controlMessages', () => Object.fromEntries([...this.messages].sort(([a], [b]) => (a < b ? -1 : 1))));
    w.metric('mastership', () => {
      const out: Record<string, MetricValue> = {};
      for (const id of this.t.instances) out[id] = this.t.instance(id) === undefined ? null : [...this.t.instance(id)!.mastership().keys()].sort();
      return out;
    });
    return this;
  }

  /** Starts a failover clock when an instance that masters switches crashes or is cut off. */
  private startFailover(instance: NodeId, cause: string): void {
    const switches = [...this.switchMasters].filter(([, m]) => m === instance).map(([id]) => id).sort();
    if (switches.length === 0) return;
    const f: Failover = { instance, cause, atNs: this.t.world.now, switches, recoveredAfterNs: null };
    this.failovers.push(f);
    const poll = () => {
      if (this.recovered(instance)) f.recoveredAfterNs = this.t.world.now - f.atNs;
      else this.t.world.scheduler.after(POLL_NS, poll);
    };
    this.t.world.scheduler.after(POLL_NS, poll);
  }

  /** Every up switch has one live master other than `failed`, and every table has converged. */
  private recovered(failed: NodeId): boolean {
    const w = this.t.world;
    for (const id of this.t.dp.switches) {
      if (!w.fabric.isUp(id)) continue;
      const m = this.t.mastersOf(id);
      if (m.length !== 1 || m[0] === failed) return false;
    }
    return checkFlowConvergence(this.t.flowView) === true;
  }
}
