// Executes a packet through a switch's flow tables: look up the table, run the hit flow's actions in order
// (output, set, move, resubmit, dec-ttl, controller, drop), and collect what comes out. Owns the action
// semantics; does not send anything — the switch dispatches the outputs and punts this returns, so the
// same code serves real forwarding and side-effect-free what-if traces (`count` false: no counters).
//
// Semantics (after OVS):
//   - output sends a copy of the headers as they are at that point, with tunKey/tunMeta for tunnel ports;
//     output to the in_port is allowed (the controller is the one that avoids hairpins).
//   - move without a bit range copies the whole value; with one it treats both fields as 32 bits and
//     replaces only the destination's bits in the range (moveBits).
//   - resubmit runs `table` nested, then carries on with the next action. A miss in a nested table just
//     returns (noted as 'no-flow' there). Nesting deeper than MAX_RESUBMIT_DEPTH abandons the whole
//     packet: every output and punt is discarded and the drop reason is 'resubmit-depth'.
//   - dec-ttl on an IPv4 packet whose TTL is 0 or 1 stops processing ('ttl-exceeded'); on other packets
//     it does nothing. The explicit drop action stops processing ('drop-action'). Outputs made before a
//     stop stand, since those copies have already left.
//   - A packet that produces no output and no punt is dropped; the reason is the first stop or miss
//     ('no-flow' with its table), else 'no-output' (flows matched but none output).

import { ETH_TYPE_IPV4, type Headers } from './headers.ts';
import { MOVE_FIELD_BITS, type Action } from './flow.ts';
import { headersOf, pipelineFieldsOf, type FieldValues, type PipelineFieldValues } from './field-values.ts';
import type { FlowEntry } from './flow-entry.ts';
import type { FlowTable } from './flow-table.ts';

export const MAX_RESUBMIT_DEPTH = 64;

export type PipelineDropReason = 'no-flow' | 'resubmit-depth' | 'ttl-exceeded' | 'drop-action' | 'no-output';

export interface PipelineOutput {
  readonly port: number;
  readonly headers: Headers;
  readonly tunKey: number;
  readonly tunMeta: number;
}

export interface PipelinePunt {
  readonly reason: string;
  readonly headers: Headers;
  readonly fields: PipelineFieldValues;
  /** The table and cookie of the flow whose controller action punted it. */
  readonly table: number;
  readonly cookie: string;
}

export interface PipelineResult {
  /** Flows hit, in order (a flow hit twice through resubmits appears twice). */
  readonly hits: FlowEntry[];
  readonly outputs: PipelineOutput[];
  readonly punts: PipelinePunt[];
  /** Set when nothing came out. */
  drop: PipelineDropReason | null;
  /** For 'no-flow': the table that missed; otherwise the table where processing stopped, or -1. */
  dropTable: number;
}

/**
 * `dst` with its `bits` bits from bit `toBit` replaced by the `bits` bits of `src` from bit `fromBit`, both
 * read as unsigned 32-bit values (validateFlow keeps the ranges inside 0..31). The result is unsigned.
 */
export function moveBits(src: number, dst: number, fromBit: number, toBit: number, bits: number): number {
  // (1 << 32) is 1 in JavaScript, so the whole-width mask is spelled out.
  const mask = bits >= 32 ? 0xffff_ffff : (1 << bits) - 1;
  const value = (src >>> fromBit) & mask;
  return ((dst & ~(mask << toBit)) | (value << toBit)) >>> 0;
}

const CONTINUE = 0;
const STOP = 1;
const ABORT = 2;
type Next = typeof CONTINUE | typeof STOP | typeof ABORT;

/**
 * One packet's execution. A class rather than closures so a run allocates one object and its result, and
 * the recursion for resubmit passes no callbacks.
 */
class PipelineRun implements PipelineResult {
  readonly hits: FlowEntry[] = [];
  readonly outputs: PipelineOutput[] = [];
  readonly punts: PipelinePunt[] = [];
  drop: PipelineDropReason | null = null;
  dropTable = -1;
  /** The first reason processing stopped or missed, reported if nothing comes out. */
  private firstStop: PipelineDropReason | null = null;
  private firstStopTable = -1;

  constructor(
    private readonly flows: FlowTable,
    private readonly v: FieldValues,
    private readonly bytes: number,
    private readonly count: boolean,
  ) {}

  runTable(table: number, depth: number): Next {
    const entry = this.flows.lookup(table, this.v);
    if (entry === null) {
      this.noteStop('no-flow', table);
      return CONTINUE;
    }
    this.hits.push(entry);
    if (this.count) {
      entry.packets++;
      entry.bytes += this.bytes;
    }
    return this.runActions(entry.flow.actions, table, entry.flow.cookie, depth);
  }

  runActions(actions: readonly Action[], table: number, cookie: string, depth: number): Next {
    const v = this.v;
    for (let i = 0; i < actions.length; i++) {
      const a = actions[i];
      switch (a.type) {
        case 'output':
          this.outputs.push({ port: a.port, headers: headersOf(v), tunKey: v.tunKey, tunMeta: v.tunMeta });
          break;
        case 'set':
          v[a.field] = a.value;
          break;
        case 'move':
          if (a.fromBit === undefined && a.toBit === undefined && a.bits === undefined) v[a.to] = v[a.from];
          else v[a.to] = moveBits(v[a.from], v[a.to], a.fromBit ?? 0, a.toBit ?? 0, a.bits ?? MOVE_FIELD_BITS);
          break;
        case 'resubmit': {
          if (depth + 1 > MAX_RESUBMIT_DEPTH) return this.abort(table);
          const r = this.runTable(a.table, depth + 1);
          if (r !== CONTINUE) return r;
          break;
        }
        case 'dec-ttl':
          if (v.ethType !== ETH_TYPE_IPV4) break;
          if (v.ipTtl <= 1) {
            this.noteStop('ttl-exceeded', table);
            return STOP;
          }
          v.ipTtl--;
          break;
        case 'controller':
          this.punts.push({ reason: a.reason, headers: headersOf(v), fields: pipelineFieldsOf(v), table, cookie });
          break;
        case 'drop':
          this.noteStop('drop-action', table);
          return STOP;
      }
    }
    return CONTINUE;
  }

  finish(): PipelineResult {
    if (this.drop === null && this.outputs.length === 0 && this.punts.length === 0) {
      this.drop = this.firstStop ?? 'no-output';
      this.dropTable = this.firstStop === null ? -1 : this.firstStopTable;
    }
    return this;
  }

  private abort(table: number): Next {
    this.outputs.length = 0;
    this.punts.length = 0;
    this.drop = 'resubmit-depth';
    this.dropTable = table;
    return ABORT;
  }

  private noteStop(reason: PipelineDropReason, table: number): void {
    if (this.firstStop !== null) return;
    this.firstStop = reason;
    this.firstStopTable = table;
  }
}

/**
 * Runs the values through the tables from `table` (0 for a packet that just arrived). `bytes` is what
 * each hit adds to its flow's byte counter; `count` false leaves counters alone (what-if traces).
 * The values are changed in place by set/move/dec-ttl.
 */
export function runPipeline(flows: FlowTable, values: FieldValues, bytes: number, count: boolean, table = 0): PipelineResult {
  const run = new PipelineRun(flows, values, bytes, count);
  run.runTable(table, 0);
  return run.finish();
}

/** Runs a list of actions as if a flow in `table` had them (an OpenFlow packet-out). */
export function runActions(flows: FlowTable, values: FieldValues, actions: readonly Action[], bytes: number, count: boolean): PipelineResult {
  const run = new PipelineRun(flows, values, bytes, count);
  run.runActions(actions, -1, 'packet-out', 0);
  return run.finish();
}

/** One flow a packet hit, as packet traces and the journal report it. */
export interface FlowHit {
  readonly table: number;
  readonly flowKey: string;
  readonly cookie: string;
}

export function flowHits(entries: readonly FlowEntry[]): FlowHit[] {
  return entries.map((e) => ({ table: e.table, flowKey: e.key, cookie: e.flow.cookie }));
}
