// Mastership invariants of a controller cluster (seed 000 §7, invariants 1–3, 5–6), read from the journal:
//   - single master: at no instant do two instances act as master of the same switch or LDPS;
//   - CM replicas agree: every coordination-manager replica that applied log index i assigned the same
//     master and epoch to the same entity (consensus safety, seen from the outside);
//   - fenced pushes: every flow-mod a switch accepted came from the instance the CM assigned that switch
//     at the epoch (generation id) the flow-mod carried;
//   - LDPS-master computation: every flow record exported to the NIB came from the master of its LDPS at
//     the epoch it carries;
//   - one live master each (liveness): after quiescence every registered entity has exactly one master,
//     and it is a live instance.
// Owns these checks and the history they keep; reads instances only through the view for the liveness
// check. Changes nothing.

import type { TraceRecorder } from '../kernel/trace.ts';
import type { NodeId } from '../net/message.ts';
import type { LivenessInvariant, SafetyInvariant } from './invariant.ts';

/** The committed assignments seen so far: entity → epoch → master. */
export class AssignmentHistory {
  private readonly byEntity = new Map<string, Map<number, NodeId | null>>();
  private readonly byIndex = new Map<string, string>();
  private disagreement: string | null = null;

  constructor(trace: TraceRecorder) {
    trace.on('cm.assign', (e) => {
      const at = `${e.index}\u0000${e.entity}`;
      const what = `${e.master}@${e.epoch}`;
      const seen = this.byIndex.get(at);
      if (seen === undefined) this.byIndex.set(at, what);
      else if (seen !== what && this.disagreement === null) {
        this.disagreement = `CM replicas disagree at log index ${e.index} on ${e.entity}: ${seen} vs ${what} (${e.node})`;
      }
      let epochs = this.byEntity.get(e.entity);
      if (epochs === undefined) this.byEntity.set(e.entity, (epochs = new Map()));
      if (e.master !== null) epochs.set(e.epoch, e.master);
    });
  }

  masterAt(entity: string, epoch: number): NodeId | null | undefined {
    return this.byEntity.get(entity)?.get(epoch);
  }

  entities(): string[] {
    return [...this.byEntity.keys()].sort();
  }

  takeDisagreement(): string | null {
    const d = this.disagreement;
    this.disagreement = null;
    return d;
  }
}

export function singleMasterInvariant(trace: TraceRecorder): SafetyInvariant {
  return {
    kind: 'safety',
    id: 'single-master',
    description: 'at no instant do two instances act as master of the same switch or logical datapath set',
    watch(violated) {
      const holders = new Map<string, Map<NodeId, number>>();
      trace.on('cm.master', (e) => {
        let h = holders.get(e.entity);
        if (h === undefined) holders.set(e.entity, (h = new Map()));
        if (!e.held) {
          if (h.get(e.instance) === e.epoch) h.delete(e.instance);
          return;
        }
        for (const [other, epoch] of h) {
          if (other !== e.instance) violated(`${e.instance} acts as master of ${e.entity} (epoch ${e.epoch}) while ${other} does (epoch ${epoch})`);
        }
        h.set(e.instance, e.epoch);
      });
      // A crashed instance acts as nothing: its holdings end with it.
      trace.on('fault.crash', (e) => {
        for (const h of holders.values()) h.delete(e.node);
      });
    },
  };
}

export function replicasAgreeInvariant(history: AssignmentHistory, trace: TraceRecorder): SafetyInvariant {
  return {
    kind: 'safety',
    id: 'cm-replicas-agree',
    description: 'every coordination-manager replica applies the same assignment at each log index',
    watch(violated) {
      trace.on('cm.assign', () => {
        const d = history.takeDisagreement();
        if (d !== null) violated(d);
      });
    },
  };
}

export function fencedPushesInvariant(history: AssignmentHistory, trace: TraceRecorder): SafetyInvariant {
  return {
    kind: 'safety',
    id: 'flowmods-from-epoch-master',
    description: "every flow-mod a switch accepted came from the instance the CM made the switch's master at the epoch it carried",
    watch(violated) {
      trace.on('switch.flowmod', (e) => {
        const entity = `switch:${e.node}`;
        if (e.generationId === null) return violated(`${e.node} accepted a ${e.command} from ${e.from} with no generation id`);
        const master = history.masterAt(entity, e.generationId);
        if (master !== e.from) violated(`${e.node} accepted a ${e.command} from ${e.from} at epoch ${e.generationId}, which the CM gave to ${master ?? 'nobody'}`);
      });
    },
  };
}

export function exportsFromLdpsMasterInvariant(history: AssignmentHistory, trace: TraceRecorder): SafetyInvariant {
  return {
    kind: 'safety',
    id: 'flows-computed-by-ldps-master',
    description: 'every flow record exported to the NIB was computed by the master of its logical datapath set at the epoch it carries',
    watch(violated) {
      trace.on('cluster.export', (e) => {
        const master = history.masterAt(`ldps:${e.ldps}`, e.epoch);
        if (master !== e.instance) violated(`${e.instance} exported flows of ${e.ldps} for ${e.switch} at epoch ${e.epoch}, which the CM gave to ${master ?? 'nobody'}`);
      });
    },
  };
}

/** What the liveness check reads of the cluster. */
export interface ClusterMastershipView {
  /** Entities that must have a master now (registered switches that are up, LDPSs in the configuration). */
  entities(): readonly string[];
  /** The live instances acting as master of an entity. */
  masters(entity: string): readonly NodeId[];
}

export function oneLiveMasterInvariant(view: ClusterMastershipView): LivenessInvariant {
  return {
    kind: 'liveness',
    id: 'one-live-master-each',
    description: 'after faults stop, every switch and logical datapath set has exactly one live master',
    holds() {
      for (const entity of view.entities()) {
        const m = view.masters(entity);
        if (m.length !== 1) return `${entity} has ${m.length === 0 ? 'no live master' : `${m.length} masters (${m.join(', ')})`}`;
      }
      return true;
    },
  };
}
