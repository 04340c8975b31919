// A hypervisor host: a switch node whose VIF ports have VMs behind them. Owns the VMs on this host —
// attach (boot, or arrival after a move) and detach (shutdown, departure), the workload API for sending
// from a VM, and delivery to a VM. The VM list is persistent host configuration: after a host crash the
// same VMs come back on the same VIF ports (with empty ARP caches and receive logs), and the switch's
// hello lists them.

import type { NodeContext } from '../net/node.ts';
import { headerBytes, type Headers, type Packet } from './headers.ts';
import type { IpSend } from './ip-stack.ts';
import type { VifPort } from './ports.ts';
import { SwitchNode, type DataplaneShared } from './switch-node.ts';
import { Vm, type VmSpec } from './vm.ts';
import './trace-events.ts';

const VMS = 'host/vms';

interface StoredVm {
  readonly spec: VmSpec;
  readonly port: number;
}

export class HostNode extends SwitchNode {
  private readonly vms = new Map<string, Vm>();
  private readonly vmByPort = new Map<number, Vm>();
  // Bound once: every VM's stack transmits through it.
  private readonly transmit = (vm: Vm, packet: Packet) => this.transmitFromVm(vm, packet);

  constructor(ctx: NodeContext, shared: DataplaneShared) {
    super(ctx, shared);
    for (const { spec, port } of ctx.disk.get<StoredVm[]>(VMS) ?? []) this.addVm(spec, port);
  }

  /** Boots a VM here: a new VIF port for its vNIC, reported to the controller by port-status. */
  attachVm(spec: VmSpec): Vm {
    if (this.vms.has(spec.name)) throw new Error(`host '${this.id}' already has a VM '${spec.name}'`);
    const port = this.addVifPort(spec.vifId, spec.name, spec.mac);
    const vm = this.addVm(spec, port.number);
    this.saveVms();
    this.ctx.trace.emit('dp.vif.attach', { node: this.id, vm: spec.name, vifId: spec.vifId, port: port.number });
    return vm;
  }

  /** Removes a VM and its VIF port (shutdown, or the source side of a move). Returns its spec. */
  detachVm(name: string): VmSpec {
    const vm = this.vm(name);
    this.removeVifPort(vm.port);
    this.vms.delete(name);
    this.vmByPort.delete(vm.port);
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

  /** Sends the headers exactly as given from the VM's vNIC. Returns the packet id. */
  sendFromVm(vmName: string, headers: Headers, payloadBytes: number): number {
    return this.vm(vmName).stack.sendRaw(headers, payloadBytes).id;
  }

  /** Sends an IP packet from the VM, resolving the next hop by ARP if needed. Returns the packet id. */
  sendIpFromVm(vmName: string, spec: IpSend, payloadBytes: number): number {
    return this.vm(vmName).stack.sendIp(spec, payloadBytes);
  }

  protected override deliverToVif(port: VifPort, packet: Packet): void {
    const vm = this.vmByPort.get(port.number);
    if (vm === undefined) return super.deliverToVif(port, packet);
    const trace = this.ctx.trace;
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
    if (trace.active) trace.detail('dp.vm.send', { node: this.id, vm: vm.name, packetId: packet.id, headers: packet.headers, bytes: headerBytes(packet.headers) + packet.payloadBytes });
    this.switch.receive(vm.port, packet);
  }

  private addVm(spec: VmSpec, port: number): Vm {
    const vm = new Vm(spec, port, this.ctx, this.shared.packetIds, this.shared.options, this.transmit);
    this.vms.set(spec.name, vm);
    this.vmByPort.set(port, vm);
    return vm;
  }

  private saveVms(): void {
    const stored: StoredVm[] = [...this.vms.values()].map((vm) => ({ spec: vm.spec, port: vm.port }));
    this.ctx.disk.put(VMS, stored);
  }
}
