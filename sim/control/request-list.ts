// The NIB request list (seed 000 FIG. 33, §3.2–§3.6): how an instance's app changes NIB records of a
// logical datapath set it does not master, and how any instance locks an LDPS's records down. Owns the
// request, response and app-record keys in the PTD and the three processes over them; not mastership (the
// coordination manager says who masters what and holds rights and locks) nor what the switches do with
// the records (cluster-instance.ts pushes a switch's app records with its flows).
//
// Records, all in the PTD (replicated to every instance, PTD-less ones included, by import):
//   req/<ldps>/<id>               a pending request: { origin, change, basedOn }
//   resp/<id>                     its response: { origin, verdict, reason, consumed }
//   app/<ldps>/<chassis>/<name>   an app's flow for a switch, in an LDPS: { row, by }
//   fence/<ldps>                  the epoch of the LDPS master that last decided a request
//
// Process 3305 (the origin): `submit` appends the request, retrying until the store answers.
// Process 3310/3315 (every instance; only the LDPS master acts): on a new request, on gaining the LDPS,
// and after a failed attempt, the master checks the origin's rights, the LDPS's lock and that a put's
// row is one of the LDPS's datapaths, then decides in
// ONE transaction that requires the request to be still pending and no newer master to have decided
// (the fence), applies the change only if the record is still at the version the origin saw (else
// "stale"), writes the response and removes the request. So each request gets exactly one response,
// whichever masters come and go, and a denied request changes no record.
// Completion: the origin imports its response, tells the app (if this incarnation made the request) and
// marks the response consumed. A consumed response stays as a small marker: the append requires that no
// response exists, so a late duplicate of an append (a retry after a timeout that did in fact commit)
// can never create the request again.
//
// Locks go through the coordination manager (its master list holds them): the master proposes the lock
// and answers once it is applied. A lock reserves writes of the LDPS's records to its holder.

import type { Nanos } from '../kernel/time.ts';
import type { NodeContext, NodeId } from '../net/index.ts';
import { validateFlow } from '../dataplane/flow-entry.ts';
import { ldpsEntity, type CmCommand, type CmState } from '../coord/cm-state.ts';
import type { CoordinationManager } from '../coord/coordination-manager.ts';
import type { PtdNode, PtdRecord, Statement } from '../store/ptd.ts';
import { rowToFlow, type FlowRow } from './flow-text.ts';

export type AppChange =
  | { readonly op: 'put'; readonly ldps: string; readonly chassis: NodeId; readonly name: string; readonly row: FlowRow }
  | { readonly op: 'delete'; readonly ldps: string; readonly chassis: NodeId; readonly name: string }
  | { readonly op: 'lock'; readonly ldps: string }
  /** Releases the lock taken by request `lock`. */
  | { readonly op: 'unlock'; readonly ldps: string; readonly lock: string };

export interface AppRequest {
  readonly change: AppChange;
  /**
   * For put and delete: the record version the app based the change on (0: absent), or null to apply it
   * whatever the record holds now. A record changed since is "stale" and the request is denied.
   */
  readonly basedOn: number | null;
}

/** 'invalid': the row's datapath is not one of the LDPS's (as the master knows the configuration). */
export type DenyReason = 'no-rights' | 'locked' | 'stale' | 'not-holder' | 'invalid';
export type RequestVerdict = { readonly verdict: 'ack' } | { readonly verdict: 'deny'; readonly reason: DenyReason };

export interface AppRecord {
  readonly row: FlowRow;
  /** The instance whose request wrote it. */
  readonly by: NodeId;
  readonly version: number;
}

declare module '../kernel/trace.ts' {
  interface TraceEventMap {
    /** An app asked; the origin appends the request to the list until the store confirms it. */
    'request.submit': { request: string; origin: NodeId; ldps: string; op: AppChange['op'] };
    /** The store confirmed the append: the request is on the list (an origin that crashes first never hears this). */
    'request.append': { request: string; origin: NodeId };
    /** The LDPS master's decision committed (at most one per request: the transaction requires it pending). */
    'request.decide': { request: string; ldps: string; master: NodeId; epoch: number; verdict: 'ack' | 'deny'; reason: DenyReason | null };
    /** The origin imported its response; `app` says whether the app that asked is still there. */
    'request.answered': { request: string; origin: NodeId; verdict: 'ack' | 'deny'; reason: DenyReason | null; app: 'told' | 'gone' };
  }
}

export const REQ = 'req/';
export const RESP = 'resp/';
export const APP = 'app/';
const FENCE = 'fence/';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

interface PendingValue {
  readonly origin: NodeId;
  readonly change: AppChange;
  readonly basedOn: number | null;
}
interface ResponseValue {
  readonly origin: NodeId;
  readonly verdict: 'ack' | 'deny';
  readonly reason: DenyReason | null;
  readonly consumed: boolean;
}
interface AppValue {
  readonly row: FlowRow;
  readonly by: NodeId;
}

export const appKey = (ldps: string, chassis: NodeId, name: string) => `${APP}${ldps}/${chassis}/${name}`;
const chassisOfAppKey = (key: string): NodeId => key.split('/')[2];
const requestKey = (ldps: string, id: string) => `${REQ}${ldps}/${id}`;

export interface RequestListOptions {
  ptd: PtdNode;
  cm: CoordinationManager;
  /** The tenant (LDPS) of a datapath, if known: the master denies a put whose row is not in the LDPS. */
  tenantOf: (dp: number) => string | undefined;
  /** How long after a failed store call to try again. */
  retryNs: Nanos;
  /** An app record for a switch changed. */
  onAppRecords: (chassis: NodeId) => void;
}

export class RequestList {
  /** Pending requests as imported, by id. */
  private readonly pending = new Map<string, { key: string; value: PendingValue }>();
  /** App records as imported, by key. */
  private readonly records = new Map<string, AppRecord>();
  /** This incarnation's requests not answered yet, with the app's callback. */
  private readonly waiting = new Map<string, (v: RequestVerdict) => void>();
  /** Requests whose decision transaction this instance has in flight. */
  private readonly deciding = new Set<string>();
  /** Lock and unlock requests whose command this instance has proposed to the coordination manager. */
  private readonly proposed = new Set<string>();
  /** Responses this instance is marking consumed. */
  private readonly consuming = new Set<string>();
  private seq = 0;

  constructor(
    private readonly ctx: NodeContext,
    private readonly options: RequestListOptions,
  ) {
    for (const prefix of [REQ, RESP, APP]) options.ptd.watch(prefix);
  }

  /**
   * Process 3305: appends an app's request; `done` hears the verdict once (unless this instance crashes
   * first). Throws on a malformed request, and then changes nothing. Returns the request's id.
   */
  submit(request: AppRequest, done: (v: RequestVerdict) => void = () => {}): string {
    this.validate(request);
    const id = `${this.ctx.id}.${this.ctx.incarnation}.${++this.seq}`;
    const value: PendingValue = { origin: this.ctx.id, change: request.change, basedOn: request.basedOn };
    this.waiting.set(id, done);
    const trace = this.ctx.trace;
    if (trace.active) trace.emit('request.submit', { request: id, origin: this.ctx.id, ldps: request.change.ldps, op: request.change.op });
    this.append(id, requestKey(request.change.ldps, id), value);
    return id;
  }

  /** An app record as this instance has imported it. */
  record(ldps: string, chassis: NodeId, name: string): AppRecord | undefined {
    return this.records.get(appKey(ldps, chassis, name));
  }

  /** The app flows for a switch, in key order. */
  appRows(chassis: NodeId): FlowRow[] {
    const out: FlowRow[] = [];
    for (const [key, r] of [...this.records].sort(([a], [b]) => (a < b ? -1 : 1))) if (chassisOfAppKey(key) === chassis) out.push(r.row);
    return out;
  }

  /** Feeds an imported change; true when the key is the request list's. */
  onImport(key: string, record: PtdRecord | null): boolean {
    if (key.startsWith(REQ)) {
      const id = key.slice(key.lastIndexOf('/') + 1);
      if (record === null) this.pending.delete(id);
      else {
        this.pending.set(id, { key, value: record.value as PendingValue });
        this.process(id);
      }
      return true;
    }
    if (key.startsWith(RESP)) {
      if (record !== null) this.onResponse(key.slice(RESP.length), record.value as ResponseValue);
      return true;
    }
    if (key.startsWith(APP)) {
      if (record === null) this.records.delete(key);
      else this.records.set(key, { ...(record.value as AppValue), version: record.version });
      this.options.onAppRecords(chassisOfAppKey(key));
      return true;
    }
    return false;
  }

  /** Process 3310 re-run on takeover: the new master of an LDPS decides what its predecessor left pending. */
  onLdpsGained(ldps: string): void {
    for (const [id, p] of this.pending) if (p.value.change.ldps === ldps) this.process(id);
  }

  /** The coordination manager applied a command: a lock or unlock may have landed. */
  onCmApplied(): void {
    for (const [id, p] of this.pending) if (p.value.change.op === 'lock' || p.value.change.op === 'unlock') this.process(id);
  }

  // ---- the origin --------------------------------------------------------------------------------------

  private append(id: string, key: string, value: PendingValue): void {
    const statements: Statement[] = [
      { op: 'require', when: { kind: 'absent', key: `${RESP}${id}` }, error: 'answered' },
      { op: 'require', when: { kind: 'absent', key }, error: 'appended' },
      { op: 'put', key, value },
    ];
    this.options.ptd.submit({ statements }, (r) => {
      // An error leaves it unknown whether the append committed: try again, harmlessly, until answered.
      if (!r.ok) {
        if (this.waiting.has(id)) this.ctx.setTimer(this.options.retryNs, () => this.waiting.has(id) && this.append(id, key, value));
        return;
      }
      const trace = this.ctx.trace;
      if (r.outcome.ok && trace.active) trace.emit('request.append', { request: id, origin: this.ctx.id });
    });
  }

  private onResponse(id: string, value: ResponseValue): void {
    if (value.origin !== this.ctx.id || value.consumed || this.consuming.has(id)) return;
    const done = this.waiting.get(id);
    this.waiting.delete(id);
    const trace = this.ctx.trace;
    if (trace.active) {
      trace.emit('request.answered', { request: id, origin: this.ctx.id, verdict: value.verdict, reason: value.reason, app: done === undefined ? 'gone' : 'told' });
    }
    done?.(value.verdict === 'ack' ? { verdict: 'ack' } : { verdict: 'deny', reason: value.reason! });
    this.consume(id, value);
  }

  private consume(id: string, value: ResponseValue): void {
    this.consuming.add(id);
    const key = `${RESP}${id}`;
    const statements: Statement[] = [
      { op: 'require', when: { kind: 'equals', key, value }, error: 'consumed' },
      { op: 'put', key, value: { ...value, consumed: true } satisfies ResponseValue },
    ];
    this.options.ptd.submit({ statements }, (r) => {
      if (r.ok) return void this.consuming.delete(id);
      this.ctx.setTimer(this.options.retryNs, () => this.consume(id, value));
    });
  }

  // ---- the master --------------------------------------------------------------------------------------

  /** Process 3315 for one pending request, if this instance masters its LDPS and is not at it already. */
  private process(id: string): void {
    const p = this.pending.get(id);
    if (p === undefined || this.deciding.has(id)) return;
    const { origin, change } = p.value;
    const epoch = this.options.cm.epochOf(ldpsEntity(change.ldps));
    if (epoch === null) return;
    const state = this.options.cm.state;
    if (origin !== this.ctx.id && !(state.rights.get(change.ldps) ?? []).includes(origin)) return this.decide(id, epoch, deny('no-rights'));
    const lock = state.locks.get(change.ldps);
    if (change.op === 'put') {
      const tenant = this.options.tenantOf(change.row.dp);
      // A master that has not heard of the datapath yet (its configuration is still arriving) waits.
      if (tenant === undefined) return void this.ctx.setTimer(this.options.retryNs, () => this.process(id));
      if (tenant !== change.ldps) return this.decide(id, epoch, deny('invalid'));
    }
    switch (change.op) {
      case 'put':
      case 'delete':
        if (lock !== undefined && lock.holder !== origin && lock.tasks.includes('write')) return this.decide(id, epoch, deny('locked'));
        return this.decide(id, epoch, { verdict: 'ack' });
      case 'lock':
        if (lock?.requestId === id) return this.decide(id, epoch, { verdict: 'ack' });
        if (lock !== undefined) return this.decide(id, epoch, deny('locked'));
        // Answered once the lock is applied (onCmApplied), by whoever masters the LDPS then.
        return this.proposeOnce(id, { kind: 'lock', ldps: change.ldps, lock: { holder: origin, requestId: id, tasks: ['write'] } }, (s) => s.locks.has(change.ldps));
      case 'unlock':
        if (lock?.requestId !== change.lock) return this.decide(id, epoch, { verdict: 'ack' }); // nothing of it left to release
        if (lock.holder !== origin) return this.decide(id, epoch, deny('not-holder'));
        return this.proposeOnce(id, { kind: 'unlock', ldps: change.ldps, requestId: change.lock }, (s) => s.locks.get(change.ldps)?.requestId !== change.lock);
    }
  }

  /** The coordination manager resends a proposal until it is settled, so one per request is enough. */
  private proposeOnce(id: string, command: CmCommand, settled: (s: CmState) => boolean): void {
    if (this.proposed.has(id)) return;
    this.proposed.add(id);
    this.options.cm.propose(command, settled);
  }

  /** The decision as one transaction: pending still, not fenced, the change if still current, the response. */
  private decide(id: string, epoch: number, verdict: RequestVerdict): void {
    this.proposed.delete(id);
    const p = this.pending.get(id)!;
    const { origin, change, basedOn } = p.value;
    const response = (v: RequestVerdict): Statement => ({
      op: 'put',
      key: `${RESP}${id}`,
      value: { origin, verdict: v.verdict, reason: v.verdict === 'deny' ? v.reason : null, consumed: false } satisfies ResponseValue,
    });
    const fence = `${FENCE}${change.ldps}`;
    const statements: Statement[] = [
      { op: 'require', when: { kind: 'exists', key: p.key }, error: 'decided' },
      { op: 'require', when: { kind: 'field-at-most', key: fence, field: 'epoch', value: epoch }, error: 'deposed' },
      { op: 'put', key: fence, value: { epoch } },
    ];
    let recordKey: string | null = null;
    if (verdict.verdict === 'ack' && (change.op === 'put' || change.op === 'delete')) {
      recordKey = appKey(change.ldps, change.chassis, change.name);
      const write: Statement =
        change.op === 'put' ? { op: 'put', key: recordKey, value: { row: change.row, by: origin } satisfies AppValue } : { op: 'delete', key: recordKey };
      const apply = [write, response(verdict)];
      if (basedOn === null) statements.push(...apply);
      else statements.push({ op: 'guard', when: { kind: 'version', key: recordKey, version: basedOn }, then: apply, else: [response(deny('stale'))] });
    } else {
      statements.push(response(verdict));
    }
    statements.push({ op: 'delete', key: p.key });
    this.deciding.add(id);
    this.options.ptd.submit({ statements }, (r) => {
      this.deciding.delete(id);
      if (!r.ok) {
        this.ctx.setTimer(this.options.retryNs, () => this.process(id));
        return;
      }
      if (!r.outcome.ok) return; // decided already, or a newer master decides now
      const applied = recordKey === null || r.outcome.writes.includes(recordKey);
      const final = applied ? verdict : deny('stale');
      const trace = this.ctx.trace;
      if (trace.active) {
        trace.emit('request.decide', {
          request: id,
          ldps: change.ldps,
          master: this.ctx.id,
          epoch,
          verdict: final.verdict,
          reason: final.verdict === 'deny' ? final.reason : null,
        });
      }
    });
  }

  private validate(request: AppRequest): void {
    const fail = (why: string): never => {
      throw new Error(`request list: ${why}`);
    };
    if (typeof request !== 'object' || request === null || typeof request.change !== 'object' || request.change === null) fail('a request needs a change');
    const c = request.change;
    if (typeof c.ldps !== 'string' || !NAME.test(c.ldps)) fail(`ldps must be a name like "A", got ${JSON.stringify(c.ldps)}`);
    if (c.op === 'put' || c.op === 'delete') {
      if (typeof c.chassis !== 'string' || !NAME.test(c.chassis)) fail(`chassis must be a switch id, got ${JSON.stringify(c.chassis)}`);
      if (typeof c.name !== 'string' || !NAME.test(c.name)) fail(`record name must be letters, digits, '.', '_' or '-', got ${JSON.stringify(c.name)}`);
      if (request.basedOn !== null && !(Number.isInteger(request.basedOn) && request.basedOn >= 0)) fail('basedOn must be a record version (0: absent) or null');
    } else if (c.op === 'unlock') {
      if (typeof c.lock !== 'string' || c.lock === '') fail('unlock needs the id of the lock request');
    } else if (c.op !== 'lock') {
      fail(`unknown op ${JSON.stringify((c as { op: unknown }).op)}; expected put, delete, lock or unlock`);
    }
    if (c.op !== 'put') return;
    const row = c.row;
    if (typeof row !== 'object' || row === null) fail('put needs a flow row');
    if (row.chassis !== c.chassis) fail(`the row is for ${JSON.stringify(row.chassis)}, not the request's switch ${c.chassis}`);
    if (!Number.isInteger(row.dp) || row.dp < 0) fail(`the row's datapath must be a whole number, got ${JSON.stringify(row.dp)}`);
    try {
      validateFlow(rowToFlow(row));
    } catch (e) {
      fail(`bad flow: ${(e as Error).message}`);
    }
  }
}

function deny(reason: DenyReason): RequestVerdict {
  return { verdict: 'deny', reason };
}

/** The response a store's records hold for a request (for checks that read the NIB). */
export function storedResponse(records: ReadonlyMap<string, PtdRecord>, id: string): { verdict: 'ack' | 'deny'; reason: DenyReason | null } | undefined {
  const value = records.get(`${RESP}${id}`)?.value as ResponseValue | undefined;
  return value === undefined ? undefined : { verdict: value.verdict, reason: value.reason };
}

/** The requests a store's records hold as pending, by id. */
export function pendingRequests(records: ReadonlyMap<string, PtdRecord>): string[] {
  const out: string[] = [];
  for (const key of records.keys()) if (key.startsWith(REQ)) out.push(key.slice(key.lastIndexOf('/') + 1));
  return out.sort();
}
