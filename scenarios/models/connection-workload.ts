// Long-lived TCP-like connections for the middlebox and migration scenarios: each client VM opens a
// connection to a server address (a server's own IP, a DNAT'd public address or a load balancer's VIP) and
// sends on it at a fixed rate; whichever VM receives it answers to the source address it saw, so a
// translation anywhere on the path shows up as what the server saw and what the client heard back. Owns
// the sending, the answering and the per-connection record (sent, answered, the distinct (server, source)
// pairs the servers saw, replies from an unexpected source); judging them is the scenario's.

import { IP_PROTO_TCP, formatIpv4, parseIpv4 } from '../../sim/dataplane/headers.ts';
import { toNanos, type Nanos } from '../../sim/kernel/time.ts';
import type { Receipt, SendRecord } from '../../sim/check/isolation.ts';
import type { HostNode } from '../../sim/dataplane/host-node.ts';
import type { NvTestbed } from './nv-testbed.ts';

const TCP_SYN = 0x02;
const TCP_ACK = 0x10;
const TCP_PSH = 0x08;
const PAYLOAD_BYTES = 100;

export interface ConnectionDecl {
  readonly id: string;
  readonly client: string;
  /** Where the client sends: "ip:port". */
  readonly to: string;
  readonly clientPort: number;
  /** When the client opens it, stops and how often it sends (default: the workload's). */
  readonly from?: string;
  readonly until?: string;
  readonly every?: string;
}

export interface ConnectionRecord {
  readonly decl: ConnectionDecl;
  sent: number;
  /** Client sends a server received. */
  reached: number;
  /** Client sends whose answer came back to the client. */
  answered: number;
  /** Times (ns) of every send, and of every answered send, by send time. */
  readonly sendTimes: Nanos[];
  readonly answeredSendTimes: Nanos[];
  /** Every distinct "server|source ip:port" the servers saw, in first-seen order. */
  readonly seenAt: string[];
  /** Answers that reached the client from a source other than the address it sent to. */
  wrongSource: number;
}

interface Pending {
  readonly conn: ConnectionRecord;
  readonly sentAtNs: Nanos;
}

export class ConnectionWorkload {
  private readonly connections: ConnectionRecord[] = [];
  /** Client send packet id → its connection. */
  private readonly clientSends = new Map<number, Pending>();
  /** Server answer packet id → the client send it answers. */
  private readonly serverAnswers = new Map<number, Pending>();
  private readonly answeringSends = new Set<number>();
  /** Receipts heard while a send is under way (see sendFrom), or null when none is. */
  private deferred: [Receipt, SendRecord][] | null = null;

  constructor(
    private readonly t: NvTestbed,
    private readonly options: { readonly from: string; readonly until: string; readonly every: string },
  ) {
    t.log.onReceipt((receipt, origin) => {
      if (origin === undefined) return;
      if (this.deferred !== null) this.deferred.push([receipt, origin]);
      else this.onReceipt(receipt, origin);
    });
  }

  private onReceipt(receipt: Receipt, origin: SendRecord): void {
    const client = this.clientSends.get(origin.packetId);
    if (client !== undefined) return this.onServerReceipt(client, receipt.to.slice(3), receipt.headers);
    const answer = this.serverAnswers.get(origin.packetId);
    if (answer !== undefined && receipt.to === `vm:${answer.conn.decl.client}`) this.onClientReceipt(answer, origin.packetId, receipt.headers);
  }

  /**
   * Sends from a VM and registers the packet id. Between two VMs of one host the packet is delivered
   * within the send, before its id is known: receipts during the send wait and are heard after it.
   */
  private sendFrom(vm: string, headers: Parameters<HostNode['sendIpFromVm']>[1], register: (id: number) => void): void {
    const waiting: [Receipt, SendRecord][] = [];
    this.deferred = waiting;
    const id = this.t.dp.host(this.t.hostOf(vm)).sendIpFromVm(vm, headers, PAYLOAD_BYTES);
    this.deferred = null;
    register(id);
    for (const [receipt, origin] of waiting) this.onReceipt(receipt, origin);
  }

  connection(decl: ConnectionDecl): this {
    const [ip, port] = decl.to.split(':');
    parseIpv4(ip);
    if (!/^\d+$/.test(port ?? '')) throw new Error(`connection '${decl.id}': 'to' must be "ip:port", got '${decl.to}'`);
    const conn: ConnectionRecord = { decl, sent: 0, reached: 0, answered: 0, sendTimes: [], answeredSendTimes: [], seenAt: [], wrongSource: 0 };
    this.connections.push(conn);
    const start = toNanos(decl.from ?? this.options.from);
    const until = toNanos(decl.until ?? this.options.until);
    const every = toNanos(decl.every ?? this.options.every);
    const w = this.t.world;
    const tick = (): void => {
      this.send(conn);
      if (w.now + every < until) w.scheduler.after(every, tick);
    };
    w.scheduler.at(start, tick);
    return this;
  }

  records(): readonly ConnectionRecord[] {
    return this.connections;
  }

  record(id: string): ConnectionRecord {
    const c = this.connections.find((x) => x.decl.id === id);
    if (c === undefined) throw new Error(`no connection '${id}'`);
    return c;
  }

  /** How many sends of the connection made in [fromNs, toNs) were answered. */
  answeredBetween(id: string, fromNs: Nanos, toNs: Nanos): number {
    return this.record(id).answeredSendTimes.filter((s) => s >= fromNs && s < toNs).length;
  }

  /** How many sends of the connection were made in [fromNs, toNs). */
  sentBetween(id: string, fromNs: Nanos, toNs: Nanos): number {
    return this.record(id).sendTimes.filter((s) => s >= fromNs && s < toNs).length;
  }

  private send(conn: ConnectionRecord): void {
    const { client, to, clientPort } = conn.decl;
    if (!this.t.isLive(client)) return;
    const [ip, port] = to.split(':');
    const flags = conn.sent === 0 ? TCP_SYN : TCP_ACK | TCP_PSH;
    conn.sent++;
    conn.sendTimes.push(this.t.world.now);
    const pending = { conn, sentAtNs: this.t.world.now };
    this.sendFrom(client, { ipDst: parseIpv4(ip), ipProto: IP_PROTO_TCP, l4Src: clientPort, l4Dst: Number(port), tcpFlags: flags }, (id) => this.clientSends.set(id, pending));
  }

  private onServerReceipt(p: Pending, server: string, h: { ipSrc: number; l4Src: number; l4Dst: number; tcpFlags: number }): void {
    p.conn.reached++;
    const seen = `${server}|${formatIpv4(h.ipSrc)}:${h.l4Src}`;
    if (!p.conn.seenAt.includes(seen)) p.conn.seenAt.push(seen);
    if (!this.t.isLive(server)) return;
    const flags = (h.tcpFlags & TCP_SYN) !== 0 ? TCP_SYN | TCP_ACK : TCP_ACK;
    this.sendFrom(server, { ipDst: h.ipSrc, ipProto: IP_PROTO_TCP, l4Src: h.l4Dst, l4Dst: h.l4Src, tcpFlags: flags }, (id) => this.serverAnswers.set(id, p));
  }

  private onClientReceipt(p: Pending, answerId: number, h: { ipSrc: number; l4Src: number }): void {
    if (this.answeringSends.has(answerId)) return; // a duplicate delivery of one answer counts once
    this.answeringSends.add(answerId);
    const [ip, port] = p.conn.decl.to.split(':');
    if (h.ipSrc !== parseIpv4(ip) || h.l4Src !== Number(port)) p.conn.wrongSource++;
    p.conn.answered++;
    p.conn.answeredSendTimes.push(p.sentAtNs);
  }
}
