// What travels over the fabric: a JSON-like message body with a `type`, wrapped in an envelope that the
// fabric owns (id, endpoints, send time). Owns these shapes only.

import type { Nanos } from '../kernel/time.ts';

export type NodeId = string;

/** A message body. Keep it plain data: it is journaled as JSON in full traces. */
export interface Message {
  readonly type: string;
  readonly [field: string]: unknown;
}

export interface Envelope {
  /** Unique per fabric; a duplicate copy gets its own id. */
  readonly id: number;
  readonly src: NodeId;
  readonly dst: NodeId;
  readonly body: Message;
  readonly sentAt: Nanos;
  /** For a duplicate made by the link, the id of the original. */
  readonly copyOf?: number;
}
