// The 'mig.*' messages between VM migration managers (one per host), and between a controller and a
// source host's manager (fetch). Owns the shapes only. Every request is retransmitted by its sender until
// its answer arrives, and every handler answers a repeat as it answered the first.

import type { VmSpec } from '../dataplane/vm.ts';
import type { NodeId } from '../net/index.ts';
import type { StateDelta, StateGapPolicy, VmMiddleboxState } from '../middlebox/vm-state.ts';

export type Handoff = 'prenotify' | 'detected';

/** Source → destination: may the VM come (placement), and hold a port for it. */
export type MigPrepare = {
  readonly type: 'mig.prepare';
  readonly mig: string;
  readonly vm: string;
  readonly vifId: string;
  readonly networks: readonly string[];
};

/** Destination → source: the verdict (reason: why not). */
export type MigPrepared = { readonly type: 'mig.prepared'; readonly mig: string; readonly ok: boolean; readonly reason: string | null };

/**
 * Source → destination, after stun and the modelled transfer time: the VM (and, pre-notified, its
 * middlebox state: all of it, or the local-only part when the state sharing managers carry type-1).
 */
export type MigTransfer = {
  readonly type: 'mig.transfer';
  readonly mig: string;
  readonly spec: VmSpec;
  /** The VM's key in the middlebox elements' records (null: no middlebox serves it). */
  readonly vmKey: number | null;
  readonly handoff: Handoff;
  readonly ssm: boolean;
  readonly gapPolicy: StateGapPolicy;
  readonly state: VmMiddleboxState | null;
  readonly deltas: readonly StateDelta[];
  /** From provisioned to running at the destination: resume (live) or boot (cold). */
  readonly startNs: number;
};

/** Destination → source: the VM runs here (at `resumedAt`); gapPackets once its state is installed. */
export type MigDone = { readonly type: 'mig.done'; readonly mig: string; readonly resumedAt: number; readonly gapPackets: number | null };

/** A controller mastering the destination switch → the origin host: send the VM's state where it went. */
export type MigFetch = { readonly type: 'mig.fetch'; readonly vifId: string; readonly vm: string; readonly to: NodeId };

/** The origin host → the controller: the fetch is taken care of (answered to every copy). */
export type MigFetchAck = { readonly type: 'mig.fetch-ack'; readonly vifId: string; readonly to: NodeId };

/** Source → destination, detected variants: the state a fetch gathered. */
export type MigState = { readonly type: 'mig.state'; readonly mig: string; readonly state: VmMiddleboxState; readonly deltas: readonly StateDelta[] };

/** Destination → source: installed; the source may clean up. */
export type MigStateAck = { readonly type: 'mig.state-ack'; readonly mig: string; readonly gapPackets: number | null };

export type MigrationMessage = MigPrepare | MigPrepared | MigTransfer | MigDone | MigFetch | MigFetchAck | MigState | MigStateAck;
