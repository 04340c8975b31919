// A fabric node that runs one managed software switch: the common part of hypervisor hosts, pool nodes
// and gateways. Owns the node's persistent switch configuration (its ports and controllers, as ovsdb
// keeps them: they survive a crash), tunnel encapsulation/decapsulation on the fabric, the physical
// port's frames, and routing fabric messages to the switch or the controller channel. The flow table and
// the channel state are volatile: a crashed switch restarts with no flows and says hello again, so its
// controller resynchronises it. Subclasses own what sits behind VIF ports (host-node.ts).

import type { Nanos } from '../kernel/time.ts';
import type { Message, NodeId } from '../net/message.ts';
import type { NodeContext, NodeProcess } from '../net/node.ts';
import type { Packet } from './headers.ts';
import { physicalFrame, type PhysicalFrame, type TunnelFrame } from './frames.ts';
import type { ControllerToSwitch } from './openflow.ts';
import { OpenflowAgent } from './openflow-agent.ts';
import type { PacketIds } from './packet-ids.ts';
import type { PipelinePunt } from './pipeline.ts';
import { PHYSICAL_PORT, TUNNEL_PORT_BASE, type PhysicalPort, type Port, type TunnelPort, type VifPort } from './ports.ts';
import { SoftwareSwitch } from './switch.ts';
import type { MiddleboxHook, MiddleboxHookFactory } from './middlebox-hook.ts';
import './trace-events.ts';

/** What every data-plane node of one world shares: the packet id source and the settings. */
export interface DataplaneShared {
  readonly packetIds: PacketIds;
  readonly options: DataplaneOptions;
  /** Builds each switch node's host-local middlebox element (none: a middlebox action drops the packet). */
  middlebox?: MiddleboxHookFactory;
  /** Builds each hypervisor host's services beside its VMs (a VM migration manager). */
  hostService?: HostServiceFactory;
}

/** A host-local service: it gets the fabric messages the host's switch does not handle itself. */
export interface HostService {
  onMessage(from: NodeId, body: Message): boolean;
}

/** Called at every (re)start of a host, after its VMs are back; `host` is the HostNode (host-node.ts). */
export type HostServiceFactory = (ctx: NodeContext, host: SwitchNode) => HostService;

export interface DataplaneOptions {
  /** Hello is re-sent this often to a controller that has not answered yet; 0 sends it once. */
  readonly helloIntervalNs: Nanos;
  /** How long a VM waits for an ARP reply before dropping the packets queued behind it. */
  readonly arpTimeoutNs: Nanos;
  /** How long a VM's network stack takes to answer (ARP replies, sends queued behind ARP). */
  readonly vmStackDelayNs: Nanos;
}

export const DEFAULT_DATAPLANE_OPTIONS: DataplaneOptions = {
  helloIntervalNs: 1_000_000_000,
  arpTimeoutNs: 1_000_000_000,
  vmStackDelayNs: 0,
};

// Disk keys: the switch's persistent configuration.
const TUNNELS = 'dp/tunnels';
const VIFS = 'dp/vifs';
const PHYSICAL = 'dp/physical';
const CONTROLLERS = 'dp/controllers';
const NEXT_PORTS = 'dp/next-ports';

interface NextPorts {
  vif: number;
  tunnel: number;
}

export class SwitchNode implements NodeProcess {
  readonly switch: SoftwareSwitch;
  readonly agent: OpenflowAgent;
  /** The host-local middlebox element, when the world has one (volatile, rebuilt at every restart). */
  readonly middlebox: (MiddleboxHook & { onMessage?(from: NodeId, body: Message): boolean }) | null;

  constructor(
    protected readonly ctx: NodeContext,
    protected readonly shared: DataplaneShared,
  ) {
    this.middlebox = shared.middlebox?.(ctx) ?? null;
    this.switch = new SoftwareSwitch({
      ctx,
      packetIds: shared.packetIds,
      deliver: (port, packet) => this.deliver(port, packet),
      packetIn: (punt, packet) => this.packetIn(punt, packet),
      middlebox: this.middlebox,
    });
    this.agent = new OpenflowAgent(ctx, this.switch, { configureTunnels: (add, remove) => this.configureTunnels(add, remove) }, shared.options.helloIntervalNs);
    const disk = ctx.disk;
    const ports: Port[] = [...(disk.get<TunnelPort[]>(TUNNELS) ?? []), ...(disk.get<VifPort[]>(VIFS) ?? [])];
    const physical = disk.get<PhysicalPort>(PHYSICAL);
    if (physical !== undefined) ports.push(physical);
    for (const port of ports.sort((a, b) => a.number - b.number)) this.switch.ports.add(port);
    // The hello (to controllers already configured, i.e. after a restart) lists the ports just loaded.
    this.agent.setControllers(disk.get<NodeId[]>(CONTROLLERS) ?? []);
  }

  get id(): NodeId {
    return this.ctx.id;
  }

  onMessage(from: NodeId, body: Message): void {
    switch (body.type) {
      case 'dp.tunnel':
        return this.onTunnelFrame(from, body as TunnelFrame);
      case 'dp.phys':
        return this.onPhysicalFrame(from, body as PhysicalFrame);
      default:
        if (body.type.startsWith('of.')) this.agent.handle(from, body as unknown as ControllerToSwitch);
        else this.onOtherMessage(from, body);
    }
  }

  /** Messages for host-local software: the middlebox element's here; subclasses add their own. */
  protected onOtherMessage(from: NodeId, body: Message): boolean {
    return this.middlebox?.onMessage?.(from, body) ?? false;
  }

  // ---- configuration (persistent) ----------------------------------------------------------------------

  /** The controllers this switch connects to (persistent); those not configured before get a hello now. */
  setControllers(ids: readonly NodeId[]): void {
    this.ctx.disk.put(CONTROLLERS, [...ids]);
    this.agent.setControllers(ids);
  }

  /** Adds tunnel ports toward the given nodes (skipping those it has), in order. Returns the new ports. */
  addTunnels(remotes: readonly NodeId[]): TunnelPort[] {
    const next = this.nextPorts();
    const added: TunnelPort[] = [];
    const seen = new Set<NodeId>();
    for (const remote of remotes) {
      if (remote === this.ctx.id) throw new Error(`switch '${this.ctx.id}' cannot have a tunnel to itself`);
      if (this.switch.ports.tunnelTo(remote) !== undefined || seen.has(remote)) continue;
      seen.add(remote);
      added.push({ kind: 'tunnel', number: next.tunnel++, remote });
    }
    if (added.length === 0) return added;
    for (const port of added) this.switch.ports.add(port);
    this.saveTunnels();
    this.ctx.disk.put(NEXT_PORTS, next);
    for (const port of added) {
      this.ctx.trace.emit('dp.tunnel.add', { node: this.ctx.id, remote: port.remote, port: port.number });
      this.agent.portStatus('add', port);
    }
    return added;
  }

  removeTunnels(remotes: readonly NodeId[]): void {
    const removed: TunnelPort[] = [];
    for (const remote of remotes) {
      const port = this.switch.ports.tunnelTo(remote);
      if (port === undefined) continue;
      this.switch.ports.remove(port.number);
      removed.push(port);
    }
    if (removed.length === 0) return;
    this.saveTunnels();
    for (const port of removed) {
      this.ctx.trace.emit('dp.tunnel.remove', { node: this.ctx.id, remote: port.remote, port: port.number });
      this.agent.portStatus('delete', port);
    }
  }

  /** Wires the physical port (PHYSICAL_PORT) to an external segment node. */
  connectPhysical(segment: NodeId): PhysicalPort {
    if (this.switch.ports.get(PHYSICAL_PORT) !== undefined) throw new Error(`switch '${this.ctx.id}' already has a physical port`);
    const port: PhysicalPort = { kind: 'physical', number: PHYSICAL_PORT, segment };
    this.switch.ports.add(port);
    this.ctx.disk.put(PHYSICAL, port);
    this.agent.portStatus('add', port);
    return port;
  }

  /** Allocates and adds a VIF port (persistent). Subclasses attach what sits behind it. */
  protected addVifPort(vifId: string, vm: string, mac: number): VifPort {
    if (this.switch.ports.vif(vifId) !== undefined) throw new Error(`VIF '${vifId}' is already attached to '${this.ctx.id}'`);
    const next = this.nextPorts();
    if (next.vif >= PHYSICAL_PORT) throw new Error(`switch '${this.ctx.id}' has no VIF port numbers left`);
    const port: VifPort = { kind: 'vif', number: next.vif++, vifId, vm, mac };
    this.switch.ports.add(port);
    this.ctx.disk.put(NEXT_PORTS, next);
    this.saveVifs();
    this.agent.portStatus('add', port);
    return port;
  }

  protected removeVifPort(number: number): VifPort {
    const port = this.switch.ports.get(number);
    if (port?.kind !== 'vif') throw new Error(`switch '${this.ctx.id}' has no VIF port ${number}`);
    this.switch.ports.remove(number);
    this.saveVifs();
    this.agent.portStatus('delete', port);
    return port;
  }

  // ---- packets -----------------------------------------------------------------------------------------

  /** Decapsulation: the frame enters on this switch's tunnel port toward the sender. */
  private onTunnelFrame(from: NodeId, frame: TunnelFrame): void {
    const port = this.switch.ports.tunnelTo(from);
    if (port === undefined) {
      const trace = this.ctx.trace;
      if (trace.active) trace.detail('dp.drop', { node: this.ctx.id, packetId: frame.packet.id, reason: 'no-tunnel-port', table: -1, port: -1 });
      return;
    }
    this.switch.receive(port.number, frame.packet, frame.tunKey, frame.tunMeta);
  }

  private onPhysicalFrame(from: NodeId, frame: PhysicalFrame): void {
    const port = this.switch.ports.get(PHYSICAL_PORT);
    if (port?.kind !== 'physical' || port.segment !== from) {
      const trace = this.ctx.trace;
      if (trace.active) trace.detail('dp.drop', { node: this.ctx.id, packetId: frame.packet.id, reason: 'no-port', table: -1, port: PHYSICAL_PORT });
      return;
    }
    this.switch.receive(port.number, frame.packet);
  }

  private deliver(port: VifPort | PhysicalPort, packet: Packet): void {
    if (port.kind === 'vif') return this.deliverToVif(port, packet);
    const frame = physicalFrame(packet);
    const trace = this.ctx.trace;
    if (trace.active) trace.detail('dp.phys.send', { src: this.ctx.id, dst: port.segment, packetId: packet.id, bytes: frame.sizeBytes });
    this.ctx.send(port.segment, frame);
  }

  /** A packet output to a VIF port. A node with no VMs drops it. */
  protected deliverToVif(port: VifPort, packet: Packet): void {
    const trace = this.ctx.trace;
    if (trace.active) trace.detail('dp.drop', { node: this.ctx.id, packetId: packet.id, reason: 'no-vm', table: -1, port: port.number });
  }

  private packetIn(punt: PipelinePunt, packet: Packet): void {
    this.agent.packetIn(punt, packet);
  }

  private configureTunnels(add: readonly NodeId[], remove: readonly NodeId[]): void {
    this.removeTunnels(remove);
    this.addTunnels(add);
  }

  private nextPorts(): NextPorts {
    return this.ctx.disk.get<NextPorts>(NEXT_PORTS) ?? { vif: 1, tunnel: TUNNEL_PORT_BASE };
  }

  private saveTunnels(): void {
    this.ctx.disk.put(TUNNELS, this.switch.ports.list().filter((p) => p.kind === 'tunnel'));
  }

  private saveVifs(): void {
    this.ctx.disk.put(VIFS, this.switch.ports.list().filter((p) => p.kind === 'vif'));
  }
}
