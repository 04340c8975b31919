// What state sharing managers say to each other over the fabric (seed 001 §1.4: SSMs exchange state
// directly, on demand). Only type-1 entries ever travel here, never connections. Every request carries
// an id unique to the sender's incarnation; the answer echoes it, so a lost message is retransmitted and a
// duplicate is harmless. Owns these shapes only (type aliases, not interfaces, so they are fabric Messages).

import type { SharedEntry } from './vm-state.ts';

/**
 * A manager pushes the type-1 state it holds for (tag, vmKey): the slice-wide entries and, for vmKey
 * above 0, the VM's own.
 */
export type SsmPush = {
  readonly type: 'ssm.push';
  readonly id: string;
  readonly tag: number;
  readonly vmKey: number;
  readonly sliceWide: readonly SharedEntry[];
  readonly vm: readonly SharedEntry[];
};

export type SsmPushAck = {
  readonly type: 'ssm.push-ack';
  readonly id: string;
};

/** Asks a peer for a VM's type-1 state. */
export type SsmPull = {
  readonly type: 'ssm.pull';
  readonly id: string;
  readonly vmKey: number;
};

/** The answer to a pull: per slice the VM is in at the peer, the slice-wide and the VM's own entries. */
export type SsmState = {
  readonly type: 'ssm.state';
  readonly id: string;
  readonly vmKey: number;
  readonly slices: readonly { readonly tag: number; readonly sliceWide: readonly SharedEntry[]; readonly vm: readonly SharedEntry[] }[];
};

export type SsmMessage = SsmPush | SsmPushAck | SsmPull | SsmState;
