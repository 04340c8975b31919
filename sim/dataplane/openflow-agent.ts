// The switch side of the controller channel: hello (with retries until the controller answers), roles
// and generation-id fencing, the per-controller sequence discipline, flow-mods and bundles, barriers,
// flow dumps, port lists, echo, tunnel configuration and packet-out; and the switch's asynchronous
// messages (port-status, packet-in). Owns the channel state, which is volatile: a restarted switch
// forgets roles, the highest generation and every controller's sequence, as ovs-vswitchd forgets its
// connections. Does not own ports or their persistence (the node does, through the hooks) nor
// forwarding (switch.ts), nor the middlebox element's view of the host database: after each applied
// flow-mod or bundle it only asks the switch to resync that view.
//
// Roles: every configured controller starts 'equal'. A master role-request demotes any other master to
// slave. Asynchronous messages go to configured controllers that are not slaves; a slave's flow-mods are
// refused ('is-slave').
//
// Sequence (the rules are in openflow.ts's header): per controller, the xid expected next (none while out
// of sequence), the xid of the dump that last reset it, and the highest xid seen. The check runs before
// roles and fencing, so a message out of sequence is refused as such whatever else is wrong with it.

import type { Nanos } from '../kernel/time.ts';
import type { Message, NodeId } from '../net/message.ts';
import type { NodeContext } from '../net/node.ts';
import { flowKey } from './flow.ts';
import type { Packet } from './headers.ts';
import { validateFlow } from './flow-entry.ts';
import type {
  ControllerRole,
  ControllerToSwitch,
  FlowModOp,
  FlowStats,
  OfBundle,
  OfBarrierRequest,
  OfDumpFlowsRequest,
  OfErrorCode,
  OfFlowMod,
  OfPacketOut,
  OfRoleRequest,
  OfTunnelConfig,
  SwitchToController,
} from './openflow.ts';
import type { PipelinePunt } from './pipeline.ts';
import type { Port } from './ports.ts';
import type { SoftwareSwitch } from './switch.ts';
import './trace-events.ts';

declare module '../kernel/trace.ts' {
  interface TraceEventMap {
    /** A controller's xid skipped ahead of the one expected: the switch refuses changes from it until a resync. */
    'switch.seq.gap': { node: NodeId; from: NodeId; xid: number; expected: number };
    /** A dump newer than anything seen from the controller put the switch back in sequence. */
    'switch.seq.resync': { node: NodeId; from: NodeId; xid: number };
    /** A change or barrier not handled: a duplicate (dropped silently) or refused as out of sequence. */
    'switch.seq.refuse': { node: NodeId; from: NodeId; xid: number; request: string; reason: 'duplicate' | 'out-of-sequence' };
  }
}

/** Where one controller's message stands in its sequence. */
type SequenceVerdict = 'in-order' | 'duplicate' | 'out-of-sequence';

interface ControllerSequence {
  /** The xid expected next, or null while out of sequence (a resync dump is needed). */
  expected: number | null;
  /** The xid of the dump that last put the channel in sequence; anything at or below it is stale. */
  resetXid: number;
  /** The highest xid seen from the controller; only a dump above it may reset the sequence. */
  highest: number;
}

/** What the agent asks of the node: tunnel ports are persistent node configuration. */
export interface AgentHooks {
  configureTunnels(add: readonly NodeId[], remove: readonly NodeId[]): void;
}

export class OpenflowAgent {
  private controllers: NodeId[] = [];
  private readonly roles = new Map<NodeId, ControllerRole>();
  /** Highest generation id seen in a role request or flow-mod; -Infinity before any. */
  private highestGeneration = -Infinity;
  /** Controllers that have sent anything since this incarnation started: they got the hello. */
  private readonly heard = new Set<NodeId>();
  /** Per controller (configured or not: anyone may talk), where its message stream stands. */
  private readonly sequences = new Map<NodeId, ControllerSequence>();
  private helloTimer: number | null = null;

  constructor(
    private readonly ctx: NodeContext,
    private readonly sw: SoftwareSwitch,
    private readonly hooks: AgentHooks,
    private readonly helloIntervalNs: Nanos,
  ) {}

  get configuredControllers(): readonly NodeId[] {
    return this.controllers;
  }

  get highestGenerationSeen(): number {
    return this.highestGeneration;
  }

  role(controller: NodeId): ControllerRole | undefined {
    return this.roles.get(controller);
  }

  /** Whether changes from `controller` are accepted now (false until its first resync dump). */
  inSequence(controller: NodeId): boolean {
    return (this.sequences.get(controller)?.expected ?? null) !== null;
  }

  /** Sets the controllers (on start, or when the configuration changes); new ones get a hello. */
  setControllers(ids: readonly NodeId[]): void {
    const added = ids.filter((id) => !this.controllers.includes(id));
    for (const id of this.controllers) if (!ids.includes(id)) this.roles.delete(id);
    this.controllers = [...ids];
    for (const id of added) this.roles.set(id, 'equal');
    for (const id of added) this.sendHello(id);
    this.armHelloRetry();
  }

  handle(from: NodeId, msg: ControllerToSwitch): void {
    this.heard.add(from);
    const xid = (msg as { xid?: unknown }).xid;
    if (!Number.isSafeInteger(xid)) return this.error(from, 0, 'bad-request', (msg as Message).type, 'xid must be an integer');
    if (msg.type === 'of.dump-flows-request') return this.onDumpFlows(from, msg);
    const verdict = this.sequence(from, msg.xid);
    switch (msg.type) {
      // Requests that change no flow are answered whatever the sequence says.
      case 'of.echo-request':
        return this.reply(from, { type: 'of.echo-reply', datapathId: this.ctx.id, xid: msg.xid });
      case 'of.ports-request':
        return this.reply(from, { type: 'of.ports-reply', datapathId: this.ctx.id, xid: msg.xid, ports: this.sw.ports.list() });
      case 'of.role-request':
        return this.onRoleRequest(from, msg);
      // Changes, and barriers (whose reply vouches for everything before), only in order.
      case 'of.flow-mod':
      case 'of.bundle':
      case 'of.barrier-request':
      case 'of.tunnel-config':
      case 'of.packet-out':
        if (verdict !== 'in-order') return this.refuse(from, msg, verdict);
        return this.onChange(from, msg);
      default:
        return this.error(from, xid as number, 'bad-request', (msg as Message).type, 'unknown message type');
    }
  }

  portStatus(reason: 'add' | 'delete', port: Port): void {
    for (const c of this.asyncTargets()) this.reply(c, { type: 'of.port-status', datapathId: this.ctx.id, reason, port });
  }

  packetIn(punt: PipelinePunt, packet: Packet): void {
    const targets = this.asyncTargets();
    const trace = this.ctx.trace;
    if (trace.active) trace.detail('dp.packet-in', { node: this.ctx.id, packetId: packet.id, reason: punt.reason, table: punt.table, controllers: targets });
    for (const c of targets) {
      this.reply(c, { type: 'of.packet-in', datapathId: this.ctx.id, reason: punt.reason, table: punt.table, cookie: punt.cookie, packet, fields: punt.fields });
    }
  }

  // ---- sequence ----------------------------------------------------------------------------------------

  /** Places a (non-dump) message in its controller's sequence, advancing or breaking it. */
  private sequence(from: NodeId, xid: number): SequenceVerdict {
    let s = this.sequences.get(from);
    // A controller not heard from in this incarnation has not seen this table yet: out of sequence.
    if (s === undefined) this.sequences.set(from, (s = { expected: null, resetXid: -Infinity, highest: -Infinity }));
    if (xid > s.highest) s.highest = xid;
    if (s.expected === null) return 'out-of-sequence';
    if (xid === s.expected) {
      s.expected++;
      return 'in-order';
    }
    // Handled already in this run of the sequence: a duplicate copy, harmless to drop.
    if (xid > s.resetXid && xid < s.expected) return 'duplicate';
    // Older than the last resync: stale, but it says nothing about the current run, which stays in order.
    if (xid <= s.resetXid) return 'out-of-sequence';
    // A gap: an earlier message was lost or is late. Nothing more is applied until the controller resyncs.
    const trace = this.ctx.trace;
    if (trace.active) trace.emit('switch.seq.gap', { node: this.ctx.id, from, xid, expected: s.expected });
    s.expected = null;
    return 'out-of-sequence';
  }

  private refuse(from: NodeId, msg: ControllerToSwitch, verdict: 'duplicate' | 'out-of-sequence'): void {
    const trace = this.ctx.trace;
    if (trace.active) trace.detail('switch.seq.refuse', { node: this.ctx.id, from, xid: msg.xid, request: msg.type, reason: verdict });
    if (verdict === 'duplicate') return;
    const s = this.sequences.get(from)!;
    const detail = msg.xid <= s.resetXid ? `xid ${msg.xid} is older than the resync at ${s.resetXid}` : s.expected === null ? 'out of sequence: waiting for a resync' : `expected xid ${s.expected}`;
    this.error(from, msg.xid, 'out-of-sequence', msg.type, detail);
  }

  // ---- requests --------------------------------------------------------------------------------------

  private onChange(from: NodeId, msg: OfFlowMod | OfBundle | OfBarrierRequest | OfTunnelConfig | OfPacketOut): void {
    switch (msg.type) {
      case 'of.flow-mod':
        return this.onFlowMods(from, msg, [msg]);
      case 'of.bundle':
        return this.onFlowMods(from, msg, Array.isArray(msg.ops) ? msg.ops : null);
      case 'of.barrier-request':
        return this.reply(from, { type: 'of.barrier-reply', datapathId: this.ctx.id, xid: msg.xid });
      case 'of.tunnel-config':
        return this.onTunnelConfig(from, msg);
      case 'of.packet-out':
        return this.onPacketOut(from, msg);
    }
  }

  private onFlowMods(from: NodeId, msg: OfFlowMod | OfBundle, ops: readonly FlowModOp[] | null): void {
    const { ctx } = this;
    const trace = ctx.trace;
    if (ops === null) return this.error(from, msg.xid, 'bad-request', msg.type, 'a bundle needs a list of ops');
    if (this.roles.get(from) === 'slave') {
      if (trace.active) trace.emit('switch.flowmod.reject-slave', { node: ctx.id, from, xid: msg.xid, ops: ops.length });
      return this.error(from, msg.xid, 'is-slave', msg.type, 'flow-mods from a slave controller are refused');
    }
    const generationId = msg.generationId;
    if (generationId !== undefined) {
      if (generationId < this.highestGeneration) {
        if (trace.active) trace.emit('switch.flowmod.reject-stale', { node: ctx.id, from, xid: msg.xid, generationId, highest: this.highestGeneration, ops: ops.length });
        return this.error(from, msg.xid, 'stale-generation', msg.type, `generation ${generationId} is older than ${this.highestGeneration}`);
      }
      this.highestGeneration = generationId;
    }
    // Check every op before applying any, so a bad bundle changes nothing.
    try {
      for (const op of ops) checkOp(op);
    } catch (e) {
      const detail = (e as Error).message;
      if (trace.active) trace.emit('switch.flowmod.reject-bad', { node: ctx.id, from, xid: msg.xid, detail });
      return this.error(from, msg.xid, 'bad-request', msg.type, detail);
    }
    const flows = this.sw.flows;
    const now = ctx.now();
    const gen = generationId ?? null;
    for (const op of ops) {
      switch (op.command) {
        case 'add':
        case 'modify': {
          const entry = op.command === 'add' ? flows.add(op.flow, now) : flows.modify(op.flow, now);
          if (trace.active) trace.detail('switch.flowmod', { node: ctx.id, from, command: op.command, flowKey: entry.key, cookie: op.flow.cookie, generationId: gen });
          break;
        }
        case 'delete-strict':
          flows.deleteStrict(op.flowKey);
          if (trace.active) trace.detail('switch.flowmod', { node: ctx.id, from, command: op.command, flowKey: op.flowKey, cookie: '', generationId: gen });
          break;
        case 'delete-cookie':
          flows.deleteByCookie(op.cookie);
          if (trace.active) trace.detail('switch.flowmod', { node: ctx.id, from, command: op.command, flowKey: '', cookie: op.cookie, generationId: gen });
          break;
      }
    }
    // Once per applied message, so the element sees a bundle's records together.
    this.sw.syncHostDatabase();
  }

  /** Answers every dump; one newer than anything seen from the controller also resets its sequence. */
  private onDumpFlows(from: NodeId, msg: OfDumpFlowsRequest): void {
    const s = this.sequences.get(from);
    if (s === undefined || msg.xid > s.highest) {
      this.sequences.set(from, { expected: msg.xid + 1, resetXid: msg.xid, highest: msg.xid });
      const trace = this.ctx.trace;
      if (trace.active) trace.emit('switch.seq.resync', { node: this.ctx.id, from, xid: msg.xid });
    }
    const flows: FlowStats[] = this.sw.flows
      .dump({ table: msg.table, cookie: msg.cookie })
      .map((e) => ({ flow: e.flow, packets: e.packets, bytes: e.bytes, installedAtNs: e.installedAt }));
    this.reply(from, { type: 'of.dump-flows-reply', datapathId: this.ctx.id, xid: msg.xid, flows });
  }

  private onRoleRequest(from: NodeId, msg: OfRoleRequest): void {
    const { ctx } = this;
    const { role, generationId } = msg;
    if (role !== 'master' && role !== 'slave' && role !== 'equal') return this.error(from, msg.xid, 'bad-request', msg.type, `unknown role '${role}'`);
    if (role !== 'equal') {
      if (!(typeof generationId === 'number') || generationId < this.highestGeneration) {
        ctx.trace.emit('switch.role.reject-stale', { node: ctx.id, controller: from, role, generationId, highest: this.highestGeneration });
        return this.error(from, msg.xid, 'stale-generation', msg.type, `generation ${generationId} is older than ${this.highestGeneration}`);
      }
      this.highestGeneration = generationId;
    }
    if (role === 'master') {
      for (const [c, r] of this.roles) if (c !== from && r === 'master') this.roles.set(c, 'slave');
    }
    this.roles.set(from, role);
    ctx.trace.emit('switch.role', { node: ctx.id, controller: from, role, generationId });
    this.reply(from, { type: 'of.role-reply', datapathId: ctx.id, xid: msg.xid, role, generationId });
  }

  private onTunnelConfig(from: NodeId, msg: OfTunnelConfig): void {
    if (this.roles.get(from) === 'slave') return this.error(from, msg.xid, 'is-slave', msg.type, 'tunnel configuration from a slave controller is refused');
    try {
      this.hooks.configureTunnels(msg.add ?? [], msg.remove ?? []);
    } catch (e) {
      this.error(from, msg.xid, 'bad-request', msg.type, (e as Error).message);
    }
  }

  private onPacketOut(from: NodeId, msg: OfPacketOut): void {
    if (this.roles.get(from) === 'slave') return this.error(from, msg.xid, 'is-slave', msg.type, 'packet-out from a slave controller is refused');
    try {
      for (const a of msg.actions) checkOp({ command: 'add', flow: { table: 0, priority: 0, match: {}, actions: [a], cookie: '' } });
    } catch (e) {
      return this.error(from, msg.xid, 'bad-request', msg.type, (e as Error).message);
    }
    this.sw.inject(msg.inPort, msg.headers, msg.payloadBytes, msg.actions);
  }

  // ---- hello and replies ------------------------------------------------------------------------------

  private sendHello(controller: NodeId): void {
    const ports = this.sw.ports.list();
    this.ctx.trace.emit('switch.hello', { node: this.ctx.id, controller, incarnation: this.ctx.incarnation, ports: ports.length });
    this.reply(controller, { type: 'of.hello', datapathId: this.ctx.id, incarnation: this.ctx.incarnation, ports });
  }

  /** Re-sends hello to controllers not yet heard from, every helloIntervalNs, until all have answered. */
  private armHelloRetry(): void {
    if (this.helloIntervalNs <= 0 || this.helloTimer !== null) return;
    if (this.controllers.every((c) => this.heard.has(c))) return;
    this.helloTimer = this.ctx.setTimer(this.helloIntervalNs, () => {
      this.helloTimer = null;
      for (const c of this.controllers) if (!this.heard.has(c)) this.sendHello(c);
      this.armHelloRetry();
    });
  }

  private asyncTargets(): NodeId[] {
    return this.controllers.filter((c) => this.roles.get(c) !== 'slave');
  }

  private error(to: NodeId, xid: number, code: OfErrorCode, request: string, detail: string): void {
    this.reply(to, { type: 'of.error', datapathId: this.ctx.id, xid, code, request, detail });
  }

  private reply(to: NodeId, msg: SwitchToController): void {
    this.ctx.send(to, msg);
  }
}

/** Throws a one-line error when an op is malformed (unknown command, bad flow, missing key). */
function checkOp(op: FlowModOp): void {
  switch (op?.command) {
    case 'add':
    case 'modify':
      validateFlow(op.flow);
      flowKey(op.flow);
      return;
    case 'delete-strict':
      if (typeof op.flowKey !== 'string') throw new Error('delete-strict needs a flowKey string');
      return;
    case 'delete-cookie':
      if (typeof op.cookie !== 'string') throw new Error('delete-cookie needs a cookie string');
      return;
    default:
      throw new Error(`unknown flow-mod command '${(op as { command?: unknown })?.command}'`);
  }
}
