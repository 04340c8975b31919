// Builds a data plane on a world's fabric for tests and scenarios (the ns-3 "helper" beside the model):
// hosts with VMs, pool nodes, gateways wired to external segments, full-mesh tunnels, and the
// controllers every switch connects to. Owns construction only, and accessors that find a node's
// current process (a restarted node is a new object, so never keep one across a crash).
//
// Node kinds on the fabric: 'host', 'pool', 'gateway', 'external-net'.

import type { Fabric } from '../net/fabric.ts';
import type { NodeId } from '../net/message.ts';
import type { Headers } from './headers.ts';
import { ExternalSegment, type EndpointSpec } from './external-segment.ts';
import { GatewayNode } from './gateway-node.ts';
import { HostNode } from './host-node.ts';
import { PacketIds } from './packet-ids.ts';
import { traceFromEndpoint, traceFromVm, type NetworkTrace } from './packet-trace.ts';
import { PoolNode } from './pool-node.ts';
import { DEFAULT_DATAPLANE_OPTIONS, SwitchNode, type DataplaneOptions, type DataplaneShared } from './switch-node.ts';
import type { VmSpec } from './vm.ts';

/** The part of a World the builder needs (a World fits; the data plane does not import the testbed). */
export interface DataplaneWorld {
  readonly fabric: Fabric;
}

export const NODE_KIND = { host: 'host', pool: 'pool', gateway: 'gateway', segment: 'external-net' } as const;

export class DataplaneBuilder {
  readonly shared: DataplaneShared;
  private readonly fabric: Fabric;
  private readonly switchIds: NodeId[] = [];

  constructor(world: DataplaneWorld, options: Partial<DataplaneOptions> = {}) {
    this.fabric = world.fabric;
    this.shared = { packetIds: new PacketIds(), options: { ...DEFAULT_DATAPLANE_OPTIONS, ...options } };
  }

  addHost(id: NodeId, vms: readonly VmSpec[] = []): HostNode {
    const shared = this.shared;
    this.fabric.addNode(id, (ctx) => new HostNode(ctx, shared), { kind: NODE_KIND.host });
    this.switchIds.push(id);
    const host = this.host(id);
    for (const vm of vms) host.attachVm(vm);
    return host;
  }

  addPoolNode(id: NodeId): PoolNode {
    const shared = this.shared;
    this.fabric.addNode(id, (ctx) => new PoolNode(ctx, shared), { kind: NODE_KIND.pool });
    this.switchIds.push(id);
    return this.pool(id);
  }

  addExternalSegment(id: NodeId, endpoints: readonly EndpointSpec[] = []): ExternalSegment {
    const shared = this.shared;
    this.fabric.addNode(id, (ctx) => new ExternalSegment(ctx, shared), { kind: NODE_KIND.segment });
    const segment = this.segment(id);
    for (const e of endpoints) segment.addEndpoint(e);
    return segment;
  }

  /** A gateway whose physical port is wired to `segment` (added before). */
  addGateway(id: NodeId, segment: NodeId): GatewayNode {
    const shared = this.shared;
    const seg = this.segment(segment);
    this.fabric.addNode(id, (ctx) => new GatewayNode(ctx, shared), { kind: NODE_KIND.gateway });
    this.switchIds.push(id);
    const gw = this.gateway(id);
    gw.connectPhysical(segment);
    seg.connectUplink(id);
    return gw;
  }

  /** Tunnel ports between every two of the given switch nodes (default: every switch built so far). */
  meshTunnels(ids: readonly NodeId[] = this.switchIds): void {
    for (const id of ids) this.switchNode(id).addTunnels(ids.filter((other) => other !== id));
  }

  /** Points the given switches (default: all) at their controllers; they say hello at once. */
  setControllers(controllers: readonly NodeId[], ids: readonly NodeId[] = this.switchIds): void {
    for (const id of ids) this.switchNode(id).setControllers(controllers);
  }

  /** Every switch node built, in build order. */
  get switches(): readonly NodeId[] {
    return this.switchIds;
  }

  switchNode(id: NodeId): SwitchNode {
    return this.running(id, SwitchNode, 'switch node');
  }

  host(id: NodeId): HostNode {
    return this.running(id, HostNode, 'host');
  }

  pool(id: NodeId): PoolNode {
    return this.running(id, PoolNode, 'pool node');
  }

  gateway(id: NodeId): GatewayNode {
    return this.running(id, GatewayNode, 'gateway');
  }

  segment(id: NodeId): ExternalSegment {
    return this.running(id, ExternalSegment, 'external segment');
  }

  /** A what-if trace of a packet from a VM, through every switch it would cross. */
  traceFromVm(host: NodeId, vm: string, headers: Headers, payloadBytes = 0): NetworkTrace {
    return traceFromVm(this.fabric, host, vm, headers, payloadBytes);
  }

  traceFromEndpoint(segment: NodeId, endpoint: string, headers: Headers, payloadBytes = 0): NetworkTrace {
    return traceFromEndpoint(this.fabric, segment, endpoint, headers, payloadBytes);
  }

  private running<T>(id: NodeId, cls: abstract new (...args: any[]) => T, what: string): T {
    const p = this.fabric.process(id);
    if (!(p instanceof cls)) throw new Error(`'${id}' is not a running ${what}${p === undefined && this.fabric.hasNode(id) ? ' (it is down)' : ''}`);
    return p;
  }
}
