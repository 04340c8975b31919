// A VM's middlebox state as it leaves one element and reaches another (seed 001 §2.E), and the calls a
// migration manager or a state sharing manager makes on an element to move it. Owns these shapes and the
// contract; the element (element.ts) implements it, sim/migration drives it.
//
// Two state types (seed 001 §1.4): type-2 (local-only) is per connection — the firewall's connection
// table, NAT mappings, the load balancer's client→backend choice — and only ever travels VMMM to VMMM;
// type-1 (shared) is useful beyond one host — backend health, IDS per-source counters — and travels
// through the state sharing managers.

import type { Nanos } from '../kernel/time.ts';
import type { MiddleboxKind } from './records.ts';

/** The 5-tuple of a connection's first packet as the element saw it, before any translation. */
export interface ConnectionTuple {
  readonly proto: number;
  readonly srcIp: number;
  readonly srcPort: number;
  readonly dstIp: number;
  readonly dstPort: number;
}

export type TcpPhase = 'syn-sent' | 'established' | 'closing' | 'closed' | 'none';

/** One tracked connection of one VM in one slice (type-2). */
export interface ConnectionEntry {
  readonly tuple: ConnectionTuple;
  /** The tuple after translation (SNAT/DNAT/LB), or equal to `tuple` when nothing is translated. */
  readonly translated: ConnectionTuple;
  /** The rule that admitted it (0: the default action), for the record. */
  readonly rule: number;
  readonly phase: TcpPhase;
  /** Packets and bytes seen in the original and the reply direction. */
  readonly packets: readonly [number, number];
  readonly bytes: readonly [number, number];
  readonly lastSeenNs: Nanos;
}

/** One piece of type-1 state: a key within the slice and its value (e.g. "health/10.1.0.5:80" → 1). */
export interface SharedEntry {
  readonly key: string;
  readonly value: number;
}

export interface VmSliceState {
  readonly tag: number;
  readonly kind: MiddleboxKind;
  readonly connections: readonly ConnectionEntry[];
  readonly shared: readonly SharedEntry[];
}

export interface VmMiddleboxState {
  readonly vmKey: number;
  readonly vifId: string;
  readonly slices: readonly VmSliceState[];
}

/** A change to a VM's state after a snapshot (streamed from pre-notification until stun), in order. */
export interface StateDelta {
  readonly vmKey: number;
  readonly tag: number;
  /** Per element and VM, 1, 2, 3…: the receiver applies each once and in order. */
  readonly seq: number;
  readonly op: 'put' | 'delete';
  readonly entry: ConnectionEntry;
}

/** How a destination element treats a migrated VM's packets before its state arrives (seed 001 §2.B). */
export type StateGapPolicy = 'drop' | 'new' | 'buffer';

/** What the migration side calls on an element. */
export interface ElementMigrationApi {
  /** The VM's id in this element's records, once configured. */
  vmKeyOf(vifId: string): number | undefined;
  /** A snapshot of the VM's state; 'local-only' leaves type-1 out (the SSM variants). */
  gather(vmKey: number, vifId: string, scope: 'all' | 'local-only'): VmMiddleboxState;
  /** Streams every later change to the VM's type-2 state until the returned function is called. */
  watch(vmKey: number, onDelta: (d: StateDelta) => void): () => void;
  /** Stun fence: from now on this element changes and uses none of the VM's state. */
  fence(vmKey: number): void;
  /** Destination, before the state arrives: packets of the VM meet `policy` until install or give-up. */
  expectState(vmKey: number, policy: StateGapPolicy): void;
  /** Installs a snapshot (creating slices as needed) and then deltas, releasing buffered packets. */
  install(state: VmMiddleboxState, deltas: readonly StateDelta[]): void;
  /** Removes the VM's state now (explicit delete); returns how many entries went. */
  remove(vmKey: number): number;
  /** Removes the VM's state once it has been idle for `ttlNs` (TTL cleanup). */
  expire(vmKey: number, ttlNs: Nanos): void;
  /** Bytes the state would take on the wire (for the migration's transfer time and the summary). */
  sizeBytes(state: VmMiddleboxState, deltas: readonly StateDelta[]): number;
}
