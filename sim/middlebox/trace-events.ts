// The middlebox layer's journal entries: the element's per-packet verdicts (level full, through
// trace.detail) and its state and configuration events, the state sharing managers' exchanges (level
// summary, through trace.emit; 'ssm.share' is per change, so detail). Declared here, emitted only by the
// element (element.ts) and the state sharing manager (state-sharing-manager.ts).

import type { NodeId } from '../net/message.ts';
import type { MiddleboxMode } from '../dataplane/middlebox-hook.ts';
import type { StateGapPolicy } from './vm-state.ts';

declare module '../kernel/trace.ts' {
  interface TraceEventMap {
    /** One committed packet: what the element answered, and which connection (if any) it belonged to. */
    'mb.verdict': {
      node: NodeId;
      tag: number;
      vmKey: number;
      mode: MiddleboxMode;
      verdict: 'pass' | 'drop' | 'reject' | 'buffer';
      conn: 'new' | 'established' | 'reply' | 'none';
      reason?: string;
    };
    /** An external slice tag got its internal id (once per tag and element life). */
    'mb.slice.create': { node: NodeId; tag: number; internal: number };
    /** A migrated VM's state was installed: snapshot connections, type-1 entries and deltas applied. */
    'mb.state.install': { node: NodeId; vmKey: number; connections: number; shared: number; deltas: number };
    /** A VM's state left the element: explicit delete, TTL expiry, or idle connections collected. */
    'mb.state.remove': { node: NodeId; vmKey: number; entries: number; cause: 'delete' | 'ttl' | 'idle' };
    /** A state gap (migration destination) opened, closed by an install, or ended at its timeout. */
    'mb.gap': { node: NodeId; vmKey: number; policy: StateGapPolicy; event: 'open' | 'close' | 'timeout' };
    /** An IDS slice's alert rule matched a packet. */
    'mb.alert': { node: NodeId; tag: number; srcIp: string; rule: number };
    /** A configuration record that could not be used (skipped, not thrown: it came from the network). */
    'mb.record.bad': { node: NodeId; error: string };
    /** The element handed type-1 entries to its state sharing manager. */
    'ssm.share': { node: NodeId; tag: number; vmKey: number; entries: number };
    /** Type-1 state arrived from a peer state sharing manager (first copy of each exchange only). */
    'ssm.exchange': { from: NodeId; to: NodeId; vmKey: number; entries: number };
    /** A migrated VM's state was installed through this manager, which acknowledges it. */
    'ssm.ack': { node: NodeId; vmKey: number };
  }
}

export {};
