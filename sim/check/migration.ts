// Invariants of VM migration with middlebox state (seed 001 §6 invariants 5, 7, 8, 14; seed 003 §003.4
// invariants 1, 2, 9), read from the journal and a view of the world: a VM runs on at most one host at
// every instant; it is only ever provisioned on a host that has each of its logical networks and a usable
// switch; no element uses a VM's connection state after that VM was stunned there; a migration installs
// and removes only its own VM's state; and, once the network is steady, a host holds middlebox records
// only for the VMs it runs. Owns these checks; the view (who runs
// where, what the network manager published, what each switch's host database holds) is the caller's.

import type { NodeId } from '../net/message.ts';
import type { TraceRecorder } from '../kernel/trace.ts';
import '../middlebox/trace-events.ts';
import '../migration/migration-manager.ts';
import '../dataplane/host-node.ts';
import type { LivenessInvariant, SafetyInvariant, Verdict } from './invariant.ts';

export interface MigrationView {
  /** The hosts where the VM is attached and running now (a host whose process is not up yet is not among them). */
  runningHostsOf(vm: string): NodeId[];
  /**
   * Whether a VM may be placed on `host` now (seed 003 invariants 1–2): the network manager publishes
   * each of the VM's logical networks to it, and its switch is neither unhealthy nor unavailable nor full.
   */
  placementVerdict(vm: string, host: NodeId): Verdict;
  /** The VM-specific id its elements key its state by. */
  vmKeyOf(vm: string): number | undefined;
}

/** Seed 003 invariant 9: never two running copies (none during the stun window). */
export function oneRunningCopyInvariant(trace: TraceRecorder, view: MigrationView): SafetyInvariant {
  return {
    kind: 'safety',
    id: 'one-running-copy',
    description: 'a migrating VM runs on at most one host at every instant',
    watch(violated) {
      // `runningAt`: the host the event says runs it, counted even if the view cannot see it yet (a
      // restarting host starts its VMs while its process is still being built).
      const check = (vm: string, runningAt?: NodeId): void => {
        const hosts = view.runningHostsOf(vm);
        if (runningAt !== undefined && !hosts.includes(runningAt)) hosts.push(runningAt);
        if (hosts.length > 1) violated(`${vm} runs on ${hosts.join(' and ')}`);
      };
      trace.on('dp.vm.run', (e) => check(e.vm, e.state === 'running' ? e.node : undefined));
      trace.on('dp.vif.attach', (e) => check(e.vm));
      trace.on('mig.resume', (e) => check(e.vm, e.node));
    },
  };
}

/** Seed 003 invariants 1–2: a VM is provisioned only where its networks are and the switch can take it. */
export function placedWithNetworkInvariant(trace: TraceRecorder, view: MigrationView): SafetyInvariant {
  return {
    kind: 'safety',
    id: 'placed-with-network',
    description: 'a VM is provisioned only on a host that has each of its logical networks and a healthy switch with a free port',
    watch(violated) {
      trace.on('mig.provision', (e) => {
        const verdict = view.placementVerdict(e.vm, e.node);
        if (verdict !== true) violated(`${e.vm} provisioned on ${e.node}: ${verdict}`);
      });
    },
  };
}

/**
 * Seed 001 invariant 7: once a VM is stunned on a host, that host's element never uses its connection
 * state again (until the VM comes back there): a verdict there that found one of its connections is stale.
 */
export function noStaleStateUseInvariant(trace: TraceRecorder, view: MigrationView): SafetyInvariant {
  return {
    kind: 'safety',
    id: 'no-stale-state-use',
    description: "no element uses a VM's connection state after the VM was stunned on its host",
    watch(violated) {
      const departed = new Set<string>();
      trace.on('mig.stun', (e) => {
        const k = hostVmKey(view, e.node, e.vm);
        if (k !== undefined) departed.add(k);
      });
      trace.on('dp.vif.attach', (e) => {
        const k = hostVmKey(view, e.node, e.vm);
        if (k !== undefined) departed.delete(k);
      });
      trace.on('mb.verdict', (e) => {
        if ((e.conn === 'established' || e.conn === 'reply') && departed.has(`${e.node}/${e.vmKey}`)) {
          violated(`${e.node} used VM key ${e.vmKey}'s connection state (${e.verdict}) after it left`);
        }
      });
    },
  };
}

/**
 * Seed 001 invariant 8 (per-VM extraction precision), as the elements report it: state is installed on a host only
 * for a VM provisioned there by a migration, and removed by a migration's cleanup (delete or TTL) only on
 * a host a VM was stunned on. Idle collection is the element's own business and is not judged.
 */
export function onlyMigratedStateMovesInvariant(trace: TraceRecorder, view: MigrationView): SafetyInvariant {
  return {
    kind: 'safety',
    id: 'only-migrated-state-moves',
    description: "a migration installs and removes only its own VM's middlebox state, only where that VM arrives and leaves",
    watch(violated) {
      const arrived = new Set<string>();
      const departed = new Set<string>();
      trace.on('mig.provision', (e) => {
        const k = hostVmKey(view, e.node, e.vm);
        if (k !== undefined) arrived.add(k);
      });
      trace.on('mig.stun', (e) => {
        const k = hostVmKey(view, e.node, e.vm);
        if (k !== undefined) departed.add(k);
      });
      trace.on('mb.state.install', (e) => {
        if (!arrived.has(`${e.node}/${e.vmKey}`)) violated(`${e.node} installed state of VM key ${e.vmKey}, which no migration brought there`);
      });
      trace.on('mb.state.remove', (e) => {
        if (e.cause !== 'idle' && !departed.has(`${e.node}/${e.vmKey}`)) violated(`${e.node} removed state of VM key ${e.vmKey} (${e.cause}), which no migration took away`);
      });
    },
  };
}

/** "host/vmKey": a VM's state on one host's element, as the element's events name it. */
function hostVmKey(view: MigrationView, node: NodeId, vm: string): string | undefined {
  const key = view.vmKeyOf(vm);
  return key === undefined ? undefined : `${node}/${key}`;
}

/** What a switch's host database holds, decoded: its slices' tags and its VM records' (tag, VIF). */
export interface HostDatabaseView {
  switches(): NodeId[];
  records(id: NodeId): { readonly slices: readonly number[]; readonly vms: readonly { readonly tag: number; readonly vifId: string }[] };
  /** The VIFs attached to the switch. */
  vifs(id: NodeId): readonly string[];
  /** Whether the switch is a hypervisor host (a gateway may need slices with no VM of its own). */
  isHost(id: NodeId): boolean;
}

/**
 * Seed 001 invariant 14 (config scoping), once the network is steady: a host's VM records name only VIFs it
 * has, and it holds a slice only if one of its VMs needs it.
 */
export function configScopedInvariant(view: HostDatabaseView): LivenessInvariant {
  return {
    kind: 'liveness',
    id: 'middlebox-config-scoped',
    description: 'a host holds middlebox records only for the VMs it runs, and a slice only when one of them needs it',
    holds: () => {
      for (const id of view.switches()) {
        const { slices, vms } = view.records(id);
        const vifs = new Set(view.vifs(id));
        const stray = vms.find((v) => !vifs.has(v.vifId));
        if (stray !== undefined) return `${id} holds a record for VIF ${stray.vifId} (slice ${stray.tag}), which is not attached there`;
        if (!view.isHost(id)) continue;
        const needed = new Set(vms.map((v) => v.tag));
        const idle = slices.find((tag) => !needed.has(tag));
        if (idle !== undefined) return `${id} holds slice ${idle} but runs no VM that needs it`;
      }
      return true;
    },
  };
}
