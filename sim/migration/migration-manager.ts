// A host's VM migration manager (the VMMM, seed 001 §1.3), a service inside the hypervisor host node.
// Owns moving VMs out of and into this host: prepare (the destination checks placement against the NM's
// published constructs and holds a port), pre-copy rounds from the live-migration model, stun, the final
// transfer, provisioning at the destination with `origin` on the VIF, the middlebox state handoff in the
// four variants of seed 001 §2 (pre-notified or detected, with or without state sharing managers), the
// ACK-gated resume, and cleanup of the source's state. Not the element or the SSM (it drives them through
// MigrationElement / MigrationSsm), nor the controllers' part (sim/control/migration-assist.ts asks the
// source for the state when the destination switch reports a VIF with an origin).
//
// Safety: the source stuns the VM before the transfer leaves, so the VM never runs on two hosts. Each
// migration's record is on disk at every step; a restarted host stuns again what it had stunned (its VMs
// come back running) and carries on from the step it reached. Messages are retransmitted until answered
// and every handler is idempotent (by migration id), so loss and duplication change nothing.

import type { HostServiceFactory, SwitchNode } from '../dataplane/switch-node.ts';
import { HostNode } from '../dataplane/host-node.ts';
import type { Vm, VmSpec } from '../dataplane/vm.ts';
import type { Nanos } from '../kernel/time.ts';
import type { ElementMigrationApi, StateDelta, StateGapPolicy, VmMiddleboxState } from '../middlebox/vm-state.ts';
import type { Message, NodeContext, NodeId } from '../net/index.ts';
import { HostConstructs } from './constructs.ts';
import { checkParams, DEFAULT_LIVE_MIGRATION, modelDowntimeNs, planColdMigration, planLiveMigration, transferNs, type LiveMigrationParams, type MemoryPlan, type PrecopyRound } from './live-migration-model.ts';
import type { Handoff, MigDone, MigFetch, MigFetchAck, MigPrepare, MigPrepared, MigState, MigStateAck, MigTransfer } from './messages.ts';
import { refusalFor } from './placement.ts';

/** The element as the manager uses it; `gapPacketsOf` (not in ElementMigrationApi) is read when present. */
export type MigrationElement = ElementMigrationApi & {
  /** Packets of the VM's connections that met the state gap at this element (seed 001 invariant 6). */
  gapPacketsOf?(vmKey: number): number;
};

/** The state sharing manager calls a migration needs (seed 001 §2.C/§2.D). */
export interface MigrationSsm {
  /** Source: the VM's local-only state, which the SSM asks its element for. */
  prepareMigration(vmKey: number, vifId: string): VmMiddleboxState;
  /** Source: sends the VM's type-1 state of slice `tag` to `peer`'s SSM. */
  pushTo(peer: NodeId, tag: number, vmKey: number): void;
  /** Destination: the element installs (local-only from here, type-1 from its SSM), then `onAck`. */
  deliver(state: VmMiddleboxState, deltas: readonly StateDelta[], onAck: () => void): void;
}

export type Variant = 'prenotify' | 'detected' | 'prenotify-ssm' | 'detected-ssm';
export type Cleanup = 'delete' | 'ttl';

export interface MigrateOptions {
  readonly mode: 'live' | 'cold';
  readonly handoff: Handoff;
  /** Type-1 state goes SSM to SSM; the managers carry only local-only state. */
  readonly ssm: boolean;
  /** Detected variants: what the destination element does with the VM's packets until its state arrives. */
  readonly gapPolicy: StateGapPolicy;
  readonly cleanup: Cleanup;
  /** TTL cleanup: how long the source's state may stay idle before it goes. */
  readonly ttlNs: Nanos;
  /** The logical networks (opaque LN uuids) the VM needs at the destination. */
  readonly networks: readonly string[];
  readonly model: Partial<LiveMigrationParams>;
}

export const DEFAULT_MIGRATE_OPTIONS: MigrateOptions = {
  mode: 'live',
  handoff: 'prenotify',
  ssm: false,
  gapPolicy: 'drop',
  cleanup: 'delete',
  ttlNs: 30_000_000_000,
  networks: [],
  model: {},
};

export interface MigrationManagerOptions {
  readonly element: MigrationElement | null;
  readonly ssm: MigrationSsm | null;
  /** The network manager whose published constructs decide placement (none: any destination will do). */
  readonly nm: NodeId | null;
  /** How often an unanswered request is sent again. */
  readonly retryNs: Nanos;
}

export const DEFAULT_MIGRATION_MANAGER: MigrationManagerOptions = { element: null, ssm: null, nm: null, retryNs: 100_000_000 };

export type OutgoingPhase = 'preparing' | 'precopy' | 'stunned' | 'moved' | 'done' | 'refused';

/** One migration out of this host, as summary.json reports it. */
export interface MigrationRecord {
  readonly id: string;
  readonly vm: string;
  readonly vifId: string;
  readonly from: NodeId;
  /** The destination chosen (null until a candidate accepts, and for a refused migration). */
  to: NodeId | null;
  readonly candidates: readonly NodeId[];
  readonly variant: Variant;
  readonly mode: 'live' | 'cold';
  phase: OutgoingPhase;
  rounds: PrecopyRound[];
  /** The model's prediction of downtimeNs. */
  modelDowntimeNs: number | null;
  /** Stun at the source to resume at the destination. */
  downtimeNs: number | null;
  stateBytes: number;
  gapPackets: number | null;
  refused: string | null;
  placementRefused: { host: NodeId; reason: string }[];
  times: Partial<Record<'start' | 'prepared' | 'stun' | 'transfer' | 'resume' | 'done' | 'stateSent' | 'stateInstalled' | 'cleanup', number>>;
}

declare module '../kernel/trace.ts' {
  interface TraceEventMap {
    'mig.start': { mig: string; vm: string; from: NodeId; candidates: NodeId[]; variant: Variant; mode: 'live' | 'cold' };
    'mig.placement': { mig: string; vm: string; chosen: NodeId | null; refused: { host: NodeId; reason: string }[] };
    'mig.refused': { mig: string; vm: string; reason: string };
    'mig.precopy': { mig: string; vm: string; round: number; bytes: number };
    'mig.stun': { mig: string; vm: string; node: NodeId };
    'mig.transfer': { mig: string; vm: string; to: NodeId; bytes: number; stateBytes: number };
    'mig.provision': { mig: string; vm: string; node: NodeId; origin: NodeId };
    'mig.state.sent': { mig: string; vm: string; to: NodeId; stateBytes: number };
    'mig.state.installed': { mig: string; vm: string; node: NodeId };
    'mig.resume': { mig: string; vm: string; node: NodeId };
    'mig.done': { mig: string; vm: string; from: NodeId; to: NodeId; downtimeNs: number };
    'mig.cleanup': { mig: string; vm: string; node: NodeId; cause: Cleanup };
    'mig.fetch': { node: NodeId; controller: NodeId; vm: string; vifId: string; to: NodeId; fresh: boolean };
  }
}

/** Persistent per outgoing migration (besides the record): what a restart needs to carry on. */
interface Outgoing {
  readonly seq: number;
  readonly record: MigrationRecord;
  readonly options: MigrateOptions;
  readonly params: LiveMigrationParams;
  vmKey: number | null;
  /** Index into record.candidates of the one being asked. */
  candidate: number;
  transfer: MigTransfer | null;
  stateMessage: MigState | null;
  doneHeard: boolean;
  stateAcked: boolean;
}

type IncomingPhase = 'reserved' | 'refused' | 'provisioned' | 'awaiting-state' | 'done';

interface Incoming {
  readonly seq: number;
  readonly mig: string;
  readonly from: NodeId;
  readonly vm: string;
  phase: IncomingPhase;
  reason: string | null;
  transfer: MigTransfer | null;
  resumedAt: number | null;
  /** Detected variants: the state the source sent, once installed. */
  stateInstalled: boolean;
  gapPackets: number | null;
}

const OUT = 'mig/out/';
const IN = 'mig/in/';
const SEQ = 'mig/seq';

export class MigrationManager {
  readonly constructs: HostConstructs | null;
  private readonly options: MigrationManagerOptions;
  private readonly outgoing = new Map<string, Outgoing>();
  private readonly incoming = new Map<string, Incoming>();
  /** Retransmission timers by purpose and migration. */
  private readonly timers = new Map<string, number>();
  /** The source's watch on the element, per migration, from pre-notification to stun (volatile). */
  private readonly watching = new Map<string, { stop: () => void; deltas: StateDelta[] }>();
  private readonly gathered = new Map<string, VmMiddleboxState | null>();
  /** Incoming migrations whose state an SSM is installing now (a repeat must not deliver it twice). */
  private readonly delivering = new Set<string>();

  constructor(
    private readonly ctx: NodeContext,
    private readonly host: HostNode,
    options: Partial<MigrationManagerOptions> = {},
  ) {
    this.options = { ...DEFAULT_MIGRATION_MANAGER, ...options };
    if (!(this.options.retryNs > 0)) throw new Error(`migration manager: retryNs must be > 0, got ${this.options.retryNs}`);
    this.constructs = this.options.nm === null ? null : new HostConstructs(ctx, this.options.nm);
    this.recover();
  }

  /** Every migration out of this host, oldest first. */
  migrations(): MigrationRecord[] {
    return [...this.outgoing.values()].map((o) => o.record);
  }

  /**
   * Moves a running VM to `to`, or to the first of several candidates that accepts (seed 003 Q14).
   * Returns the migration id; the record (migrations()) says how it went.
   */
  migrate(vm: string, to: NodeId | readonly NodeId[], options: Partial<MigrateOptions> = {}): string {
    const opts: MigrateOptions = { ...DEFAULT_MIGRATE_OPTIONS, ...options };
    const params: LiveMigrationParams = { ...DEFAULT_LIVE_MIGRATION, ...opts.model };
    const candidates = typeof to === 'string' ? [to] : [...to];
    this.checkMigrate(vm, candidates, opts, params);
    const seq = this.nextSeq();
    const id = `${this.ctx.id}#${seq}`;
    const spec = this.host.vm(vm).spec;
    const variant: Variant = opts.ssm ? (opts.handoff === 'prenotify' ? 'prenotify-ssm' : 'detected-ssm') : opts.handoff;
    const record: MigrationRecord = {
      id, vm, vifId: spec.vifId, from: this.ctx.id, to: null, candidates, variant, mode: opts.mode, phase: 'preparing',
      rounds: [], modelDowntimeNs: null, downtimeNs: null, stateBytes: 0, gapPackets: null, refused: null, placementRefused: [],
      times: { start: this.ctx.now() },
    };
    const out: Outgoing = {
      seq, record, options: opts, params, vmKey: this.options.element?.vmKeyOf(spec.vifId) ?? null,
      candidate: 0, transfer: null, stateMessage: null, doneHeard: false, stateAcked: false,
    };
    this.outgoing.set(id, out);
    const trace = this.ctx.trace;
    if (trace.active) trace.emit('mig.start', { mig: id, vm, from: this.ctx.id, candidates, variant, mode: opts.mode });
    this.saveOut(out);
    this.sendPrepare(out);
    return id;
  }

  onMessage(from: NodeId, body: Message): boolean {
    if (this.constructs?.onMessage(from, body)) return true;
    switch (body.type) {
      case 'mig.prepare':
        return this.onPrepare(from, body as unknown as MigPrepare), true;
      case 'mig.prepared':
        return this.onPrepared(from, body as unknown as MigPrepared), true;
      case 'mig.transfer':
        return this.onTransfer(from, body as unknown as MigTransfer), true;
      case 'mig.done':
        return this.onDone(body as unknown as MigDone), true;
      case 'mig.fetch':
        return this.onFetch(from, body as unknown as MigFetch), true;
      case 'mig.state':
        return this.onState(body as unknown as MigState), true;
      case 'mig.state-ack':
        return this.onStateAck(body as unknown as MigStateAck), true;
      default:
        return false;
    }
  }

  // ---- source ------------------------------------------------------------------------------------------

  private checkMigrate(vm: string, candidates: readonly NodeId[], o: MigrateOptions, params: LiveMigrationParams): void {
    if (!this.host.hasVm(vm)) throw new Error(`migrate: host '${this.ctx.id}' has no VM '${vm}'`);
    if (this.host.vm(vm).runState !== 'running') throw new Error(`migrate: VM '${vm}' is not running`);
    for (const out of this.outgoing.values()) {
      if (out.record.vm === vm && isActive(out.record.phase)) throw new Error(`migrate: VM '${vm}' is already migrating (${out.record.id})`);
    }
    if (candidates.length === 0) throw new Error('migrate: no destination given');
    if (candidates.some((c) => c === this.ctx.id || c === '')) throw new Error(`migrate: a destination must be another host, got ${JSON.stringify(candidates)}`);
    if (o.mode !== 'live' && o.mode !== 'cold') throw new Error(`migrate: mode must be 'live' or 'cold', got '${o.mode}'`);
    if (o.handoff !== 'prenotify' && o.handoff !== 'detected') throw new Error(`migrate: handoff must be 'prenotify' or 'detected', got '${o.handoff}'`);
    if (typeof o.ssm !== 'boolean') throw new Error('migrate: ssm must be a boolean');
    if (o.ssm && this.options.ssm === null) throw new Error(`migrate: host '${this.ctx.id}' has no state sharing manager`);
    if (!['drop', 'new', 'buffer'].includes(o.gapPolicy)) throw new Error(`migrate: gapPolicy must be 'drop', 'new' or 'buffer', got '${o.gapPolicy}'`);
    if (o.cleanup !== 'delete' && o.cleanup !== 'ttl') throw new Error(`migrate: cleanup must be 'delete' or 'ttl', got '${o.cleanup}'`);
    if (!Number.isSafeInteger(o.ttlNs) || o.ttlNs <= 0) throw new Error(`migrate: ttlNs must be a positive integer, got ${o.ttlNs}`);
    if (!Array.isArray(o.networks) || o.networks.some((n) => typeof n !== 'string')) throw new Error('migrate: networks must be a list of logical network uuids');
    checkParams(params);
  }

  private sendPrepare(out: Outgoing): void {
    const { record } = out;
    const to = record.candidates[out.candidate];
    const msg: MigPrepare = { type: 'mig.prepare', mig: record.id, vm: record.vm, vifId: record.vifId, networks: out.options.networks };
    this.repeat(`prepare:${record.id}`, () => this.ctx.send(to, msg));
  }

  private onPrepared(from: NodeId, msg: MigPrepared): void {
    const out = this.outgoing.get(msg.mig);
    if (out === undefined || out.record.phase !== 'preparing') return;
    const { record } = out;
    // A late repeat from a candidate that refused before is not the answer of the one asked now.
    const asked = record.candidates[out.candidate];
    if (from !== asked) return;
    this.stop(`prepare:${record.id}`);
    const trace = this.ctx.trace;
    if (!msg.ok) {
      record.placementRefused.push({ host: asked, reason: msg.reason ?? 'refused' });
      out.candidate++;
      if (out.candidate < record.candidates.length) {
        this.saveOut(out);
        return this.sendPrepare(out);
      }
      record.phase = 'refused';
      record.refused = record.candidates.length === 1 ? record.placementRefused[0].reason : 'no-candidate';
      if (trace.active) {
        trace.emit('mig.placement', { mig: record.id, vm: record.vm, chosen: null, refused: record.placementRefused });
        trace.emit('mig.refused', { mig: record.id, vm: record.vm, reason: record.refused });
      }
      return this.saveOut(out);
    }
    record.to = asked;
    record.times.prepared = this.ctx.now();
    if (trace.active) trace.emit('mig.placement', { mig: record.id, vm: record.vm, chosen: asked, refused: record.placementRefused });
    this.startPrecopy(out);
  }

  /** Pre-notification (gather and watch) and the pre-copy rounds, while the VM runs here. */
  private startPrecopy(out: Outgoing): void {
    const { record } = out;
    record.phase = 'precopy';
    record.rounds = [];
    this.saveOut(out);
    if (!this.host.hasVm(record.vm)) return this.abandon(out, 'vm-gone');
    if (out.options.handoff === 'prenotify') this.prenotify(out);
    const plan: MemoryPlan = out.options.mode === 'live' ? planLiveMigration(out.params) : planColdMigration(out.params);
    const runRound = (i: number): void => {
      if (i >= plan.rounds.length) return this.stun(out, plan);
      const round = plan.rounds[i];
      this.timer(`precopy:${record.id}`, round.durationNs, () => {
        record.rounds.push(round);
        const trace = this.ctx.trace;
        if (trace.active) trace.emit('mig.precopy', { mig: record.id, vm: record.vm, round: round.round, bytes: round.bytes });
        runRound(i + 1);
      });
    };
    runRound(0);
  }

  /** Seed 001 §2.A/§2.C stages 1–2: the VM's state now, and every change to it until stun. */
  private prenotify(out: Outgoing): void {
    const { element, ssm } = this.options;
    const key = out.vmKey;
    if (element === null || key === null) return void this.gathered.set(out.record.id, null);
    const state = out.options.ssm ? ssm!.prepareMigration(key, out.record.vifId) : element.gather(key, out.record.vifId, 'all');
    const deltas: StateDelta[] = [];
    this.gathered.set(out.record.id, state);
    this.watching.set(out.record.id, { stop: element.watch(key, (d) => deltas.push(d)), deltas });
  }

  /** Stun, fence, and (after the stop-and-copy time) the transfer. */
  private stun(out: Outgoing, plan: MemoryPlan): void {
    const { record, options } = out;
    if (!this.host.hasVm(record.vm)) return this.abandon(out, 'vm-gone');
    const to = record.to!;
    this.host.stun(record.vm);
    const { element, ssm } = this.options;
    const key = out.vmKey;
    if (element !== null && key !== null) element.fence(key);
    const watch = this.watching.get(record.id);
    watch?.stop();
    this.watching.delete(record.id);
    const state = this.gathered.get(record.id) ?? null;
    this.gathered.delete(record.id);
    const deltas = watch?.deltas ?? [];
    if (options.ssm && state !== null && key !== null) for (const slice of state.slices) ssm!.pushTo(to, slice.tag, key);
    record.stateBytes = state === null || element === null ? 0 : element.sizeBytes(state, deltas);
    record.modelDowntimeNs = modelDowntimeNs(options.mode, plan, record.stateBytes, out.params);
    record.phase = 'stunned';
    record.times.stun = this.ctx.now();
    out.transfer = {
      type: 'mig.transfer', mig: record.id, spec: transferredSpec(this.host.vm(record.vm), options.mode), vmKey: key, handoff: options.handoff, ssm: options.ssm,
      gapPolicy: options.gapPolicy, state, deltas, startNs: options.mode === 'live' ? out.params.resumeNs : out.params.bootNs,
    };
    this.saveOut(out);
    const trace = this.ctx.trace;
    if (trace.active) trace.emit('mig.stun', { mig: record.id, vm: record.vm, node: this.ctx.id });
    this.timer(`transfer:${record.id}`, transferNs(plan.stopCopyBytes + record.stateBytes, out.params), () => {
      record.times.transfer = this.ctx.now();
      this.saveOut(out);
      if (trace.active) trace.emit('mig.transfer', { mig: record.id, vm: record.vm, to, bytes: plan.stopCopyBytes, stateBytes: record.stateBytes });
      this.sendTransfer(out);
    });
  }

  private sendTransfer(out: Outgoing): void {
    const msg = out.transfer!;
    this.repeat(`transfer:${out.record.id}`, () => this.ctx.send(out.record.to!, msg));
  }

  /** The destination runs the VM: the VIF leaves here; pre-notified state is cleaned up now. */
  private onDone(msg: MigDone): void {
    const out = this.outgoing.get(msg.mig);
    if (out === undefined || out.doneHeard) return;
    const { record } = out;
    this.stop(`transfer:${record.id}`);
    out.doneHeard = true;
    record.times.resume = msg.resumedAt;
    record.downtimeNs = msg.resumedAt - record.times.stun!;
    if (msg.gapPackets !== null) record.gapPackets = msg.gapPackets;
    if (this.host.hasVm(record.vm)) this.host.detachVm(record.vm);
    record.times.done = this.ctx.now();
    const trace = this.ctx.trace;
    if (trace.active) trace.emit('mig.done', { mig: record.id, vm: record.vm, from: this.ctx.id, to: record.to!, downtimeNs: record.downtimeNs });
    record.phase = 'moved';
    if (out.options.handoff === 'prenotify' || out.vmKey === null || out.stateAcked) this.finish(out);
    else this.saveOut(out);
  }

  /** A controller saw the VIF at the destination with this host as its origin (seed 001 §2.B/§2.D stage 2). */
  private onFetch(controller: NodeId, msg: MigFetch): void {
    this.ctx.send(controller, { type: 'mig.fetch-ack', vifId: msg.vifId, to: msg.to } satisfies MigFetchAck);
    let out: Outgoing | undefined;
    for (const o of this.outgoing.values()) if (o.record.vifId === msg.vifId && o.record.to === msg.to && (o.record.phase === 'stunned' || o.record.phase === 'moved' || o.record.phase === 'done')) out = o;
    const fresh = out !== undefined && out.options.handoff === 'detected' && out.vmKey !== null && out.stateMessage === null && out.record.phase !== 'done';
    const trace = this.ctx.trace;
    if (trace.active) trace.emit('mig.fetch', { node: this.ctx.id, controller, vm: msg.vm, vifId: msg.vifId, to: msg.to, fresh });
    if (!fresh) return;
    this.sendState(out!);
  }

  /** Detected variants, stage 3: gather once (type-1 SSM to SSM), then send until acknowledged. */
  private sendState(out: Outgoing): void {
    const { record } = out;
    const { element, ssm } = this.options;
    const key = out.vmKey!;
    const to = record.to!;
    let state: VmMiddleboxState;
    if (out.options.ssm) {
      state = ssm!.prepareMigration(key, record.vifId);
      for (const slice of state.slices) ssm!.pushTo(to, slice.tag, key);
    } else {
      state = element!.gather(key, record.vifId, 'all');
    }
    out.stateMessage = { type: 'mig.state', mig: record.id, state, deltas: [] };
    record.stateBytes = element!.sizeBytes(state, []);
    this.saveOut(out);
    this.timer(`state-send:${record.id}`, transferNs(record.stateBytes, out.params), () => {
      record.times.stateSent = this.ctx.now();
      this.saveOut(out);
      const trace = this.ctx.trace;
      if (trace.active) trace.emit('mig.state.sent', { mig: record.id, vm: record.vm, to, stateBytes: record.stateBytes });
      this.resendState(out);
    });
  }

  private resendState(out: Outgoing): void {
    const msg = out.stateMessage!;
    this.repeat(`state:${out.record.id}`, () => this.ctx.send(out.record.to!, msg));
  }

  private onStateAck(msg: MigStateAck): void {
    const out = this.outgoing.get(msg.mig);
    if (out === undefined || out.stateAcked) return;
    this.stop(`state:${out.record.id}`);
    out.stateAcked = true;
    out.record.times.stateInstalled = this.ctx.now();
    if (msg.gapPackets !== null) out.record.gapPackets = msg.gapPackets;
    if (out.doneHeard) this.finish(out);
    else this.saveOut(out);
  }

  /** Seed 001 §2.A stage 4 / §2.F: the source's copy of the state goes now, or once idle for the TTL. */
  private finish(out: Outgoing): void {
    const { record, options } = out;
    const element = this.options.element;
    if (element !== null && out.vmKey !== null) {
      if (options.cleanup === 'delete') element.remove(out.vmKey);
      else element.expire(out.vmKey, options.ttlNs);
      record.times.cleanup = this.ctx.now();
      const trace = this.ctx.trace;
      if (trace.active) trace.emit('mig.cleanup', { mig: record.id, vm: record.vm, node: this.ctx.id, cause: options.cleanup });
    }
    record.phase = 'done';
    this.saveOut(out);
  }

  /** The VM left this host some other way before it was stunned: nothing moved. */
  private abandon(out: Outgoing, reason: string): void {
    const { record } = out;
    this.watching.get(record.id)?.stop();
    this.watching.delete(record.id);
    this.gathered.delete(record.id);
    record.phase = 'refused';
    record.refused = reason;
    const trace = this.ctx.trace;
    if (trace.active) trace.emit('mig.refused', { mig: record.id, vm: record.vm, reason });
    this.saveOut(out);
  }

  // ---- destination -------------------------------------------------------------------------------------

  private onPrepare(from: NodeId, msg: MigPrepare): void {
    let inc = this.incoming.get(msg.mig);
    if (inc === undefined) {
      const reason = this.placementRefusal(msg);
      inc = {
        seq: this.nextSeq(), mig: msg.mig, from, vm: msg.vm, phase: reason === null ? 'reserved' : 'refused', reason,
        transfer: null, resumedAt: null, stateInstalled: false, gapPackets: null,
      };
      this.incoming.set(msg.mig, inc);
      this.saveIn(inc);
    }
    this.ctx.send(from, { type: 'mig.prepared', mig: msg.mig, ok: inc.phase !== 'refused', reason: inc.reason } satisfies MigPrepared);
  }

  /** Seed 003 Q14 steps 2–4, on this host's own published copy: null when the VM may come. */
  private placementRefusal(msg: MigPrepare): string | null {
    if (this.host.hasVm(msg.vm)) return 'vm-exists';
    if (this.host.switch.ports.vif(msg.vifId) !== undefined) return 'vif-exists';
    if (this.constructs === null) return null;
    const vifPorts = this.host.switch.ports.list().filter((p) => p.kind === 'vif').length;
    const reserved = [...this.incoming.values()].filter((i) => i.phase === 'reserved').length;
    return refusalFor(msg.networks, { host: this.ctx.id, published: this.constructs.current, usedPorts: vifPorts + reserved });
  }

  /** Stage 3 at the destination: provision stunned with the origin, then hand the state over. */
  private onTransfer(from: NodeId, msg: MigTransfer): void {
    const inc = this.incoming.get(msg.mig);
    if (inc === undefined || inc.phase === 'refused') return;
    if (inc.phase !== 'reserved') {
      if (inc.resumedAt !== null) this.sendDone(inc);
      return;
    }
    inc.transfer = msg;
    inc.phase = 'provisioned';
    this.host.attachVm(msg.spec, { stunned: true, origin: from });
    this.saveIn(inc);
    const trace = this.ctx.trace;
    if (trace.active) trace.emit('mig.provision', { mig: msg.mig, vm: msg.spec.name, node: this.ctx.id, origin: from });
    this.handOver(inc);
  }

  /** Installs (pre-notified) or expects (detected) the VM's state, then starts the VM. */
  private handOver(inc: Incoming): void {
    const msg = inc.transfer!;
    const { element, ssm } = this.options;
    const start = () => this.timer(`start:${inc.mig}`, msg.startNs, () => this.resume(inc));
    if (msg.handoff === 'detected' || msg.state === null || msg.vmKey === null || element === null) {
      if (msg.handoff === 'detected' && msg.vmKey !== null && element !== null) element.expectState(msg.vmKey, msg.gapPolicy);
      else this.stateInstalled(inc, msg.state !== null && element !== null);
      return start();
    }
    if (!msg.ssm) {
      element.install(msg.state, msg.deltas);
      this.stateInstalled(inc, true);
      return start();
    }
    // Seed 001 §2.C stage 4: the VM starts only once the SSM acknowledges the element's install.
    const incarnation = this.ctx.incarnation;
    let acked = false;
    ssm!.deliver(msg.state, msg.deltas, () => {
      if (acked || !this.ctx.isAlive() || this.ctx.incarnation !== incarnation) return;
      acked = true;
      this.stateInstalled(inc, true);
      start();
    });
  }

  private resume(inc: Incoming): void {
    if (!this.host.hasVm(inc.vm)) return;
    this.host.resume(inc.vm);
    inc.resumedAt = this.ctx.now();
    inc.phase = inc.stateInstalled ? 'done' : 'awaiting-state';
    this.saveIn(inc);
    const trace = this.ctx.trace;
    if (trace.active) trace.emit('mig.resume', { mig: inc.mig, vm: inc.vm, node: this.ctx.id });
    this.sendDone(inc);
  }

  private sendDone(inc: Incoming): void {
    this.ctx.send(inc.from, { type: 'mig.done', mig: inc.mig, resumedAt: inc.resumedAt!, gapPackets: inc.gapPackets } satisfies MigDone);
  }

  /** Detected variants, stage 4: the state a fetch brought. */
  private onState(msg: MigState): void {
    const inc = this.incoming.get(msg.mig);
    if (inc === undefined || inc.transfer === null) return;
    if (inc.stateInstalled) return this.sendStateAck(inc);
    const { element, ssm } = this.options;
    if (element === null || inc.transfer.vmKey === null) return;
    const installed = () => {
      if (inc.stateInstalled) return;
      this.stateInstalled(inc, true);
      if (inc.resumedAt !== null) inc.phase = 'done';
      this.saveIn(inc);
      this.sendStateAck(inc);
    };
    if (!inc.transfer.ssm) {
      element.install(msg.state, msg.deltas);
      return installed();
    }
    if (this.delivering.has(inc.mig)) return;
    this.delivering.add(inc.mig);
    const incarnation = this.ctx.incarnation;
    ssm!.deliver(msg.state, msg.deltas, () => {
      if (!this.ctx.isAlive() || this.ctx.incarnation !== incarnation) return;
      this.delivering.delete(inc.mig);
      installed();
    });
  }

  private sendStateAck(inc: Incoming): void {
    this.ctx.send(inc.from, { type: 'mig.state-ack', mig: inc.mig, gapPackets: inc.gapPackets } satisfies MigStateAck);
  }

  /** The state is in (or there is none to wait for): the port's origin goes, the gap is counted. */
  private stateInstalled(inc: Incoming, traced: boolean): void {
    inc.stateInstalled = true;
    const key = inc.transfer?.vmKey ?? null;
    const element = this.options.element;
    inc.gapPackets = key !== null && element?.gapPacketsOf !== undefined ? element.gapPacketsOf(key) : null;
    if (this.host.hasVm(inc.vm)) this.host.clearOrigin(inc.vm);
    this.saveIn(inc);
    const trace = this.ctx.trace;
    if (traced && trace.active) trace.emit('mig.state.installed', { mig: inc.mig, vm: inc.vm, node: this.ctx.id });
  }

  // ---- restart -----------------------------------------------------------------------------------------

  /** Rebuilds the records from disk and carries each migration on from the step it reached. */
  private recover(): void {
    const disk = this.ctx.disk;
    const outs = disk.keys().filter((k) => k.startsWith(OUT)).map((k) => disk.get<Outgoing>(k)!).sort((a, b) => a.seq - b.seq);
    const ins = disk.keys().filter((k) => k.startsWith(IN)).map((k) => disk.get<Incoming>(k)!).sort((a, b) => a.seq - b.seq);
    for (const out of outs) this.outgoing.set(out.record.id, out);
    for (const inc of ins) this.incoming.set(inc.mig, inc);
    for (const out of outs) {
      const { record } = out;
      if (record.phase === 'preparing') this.sendPrepare(out);
      // Pre-copy starts over: the VM came back running, and the element's state was rebuilt.
      else if (record.phase === 'precopy') this.startPrecopy(out);
      else if (record.phase === 'stunned') {
        if (this.host.hasVm(record.vm)) this.host.stun(record.vm);
        if (record.times.transfer !== undefined) this.sendTransfer(out);
        else this.timer(`transfer:${record.id}`, 0, () => {
          record.times.transfer = this.ctx.now();
          this.saveOut(out);
          this.sendTransfer(out);
        });
      }
      if ((record.phase === 'stunned' || record.phase === 'moved') && out.stateMessage !== null && !out.stateAcked) this.resendState(out);
    }
    for (const inc of ins) {
      if (inc.phase === 'provisioned' && this.host.hasVm(inc.vm)) {
        // Its VM came back running: stun it again and redo the install the element lost.
        this.host.stun(inc.vm);
        inc.stateInstalled = false;
        this.handOver(inc);
      } else if (inc.phase === 'awaiting-state' && inc.transfer?.vmKey != null && this.options.element !== null) {
        this.options.element.expectState(inc.transfer.vmKey, inc.transfer.gapPolicy);
      }
    }
  }

  // ---- plumbing ----------------------------------------------------------------------------------------

  private saveOut(out: Outgoing): void {
    this.ctx.disk.put(`${OUT}${out.record.id}`, out);
  }

  private saveIn(inc: Incoming): void {
    this.ctx.disk.put(`${IN}${inc.mig}`, inc);
  }

  private nextSeq(): number {
    const seq = (this.ctx.disk.get<number>(SEQ) ?? 0) + 1;
    this.ctx.disk.put(SEQ, seq);
    return seq;
  }

  /** Runs `send` now and every retryNs until stop(key). */
  private repeat(key: string, send: () => void): void {
    this.stop(key);
    send();
    const again = () => {
      send();
      this.timers.set(key, this.ctx.setTimer(this.options.retryNs, again));
    };
    this.timers.set(key, this.ctx.setTimer(this.options.retryNs, again));
  }

  private timer(key: string, delay: Nanos, fn: () => void): void {
    this.stop(key);
    this.timers.set(key, this.ctx.setTimer(delay, () => {
      this.timers.delete(key);
      fn();
    }));
  }

  private stop(key: string): void {
    const handle = this.timers.get(key);
    if (handle === undefined) return;
    this.ctx.cancelTimer(handle);
    this.timers.delete(key);
  }
}

function isActive(phase: OutgoingPhase): boolean {
  return phase === 'preparing' || phase === 'precopy' || phase === 'stunned';
}

/** A host service factory for DataplaneShared.hostService: one manager per host, rebuilt at every start. */
/**
 * The VM as it arrives: a live migration carries its memory, so its stack's neighbour table goes along
 * (the VM resumes without re-resolving its gateway, as a real guest's ARP cache does); a cold one reboots.
 */
function transferredSpec(vm: Vm, mode: 'live' | 'cold'): VmSpec {
  if (mode === 'cold') return vm.spec;
  const known = new Map<number, number>(vm.spec.staticNeighbours ?? []);
  for (const [ip, mac] of vm.stack.neighbourTable()) known.set(ip, mac);
  return { ...vm.spec, staticNeighbours: [...known].sort((a, b) => a[0] - b[0]) };
}

export function migrationManagerFactory(wire: (ctx: NodeContext, host: HostNode) => Partial<MigrationManagerOptions>): HostServiceFactory {
  return (ctx: NodeContext, node: SwitchNode) => {
    if (!(node instanceof HostNode)) throw new Error(`migration manager: '${ctx.id}' is not a hypervisor host`);
    return new MigrationManager(ctx, node, wire(ctx, node));
  };
}
