// Isolation and exactly-once delivery, read from the data plane's journal: every send by a VM or an
// external endpoint (`dp.vm.send`, `dp.ext.send`) and every receipt (`dp.vm.receive`, `dp.ext.receive`,
// which carry the originId of the send they descend from). Owns the delivery log, the isolation
// invariant (each receipt judged by a policy over sender, receiver and headers) and delivery expectations
// (a send that must reach these endpoints exactly once and no others, unless something disturbed the
// network meanwhile). What is allowed — tenants, routers, gateways, ACLs — is the caller's policy: this
// module knows endpoints and packets, never the logical model, so the cluster issue reuses it as is.
// Listeners hear events at every trace level, so the checks also run with tracing off.

import type { Headers } from '../dataplane/headers.ts';
import '../dataplane/trace-events.ts';
import type { Nanos } from '../kernel/time.ts';
import type { TraceRecorder, TraceType } from '../kernel/trace.ts';
import type { SafetyInvariant, Verdict } from './invariant.ts';

/** Who sends or receives: `vm:<name>` or `ext:<segment>/<endpoint>`. VM names are unique in a world. */
export type EndpointKey = string;
export const vmEndpoint = (vm: string): EndpointKey => `vm:${vm}`;
export const extEndpoint = (segment: string, endpoint: string): EndpointKey => `ext:${segment}/${endpoint}`;

export interface SendRecord {
  readonly packetId: number;
  readonly from: EndpointKey;
  readonly atNs: Nanos;
  readonly headers: Headers;
}

export interface Receipt {
  readonly packetId: number;
  readonly originId: number;
  readonly to: EndpointKey;
  readonly atNs: Nanos;
  readonly headers: Headers;
}

/** Every send and receipt of a run, receipts grouped by the send they descend from. */
export class DeliveryLog {
  private readonly sends = new Map<number, SendRecord>();
  private readonly receiptsByOrigin = new Map<number, Receipt[]>();
  private readonly listeners: ((receipt: Receipt, origin: SendRecord | undefined) => void)[] = [];
  sent = 0;
  received = 0;
  /** Receipts of packets no VM or endpoint sent (made by a switch or controller, e.g. a packet-out). */
  receivedWithoutSender = 0;

  constructor(trace: TraceRecorder) {
    trace.on('dp.vm.send', (e) => this.onSend(e.packetId, vmEndpoint(e.vm), e.t, e.headers));
    trace.on('dp.ext.send', (e) => this.onSend(e.packetId, extEndpoint(e.segment, e.endpoint), e.t, e.headers));
    trace.on('dp.vm.receive', (e) => this.onReceive({ packetId: e.packetId, originId: e.originId, to: vmEndpoint(e.vm), atNs: e.t, headers: { ...e.headers } }));
    trace.on('dp.ext.receive', (e) => this.onReceive({ packetId: e.packetId, originId: e.originId, to: extEndpoint(e.segment, e.endpoint), atNs: e.t, headers: { ...e.headers } }));
  }

  send(packetId: number): SendRecord | undefined {
    return this.sends.get(packetId);
  }

  receiptsOf(originId: number): readonly Receipt[] {
    return this.receiptsByOrigin.get(originId) ?? [];
  }

  /** Hears each receipt as it happens, with the send it descends from (if a VM or endpoint sent it). */
  onReceipt(listener: (receipt: Receipt, origin: SendRecord | undefined) => void): void {
    this.listeners.push(listener);
  }

  private onSend(packetId: number, from: EndpointKey, atNs: Nanos, headers: Headers): void {
    this.sent++;
    this.sends.set(packetId, { packetId, from, atNs, headers: { ...headers } });
  }

  private onReceive(receipt: Receipt): void {
    this.received++;
    let list = this.receiptsByOrigin.get(receipt.originId);
    if (list === undefined) this.receiptsByOrigin.set(receipt.originId, (list = []));
    list.push(receipt);
    const origin = this.sends.get(receipt.originId);
    if (origin === undefined) this.receivedWithoutSender++;
    for (const listener of this.listeners) listener(receipt, origin);
  }
}

/** Whether `to` may receive what `from` sent (headers as sent and as received); a reason when not. */
export type DeliveryPolicy = (from: EndpointKey, to: EndpointKey, sent: Headers, received: Headers) => Verdict;

/**
 * Every receipt of a packet a VM or endpoint sent must be allowed by the policy, at every instant (the
 * policy is consulted when the receipt happens). Receipts of packets the infrastructure made carry no
 * tenant's data and are only counted (DeliveryLog.receivedWithoutSender).
 */
export function isolationInvariant(log: DeliveryLog, policy: DeliveryPolicy, options: { id?: string; description?: string } = {}): SafetyInvariant {
  return {
    kind: 'safety',
    id: options.id ?? 'isolation',
    description: options.description ?? 'no packet reaches an endpoint its sender may not reach (another tenant, an ACL-denied port)',
    watch(violated) {
      log.onReceipt((receipt, origin) => {
        if (origin === undefined) return;
        const verdict = policy(origin.from, receipt.to, origin.headers, receipt.headers);
        if (verdict !== true) violated(`packet ${origin.packetId} from ${origin.from} reached ${receipt.to}: ${verdict}`);
      });
    },
  };
}

// ---- disturbances --------------------------------------------------------------------------------------

/** Journal entries that mean the network may be in transition (faults, moves, reconfiguration). */
export const DEFAULT_DISTURBANCES: readonly TraceType[] = [
  'fault.crash',
  'fault.restart',
  'fault.partition',
  'fault.heal',
  'fault.degrade',
  'fault.restore',
  'fault.quiesce',
  'dp.vif.attach',
  'dp.vif.detach',
  'dp.tunnel.add',
  'dp.tunnel.remove',
  'switch.hello',
  'ctl.ports.repair',
];

/** When the network was disturbed: the listed journal entries, and whatever callers `note`. */
export class Disturbances {
  private readonly times: Nanos[] = [];
  private readonly labels: string[] = [];

  constructor(
    private readonly clock: { readonly now: Nanos },
    trace: TraceRecorder,
    types: readonly TraceType[] = DEFAULT_DISTURBANCES,
  ) {
    for (const type of types) trace.on(type, (e) => this.note(type === 'switch.hello' ? `${type} ${(e as { node: string }).node}` : type));
  }

  note(label: string): void {
    this.times.push(this.clock.now);
    this.labels.push(label);
  }

  /** The first disturbance within [fromNs, toNs], if any. */
  firstBetween(fromNs: Nanos, toNs: Nanos): string | undefined {
    // Times are appended in order: binary search for the first >= fromNs.
    let lo = 0;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[mid] < fromNs) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.times.length && this.times[lo] <= toNs ? `${this.labels[lo]} at ${this.times[lo]}ns` : undefined;
  }

  get count(): number {
    return this.times.length;
  }
}

// ---- expectations --------------------------------------------------------------------------------------

export interface DeliveryExpectation {
  /** The packet id returned by the send (the originId of every copy). */
  readonly originId: number;
  /** Endpoints that must receive it exactly once. */
  readonly exactlyOnce: readonly EndpointKey[];
  /** Endpoints that may receive it once (an unmanaged segment flooding an unknown MAC). */
  readonly atMostOnce?: readonly EndpointKey[];
  /** Whether any other receiver is a violation. */
  readonly exclusive: boolean;
  /** What was sent, for messages: "a1 -> a2 udp". */
  readonly label: string;
}

export interface ExpectationStats {
  expected: number;
  met: number;
  /** Skipped: the network was disturbed between the send and its deadline. */
  voided: number;
  failed: number;
}

type Scheduling = { readonly now: Nanos; at(time: Nanos, fn: () => void): unknown };

/**
 * Sends made while the network was steady, with who must receive them. Each is judged at its deadline
 * (send + settleNs): if nothing disturbed the network meanwhile, every exactlyOnce endpoint must have
 * received exactly one copy, atMostOnce ones at most one, and (exclusive) nobody else any. Deliveries
 * are counted by originId, so a copy made by flooding, a pool node or a duplicate link counts.
 */
export class DeliveryExpectations {
  readonly stats: ExpectationStats = { expected: 0, met: 0, voided: 0, failed: 0 };
  private violated: (detail: string) => void = () => {};
  /** Met expectations by the time they were made, for "traffic works after the heal" checks. */
  private readonly metAt: Nanos[] = [];

  constructor(
    private readonly log: DeliveryLog,
    private readonly scheduler: Scheduling,
    private readonly disturbances: Disturbances,
    readonly settleNs: Nanos,
  ) {}

  expect(e: DeliveryExpectation): void {
    this.stats.expected++;
    const fromNs = this.scheduler.now;
    this.scheduler.at(fromNs + this.settleNs, () => this.judge(e, fromNs));
  }

  /** How many expectations made at or after `sinceNs` were met. */
  metSince(sinceNs: Nanos): number {
    return this.metAt.filter((t) => t >= sinceNs).length;
  }

  invariant(options: { id?: string; description?: string } = {}): SafetyInvariant {
    return {
      kind: 'safety',
      id: options.id ?? 'exactly-once',
      description: options.description ?? 'a packet sent while the network is steady reaches each intended receiver exactly once, and nobody else',
      watch: (violated) => {
        this.violated = violated;
      },
    };
  }

  private judge(e: DeliveryExpectation, fromNs: Nanos): void {
    if (this.disturbances.firstBetween(fromNs, this.scheduler.now) !== undefined) {
      this.stats.voided++;
      return;
    }
    const counts = new Map<EndpointKey, number>();
    for (const r of this.log.receiptsOf(e.originId)) counts.set(r.to, (counts.get(r.to) ?? 0) + 1);
    const problems: string[] = [];
    for (const to of e.exactlyOnce) {
      const n = counts.get(to) ?? 0;
      if (n !== 1) problems.push(`${to} received it ${n} times`);
    }
    for (const to of e.atMostOnce ?? []) {
      const n = counts.get(to) ?? 0;
      if (n > 1) problems.push(`${to} received it ${n} times`);
    }
    if (e.exclusive) {
      const allowed = new Set([...e.exactlyOnce, ...(e.atMostOnce ?? [])]);
      for (const [to, n] of counts) if (!allowed.has(to)) problems.push(`${to} (not a receiver) got ${n} cop${n === 1 ? 'y' : 'ies'}`);
    }
    if (problems.length === 0) {
      this.stats.met++;
      this.metAt.push(fromNs);
      return;
    }
    this.stats.failed++;
    this.violated(`packet ${e.originId} (${e.label}): ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (+${problems.length - 3} more)` : ''}`);
  }
}
