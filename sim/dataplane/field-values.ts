// The values a packet carries through a switch's pipeline: its headers plus the pipeline fields of
// flow.ts (inPort, tunKey, tunMeta, metadata, registers, ctState). Owns that record, the set of valid field
// names and the conversions to and from headers; not matching or execution.
//
// One flat object with every field in a fixed order, so every record has the same hidden class and
// `values[field]` stays a fast monomorphic load on the forwarding path.

import type { Headers, Packet } from './headers.ts';
import type { Field, PipelineField } from './flow.ts';

export interface FieldValues extends Headers {
  inPort: number;
  tunKey: number;
  tunMeta: number;
  metadata: number;
  ctState: number;
  reg0: number;
  reg1: number;
  reg2: number;
  reg3: number;
  reg4: number;
  reg5: number;
  reg6: number;
  reg7: number;
}

/** The pipeline fields alone (what a packet-in reports beside the packet). */
export type PipelineFieldValues = { [F in PipelineField]: number };

export const HEADER_FIELDS = ['ethSrc', 'ethDst', 'ethType', 'ipSrc', 'ipDst', 'ipProto', 'ipTtl', 'l4Src', 'l4Dst', 'tcpFlags'] as const;
export const PIPELINE_FIELDS: readonly PipelineField[] = ['inPort', 'tunKey', 'tunMeta', 'metadata', 'ctState', 'reg0', 'reg1', 'reg2', 'reg3', 'reg4', 'reg5', 'reg6', 'reg7'];
const ALL_FIELDS: ReadonlySet<string> = new Set<string>([...HEADER_FIELDS, ...PIPELINE_FIELDS]);

export function isField(name: string): name is Field {
  return ALL_FIELDS.has(name);
}

/** The values a packet starts the pipeline with: its headers, where it came in, and its tunnel context. */
export function fieldValues(h: Headers, inPort: number, tunKey: number, tunMeta: number): FieldValues {
  return {
    ethSrc: h.ethSrc,
    ethDst: h.ethDst,
    ethType: h.ethType,
    ipSrc: h.ipSrc,
    ipDst: h.ipDst,
    ipProto: h.ipProto,
    ipTtl: h.ipTtl,
    l4Src: h.l4Src,
    l4Dst: h.l4Dst,
    tcpFlags: h.tcpFlags,
    inPort,
    tunKey,
    tunMeta,
    metadata: 0,
    ctState: 0,
    reg0: 0,
    reg1: 0,
    reg2: 0,
    reg3: 0,
    reg4: 0,
    reg5: 0,
    reg6: 0,
    reg7: 0,
  };
}

/** A fresh Headers with the header fields as they are now (what an output action sends). */
export function headersOf(v: FieldValues): Headers {
  return {
    ethSrc: v.ethSrc,
    ethDst: v.ethDst,
    ethType: v.ethType,
    ipSrc: v.ipSrc,
    ipDst: v.ipDst,
    ipProto: v.ipProto,
    ipTtl: v.ipTtl,
    l4Src: v.l4Src,
    l4Dst: v.l4Dst,
    tcpFlags: v.tcpFlags,
  };
}

export function pipelineFieldsOf(v: FieldValues): PipelineFieldValues {
  return {
    inPort: v.inPort,
    tunKey: v.tunKey,
    tunMeta: v.tunMeta,
    metadata: v.metadata,
    ctState: v.ctState,
    reg0: v.reg0,
    reg1: v.reg1,
    reg2: v.reg2,
    reg3: v.reg3,
    reg4: v.reg4,
    reg5: v.reg5,
    reg6: v.reg6,
    reg7: v.reg7,
  };
}

/** The values a packet starts with on `inPort`, with some pipeline fields preset (for what-if traces). */
export function initialFieldValues(packet: Packet, inPort: number, preset: Partial<PipelineFieldValues> = {}): FieldValues {
  const v = fieldValues(packet.headers, inPort, preset.tunKey ?? 0, preset.tunMeta ?? 0);
  for (const f of PIPELINE_FIELDS) {
    const x = preset[f];
    if (x !== undefined && f !== 'inPort') v[f] = x;
  }
  return v;
}
