// Test doubles for the migration manager's collaborators: an element and a state sharing manager that
// implement the interfaces (MigrationElement, MigrationSsm) over plain maps and log every call, and a
// controller node that only feeds its switches' ports to a MigrationAssist. Not the real element or SSM.
import { MigrationAssist } from '../../sim/control/migration-assist.ts';
import type { ConnectionEntry, SharedEntry, StateDelta, StateGapPolicy, VmMiddleboxState } from '../../sim/middlebox/vm-state.ts';
import type { MigrationElement, MigrationSsm } from '../../sim/migration/migration-manager.ts';
import type { Port } from '../../sim/dataplane/ports.ts';
import type { Message, NodeContext, NodeId, NodeProcess } from '../../sim/net/index.ts';

export const TAG = 7;

export function connection(n: number): ConnectionEntry {
  const tuple = { proto: 6, srcIp: 0x0a01_0000 + n, srcPort: 40000 + n, dstIp: 0x0a02_0015, dstPort: 80 };
  return { tuple, translated: tuple, rule: 1, phase: 'established', packets: [n, n], bytes: [100 * n, 100 * n], lastSeenNs: n };
}

interface VmEntry {
  vifId: string;
  connections: ConnectionEntry[];
  shared: SharedEntry[];
}

export class FakeElement implements MigrationElement {
  readonly vms = new Map<number, VmEntry>();
  readonly keys = new Map<string, number>();
  readonly calls: string[] = [];
  readonly fenced = new Set<number>();
  readonly expecting = new Map<number, StateGapPolicy>();
  readonly expiring = new Map<number, number>();
  readonly gaps = new Map<number, number>();
  readonly installs: { state: VmMiddleboxState; deltas: readonly StateDelta[] }[] = [];
  private readonly watchers = new Map<number, (d: StateDelta) => void>();
  private seq = 0;

  /** Configures a VM with some connections and type-1 entries. */
  serve(vmKey: number, vifId: string, connections: number, shared: SharedEntry[] = []): void {
    this.keys.set(vifId, vmKey);
    this.vms.set(vmKey, { vifId, connections: Array.from({ length: connections }, (_, i) => connection(i + 1)), shared });
  }

  /** Traffic opened a connection: tracked, and streamed to a watcher. */
  open(vmKey: number, n: number): void {
    if (this.fenced.has(vmKey)) throw new Error(`fake element: VM ${vmKey} is fenced`);
    const entry = connection(n);
    this.vms.get(vmKey)!.connections.push(entry);
    this.watchers.get(vmKey)?.({ vmKey, tag: TAG, seq: ++this.seq, op: 'put', entry });
  }

  vmKeyOf(vifId: string): number | undefined {
    return this.keys.get(vifId);
  }

  gather(vmKey: number, vifId: string, scope: 'all' | 'local-only'): VmMiddleboxState {
    this.calls.push(`gather:${scope}`);
    const vm = this.vms.get(vmKey);
    return { vmKey, vifId, slices: [{ tag: TAG, kind: 'firewall', connections: [...(vm?.connections ?? [])], shared: scope === 'all' ? [...(vm?.shared ?? [])] : [] }] };
  }

  watch(vmKey: number, onDelta: (d: StateDelta) => void): () => void {
    this.calls.push('watch');
    this.watchers.set(vmKey, onDelta);
    return () => this.watchers.delete(vmKey);
  }

  fence(vmKey: number): void {
    this.calls.push('fence');
    this.fenced.add(vmKey);
  }

  expectState(vmKey: number, policy: StateGapPolicy): void {
    this.calls.push(`expect:${policy}`);
    this.expecting.set(vmKey, policy);
  }

  install(state: VmMiddleboxState, deltas: readonly StateDelta[]): void {
    this.calls.push('install');
    this.installs.push({ state, deltas });
    const connections = state.slices.flatMap((s) => s.connections);
    for (const d of deltas) if (d.op === 'put') connections.push(d.entry);
    const existing = this.vms.get(state.vmKey);
    this.vms.set(state.vmKey, { vifId: state.vifId, connections, shared: [...(existing?.shared ?? []), ...state.slices.flatMap((s) => s.shared)] });
    this.keys.set(state.vifId, state.vmKey);
    this.expecting.delete(state.vmKey);
  }

  remove(vmKey: number): number {
    this.calls.push('remove');
    const n = this.vms.get(vmKey)?.connections.length ?? 0;
    this.vms.delete(vmKey);
    return n;
  }

  expire(vmKey: number, ttlNs: number): void {
    this.calls.push('expire');
    this.expiring.set(vmKey, ttlNs);
  }

  sizeBytes(state: VmMiddleboxState, deltas: readonly StateDelta[]): number {
    return 16 + state.slices.reduce((sum, s) => sum + 32 + 64 * s.connections.length + 16 * s.shared.length, 0) + 72 * deltas.length;
  }

  gapPacketsOf(vmKey: number): number {
    return this.gaps.get(vmKey) ?? 0;
  }
}

/** A state sharing manager that moves type-1 entries between peers directly and ACKs after a delay. */
export class FakeSsm implements MigrationSsm {
  readonly calls: string[] = [];
  readonly pushes: { peer: NodeId; tag: number; vmKey: number }[] = [];
  /** Type-1 entries this SSM received from peers, by VM. */
  readonly received = new Map<number, SharedEntry[]>();
  ctx: NodeContext | null = null;

  constructor(
    private readonly element: FakeElement,
    private readonly peers: Map<NodeId, FakeSsm>,
    private readonly ackDelayNs: number,
  ) {}

  prepareMigration(vmKey: number, vifId: string): VmMiddleboxState {
    this.calls.push('prepare');
    return this.element.gather(vmKey, vifId, 'local-only');
  }

  pushTo(peer: NodeId, tag: number, vmKey: number): void {
    this.pushes.push({ peer, tag, vmKey });
    this.peers.get(peer)!.received.set(vmKey, [...(this.element.vms.get(vmKey)?.shared ?? [])]);
  }

  deliver(state: VmMiddleboxState, deltas: readonly StateDelta[], onAck: () => void): void {
    this.calls.push('deliver');
    const shared = this.received.get(state.vmKey) ?? [];
    this.element.install({ ...state, slices: state.slices.map((s) => ({ ...s, shared: [...s.shared, ...shared] })) }, deltas);
    this.ctx!.setTimer(this.ackDelayNs, onAck);
  }
}

/** A controller that only learns its switches' ports (hello and port-status) and hands them to a MigrationAssist. */
export class FetchingController implements NodeProcess {
  readonly assist: MigrationAssist;
  private readonly ports = new Map<NodeId, Port[]>();

  constructor(ctx: NodeContext) {
    this.assist = new MigrationAssist(ctx, { retryNs: 50_000_000 });
  }

  onMessage(from: NodeId, body: Message): void {
    if (body.type === 'of.hello') this.report(from, [...(body.ports as Port[])]);
    else if (body.type === 'of.port-status') {
      const port = body.port as Port;
      const rest = (this.ports.get(from) ?? []).filter((p) => p.number !== port.number);
      this.report(from, body.reason === 'add' ? [...rest, port] : rest);
    } else this.assist.onMessage(from, body);
  }

  private report(from: NodeId, ports: Port[]): void {
    this.ports.set(from, ports);
    this.assist.onPorts(from, ports);
  }
}
