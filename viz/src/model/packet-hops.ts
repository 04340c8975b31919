// What one packet record says as a hop of the packet's path (where, what kind, one line of detail, the
// flows it hit), and a packet's one-line summary from its headers. Owns the wording; which records belong
// to which packet is packet-index.ts's business.

import type { RecordOf } from './record-schema.ts';
import { ipv4, oneLine } from './text-format.ts';
import type { PacketHop } from './types.ts';

const ETH_TYPE_IPV4 = 0x0800;
const ETH_TYPE_ARP = 0x0806;
const IP_PROTOCOLS: ReadonlyMap<number, string> = new Map([
  [1, 'ICMP'],
  [6, 'TCP'],
  [17, 'UDP'],
]);

export type HopType =
  | 'dp.vm.send'
  | 'dp.ext.send'
  | 'dp.pipeline'
  | 'dp.middlebox'
  | 'dp.tunnel.send'
  | 'dp.phys.send'
  | 'dp.vm.receive'
  | 'dp.ext.receive'
  | 'dp.drop'
  | 'dp.vm.stunned';

type HopParts = Omit<PacketHop, 't' | 'flows'> & { readonly flows?: readonly string[] };

const HOP_OF: { readonly [K in HopType]: (r: RecordOf<K>) => HopParts } = {
  'dp.vm.send': (r) => ({ node: r.node, kind: 'send', detail: `${r.vm} sends ${packetLabel(r.headers)}, ${r.bytes} bytes` }),
  'dp.ext.send': (r) => ({ node: r.segment, kind: 'send', detail: `external ${r.endpoint} sends ${packetLabel(r.headers)}, ${r.bytes} bytes` }),
  'dp.pipeline': (r) => ({
    node: r.node,
    kind: 'pipeline',
    detail: `pipeline from port ${r.inPort}: ${r.outputs.length > 0 ? `out to port${r.outputs.length > 1 ? 's' : ''} ${r.outputs.join(', ')}` : r.drop !== null ? `dropped (${r.drop})` : 'no output'}`,
    flows: r.hits.map((hit) => hit.flowKey),
  }),
  'dp.middlebox': (r) => ({ node: r.node, kind: 'middlebox', detail: `middlebox slice ${r.tag} (${r.mode}): ${r.verdict}` }),
  'dp.tunnel.send': (r) => ({ node: r.src, kind: 'tunnel', to: r.dst, detail: `tunnel ${r.src} → ${r.dst} (key ${r.tunKey})` }),
  'dp.phys.send': (r) => ({ node: r.src, kind: 'tunnel', to: r.dst, detail: `physical link ${r.src} → ${r.dst}` }),
  'dp.vm.receive': (r) => ({ node: r.node, kind: 'receive', detail: `${r.vm} receives it` }),
  'dp.ext.receive': (r) => ({ node: r.segment, kind: 'receive', detail: `external ${r.endpoint} receives it` }),
  'dp.drop': (r) => ({ node: r.node, kind: 'drop', detail: `dropped: ${r.reason}${r.table >= 0 ? ` at table ${r.table}` : ''}` }),
  'dp.vm.stunned': (r) => ({ node: r.node, kind: 'drop', detail: `lost: ${r.vm} is stunned (${r.direction})` }),
};

export function isHopType(type: string): type is HopType {
  return Object.hasOwn(HOP_OF, type);
}

/** The hop a record of packet `packetId` makes; `asPartOf` is the packet whose path is being shown. */
export function hopOf<K extends HopType>(type: K, record: RecordOf<K> & { readonly packetId: number }, asPartOf: number): PacketHop {
  const parts = (HOP_OF[type] as (r: RecordOf<K>) => HopParts)(record);
  const copy = record.packetId === asPartOf ? '' : ` (copy #${record.packetId})`;
  const hop = { t: record.t, node: parts.node, kind: parts.kind, detail: oneLine(parts.detail + copy), flows: parts.flows ?? [] };
  return parts.to === undefined ? hop : { ...hop, to: parts.to };
}

/** A packet in a few words: protocol and addresses ("TCP 10.0.0.1:40000 → 10.0.0.2:80"). */
export function packetLabel(headers: RecordOf<'dp.vm.send'>['headers']): string {
  const { ethType, ipSrc, ipDst, ipProto, l4Src, l4Dst } = headers;
  if (ethType === ETH_TYPE_ARP) return `ARP ${ipv4(ipSrc)} → ${ipv4(ipDst)}`;
  if (ethType !== ETH_TYPE_IPV4) return `ethertype 0x${ethType.toString(16)}`;
  const protocol = IP_PROTOCOLS.get(ipProto) ?? `IP protocol ${ipProto}`;
  if (ipProto === 6 || ipProto === 17) return `${protocol} ${ipv4(ipSrc)}:${l4Src} → ${ipv4(ipDst)}:${l4Dst}`;
  return `${protocol} ${ipv4(ipSrc)} → ${ipv4(ipDst)}`;
}
