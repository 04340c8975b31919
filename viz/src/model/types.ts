// The contract between the trace model (viz/src/model: reads a trace, answers "what was true at time t")
// and the page (viz/src/main.ts and viz/src/views: draws it). The model is pure TypeScript with no DOM, so
// node tests exercise it; the page never reads trace records itself. Times are virtual nanoseconds, as in
// the trace.

export type Nanos = number;

/** What a node is, from its `node.start` kind ('host', 'controller', …; anything else is 'other'). */
export type NodeRole = 'controller' | 'host' | 'pool' | 'gateway' | 'segment' | 'northbound' | 'network-manager' | 'other';

export interface TopologyNode {
  readonly id: string;
  readonly role: NodeRole;
  /** The kind as traced (e.g. 'replica' for a gossip scenario's nodes). */
  readonly kind: string;
}

/** A tunnel between two switch-bearing nodes (undirected: a < b). */
export interface TunnelEdge {
  readonly a: string;
  readonly b: string;
}

export type TimelineKind = 'fault' | 'election' | 'epoch' | 'migration' | 'violation' | 'config';

export interface TimelineEntry {
  readonly t: Nanos;
  readonly kind: TimelineKind;
  /** One line of plain text (never HTML). */
  readonly label: string;
  /** The nodes it concerns (highlighted when the entry is selected). */
  readonly nodes: readonly string[];
  /** 0-based line of the trace it came from. */
  readonly line: number;
}

export interface Violation {
  readonly t: Nanos;
  readonly id: string;
  readonly detail: string;
}

export interface PartitionState {
  readonly id: string;
  readonly mode: 'groups' | 'one-way';
  readonly groups: readonly (readonly string[])[];
}

/** Everything true at one instant: what the page draws, and what `window.__nvsimView` exposes. */
export interface ViewState {
  readonly time: Nanos;
  /** Live or not, every node known by `time` (controllers and switches by id, VMs by name), sorted. */
  readonly nodes: {
    readonly controllers: readonly string[];
    /** Hosts, pool nodes and gateways: every node with a managed switch. */
    readonly switches: readonly string[];
    readonly vms: readonly string[];
  };
  /** Switch id → the controller that masters it at `time` (absent: none). */
  readonly masterOf: Readonly<Record<string, string>>;
  /** LDPS (tenant) → its master controller at `time` (absent: none, or no cluster). */
  readonly ldpsMasterOf: Readonly<Record<string, string>>;
  /** Nodes down at `time`, sorted. */
  readonly crashed: readonly string[];
  /** Partitions in force at `time`. */
  readonly partitions: readonly PartitionState[];
  /** VM → the host it is attached to at `time` (absent: detached). */
  readonly vmHost: Readonly<Record<string, string>>;
  /** Every violation at or before `time`, in trace order. */
  readonly violations: readonly Violation[];
}

export interface PacketSummary {
  readonly packetId: number;
  readonly t: Nanos;
  /** The VM or node that sent it. */
  readonly from: string;
  /** A short plain-text description (protocol, addresses). */
  readonly label: string;
}

export interface PacketHop {
  readonly t: Nanos;
  readonly node: string;
  readonly kind: 'send' | 'pipeline' | 'tunnel' | 'receive' | 'drop' | 'middlebox';
  /** A tunnel (or physical link) hop: the node it sends the packet to. */
  readonly to?: string;
  /** One line of plain text. */
  readonly detail: string;
  /** The flows it hit at this hop, as traced ("table/priority/match"), in order. */
  readonly flows: readonly string[];
}

export interface SeriesPoint {
  readonly t: Nanos;
  readonly value: number;
}

export interface FailoverRecord {
  /** The controller that crashed, and when. */
  readonly node: string;
  readonly crashedAt: Nanos;
  /** From the crash until every switch it mastered had another master (null: never, in this trace). */
  readonly recoveredAfterNs: Nanos | null;
}

export interface TraceMeta {
  readonly scenario: string | null;
  readonly seed: number | null;
  /** The last record's time. */
  readonly endNs: Nanos;
  readonly lines: number;
  /** The trace hash of the text (sim/kernel/trace-hash.ts over every line plus "\n"): the CLI's hash for the same run. */
  readonly hash: string;
}

export interface TraceModel {
  readonly meta: TraceMeta;
  /** Every node that ever started, in first-start order. */
  readonly nodes: readonly TopologyNode[];
  readonly tunnels: readonly TunnelEdge[];
  /** Every LDPS (tenant) named by a mastership record, sorted. */
  readonly ldpses: readonly string[];
  readonly timeline: readonly TimelineEntry[];
  /** The state at `t` (clamped to [0, meta.endNs]). Fast enough to call on every scrub of a 1,000-host trace. */
  viewAt(t: Nanos): ViewState;
  /** Packets sent by VMs, in send order. */
  readonly packets: readonly PacketSummary[];
  /** Every hop of one packet (and of the copies and answers that carry its id as origin), in trace order. */
  packetPath(packetId: number): readonly PacketHop[];
  readonly charts: {
    readonly failovers: readonly FailoverRecord[];
    /** Messages sent (net.send) per second of virtual time, one point per second. */
    readonly messagesPerSecond: readonly SeriesPoint[];
    /** Switch id → installed flow count over time (a point at each change). */
    readonly flowsPerSwitch: Readonly<Record<string, readonly SeriesPoint[]>>;
  };
}
