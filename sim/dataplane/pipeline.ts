// Executes a packet through a switch's flow tables: look up the table, run the hit flow's actions in order
// (output, set, move, resubmit, dec-ttl, controller, drop, middlebox, note), and collect what comes out.
// Owns the action semantics; does not send anything — the switch dispatches the outputs, punts, reject
// responses and held packets this returns, so the same code serves real forwarding and side-effect-free
// what-if traces (`count` false: no counters, and the middlebox element is asked with commit false).
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
//   - note does nothing.
//   - middlebox in 'inspect' or 'reply-only' mode asks the element (keyed by the VM id in VM_KEY_FIELD)
//     and ends the current pass whatever it answers, as OVS's ct(table=N) recirculates: a 'pass' takes
//     the element's headers and ctState and runs `table` as a resubmit one level deeper (registers and
//     metadata kept, so MAX_RESUBMIT_DEPTH bounds a chain, and the resume table lies past the stage, so
//     the packet does not re-enter it); 'drop', 'reject' (with its response kept for the switch to send)
//     and 'buffer' (with a copy of the values kept for the switch's retry) stop; with no element on the
//     node the packet stops as 'no-middlebox'. In 'copy' mode the element gets the headers, its answer
//     is ignored and the actions carry on (with no element there is nothing to copy to).
//   - A packet that produces no output and no punt is dropped; the reason is the first stop or miss
//     ('no-flow' with its table), else 'no-output' (flows matched but none output).

import { ETH_TYPE_IPV4, type Headers } from './headers.ts';
import { MOVE_FIELD_BITS, type Action } from './flow.ts';
import { headersOf, pipelineFieldsOf, type FieldValues, type PipelineFieldValues } from './field-values.ts';
import type { FlowEntry } from './flow-entry.ts';
import type { FlowTable } from './flow-table.ts';
import { VM_KEY_FIELD, type MiddleboxHook, type MiddleboxMode, type MiddleboxVerdict } from './middlebox-hook.ts';

export const MAX_RESUBMIT_DEPTH = 64;

export type PipelineDropReason =
  | 'no-flow'
  | 'resubmit-depth'
  | 'ttl-exceeded'
  | 'drop-action'
  | 'no-output'
  /** A middlebox action on a node without a middlebox element. */
  | 'no-middlebox'
  | 'middlebox-drop'
  | 'middlebox-reject'
  /** Held by the element until its VM's state arrives (the switch retries it). */
  | 'middlebox-buffer';

type MiddleboxAction = Extract<Action, { type: 'middlebox' }>;

/** One middlebox action executed, and what the element answered ('no-middlebox': there was none). */
export interface PipelineMiddleboxCall {
  readonly tag: number;
  readonly vmKey: number;
  readonly mode: MiddleboxMode;
  readonly verdict: MiddleboxVerdict['verdict'] | 'no-middlebox';
}

/** A packet the element held: what re-running its middlebox action needs. */
export interface PipelineBuffered {
  readonly tag: number;
  readonly vmKey: number;
  readonly mode: MiddleboxMode;
  readonly table: number;
  /** A copy of the values at the action (the pass's later changes do not reach it). */
  readonly values: FieldValues;
}

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
  /** The middlebox actions executed, in order (empty for most packets). */
  readonly middleboxCalls: readonly PipelineMiddleboxCall[];
  /** A reject's response for the switch to send back toward the sender, or null. */
  readonly response: Headers | null;
  /** The packet the element asked to hold, or null. */
  readonly buffered: PipelineBuffered | null;
}

const NO_CALLS: readonly PipelineMiddleboxCall[] = Object.freeze([]);

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
  middleboxCalls: readonly PipelineMiddleboxCall[] = NO_CALLS;
  response: Headers | null = null;
  buffered: PipelineBuffered | null = null;
  /** The first reason processing stopped or missed, reported if nothing comes out. */
  private firstStop: PipelineDropReason | null = null;
  private firstStopTable = -1;

  constructor(
    private readonly flows: FlowTable,
    private readonly v: FieldValues,
    private readonly bytes: number,
    private readonly count: boolean,
    private readonly hook: MiddleboxHook | null,
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
        case 'middlebox': {
          const r = this.middlebox(a, table, depth);
          if (r !== CONTINUE) return r;
          break;
        }
        case 'note':
          break;
      }
    }
    return CONTINUE;
  }

  private middlebox(a: MiddleboxAction, table: number, depth: number): Next {
    const v = this.v;
    const vmKey = v[VM_KEY_FIELD];
    const hook = this.hook;
    if (hook === null) {
      this.noteCall(a, vmKey, 'no-middlebox');
      if (a.mode === 'copy') return CONTINUE;
      this.noteStop('no-middlebox', table);
      return STOP;
    }
    const verdict = hook.process(a.tag, vmKey, a.mode, headersOf(v), this.count);
    this.noteCall(a, vmKey, verdict.verdict);
    if (a.mode === 'copy') return CONTINUE;
    switch (verdict.verdict) {
      case 'pass': {
        writeHeaders(v, verdict.headers);
        v.ctState = verdict.ctState;
        if (depth + 1 > MAX_RESUBMIT_DEPTH) return this.abort(table);
        // The pass ends here: later actions of this flow, and of the flows that resubmitted to it, belong
        // to the packet before the element and do not run.
        return this.runTable(a.table, depth + 1) === ABORT ? ABORT : STOP;
      }
      case 'drop':
        this.noteStop('middlebox-drop', table);
        return STOP;
      case 'reject':
        this.response = verdict.response;
        this.noteStop('middlebox-reject', table);
        return STOP;
      case 'buffer':
        this.buffered = { tag: a.tag, vmKey, mode: a.mode, table: a.table, values: { ...v } };
        this.noteStop('middlebox-buffer', table);
        return STOP;
    }
  }

  private noteCall(a: MiddleboxAction, vmKey: number, verdict: PipelineMiddleboxCall['verdict']): void {
    if (this.middleboxCalls === NO_CALLS) this.middleboxCalls = [];
    (this.middleboxCalls as PipelineMiddleboxCall[]).push({ tag: a.tag, vmKey, mode: a.mode, verdict });
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
    this.response = null;
    this.buffered = null;
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
 * each hit adds to its flow's byte counter; `count` false leaves counters alone and asks the middlebox
 * element for a what-if verdict (what-if traces). `middlebox` is the node's element, if it has one.
 * The values are changed in place by set/move/dec-ttl and by a middlebox pass.
 */
export function runPipeline(flows: FlowTable, values: FieldValues, bytes: number, count: boolean, table = 0, middlebox: MiddleboxHook | null = null): PipelineResult {
  const run = new PipelineRun(flows, values, bytes, count, middlebox);
  run.runTable(table, 0);
  return run.finish();
}

/** Runs a list of actions as if a flow had them (an OpenFlow packet-out, or a held packet's retry). */
export function runActions(flows: FlowTable, values: FieldValues, actions: readonly Action[], bytes: number, count: boolean, middlebox: MiddleboxHook | null = null): PipelineResult {
  const run = new PipelineRun(flows, values, bytes, count, middlebox);
  run.runActions(actions, -1, 'packet-out', 0);
  return run.finish();
}

/** Copies a middlebox's (possibly rewritten) headers into the values. */
function writeHeaders(v: FieldValues, h: Headers): void {
  v.ethSrc = h.ethSrc;
  v.ethDst = h.ethDst;
  v.ethType = h.ethType;
  v.ipSrc = h.ipSrc;
  v.ipDst = h.ipDst;
  v.ipProto = h.ipProto;
  v.ipTtl = h.ipTtl;
  v.l4Src = h.l4Src;
  v.l4Dst = h.l4Dst;
  v.tcpFlags = h.tcpFlags;
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
