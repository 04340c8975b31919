// The switch side of the controller channel: hello (with retries until the controller answers), roles
// and generation-id fencing, flow-mods and bundles, barriers, flow dumps, echo, tunnel configuration and
// packet-out; and the switch's asynchronous messages (port-status, packet-in). Owns the channel state,
// which is volatile: a restarted switch forgets roles and the highest generation, as ovs-vswitchd does.
// Does not own ports or their persistence (the node does, through the hooks) nor forwarding (switch.ts).
//
// Roles: every configured controller starts 'equal'. A master role-request demotes any other master to
// slave. Asynchronous messages go to configured controllers that are not slaves; a slave's flow-mods are
// refused ('is-slave').

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
    switch (msg.type) {
      case 'of.flow-mod':
        return this.onFlowMods(from, msg, [msg]);
      case 'of.bundle':
        return this.onFlowMods(from, msg, Array.isArray(msg.ops) ? msg.ops : null);
      case 'of.barrier-request':
        return this.reply(from, { type: 'of.barrier-reply', datapathId: this.ctx.id, xid: msg.xid });
      case 'of.echo-request':
        return this.reply(from, { type: 'of.echo-reply', datapathId: this.ctx.id, xid: msg.xid });
      case 'of.dump-flows-request':
        return this.onDumpFlows(from, msg);
      case 'of.role-request':
        return this.onRoleRequest(from, msg);
      case 'of.tunnel-config':
        return this.onTunnelConfig(from, msg);
      case 'of.packet-out':
        return this.onPacketOut(from, msg);
      default:
        return this.error(from, (msg as { xid?: number }).xid ?? 0, 'bad-request', (msg as Message).type, 'unknown message type');
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

  // ---- requests --------------------------------------------------------------------------------------

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
  }

  private onDumpFlows(from: NodeId, msg: OfDumpFlowsRequest): void {
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
