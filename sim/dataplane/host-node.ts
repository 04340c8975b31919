// A hypervisor host: a switch node whose VIF ports have VMs behind them. Owns the VMs on this host —
// attach (boot, or arrival after a move) and detach (shutdown, departure), the workload API for sending
// from a VM, and delivery to a VM. The VM list is persistent host configuration: after a host crash the
// same VMs come back on the same VIF ports (with empty ARP caches and receive logs), and the switch's
// hello lists them. A VM's run state (running or stunned) is volatile: a restarted host brings its VMs
// back running, and whatever stunned one (a migration manager) stuns it again as it rebuilds.
//
// A migrated-in VM's VIF port carries `origin` (the host it came from) until its state handoff is done.
// The host's VM list is where the origin is kept for good; the port table gets it back at every start.

import type { NodeContext } from '../net/node.ts';
import { headerBytes, type Headers, type Packet } from './headers.ts';
import type { IpSend } from './ip-stack.ts';
import type { VifPort } from './ports.ts';
import type { Message, NodeId } from '../net/message.ts';
import { SwitchNode, type DataplaneShared, type HostService } from './switch-node.ts';
import { Vm, type VmRunState, type VmSpec } from './vm.ts';
import './trace-events.ts';

declare module '../kernel/trace.ts' {
  interface TraceEventMap {
    /** A stunned VM's send dropped, or a packet that reached a stunned VM's vNIC lost. */
    'dp.vm.stunned': { node: NodeId; vm: string; packetId: number; direction: 'send' | 'receive' };
    'dp.vm.run': { node: NodeId; vm: string; state: VmRunState };
  }
}

const VMS = 'host/vms';

interface StoredVm {
  readonly spec: VmSpec;
  readonly port: number;
  readonly origin?: NodeId;
}

export interface AttachOptions {
  /** Provisioned but not started: it runs only after resume(). */
  readonly stunned?: boolean;
  /** The host the VM migrated from, reported on its VIF port until clearOrigin(). */
  readonly origin?: NodeId;
}

export class HostNode extends SwitchNode {
  private readonly vms = new Map<string, Vm>();
  private readonly vmByPort = new Map<number, Vm>();
  // Bound once: every VM's stack transmits through it.
  private readonly transmit = (vm: Vm, packet: Packet) => this.transmitFromVm(vm, packet);
  /** Origins of migrated-in VMs whose state handoff is not done, by VM name (persistent, in VMS). */
  private readonly origins = new Map<string, NodeId>();

  /** Host-local services beside the VMs (a migration manager), when the world has them. */
  readonly service: HostService | null;

  constructor(ctx: NodeContext, shared: DataplaneShared) {
    super(ctx, shared);
    for (const { spec, port, origin } of ctx.disk.get<StoredVm[]>(VMS) ?? []) {
      this.addVm(spec, port);
      if (origin !== undefined) {
        this.origins.set(spec.name, origin);
        this.setVifOrigin(port, origin);
      }
    }
    this.service = shared.hostService?.(ctx, this) ?? null;
  }

  protected override onOtherMessage(from: NodeId, body: Message): boolean {
    return super.onOtherMessage(from, body) || (this.service?.onMessage(from, body) ?? false);
  }

  /**
   * Boots a VM here (or provisions it stunned): a new VIF port for its vNIC, reported to the controller
   * by port-status, with `origin` on it for a VM that migrated in.
   */
  attachVm(spec: VmSpec, options: AttachOptions = {}): Vm {
    if (this.vms.has(spec.name)) throw new Error(`host '${this.id}' already has a VM '${spec.name}'`);
    if (options.origin === this.id) throw new Error(`VM '${spec.name}' cannot migrate from host '${this.id}' to itself`);
    const port = this.addVifPort(spec.vifId, spec.name, spec.mac);
    const vm = this.addVm(spec, port.number);
    if (options.stunned === true) vm.runState = 'stunned';
    if (options.origin !== undefined) {
      this.origins.set(spec.name, options.origin);
      this.setVifOrigin(port.number, options.origin);
    }
    this.saveVms();
    this.ctx.trace.emit('dp.vif.attach', { node: this.id, vm: spec.name, vifId: spec.vifId, port: port.number });
    return vm;
  }

  /** Stops the VM executing: it sends nothing and loses what reaches it until resume(). */
  stun(name: string): void {
    this.setRunState(this.vm(name), 'stunned');
  }

  resume(name: string): void {
    this.setRunState(this.vm(name), 'running');
  }

  /** The VM's state handoff is done: its VIF port no longer names the host it came from. */
  clearOrigin(name: string): void {
    const vm = this.vm(name);
    if (!this.origins.delete(name)) return;
    this.setVifOrigin(vm.port, undefined);
    this.saveVms();
  }

  /** The host a migrated-in VM came from, while its state handoff is not done. */
  originOf(name: string): NodeId | undefined {
    return this.origins.get(name);
  }

  /** Removes a VM and its VIF port (shutdown, or the source side of a move). Returns its spec. */
  detachVm(name: string): VmSpec {
    const vm = this.vm(name);
    this.removeVifPort(vm.port);
    this.vms.delete(name);
    this.vmByPort.delete(vm.port);
    this.origins.delete(name);
    this.saveVms();
    this.ctx.trace.emit('dp.vif.detach', { node: this.id, vm: name, vifId: vm.spec.vifId, port: vm.port });
    return vm.spec;
  }

  vm(name: string): Vm {
    const vm = this.vms.get(name);
    if (vm === undefined) throw new Error(`host '${this.id}' has no VM '${name}'`);
    return vm;
  }

  hasVm(name: string): boolean {
    return this.vms.has(name);
  }

  /** The VMs, in attach order. */
  vmList(): Vm[] {
    return [...this.vms.values()];
  }

  /**
   * Sends the headers exactly as given from the VM's vNIC. Returns the packet id, or -1 when the VM is
   * stunned: it executes nothing, so its workload cannot send (nor start an ARP it could not finish).
   */
  sendFromVm(vmName: string, headers: Headers, payloadBytes: number): number {
    const vm = this.vm(vmName);
    if (vm.runState === 'stunned') return this.refuseSend(vm);
    return vm.stack.sendRaw(headers, payloadBytes).id;
  }

  /** Sends an IP packet from the VM, resolving the next hop by ARP if needed. Returns the packet id, or -1 when stunned. */
  sendIpFromVm(vmName: string, spec: IpSend, payloadBytes: number): number {
    const vm = this.vm(vmName);
    if (vm.runState === 'stunned') return this.refuseSend(vm);
    return vm.stack.sendIp(spec, payloadBytes);
  }

  private refuseSend(vm: Vm): number {
    vm.droppedSends++;
    const trace = this.ctx.trace;
    if (trace.active) trace.detail('dp.vm.stunned', { node: this.id, vm: vm.name, packetId: -1, direction: 'send' });
    return -1;
  }

  protected override deliverToVif(port: VifPort, packet: Packet): void {
    const vm = this.vmByPort.get(port.number);
    if (vm === undefined) return super.deliverToVif(port, packet);
    const trace = this.ctx.trace;
    if (vm.runState === 'stunned') {
      vm.lostDeliveries++;
      if (trace.active) trace.detail('dp.vm.stunned', { node: this.id, vm: vm.name, packetId: packet.id, direction: 'receive' });
      return;
    }
    if (trace.active) {
      trace.detail('dp.vm.receive', {
        node: this.id,
        vm: vm.name,
        packetId: packet.id,
        originId: packet.originId ?? packet.id,
        port: port.number,
        headers: packet.headers,
        bytes: headerBytes(packet.headers) + packet.payloadBytes,
      });
    }
    vm.stack.receive(packet);
  }

  private transmitFromVm(vm: Vm, packet: Packet): void {
    if (this.vms.get(vm.name) !== vm) return; // detached meanwhile: its vNIC is gone
    const trace = this.ctx.trace;
    if (vm.runState === 'stunned') {
      vm.droppedSends++;
      if (trace.active) trace.detail('dp.vm.stunned', { node: this.id, vm: vm.name, packetId: packet.id, direction: 'send' });
      return;
    }
    if (trace.active) trace.detail('dp.vm.send', { node: this.id, vm: vm.name, packetId: packet.id, headers: packet.headers, bytes: headerBytes(packet.headers) + packet.payloadBytes });
    this.switch.receive(vm.port, packet);
  }

  private addVm(spec: VmSpec, port: number): Vm {
    const vm = new Vm(spec, port, this.ctx, this.shared.packetIds, this.shared.options, this.transmit);
    this.vms.set(spec.name, vm);
    this.vmByPort.set(port, vm);
    return vm;
  }

  private setRunState(vm: Vm, state: VmRunState): void {
    if (vm.runState === state) return;
    vm.runState = state;
    const trace = this.ctx.trace;
    if (trace.active) trace.detail('dp.vm.run', { node: this.id, vm: vm.name, state });
  }

  /**
   * Puts (or takes) the origin on a VIF port and reports the port again. The switch node's own copy of
   * its ports on disk does not carry it; this host's VM list does, and restores it at every start.
   */
  private setVifOrigin(number: number, origin: NodeId | undefined): void {
    const current = this.switch.ports.get(number);
    if (current?.kind !== 'vif' || current.origin === origin) return;
    const { origin: _dropped, ...rest } = current;
    const port: VifPort = origin === undefined ? rest : { ...rest, origin };
    this.switch.ports.remove(number);
    this.switch.ports.add(port);
    this.agent.portStatus('add', port);
  }

  private saveVms(): void {
    const stored: StoredVm[] = [...this.vms.values()].map((vm) => {
      const origin = this.origins.get(vm.name);
      return origin === undefined ? { spec: vm.spec, port: vm.port } : { spec: vm.spec, port: vm.port, origin };
    });
    this.ctx.disk.put(VMS, stored);
  }
}
