// A VM on a hypervisor host: a name, one vNIC (MAC, IPv4) attached to a VIF port with an interface id,
// and the vNIC's network stack (ip-stack.ts). Owns the VM's description and its volatile runtime state
// (the stack's ARP cache and receive log, whether it runs or is stunned, and what a stunned VM lost);
// the host owns attachment and the port.
//
// A stunned VM (a migration's stop-and-copy, or provisioned at a destination but not started) executes
// nothing: what it would send is dropped and what reaches its vNIC is lost, both counted.

import type { NodeContext } from '../net/node.ts';
import { IpStack, type NicSpec, type ReceivedPacket, type StackHost } from './ip-stack.ts';
import type { Packet } from './headers.ts';
import type { PacketIds } from './packet-ids.ts';

export interface VmSpec extends NicSpec {
  readonly name: string;
  /** The interface id (OVS external_ids:iface-id) a logical port binds to; unique across the world. */
  readonly vifId: string;
}

export type VmRunState = 'running' | 'stunned';

export class Vm {
  readonly stack: IpStack;
  runState: VmRunState = 'running';
  /** Packets the VM would have sent while stunned. */
  droppedSends = 0;
  /** Packets that reached the vNIC while the VM was stunned. */
  lostDeliveries = 0;

  constructor(
    readonly spec: VmSpec,
    /** The VIF port the vNIC is attached to on its host's switch. */
    readonly port: number,
    ctx: NodeContext,
    packetIds: PacketIds,
    options: { arpTimeoutNs: number; vmStackDelayNs: number },
    transmit: (vm: Vm, packet: Packet) => void,
  ) {
    const host: StackHost = {
      ctx,
      packetIds,
      arpTimeoutNs: options.arpTimeoutNs,
      stackDelayNs: options.vmStackDelayNs,
      transmit: (packet) => transmit(this, packet),
    };
    this.stack = new IpStack(host, spec);
  }

  get name(): string {
    return this.spec.name;
  }

  /** Everything delivered to the vNIC since the VM (or its host) last started. */
  get received(): readonly ReceivedPacket[] {
    return this.stack.received;
  }
}
