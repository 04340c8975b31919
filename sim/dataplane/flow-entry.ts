// A flow as installed in a switch: the Flow (flow.ts) with its key, install order, counters and the parts
// of its match compiled for the classifier. Owns validation of flows arriving from outside (a controller's
// flow-mod must not be able to corrupt a table) and the per-flow match test; not table structure.

import type { Nanos } from '../kernel/time.ts';
import { isMulticastMac, prefixMask } from './headers.ts';
import { flowKey, isRangeMove, MOVE_FIELD_BITS, type Action, type Flow, type Match } from './flow.ts';
import { isField, type FieldValues } from './field-values.ts';
import type { MiddleboxMode } from './middlebox-hook.ts';

/** Tables 0..MAX_TABLE; OpenFlow allows 0..254. */
export const MAX_TABLE = 254;
export const MAX_PRIORITY = 65535;
/** The longest note text a flow may carry (a middlebox record must fit). */
export const MAX_NOTE_LENGTH = 4096;

const MIDDLEBOX_MODES: ReadonlySet<string> = new Set<MiddleboxMode>(['inspect', 'reply-only', 'copy']);

const MATCH_KEYS: ReadonlySet<string> = new Set([
  'inPort', 'tunKey', 'tunMeta', 'metadata', 'ctState', 'reg0', 'reg1', 'reg2', 'reg3', 'reg4', 'reg5', 'reg6', 'reg7',
  'ethSrc', 'ethDst', 'ethDstGroup', 'ethType', 'ipSrc', 'ipDst', 'ipProto', 'ipTtl', 'l4Src', 'l4SrcRange', 'l4Dst', 'l4DstRange', 'tcpFlags',
]);

export class FlowEntry {
  readonly key: string;
  readonly table: number;
  readonly priority: number;
  /** Install order within the switch: the tie-break between equal-priority overlapping flows (lower wins). */
  seq: number;
  packets = 0;
  bytes = 0;
  // L4 range filters, checked after the hash lookup (ranges do not hash). -1 = no range on that port.
  readonly srcLo: number;
  readonly srcHi: number;
  readonly dstLo: number;
  readonly dstHi: number;
  readonly hasRange: boolean;

  constructor(
    public flow: Flow,
    seq: number,
    public installedAt: Nanos,
    key = flowKey(flow),
  ) {
    this.key = key;
    this.table = flow.table;
    this.priority = flow.priority;
    this.seq = seq;
    const m = flow.match;
    this.srcLo = m.l4SrcRange ? m.l4SrcRange[0] : -1;
    this.srcHi = m.l4SrcRange ? m.l4SrcRange[1] : -1;
    this.dstLo = m.l4DstRange ? m.l4DstRange[0] : -1;
    this.dstHi = m.l4DstRange ? m.l4DstRange[1] : -1;
    this.hasRange = m.l4SrcRange !== undefined || m.l4DstRange !== undefined;
  }

  /** The range part of the match (the rest is decided by the classifier's hash). */
  rangesMatch(v: FieldValues): boolean {
    if (this.srcLo >= 0 && (v.l4Src < this.srcLo || v.l4Src > this.srcHi)) return false;
    if (this.dstLo >= 0 && (v.l4Dst < this.dstLo || v.l4Dst > this.dstHi)) return false;
    return true;
  }
}

/**
 * Whether `match` matches the values, field by field. The classifier does not call this (it hashes);
 * it is the reference semantics, used by brute-force checks and tests.
 */
export function matchesValues(match: Match, v: FieldValues): boolean {
  for (const key in match) {
    const want = (match as Record<string, unknown>)[key];
    if (want === undefined) continue;
    switch (key) {
      case 'ipSrc':
      case 'ipDst': {
        const p = want as { addr: number; len: number };
        if (((v[key] & prefixMask(p.len)) >>> 0) !== p.addr) return false;
        break;
      }
      case 'l4SrcRange':
      case 'l4DstRange': {
        const [lo, hi] = want as readonly [number, number];
        const x = key === 'l4SrcRange' ? v.l4Src : v.l4Dst;
        if (x < lo || x > hi) return false;
        break;
      }
      case 'ethDstGroup':
        if (isMulticastMac(v.ethDst) !== want) return false;
        break;
      default:
        if (v[key as keyof FieldValues] !== want) return false;
    }
  }
  return true;
}

const isWhole = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/** Throws a one-line error naming what is wrong with the flow; returns it unchanged when it is sound. */
export function validateFlow(f: Flow): Flow {
  const where = () => `flow ${JSON.stringify({ table: f?.table, priority: f?.priority })}`;
  if (typeof f !== 'object' || f === null) throw new Error('a flow must be an object');
  if (!isWhole(f.table) || f.table > MAX_TABLE) throw new Error(`${where()}: table must be a whole number 0..${MAX_TABLE}`);
  if (!isWhole(f.priority) || f.priority > MAX_PRIORITY) throw new Error(`${where()}: priority must be a whole number 0..${MAX_PRIORITY}`);
  if (typeof f.cookie !== 'string') throw new Error(`${where()}: cookie must be a string`);
  if (typeof f.match !== 'object' || f.match === null) throw new Error(`${where()}: match must be an object`);
  for (const [key, value] of Object.entries(f.match)) {
    if (value === undefined) continue;
    if (!MATCH_KEYS.has(key)) throw new Error(`${where()}: unknown match field '${key}'`);
    if (key === 'ipSrc' || key === 'ipDst') {
      const p = value as { addr: unknown; len: unknown };
      if (!isWhole(p?.len) || p.len > 32 || !isWhole(p.addr) || p.addr > 0xffff_ffff || ((p.addr & ~prefixMask(p.len)) >>> 0) !== 0) {
        throw new Error(`${where()}: ${key} must be a prefix { addr, len } with no host bits set`);
      }
    } else if (key === 'l4SrcRange' || key === 'l4DstRange') {
      const r = value as unknown as unknown[];
      if (!Array.isArray(r) || r.length !== 2 || !isWhole(r[0]) || !isWhole(r[1]) || r[0] > r[1]) throw new Error(`${where()}: ${key} must be [lo, hi] with lo <= hi`);
    } else if (key === 'ethDstGroup') {
      if (typeof value !== 'boolean') throw new Error(`${where()}: ethDstGroup must be a boolean`);
    } else if (!isWhole(value)) {
      throw new Error(`${where()}: ${key} must be a whole, non-negative number`);
    }
  }
  if (!Array.isArray(f.actions)) throw new Error(`${where()}: actions must be a list`);
  for (const a of f.actions) validateAction(a, where);
  return f;
}

/** The fields wider than a range move's 32 bits: moved whole or not at all. */
const WIDE_FIELDS: ReadonlySet<string> = new Set(['ethSrc', 'ethDst']);

function validateMoveRange(a: Extract<Action, { type: 'move' }>, where: () => string): void {
  const fromBit = a.fromBit ?? 0;
  const toBit = a.toBit ?? 0;
  const bits = a.bits ?? MOVE_FIELD_BITS;
  if (WIDE_FIELDS.has(a.from) || WIDE_FIELDS.has(a.to)) throw new Error(`${where()}: move ${a.from} -> ${a.to}: bit ranges are not supported on MAC fields`);
  if (!isWhole(fromBit) || !isWhole(toBit) || !isWhole(bits) || bits < 1) throw new Error(`${where()}: move ${a.from} -> ${a.to}: fromBit, toBit must be whole numbers and bits at least 1`);
  if (fromBit + bits > MOVE_FIELD_BITS || toBit + bits > MOVE_FIELD_BITS) {
    throw new Error(`${where()}: move ${a.from}[${fromBit}..${fromBit + bits - 1}] -> ${a.to}[${toBit}..${toBit + bits - 1}]: ranges must lie within bits 0..${MOVE_FIELD_BITS - 1}`);
  }
}

function validateAction(a: Action, where: () => string): void {
  switch (a?.type) {
    case 'output':
      if (!isWhole(a.port)) throw new Error(`${where()}: output port must be a whole number`);
      return;
    case 'set':
      if (!isField(a.field)) throw new Error(`${where()}: set of unknown field '${a.field}'`);
      if (!isWhole(a.value)) throw new Error(`${where()}: set ${a.field} needs a whole, non-negative value`);
      return;
    case 'move':
      if (!isField(a.from) || !isField(a.to)) throw new Error(`${where()}: move between unknown fields '${a.from}' -> '${a.to}'`);
      if (isRangeMove(a)) validateMoveRange(a, where);
      return;
    case 'resubmit':
      if (!isWhole(a.table) || a.table > MAX_TABLE) throw new Error(`${where()}: resubmit to a table outside 0..${MAX_TABLE}`);
      return;
    case 'controller':
      if (typeof a.reason !== 'string') throw new Error(`${where()}: controller action needs a reason`);
      return;
    case 'middlebox':
      if (!isWhole(a.tag) || a.tag < 1) throw new Error(`${where()}: middlebox tag must be a whole number >= 1`);
      if (!MIDDLEBOX_MODES.has(a.mode)) throw new Error(`${where()}: middlebox mode must be one of ${[...MIDDLEBOX_MODES].join(', ')}, not ${JSON.stringify(a.mode)}`);
      if (!isWhole(a.table) || a.table > MAX_TABLE) throw new Error(`${where()}: middlebox resume table outside 0..${MAX_TABLE}`);
      return;
    case 'note':
      if (typeof a.text !== 'string' || a.text.length > MAX_NOTE_LENGTH) throw new Error(`${where()}: note text must be a string of at most ${MAX_NOTE_LENGTH} characters`);
      return;
    case 'dec-ttl':
    case 'drop':
      return;
    default:
      throw new Error(`${where()}: unknown action ${JSON.stringify(a)}`);
  }
}
