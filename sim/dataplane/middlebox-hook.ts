// The contract between a switch's pipeline and the host-local middlebox element beside it (seed 001 §4):
// the `middlebox` action hands the packet to the element, which answers with a verdict; a packet it
// passes is recirculated into the pipeline at the action's resume table with its registers and metadata
// kept (as OVS recirculates after `ct(table=N)`), so it never re-enters the stage that sent it (no loop).
// The element's configuration reaches it through the switch's host database table (HOST_DB_TABLE): flows
// there are never executed, each carries one `note` action whose text is a middlebox record.
// Owns these shapes and constants only; the element itself is sim/middlebox's, and the dataplane never
// imports it (the testbed plugs one in through DataplaneShared).

import type { Message, NodeId } from '../net/message.ts';
import type { NodeContext } from '../net/node.ts';
import type { Headers } from './headers.ts';

/** The table the controller writes middlebox records into; no flow ever resubmits to it. */
export const HOST_DB_TABLE = 250;

/** The register holding the VM-specific id (seed 001 §1.2) a middlebox action keys its state by. */
export const VM_KEY_FIELD = 'reg5';

/**
 * What the element does with a packet:
 *   'inspect'     the full middlebox: established connections pass (translated), new ones are judged by
 *                 the slice's rules and tracked;
 *   'reply-only'  only packets that answer a connection the VM opened are touched (reverse translation);
 *                 anything else passes unchanged (the egress side of a policy-routed middlebox);
 *   'copy'        passive (IDS): the element gets a copy, nothing comes back, the pipeline carries on.
 */
export type MiddleboxMode = 'inspect' | 'reply-only' | 'copy';

/** ctState bits a passed packet carries on recirculation (after OVS ct_state). */
export const CT_TRACKED = 0x01;
export const CT_NEW = 0x02;
export const CT_ESTABLISHED = 0x04;
export const CT_REPLY = 0x08;
export const CT_NAT = 0x10;

export type MiddleboxVerdict =
  /** Carry on at the resume table with these (possibly rewritten) headers and ctState. */
  | { readonly verdict: 'pass'; readonly headers: Headers; readonly ctState: number }
  | { readonly verdict: 'drop'; readonly reason: string }
  /** Drop, and send `response` (a TCP RST or ICMP unreachable) back toward the sender when it is local. */
  | { readonly verdict: 'reject'; readonly reason: string; readonly response: Headers | null }
  /** Held: state for this VM is on its way (a migration's state gap with the 'buffer' policy). */
  | { readonly verdict: 'buffer' };

export interface MiddleboxHook {
  /**
   * One packet through slice `tag` for VM `vmKey` (0: no local VM). `commit` false is a what-if trace:
   * the verdict must be what a real packet would get, and nothing may change (no state, no counters).
   * 'buffer' may be answered only when `commit` is true; the caller then calls `hold`.
   */
  process(tag: number, vmKey: number, mode: MiddleboxMode, headers: Headers, commit: boolean): MiddleboxVerdict;
  /**
   * Keeps a buffered packet's continuation: the element calls `retry` once when the packet should be
   * processed again (its VM's state arrived or the gap ended), and `retry` runs the action anew.
   */
  hold(tag: number, vmKey: number, retry: () => void): void;
  /** The host database changed: every record text now in HOST_DB_TABLE, in flow-key order. */
  configure(records: readonly string[]): void;
}

/**
 * Builds a node's element at every (re)start of the node, as the node process is built: its state is
 * volatile. `onMessage` gets the fabric messages the switch node does not handle itself (a state sharing
 * manager's exchanges); it returns false for a message that is not its own.
 */
export type MiddleboxHookFactory = (ctx: NodeContext) => MiddleboxHook & { onMessage?(from: NodeId, body: Message): boolean };
