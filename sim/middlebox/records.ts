// Middlebox configuration records (seed 001 §3): what the controller tiers carry from the middlebox API
// to the elements, one rule per record, "in a format like flow entries", untranslated on the way. The
// physical master writes each record's text into a switch's host database table (a `note` flow, see
// sim/dataplane/middlebox-hook.ts); the element decodes them and compiles its slices. Owns the record
// shapes and their one text form (fixed key order, so equal records give equal text and flows); not what
// the element does with them.

import type { Ipv4Prefix } from '../dataplane/headers.ts';

export type MiddleboxKind = 'firewall' | 'nat' | 'lb' | 'ids';
export const MIDDLEBOX_KINDS: readonly MiddleboxKind[] = ['firewall', 'nat', 'lb', 'ids'];

/** What a rule does: firewall verdicts, NAT translations, a load-balanced VIP, or an IDS alert. */
export type RuleAction = 'allow' | 'drop' | 'reject' | 'snat' | 'dnat' | 'lb' | 'alert';
export const RULE_ACTIONS: readonly RuleAction[] = ['allow', 'drop', 'reject', 'snat', 'dnat', 'lb', 'alert'];

/** Every field given must match; absent fields match anything. L4 ranges are inclusive. */
export interface RuleMatch {
  readonly ipSrc?: Ipv4Prefix;
  readonly ipDst?: Ipv4Prefix;
  readonly ipProto?: number;
  readonly l4Src?: readonly [number, number];
  readonly l4Dst?: readonly [number, number];
}

export interface Backend {
  readonly ip: number;
  readonly port: number;
}

export type MiddleboxRecord =
  /**
   * A logical middlebox's slice on this element: `tag` is its external slice id, the same on every host.
   * `defaultAction` decides a new connection no rule matches (firewall; other kinds pass it untouched).
   */
  | { readonly r: 'slice'; readonly tag: number; readonly kind: MiddleboxKind; readonly name: string; readonly tenant: string; readonly defaultAction: 'allow' | 'drop' }
  /**
   * One rule of a slice. The highest priority matching rule decides a new connection. `toIp` and the port
   * range are the translation of snat/dnat (a range of 0..0 keeps the port); `backends` the pool of lb.
   */
  | {
      readonly r: 'rule';
      readonly tag: number;
      readonly rule: number;
      readonly name: string;
      readonly priority: number;
      readonly action: RuleAction;
      readonly match: RuleMatch;
      readonly toIp: number;
      readonly toPortMin: number;
      readonly toPortMax: number;
      readonly backends: readonly Backend[];
    }
  /** A local VM the slice serves: its VM-specific id (what the pipeline puts in VM_KEY_FIELD) and its VIF. */
  | { readonly r: 'vm'; readonly tag: number; readonly vmKey: number; readonly vifId: string };

/** The record's text: JSON with keys in a fixed order. */
export function encodeMiddleboxRecord(rec: MiddleboxRecord): string {
  switch (rec.r) {
    case 'slice':
      return JSON.stringify({ r: rec.r, tag: rec.tag, kind: rec.kind, name: rec.name, tenant: rec.tenant, defaultAction: rec.defaultAction });
    case 'rule':
      return JSON.stringify({
        r: rec.r,
        tag: rec.tag,
        rule: rec.rule,
        name: rec.name,
        priority: rec.priority,
        action: rec.action,
        match: encodeMatch(rec.match),
        toIp: rec.toIp,
        toPortMin: rec.toPortMin,
        toPortMax: rec.toPortMax,
        backends: rec.backends.map((b) => ({ ip: b.ip, port: b.port })),
      });
    case 'vm':
      return JSON.stringify({ r: rec.r, tag: rec.tag, vmKey: rec.vmKey, vifId: rec.vifId });
  }
}

function encodeMatch(m: RuleMatch): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (m.ipSrc !== undefined) out.ipSrc = { addr: m.ipSrc.addr, len: m.ipSrc.len };
  if (m.ipDst !== undefined) out.ipDst = { addr: m.ipDst.addr, len: m.ipDst.len };
  if (m.ipProto !== undefined) out.ipProto = m.ipProto;
  if (m.l4Src !== undefined) out.l4Src = [m.l4Src[0], m.l4Src[1]];
  if (m.l4Dst !== undefined) out.l4Dst = [m.l4Dst[0], m.l4Dst[1]];
  return out;
}

/** Parses a record's text; a malformed one throws a one-line error naming what is wrong. */
export function decodeMiddleboxRecord(text: string): MiddleboxRecord {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error(`middlebox record is not JSON: '${text.slice(0, 80)}'`);
  }
  const o = object(v, 'record');
  const tag = uint(o.tag, 'tag');
  switch (o.r) {
    case 'slice': {
      const kind = oneOf(o.kind, MIDDLEBOX_KINDS, 'kind');
      const defaultAction = oneOf(o.defaultAction, ['allow', 'drop'] as const, 'defaultAction');
      return { r: 'slice', tag, kind, name: str(o.name, 'name'), tenant: str(o.tenant, 'tenant'), defaultAction };
    }
    case 'rule': {
      const backends = array(o.backends, 'backends').map((b) => {
        const bo = object(b, 'backend');
        return { ip: uint(bo.ip, 'backend ip'), port: uint(bo.port, 'backend port') };
      });
      return {
        r: 'rule',
        tag,
        rule: uint(o.rule, 'rule'),
        name: str(o.name, 'name'),
        priority: uint(o.priority, 'priority'),
        action: oneOf(o.action, RULE_ACTIONS, 'action'),
        match: decodeMatch(object(o.match, 'match')),
        toIp: uint(o.toIp, 'toIp'),
        toPortMin: uint(o.toPortMin, 'toPortMin'),
        toPortMax: uint(o.toPortMax, 'toPortMax'),
        backends,
      };
    }
    case 'vm':
      return { r: 'vm', tag, vmKey: uint(o.vmKey, 'vmKey'), vifId: str(o.vifId, 'vifId') };
    default:
      throw new Error(`middlebox record has an unknown type '${String(o.r)}'`);
  }
}

function decodeMatch(o: Record<string, unknown>): RuleMatch {
  const prefix = (x: unknown, what: string): Ipv4Prefix => {
    const p = object(x, what);
    const len = uint(p.len, `${what} length`);
    if (len > 32) throw new Error(`middlebox record: ${what} length ${len} is over 32`);
    return { addr: uint(p.addr, `${what} address`), len };
  };
  const range = (x: unknown, what: string): readonly [number, number] => {
    const a = array(x, what);
    if (a.length !== 2) throw new Error(`middlebox record: ${what} is not a [low, high] pair`);
    return [uint(a[0], what), uint(a[1], what)];
  };
  return {
    ...(o.ipSrc !== undefined && { ipSrc: prefix(o.ipSrc, 'ipSrc') }),
    ...(o.ipDst !== undefined && { ipDst: prefix(o.ipDst, 'ipDst') }),
    ...(o.ipProto !== undefined && { ipProto: uint(o.ipProto, 'ipProto') }),
    ...(o.l4Src !== undefined && { l4Src: range(o.l4Src, 'l4Src') }),
    ...(o.l4Dst !== undefined && { l4Dst: range(o.l4Dst, 'l4Dst') }),
  };
}

function object(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`middlebox record: ${what} is not an object`);
  return v as Record<string, unknown>;
}

function array(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new Error(`middlebox record: ${what} is not a list`);
  return v;
}

function uint(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Error(`middlebox record: ${what} is not a non-negative integer`);
  return v;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new Error(`middlebox record: ${what} is not a string`);
  return v;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], what: string): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw new Error(`middlebox record: ${what} '${String(v)}' is not one of ${allowed.join(', ')}`);
  return v as T;
}
