// The network stack of an endpoint with one NIC — a VM's vNIC or an external machine: it answers ARP
// requests for its own IP with a real ARP reply, learns neighbours from ARP, resolves next hops before
// sending IP (queueing packets behind an ARP request, with a timeout), and keeps a log of what it
// received. Owns that behaviour; the node around it owns where packets go and the journal entries for
// sends and receipts.
//
// Next hop: the destination itself when it is inside the NIC's prefix (or there is no gateway), else the
// gateway. The limited broadcast 255.255.255.255 goes to the Ethernet broadcast address without ARP.
// Static neighbours (ip → mac) skip ARP entirely for those addresses.

import type { Nanos } from '../kernel/time.ts';
import type { NodeContext } from '../net/node.ts';
import { arpReply, arpRequest, isArpReply, isArpRequest } from './arp.ts';
import { ETH_TYPE_IPV4, MAC_BROADCAST, prefixMask, type Headers, type Packet } from './headers.ts';
import type { PacketIds } from './packet-ids.ts';
import './trace-events.ts';

export interface NicSpec {
  readonly mac: number;
  readonly ip: number;
  /** The on-link prefix length (default 24). */
  readonly prefixLen?: number;
  /** The default gateway's IP, for destinations outside the prefix. */
  readonly gateway?: number;
  /** Neighbours known without ARP: [ip, mac] pairs. */
  readonly staticNeighbours?: readonly (readonly [number, number])[];
}

export interface ReceivedPacket {
  readonly packetId: number;
  readonly originId: number;
  readonly atNs: Nanos;
  readonly headers: Headers;
  readonly payloadBytes: number;
}

/** The L3/L4 part of an IP send; the stack fills in the Ethernet addresses. */
export interface IpSend {
  readonly ipDst: number;
  readonly ipProto: number;
  readonly l4Src?: number;
  readonly l4Dst?: number;
  readonly tcpFlags?: number;
  readonly ipTtl?: number;
}

/** What the stack needs from its node. */
export interface StackHost {
  readonly ctx: NodeContext;
  readonly packetIds: PacketIds;
  readonly arpTimeoutNs: Nanos;
  readonly stackDelayNs: Nanos;
  /** Puts a packet on the wire (the node journals it). */
  transmit(packet: Packet): void;
}

/** Packets Linux queues behind one unresolved neighbour (unres_qlen). */
const MAX_QUEUED_PER_NEIGHBOUR = 100;
const LIMITED_BROADCAST = 0xffff_ffff;

export class IpStack {
  readonly received: ReceivedPacket[] = [];
  private readonly neighbours = new Map<number, number>();
  private readonly waiting = new Map<number, Packet[]>();

  constructor(
    private readonly host: StackHost,
    readonly nic: NicSpec,
  ) {
    for (const [ip, mac] of nic.staticNeighbours ?? []) this.neighbours.set(ip, mac);
  }

  /** Every neighbour the stack knows, [ip, mac] by IP (what a live migration carries in the VM's memory). */
  neighbourTable(): [number, number][] {
    return [...this.neighbours].sort((a, b) => a[0] - b[0]);
  }

  /** The MAC the stack would use for this IP now, if it knows one. */
  neighbour(ip: number): number | undefined {
    return this.neighbours.get(ip);
  }

  /** Sends raw headers as given. Returns the packet. */
  sendRaw(headers: Headers, payloadBytes: number): Packet {
    const packet: Packet = { id: this.host.packetIds.next(), headers: { ...headers }, payloadBytes };
    this.host.transmit(packet);
    return packet;
  }

  /**
   * Sends an IP packet, resolving the next hop's MAC first if needed. Returns the packet's id, which is
   * fixed now even if the packet waits for ARP (or is dropped when ARP times out).
   */
  sendIp(spec: IpSend, payloadBytes: number): number {
    const { nic } = this;
    const headers: Headers = {
      ethSrc: nic.mac,
      ethDst: 0,
      ethType: ETH_TYPE_IPV4,
      ipSrc: nic.ip,
      ipDst: spec.ipDst,
      ipProto: spec.ipProto,
      ipTtl: spec.ipTtl ?? 64,
      l4Src: spec.l4Src ?? 0,
      l4Dst: spec.l4Dst ?? 0,
      tcpFlags: spec.tcpFlags ?? 0,
    };
    const packet: Packet = { id: this.host.packetIds.next(), headers, payloadBytes };
    if (spec.ipDst === LIMITED_BROADCAST) {
      headers.ethDst = MAC_BROADCAST;
      this.host.transmit(packet);
      return packet.id;
    }
    const nextHop = this.nextHop(spec.ipDst);
    const mac = this.neighbours.get(nextHop);
    if (mac !== undefined) {
      headers.ethDst = mac;
      this.host.transmit(packet);
    } else {
      this.queueBehindArp(nextHop, packet);
    }
    return packet.id;
  }

  /** A packet arrived on the NIC: log it, then react (ARP). */
  receive(packet: Packet): void {
    const { nic, host } = this;
    const h = packet.headers;
    this.received.push({ packetId: packet.id, originId: packet.originId ?? packet.id, atNs: host.ctx.now(), headers: h, payloadBytes: packet.payloadBytes });
    if (isArpRequest(h) && h.ipDst === nic.ip) {
      // As Linux does, a request aimed at us also teaches us the asker.
      this.learn(h.ipSrc, h.ethSrc);
      const reply = arpReply(nic.mac, nic.ip, h.ethSrc, h.ipSrc);
      this.later(() => this.sendRaw(reply, 0));
    } else if (isArpReply(h) && h.ethDst === nic.mac) {
      this.learn(h.ipSrc, h.ethSrc);
    }
  }

  private nextHop(ip: number): number {
    const { nic } = this;
    const mask = prefixMask(nic.prefixLen ?? 24);
    if (nic.gateway === undefined || ((ip & mask) >>> 0) === ((nic.ip & mask) >>> 0)) return ip;
    return nic.gateway;
  }

  private learn(ip: number, mac: number): void {
    this.neighbours.set(ip, mac);
    const queued = this.waiting.get(ip);
    if (queued === undefined) return;
    this.waiting.delete(ip);
    this.later(() => {
      for (const packet of queued) {
        packet.headers.ethDst = mac;
        this.host.transmit(packet);
      }
    });
  }

  private queueBehindArp(nextHop: number, packet: Packet): void {
    let queued = this.waiting.get(nextHop);
    if (queued === undefined) {
      queued = [];
      this.waiting.set(nextHop, queued);
      this.sendRaw(arpRequest(this.nic.mac, this.nic.ip, nextHop), 0);
      const batch = queued;
      this.host.ctx.setTimer(this.host.arpTimeoutNs, () => {
        if (this.waiting.get(nextHop) !== batch) return;
        this.waiting.delete(nextHop);
        for (const p of batch) this.dropUnresolved(p);
      });
    }
    if (queued.length >= MAX_QUEUED_PER_NEIGHBOUR) this.dropUnresolved(packet);
    else queued.push(packet);
  }

  private dropUnresolved(packet: Packet): void {
    const trace = this.host.ctx.trace;
    if (trace.active) trace.detail('dp.drop', { node: this.host.ctx.id, packetId: packet.id, reason: 'arp-unresolved', table: -1, port: -1 });
  }

  /** Reactions leave after the stack delay, as their own event: never inside the delivery that caused them. */
  private later(fn: () => void): void {
    this.host.ctx.setTimer(this.host.stackDelayNs, fn);
  }
}
