// The messages Raft peers exchange over the fabric. Owns their shapes only. Every type starts with 'raft.'
// so a controller can route them to its peer by prefix. They are plain JSON-like data (the fabric clones
// and journals them), and each carries the sender's term, the one field every Raft rule looks at first.

import type { RaftEntry } from './raft-log.ts';

/**
 * A request for a vote. With `preVote` it asks "would you vote for me in `term`?" without anyone changing
 * term or vote (thesis §9.6), and `term` is the term the sender would stand in, one above its own.
 */
export type VoteRequest = {
  readonly type: 'raft.vote';
  readonly term: number;
  readonly preVote: boolean;
  readonly lastIndex: number;
  readonly lastTerm: number;
};

/**
 * The answer to a vote request. A granted pre-vote echoes the requested term, so the candidate can tell it
 * from a stale one; a refusal carries the voter's own term, so a candidate that is behind catches up.
 */
export type VoteReply = {
  readonly type: 'raft.vote-reply';
  readonly term: number;
  readonly preVote: boolean;
  readonly granted: boolean;
};

/** AppendEntries: the entries after `prevIndex` (none for a bare heartbeat) and the leader's commit index. */
export type AppendRequest = {
  readonly type: 'raft.append';
  readonly term: number;
  readonly prevIndex: number;
  readonly prevTerm: number;
  readonly entries: readonly RaftEntry<unknown>[];
  readonly commit: number;
};

/**
 * The answer to an AppendEntries. On success `index` is the last index the follower now shares with the
 * leader (prevIndex + entries sent, not its own last index: entries beyond it are unverified); on failure
 * it is where the leader should try next.
 */
export type AppendReply = {
  readonly type: 'raft.append-reply';
  readonly term: number;
  readonly success: boolean;
  readonly index: number;
};

export type RaftMessage = VoteRequest | VoteReply | AppendRequest | AppendReply;

export const RAFT_MESSAGE_PREFIX = 'raft.';
