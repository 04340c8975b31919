// What carries packets between data-plane nodes over the fabric: a tunnel frame (an encapsulated packet
// between two switches, with its logical context) and a physical frame (a plain Ethernet frame between a
// gateway's physical port and an external segment). Owns these message shapes and their sizes; the
// fabric moves them with link latency, loss, partitions and crashes like any message.

import { TUNNEL_OVERHEAD_BYTES, headerBytes, type Packet } from './headers.ts';

export type TunnelFrame = {
  readonly type: 'dp.tunnel';
  readonly packet: Packet;
  /** The VNI: the logical datapath, as set in the pipeline's tunKey. */
  readonly tunKey: number;
  /** Geneve option: logical ingress << 16 | logical egress port, from the pipeline's tunMeta. */
  readonly tunMeta: number;
  /** Bytes on the wire: the inner frame plus TUNNEL_OVERHEAD_BYTES. */
  readonly sizeBytes: number;
};

export type PhysicalFrame = {
  readonly type: 'dp.phys';
  readonly packet: Packet;
  readonly sizeBytes: number;
};

/** The inner frame's size: headers plus payload. */
export function packetBytes(p: Packet): number {
  return headerBytes(p.headers) + p.payloadBytes;
}

export function tunnelFrame(packet: Packet, tunKey: number, tunMeta: number): TunnelFrame {
  return { type: 'dp.tunnel', packet, tunKey, tunMeta, sizeBytes: packetBytes(packet) + TUNNEL_OVERHEAD_BYTES };
}

export function physicalFrame(packet: Packet): PhysicalFrame {
  return { type: 'dp.phys', packet, sizeBytes: packetBytes(packet) };
}
