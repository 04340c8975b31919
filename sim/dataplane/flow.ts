// Flows as data: match, actions, table and priority, as in OpenFlow/OVS. Shared by the switch (which
// executes them), the controller (which computes them) and the checkers (which compare tables). Owns the
// shapes, the canonical key that identifies a flow within a table (what an OpenFlow strict delete names),
// and the text form used in traces and packet traces; not matching or execution.
//
// Pipeline fields beside the headers (the conventions the controller uses, after OVN):
//   inPort     the switch port the packet entered on (a VIF port or a tunnel port)
//   tunKey     tunnel key (VNI): the logical datapath the packet belongs to, set on encapsulation
//   tunMeta    tunnel metadata, as OVN's Geneve option: logical ingress port << 16 | logical egress port
//              (or a flood/unknown marker) — both ports, so the receiver's egress stages still see inport
//   metadata   the logical datapath being processed
//   reg0..reg7 scratch registers (reg6: logical ingress port, reg7: logical egress port by convention)
//   ctState    connection-tracking state bits a middlebox verdict sets (middlebox-hook.ts: CT_*)

import { formatCidr, formatIpv4, formatMac, type Ipv4Prefix } from './headers.ts';
import type { MiddleboxMode } from './middlebox-hook.ts';

export type HeaderField = 'ethSrc' | 'ethDst' | 'ethType' | 'ipSrc' | 'ipDst' | 'ipProto' | 'ipTtl' | 'l4Src' | 'l4Dst' | 'tcpFlags';
export type RegisterField = 'reg0' | 'reg1' | 'reg2' | 'reg3' | 'reg4' | 'reg5' | 'reg6' | 'reg7';
export type PipelineField = 'inPort' | 'tunKey' | 'tunMeta' | 'metadata' | 'ctState' | RegisterField;
export type Field = HeaderField | PipelineField;

export const REGISTER_FIELDS: readonly RegisterField[] = ['reg0', 'reg1', 'reg2', 'reg3', 'reg4', 'reg5', 'reg6', 'reg7'];

/** Exact-match fields (every field but the two IP addresses, which match by prefix). */
export type ExactField = Exclude<Field, 'ipSrc' | 'ipDst'>;

/**
 * A match: every field given must match; absent fields are wildcards. IPv4 addresses match by prefix,
 * L4 ports may also match a range, and `ethDstGroup` matches the Ethernet group (multicast) bit.
 */
export type Match = { [F in ExactField]?: number } & {
  ipSrc?: Ipv4Prefix;
  ipDst?: Ipv4Prefix;
  l4SrcRange?: readonly [number, number];
  l4DstRange?: readonly [number, number];
  ethDstGroup?: boolean;
};

export type Action =
  /** Sends a copy of the packet, as it is now, out of a port. Tunnel ports encapsulate with tunKey/tunMeta. */
  | { readonly type: 'output'; readonly port: number }
  /** Sets a header or pipeline field (OpenFlow set-field / OVS load). */
  | { readonly type: 'set'; readonly field: Field; readonly value: number }
  /**
   * Copies one field, or bits of it, into another (OVS move with NXM subfields). With none of fromBit, toBit
   * and bits it copies the whole value (a 48-bit MAC too). With any of them, both fields are 32 bits wide:
   * `bits` bits of `from` starting at bit `fromBit` replace the bits of `to` starting at bit `toBit`, and
   * the other bits of `to` stay as they were. Defaults: fromBit 0, toBit 0, bits 32 (MOVE_FIELD_BITS).
   * Bit ranges on the MAC fields are refused (validateFlow): only whole-MAC moves exist.
   */
  | { readonly type: 'move'; readonly from: Field; readonly to: Field; readonly fromBit?: number; readonly toBit?: number; readonly bits?: number }
  /** Runs the packet through `table`, then carries on with the next action (OVS resubmit). */
  | { readonly type: 'resubmit'; readonly table: number }
  /** Decrements the IPv4 TTL; the packet is dropped when it reaches zero. */
  | { readonly type: 'dec-ttl' }
  /** Sends the packet to the controller (packet-in). */
  | { readonly type: 'controller'; readonly reason: string }
  /** Explicit drop: stops processing. (A flow with no output also drops.) */
  | { readonly type: 'drop' }
  /**
   * Hands the packet to the host-local middlebox element's slice `tag`, keyed by the VM id in reg5. In
   * 'inspect' and 'reply-only' modes this ends the current pass: a passed packet is recirculated at `table`
   * (registers and metadata kept), anything else stops. In 'copy' mode the element gets a copy and the
   * actions carry on. Semantics in pipeline.ts.
   */
  | { readonly type: 'middlebox'; readonly tag: number; readonly mode: MiddleboxMode; readonly table: number }
  /** Does nothing when executed (OVS note): carries text, e.g. a middlebox record in the host database. */
  | { readonly type: 'note'; readonly text: string };

export interface Flow {
  readonly table: number;
  readonly priority: number;
  readonly match: Match;
  readonly actions: readonly Action[];
  /** Provenance: which logical datapath (or 'infra') the flow implements; placement checks read it. */
  readonly cookie: string;
}

/** The width a bit-range move gives every field it touches. */
export const MOVE_FIELD_BITS = 32;

/** Whether a move copies bits (a range) rather than the whole value. */
export function isRangeMove(a: Extract<Action, { type: 'move' }>): boolean {
  return a.fromBit !== undefined || a.toBit !== undefined || a.bits !== undefined;
}

const MATCH_ORDER: readonly (keyof Match)[] = [
  'inPort',
  'tunKey',
  'tunMeta',
  'metadata',
  ...REGISTER_FIELDS,
  'ctState',
  'ethSrc',
  'ethDst',
  'ethDstGroup',
  'ethType',
  'ipSrc',
  'ipDst',
  'ipProto',
  'ipTtl',
  'l4Src',
  'l4SrcRange',
  'l4Dst',
  'l4DstRange',
  'tcpFlags',
];

function formatValue(field: string, value: unknown): string {
  if (field === 'ethSrc' || field === 'ethDst') return formatMac(value as number);
  if (field === 'ipSrc' || field === 'ipDst') return typeof value === 'number' ? formatIpv4(value) : formatCidr(value as Ipv4Prefix);
  if (field === 'ethType') return `0x${(value as number).toString(16).padStart(4, '0')}`;
  if (Array.isArray(value)) return `${value[0]}-${value[1]}`;
  return String(value);
}

/** The match in a fixed field order, e.g. "metadata=3,reg6=2,ethDst=02:00:00:00:00:01". */
export function formatMatch(match: Match): string {
  const parts: string[] = [];
  for (const field of MATCH_ORDER) {
    const value = match[field];
    if (value !== undefined) parts.push(`${field}=${formatValue(field, value)}`);
  }
  return parts.join(',');
}

export function formatAction(a: Action): string {
  switch (a.type) {
    case 'output':
      return `output:${a.port}`;
    case 'set':
      return `set:${a.field}=${formatValue(a.field, a.value)}`;
    case 'move': {
      // Whole-field moves keep their old text, so flows written before bit ranges existed compare equal.
      if (!isRangeMove(a)) return `move:${a.from}->${a.to}`;
      const fromBit = a.fromBit ?? 0;
      const toBit = a.toBit ?? 0;
      const bits = a.bits ?? MOVE_FIELD_BITS;
      return `move:${a.from}[${fromBit}..${fromBit + bits - 1}]->${a.to}[${toBit}..${toBit + bits - 1}]`;
    }
    case 'resubmit':
      return `resubmit:${a.table}`;
    case 'dec-ttl':
      return 'dec_ttl';
    case 'controller':
      return `controller:${a.reason}`;
    case 'drop':
      return 'drop';
    case 'middlebox':
      return `middlebox(tag=${a.tag},mode=${a.mode},table=${a.table})`;
    case 'note':
      return `note:${a.text}`;
  }
}

/** What identifies a flow within a switch: table, priority and match (OpenFlow's strict identity). */
export function flowKey(f: Pick<Flow, 'table' | 'priority' | 'match'>): string {
  return `${f.table}/${f.priority}/${formatMatch(f.match)}`;
}

/** One line, like ovs-ofctl dump-flows: "table=1 priority=100 metadata=3,... actions=output:2 cookie=ls-a". */
export function formatFlow(f: Flow): string {
  const match = formatMatch(f.match);
  return `table=${f.table} priority=${f.priority}${match === '' ? '' : ` ${match}`} actions=${f.actions.map(formatAction).join(',') || 'drop'} cookie=${f.cookie}`;
}

/**
 * Whether two flows are the same flow with the same actions and cookie (for table comparisons). Compared
 * action by action rather than as one line: a note's text may contain the comma that separates actions.
 */
export function flowsEqual(a: Flow, b: Flow): boolean {
  if (a.table !== b.table || a.priority !== b.priority || a.cookie !== b.cookie || a.actions.length !== b.actions.length) return false;
  if (formatMatch(a.match) !== formatMatch(b.match)) return false;
  for (let i = 0; i < a.actions.length; i++) if (formatAction(a.actions[i]) !== formatAction(b.actions[i])) return false;
  return true;
}
