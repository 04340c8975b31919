// Request-list invariants (seed 000 FIG. 33, S15): every request appended to the NIB request list gets
// exactly one response, decided by the master of its LDPS, and its origin hears it.
//   - one decision (safety): no request is decided twice, and whoever decided it was the LDPS's master at
//     the epoch it decided under (as the coordination manager assigned it);
//   - answered (liveness): once quiet, no request is left on the list; every request that reached it —
//     and every request an app asked for on an instance that has not crashed since — has a response in
//     the store; and every origin that is up has heard its response, with the verdict the store holds.
//     (An app on an instance that crashes before its append lands asked for nothing the list knows of.)
// Owns these checks; reads the store through the view the caller supplies. Changes nothing.

import type { TraceRecorder } from '../kernel/trace.ts';
import type { NodeId } from '../net/message.ts';
import type { LivenessInvariant, SafetyInvariant } from './invariant.ts';
import type { AssignmentHistory } from './mastership.ts';

export interface StoredResponse {
  readonly verdict: 'ack' | 'deny';
  readonly reason: string | null;
}

/** The store as committed; each method returns null when it cannot be read now. */
export interface RequestStoreView {
  response(id: string): StoredResponse | undefined | null;
  /** The requests still on the list. */
  pending(): readonly string[] | null;
  isUp(node: NodeId): boolean;
}

export function oneDecisionPerRequestInvariant(history: AssignmentHistory, trace: TraceRecorder): SafetyInvariant {
  return {
    kind: 'safety',
    id: 'request-decided-once-by-master',
    description: 'every request on the NIB request list is decided at most once, by the master of its LDPS at its epoch',
    watch(violated) {
      const decided = new Map<string, string>();
      trace.on('request.decide', (e) => {
        const seen = decided.get(e.request);
        if (seen !== undefined) violated(`request ${e.request} decided twice: by ${seen}, then by ${e.master}@${e.epoch}`);
        decided.set(e.request, `${e.master}@${e.epoch}`);
        const master = history.masterAt(`ldps:${e.ldps}`, e.epoch);
        if (master !== e.master) violated(`${e.master} decided request ${e.request} under epoch ${e.epoch} of ldps:${e.ldps}, which the CM gave to ${master ?? 'nobody'}`);
      });
    },
  };
}

export function everyRequestAnsweredInvariant(trace: TraceRecorder, view: RequestStoreView): LivenessInvariant {
  /** Requests asked for, with whether they must reach the list (false once their origin crashed first). */
  const asked = new Map<string, { origin: NodeId; mustArrive: boolean }>();
  const heard = new Map<string, StoredResponse>();
  trace.on('request.submit', (e) => asked.set(e.request, { origin: e.origin, mustArrive: true }));
  trace.on('request.append', (e) => asked.set(e.request, { origin: e.origin, mustArrive: true }));
  trace.on('fault.crash', (e) => {
    for (const [id, a] of asked) if (a.origin === e.node) asked.set(id, { ...a, mustArrive: false });
  });
  trace.on('request.answered', (e) => heard.set(e.request, { verdict: e.verdict, reason: e.reason }));
  return {
    kind: 'liveness',
    id: 'request-answered-once',
    description: 'no request is left on the NIB request list; each has one response, and its origin, if up, has heard it',
    holds() {
      const pending = view.pending();
      if (pending === null) return 'the NIB cannot be read (no live master PTD)';
      if (pending.length > 0) return `request ${pending[0]} is still pending`;
      for (const [id, { origin, mustArrive }] of asked) {
        const stored = view.response(id);
        if (stored === null) return 'the NIB cannot be read (no live master PTD)';
        if (stored === undefined) {
          if (mustArrive) return `request ${id} has no response`;
          continue;
        }
        const h = heard.get(id);
        if (h === undefined) {
          if (view.isUp(origin)) return `${origin} has not heard the response to ${id}`;
          continue;
        }
        if (h.verdict !== stored.verdict || h.reason !== stored.reason) {
          return `${origin} heard ${h.verdict}/${h.reason} for ${id}, but the NIB says ${stored.verdict}/${stored.reason}`;
        }
      }
      return true;
    },
  };
}
