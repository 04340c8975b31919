// The fields the model reads from each record type it uses, and their JSON types: a record of one of these
// types that lacks a field or has the wrong type is refused with one line naming the field. Owns the
// schemas and the wording of their errors; the field lists follow the simulator's own declarations
// (sim/net/trace-events.ts, sim/dataplane/trace-events.ts, sim/coord, sim/migration, sim/check,
// sim/testbed/run.ts, scenarios/models/nv-testbed.ts). Types not listed here are kept as lines and ignored.
// Parsing through a schema also drops every field it does not name, so nothing else of a record is kept.

import { z } from 'zod';
import { TraceError } from './trace-error.ts';
import { oneLine } from './text-format.ts';

const id = z.string();
const ids = z.array(z.string());
const int = z.int();

/** A JSON object kept as parsed (no copy: a copy made by assignment could turn a '__proto__' key into a prototype). */
const jsonObject = z.custom<Readonly<Record<string, unknown>>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), { error: 'an object' });
const headers = z.object({ ethType: z.number(), ipSrc: z.number(), ipDst: z.number(), ipProto: z.number(), l4Src: z.number(), l4Dst: z.number() });
const flowHit = z.object({ table: int, flowKey: z.string() });

/** A record's schema: its time (checked already, kept so the parsed record carries it) and `fields`. */
function record<Shape extends z.ZodRawShape>(fields: Shape) {
  return z.object({ t: z.number(), ...fields });
}

const SCHEMAS = {
  'run.start': record({ scenario: z.string(), seed: z.number() }),
  'node.start': record({ node: id, kind: z.string(), incarnation: int }),
  'fault.crash': record({ node: id }),
  'fault.restart': record({ node: id, incarnation: int }),
  'fault.partition': record({ id: z.string(), mode: z.enum(['groups', 'one-way']), groups: z.array(ids) }),
  'fault.heal': record({ id: z.string() }),
  'fault.degrade': record({ id: z.string(), from: ids, to: ids, symmetric: z.boolean(), link: jsonObject }),
  'fault.restore': record({ id: z.string() }),
  'fault.skip': record({ verb: z.string(), node: id }),
  'dp.tunnel.add': record({ node: id, remote: id }),
  'dp.vif.attach': record({ node: id, vm: z.string() }),
  'dp.vif.detach': record({ node: id, vm: z.string() }),
  'cm.master': record({ instance: id, entity: z.string(), epoch: int, held: z.boolean(), reason: z.string() }),
  'switch.role': record({ node: id, controller: id, role: z.string(), generationId: int }),
  'raft.role': record({ node: id, role: z.string(), term: int }),
  'cm.session.expired': record({ leader: id, member: id, silentNs: z.number() }),
  'mig.start': record({ mig: z.string(), vm: z.string(), from: id, candidates: ids, variant: z.string(), mode: z.string() }),
  'mig.stun': record({ mig: z.string(), vm: z.string(), node: id }),
  'mig.resume': record({ mig: z.string(), vm: z.string(), node: id }),
  'mig.done': record({ mig: z.string(), vm: z.string(), from: id, to: id, downtimeNs: z.number() }),
  'mig.refused': record({ mig: z.string(), vm: z.string(), reason: z.string() }),
  'check.violation': record({ id: z.string(), detail: z.string() }),
  'nvt.config': record({ action: z.string(), detail: z.string() }),
  'nvt.join': record({ instance: id }),
  'net.send': record({ body: jsonObject }),
  'switch.flowmod': record({ node: id, command: z.string(), flowKey: z.string(), cookie: z.string() }),
  'dp.vm.send': record({ node: id, vm: z.string(), packetId: int, headers, bytes: z.number() }),
  'dp.ext.send': record({ segment: id, endpoint: z.string(), packetId: int, headers, bytes: z.number() }),
  'dp.vm.receive': record({ node: id, vm: z.string(), packetId: int, originId: int }),
  'dp.ext.receive': record({ segment: id, endpoint: z.string(), packetId: int, originId: int }),
  'dp.pipeline': record({ node: id, packetId: int, inPort: int, hits: z.array(flowHit), outputs: z.array(int), drop: z.string().nullable() }),
  'dp.middlebox': record({ node: id, packetId: int, tag: int, mode: z.string(), verdict: z.string() }),
  'dp.tunnel.send': record({ src: id, dst: id, packetId: int, tunKey: int }),
  'dp.phys.send': record({ src: id, dst: id, packetId: int }),
  'dp.drop': record({ node: id, packetId: int, reason: z.string(), table: int }),
  'dp.vm.stunned': record({ node: id, vm: z.string(), packetId: int, direction: z.string() }),
} as const;

/** The body of a `net.send` that carries a tunnelled packet (a copy names the packet it copies). */
const TUNNEL_BODY = z.object({ packet: z.object({ id: int, originId: int.optional() }) });

export type KnownType = keyof typeof SCHEMAS;
/** A checked record of type K: its time, and the fields the model reads. */
export type RecordOf<K extends KnownType> = z.infer<(typeof SCHEMAS)[K]>;

const SCHEMA_BY_TYPE: ReadonlyMap<string, z.ZodType> = new Map(Object.entries(SCHEMAS));

export function isKnownType(type: string): type is KnownType {
  return SCHEMA_BY_TYPE.has(type);
}

/** The record's checked fields (plus `t`), or a TraceError naming the 1-based line and the field. */
export function checkRecord<K extends KnownType>(type: K, raw: { readonly t: number }, lineNumber: number): RecordOf<K> {
  const result = SCHEMA_BY_TYPE.get(type)!.safeParse(raw);
  if (!result.success) throw new TraceError(describeIssue(`'${type}' record`, result.error.issues[0]), lineNumber);
  return result.data as RecordOf<K>;
}

/** The tunnelled packet a `net.send` body carries, or null when the message is not a tunnelled packet. */
export function tunnelledPacket(body: Readonly<Record<string, unknown>>, lineNumber: number): { id: number; originId: number } | null {
  if (body.type !== 'dp.tunnel') return null;
  const result = TUNNEL_BODY.safeParse(body);
  if (!result.success) throw new TraceError(describeIssue("'net.send' record of a 'dp.tunnel' message", result.error.issues[0], 'body.'), lineNumber);
  const { id: packetId, originId } = result.data.packet;
  return { id: packetId, originId: originId ?? packetId };
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean',
  array: 'a list',
  object: 'an object',
  record: 'an object',
};

/** `subject` names the record ("'cm.master' record"); `pathPrefix` locates the checked value within it. */
function describeIssue(subject: string, issue: z.core.$ZodIssue, pathPrefix = ''): string {
  const field = `'${pathPrefix}${pathText(issue.path)}'`;
  switch (issue.code) {
    case 'invalid_type':
      return `${subject} needs ${EXPECTED[issue.expected] ?? issue.expected} ${field}`;
    case 'invalid_value':
      return `${subject} needs ${field} to be ${issue.values.map((v) => `'${String(v)}'`).join(' or ')}`;
    case 'custom':
      return `${subject} needs ${issue.message} ${field}`;
    case 'too_big':
    case 'too_small':
      return `${subject} needs ${field} within the safe integer range`;
    default:
      return `${subject} has a bad ${field} (${oneLine(issue.message, 80)})`;
  }
}

function pathText(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else text += (text === '' ? '' : '.') + oneLine(String(part), 40);
  }
  return text;
}
