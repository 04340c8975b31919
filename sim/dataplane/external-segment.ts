// An unmanaged external network: one L2 segment that behaves as a plain learning switch, with external
// endpoints (machines with a MAC and IP, each with its own network stack) and uplinks to gateways'
// physical ports. Owns the segment's MAC learning and flooding and its endpoints. It learns a source MAC
// on the attachment it came from, forwards known unicast to one attachment (never back where it came
// from), and floods broadcast, multicast and unknown unicast to every other attachment. Its MAC table is
// volatile; the endpoints and uplinks are persistent configuration.

import type { Message, NodeId } from '../net/message.ts';
import type { NodeContext, NodeProcess } from '../net/node.ts';
import { headerBytes, isMulticastMac, type Headers, type Packet } from './headers.ts';
import { physicalFrame, type PhysicalFrame } from './frames.ts';
import { IpStack, type IpSend, type NicSpec, type StackHost } from './ip-stack.ts';
import type { DataplaneShared } from './switch-node.ts';
import './trace-events.ts';

export interface EndpointSpec extends NicSpec {
  readonly name: string;
}

/** Where a frame entered the segment or leaves it: an endpoint or a gateway uplink. */
export type Attachment = { readonly kind: 'endpoint'; readonly name: string } | { readonly kind: 'uplink'; readonly node: NodeId };

const ENDPOINTS = 'ext/endpoints';
const UPLINKS = 'ext/uplinks';

const attachmentKey = (a: Attachment): string => (a.kind === 'endpoint' ? `e:${a.name}` : `u:${a.node}`);

export class ExternalSegment implements NodeProcess {
  private readonly endpoints = new Map<string, { spec: EndpointSpec; stack: IpStack }>();
  private uplinks: NodeId[] = [];
  private readonly macTable = new Map<number, Attachment>();

  constructor(
    private readonly ctx: NodeContext,
    private readonly shared: DataplaneShared,
  ) {
    for (const spec of ctx.disk.get<EndpointSpec[]>(ENDPOINTS) ?? []) this.addStack(spec);
    this.uplinks = ctx.disk.get<NodeId[]>(UPLINKS) ?? [];
  }

  get id(): NodeId {
    return this.ctx.id;
  }

  addEndpoint(spec: EndpointSpec): void {
    if (this.endpoints.has(spec.name)) throw new Error(`segment '${this.id}' already has an endpoint '${spec.name}'`);
    this.addStack(spec);
    this.ctx.disk.put(ENDPOINTS, [...this.endpoints.values()].map((e) => e.spec));
  }

  /** Wires a gateway's physical port to this segment. */
  connectUplink(node: NodeId): void {
    if (this.uplinks.includes(node)) return;
    this.uplinks.push(node);
    this.ctx.disk.put(UPLINKS, this.uplinks);
  }

  endpoint(name: string): IpStack {
    const e = this.endpoints.get(name);
    if (e === undefined) throw new Error(`segment '${this.id}' has no endpoint '${name}'`);
    return e.stack;
  }

  endpointNames(): string[] {
    return [...this.endpoints.keys()];
  }

  get uplinkNodes(): readonly NodeId[] {
    return this.uplinks;
  }

  sendFromEndpoint(name: string, headers: Headers, payloadBytes: number): number {
    return this.endpoint(name).sendRaw(headers, payloadBytes).id;
  }

  sendIpFromEndpoint(name: string, spec: IpSend, payloadBytes: number): number {
    return this.endpoint(name).sendIp(spec, payloadBytes);
  }

  onMessage(from: NodeId, body: Message): void {
    if (body.type !== 'dp.phys') return;
    const frame = body as PhysicalFrame;
    if (!this.uplinks.includes(from)) {
      const trace = this.ctx.trace;
      if (trace.active) trace.detail('dp.drop', { node: this.id, packetId: frame.packet.id, reason: 'no-port', table: -1, port: -1 });
      return;
    }
    this.forward(frame.packet, { kind: 'uplink', node: from });
  }

  /**
   * Where a frame entering from `ingress` would go now, without learning (for what-if packet traces).
   */
  whatIf(packet: Packet, ingress: Attachment): Attachment[] {
    const dst = packet.headers.ethDst;
    const known = isMulticastMac(dst) ? undefined : this.macTable.get(dst);
    if (known !== undefined) return attachmentKey(known) === attachmentKey(ingress) ? [] : [known];
    const ingressKey = attachmentKey(ingress);
    return this.attachments().filter((a) => attachmentKey(a) !== ingressKey);
  }

  private forward(packet: Packet, ingress: Attachment): void {
    const src = packet.headers.ethSrc;
    if (!isMulticastMac(src)) this.macTable.set(src, ingress);
    const targets = this.whatIf(packet, ingress);
    const originId = packet.originId ?? packet.id;
    for (let i = 0; i < targets.length; i++) {
      const out: Packet = i === 0 ? packet : { id: this.shared.packetIds.next(), parentId: packet.id, originId, headers: packet.headers, payloadBytes: packet.payloadBytes };
      this.emitTo(targets[i], out);
    }
  }

  private emitTo(target: Attachment, packet: Packet): void {
    const trace = this.ctx.trace;
    if (target.kind === 'uplink') {
      const frame = physicalFrame(packet);
      if (trace.active) trace.detail('dp.phys.send', { src: this.id, dst: target.node, packetId: packet.id, bytes: frame.sizeBytes });
      this.ctx.send(target.node, frame);
      return;
    }
    const { stack } = this.endpoints.get(target.name)!;
    if (trace.active) {
      trace.detail('dp.ext.receive', {
        segment: this.id,
        endpoint: target.name,
        packetId: packet.id,
        originId: packet.originId ?? packet.id,
        headers: packet.headers,
        bytes: headerBytes(packet.headers) + packet.payloadBytes,
      });
    }
    stack.receive(packet);
  }

  private attachments(): Attachment[] {
    const out: Attachment[] = [];
    for (const name of this.endpoints.keys()) out.push({ kind: 'endpoint', name });
    for (const node of this.uplinks) out.push({ kind: 'uplink', node });
    return out;
  }

  private addStack(spec: EndpointSpec): void {
    const name = spec.name;
    const host: StackHost = {
      ctx: this.ctx,
      packetIds: this.shared.packetIds,
      arpTimeoutNs: this.shared.options.arpTimeoutNs,
      stackDelayNs: this.shared.options.vmStackDelayNs,
      transmit: (packet) => this.transmitFromEndpoint(name, packet),
    };
    this.endpoints.set(name, { spec, stack: new IpStack(host, spec) });
  }

  private transmitFromEndpoint(name: string, packet: Packet): void {
    if (!this.endpoints.has(name)) return;
    const trace = this.ctx.trace;
    if (trace.active) trace.detail('dp.ext.send', { segment: this.id, endpoint: name, packetId: packet.id, headers: packet.headers, bytes: headerBytes(packet.headers) + packet.payloadBytes });
    this.forward(packet, { kind: 'endpoint', name });
  }
}
