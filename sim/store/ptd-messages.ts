// The PTD's wire format: log entries, request ids and every message PTD components exchange, as plain data
// (the fabric clones and journals them). Owns these shapes only; ptd.ts owns what they mean.
//
// Who sends what (M = master of `epoch`, R = a replica, C = any submitter, I = any import module):
//   C→M submit; M→C accepted | result | refused | not-master             (FIG. 41 / 42, with dedupe)
//   M→R state-query; R→M report(kind 'state')                             (synchronisation on a new master)
//   M→R fetch; R→M entries                                                (the new master adopts a longer log)
//   M→R append; R→M report(kind 'ack' or, on a gap or conflict, 'state')  (replication, truncation)
//   M→R commit; M→R,I beat                                                (commit point; periodic anti-entropy)
//   R→M stale                                                             (fencing: "your epoch is over")
//   I→M watch; M→I watched; M→I notify                                    (trigger list and import, FIG. 43)

import type { NodeId } from '../net/message.ts';
import type { PtdRecord, Transaction, TxnOutcome } from './ptd-transaction.ts';

/** Identifies one submission: unique per origin incarnation, so a retransmission can be recognised. */
export type RequestId = { readonly origin: NodeId; readonly incarnation: number; readonly seq: number };

export function requestKey(r: RequestId): string {
  return `${r.origin}#${r.incarnation}#${r.seq}`;
}

/**
 * One slot of the replicated log. `txn` null is the no-op a new master writes to open its epoch;
 * `request` travels with the entry so any later master can recognise a retransmitted submission.
 */
export type LogEntry = {
  readonly index: number;
  readonly epoch: number;
  readonly request: RequestId | null;
  readonly txn: Transaction | null;
};

export type RecordChange = { readonly key: string; readonly record: PtdRecord | null };

export type SubmitMessage = { readonly type: 'ptd.submit'; readonly request: RequestId; readonly txn: Transaction };
/** The master holds the request (ordered at `index`, or queued while it synchronises: null). */
export type AcceptedMessage = { readonly type: 'ptd.accepted'; readonly request: RequestId; readonly index: number | null };
export type ResultMessage = { readonly type: 'ptd.result'; readonly request: RequestId; readonly index: number; readonly outcome: TxnOutcome };
export type RefusedMessage = { readonly type: 'ptd.refused'; readonly request: RequestId; readonly reason: string };
export type NotMasterMessage = { readonly type: 'ptd.not-master'; readonly request: RequestId };

export type StateQueryMessage = { readonly type: 'ptd.state-query'; readonly epoch: number };
/**
 * A replica's position. kind 'ack': its log matches the master's through `lastIndex` (just verified);
 * kind 'state': its log ends at (`lastIndex`, `lastEpoch`), and everything through `applied` is applied.
 */
export type ReportMessage = {
  readonly type: 'ptd.report';
  readonly epoch: number;
  readonly kind: 'ack' | 'state';
  readonly lastIndex: number;
  readonly lastEpoch: number;
  readonly applied: number;
};
export type FetchMessage = { readonly type: 'ptd.fetch'; readonly epoch: number; readonly from: number };
export type EntriesMessage = {
  readonly type: 'ptd.entries';
  readonly epoch: number;
  readonly prevIndex: number;
  readonly prevEpoch: number;
  readonly entries: readonly LogEntry[];
};
/** `entries` follow (prevIndex, prevEpoch); `commit` is the master's commit point, `lastIndex` its log end. */
export type AppendMessage = {
  readonly type: 'ptd.append';
  readonly epoch: number;
  readonly prevIndex: number;
  readonly prevEpoch: number;
  readonly entries: readonly LogEntry[];
  readonly commit: number;
  readonly lastIndex: number;
};
export type CommitMessage = { readonly type: 'ptd.commit'; readonly epoch: number; readonly index: number; readonly indexEpoch: number };
/**
 * `notified`: the last notification number sent to the recipient's import module in this `session` (null:
 * not registered). A session is one mastership: the master's epoch and the incarnation of its process.
 */
export type BeatMessage = {
  readonly type: 'ptd.beat';
  readonly epoch: number;
  readonly session: number;
  readonly lastIndex: number;
  readonly lastEpoch: number;
  readonly commit: number;
  readonly commitEpoch: number;
  readonly notified: number | null;
};
export type StaleMessage = { readonly type: 'ptd.stale'; readonly epoch: number };

export type WatchMessage = { readonly type: 'ptd.watch'; readonly epoch: number; readonly watchId: number; readonly prefixes: readonly string[] };
/** Everything under the watched prefixes at `index`; this session's notifications continue from `nextSeq`. */
export type WatchedMessage = {
  readonly type: 'ptd.watched';
  readonly epoch: number;
  readonly session: number;
  readonly watchId: number;
  readonly index: number;
  readonly nextSeq: number;
  readonly records: readonly RecordChange[];
};
export type NotifyMessage = {
  readonly type: 'ptd.notify';
  readonly epoch: number;
  readonly session: number;
  readonly seq: number;
  readonly index: number;
  readonly changes: readonly RecordChange[];
};

export type PtdMessage =
  | SubmitMessage
  | AcceptedMessage
  | ResultMessage
  | RefusedMessage
  | NotMasterMessage
  | StateQueryMessage
  | ReportMessage
  | FetchMessage
  | EntriesMessage
  | AppendMessage
  | CommitMessage
  | BeatMessage
  | StaleMessage
  | WatchMessage
  | WatchedMessage
  | NotifyMessage;
