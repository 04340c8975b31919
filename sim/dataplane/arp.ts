// ARP as nvsim carries it in Headers: ethType 0x0806, the opcode in ipProto (as OpenFlow 1.0 carries
// arp_op in nw_proto), sender/target protocol addresses in ipSrc/ipDst, the sender hardware address in
// ethSrc, and for a reply the target hardware address in ethDst. Owns the opcodes and the builders; not
// who answers (VMs and external endpoints do, see vm-stack.ts).

import { ETH_TYPE_ARP, MAC_BROADCAST, type Headers } from './headers.ts';

export const ARP_OP_REQUEST = 1;
export const ARP_OP_REPLY = 2;

/** "Who has targetIp? Tell senderIp": a broadcast. */
export function arpRequest(senderMac: number, senderIp: number, targetIp: number): Headers {
  return { ethSrc: senderMac, ethDst: MAC_BROADCAST, ethType: ETH_TYPE_ARP, ipSrc: senderIp, ipDst: targetIp, ipProto: ARP_OP_REQUEST, ipTtl: 0, l4Src: 0, l4Dst: 0, tcpFlags: 0 };
}

/** "senderIp is at senderMac", unicast back to whoever asked. */
export function arpReply(senderMac: number, senderIp: number, targetMac: number, targetIp: number): Headers {
  return { ethSrc: senderMac, ethDst: targetMac, ethType: ETH_TYPE_ARP, ipSrc: senderIp, ipDst: targetIp, ipProto: ARP_OP_REPLY, ipTtl: 0, l4Src: 0, l4Dst: 0, tcpFlags: 0 };
}

export function isArpRequest(h: Headers): boolean {
  return h.ethType === ETH_TYPE_ARP && h.ipProto === ARP_OP_REQUEST;
}

export function isArpReply(h: Headers): boolean {
  return h.ethType === ETH_TYPE_ARP && h.ipProto === ARP_OP_REPLY;
}
