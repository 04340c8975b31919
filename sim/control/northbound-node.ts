// The northbound database as a node on the fabric (OVN's NB database, NVP's API servers): it holds the
// tenants' logical configuration (a LogicalNetworks, which is its durable contents) and streams every
// committed change set to the controllers that subscribed, so controller crashes, partitions and lossy
// links affect how the configuration reaches them. Owns the subscription protocol; not the model's
// validation (sim/logical) nor what controllers compute from it.
//
// Protocol (messages 'nb.*'):
//   controller → nb   nb.subscribe                         (on start, and whenever it sees a gap)
//   nb → controller   nb.snapshot  { seq, snapshot }       every tuple as of change set `seq`
//                     nb.changes   { seq, deltas }         change set number `seq`
//                     nb.heartbeat { seq }                 every heartbeatNs: the latest seq, so a lost
//                                                          last change set is noticed
// A subscriber that receives seq n+2 after n, or a heartbeat beyond what it has, subscribes again.

import type { Nanos } from '../kernel/time.ts';
import type { LogicalNetworks } from '../logical/logical-networks.ts';
import type { Delta, Snapshot } from '../logical/relations.ts';
import type { Message, NodeContext, NodeId, NodeProcess } from '../net/index.ts';

export type NbSubscribe = { readonly type: 'nb.subscribe' };
export type NbSnapshot = { readonly type: 'nb.snapshot'; readonly seq: number; readonly snapshot: Snapshot };
export type NbChanges = { readonly type: 'nb.changes'; readonly seq: number; readonly deltas: readonly Delta[] };
export type NbHeartbeat = { readonly type: 'nb.heartbeat'; readonly seq: number };
export type NorthboundMessage = NbSnapshot | NbChanges | NbHeartbeat;

export const NB_DEFAULT_HEARTBEAT_NS: Nanos = 500_000_000;

export class NorthboundNode implements NodeProcess {
  private readonly subscribers = new Set<NodeId>();
  /** Change sets committed since the model was created; persistent, like the database's log. */
  private seq: number;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly ctx: NodeContext,
    private readonly model: LogicalNetworks,
    private readonly heartbeatNs: Nanos = NB_DEFAULT_HEARTBEAT_NS,
  ) {
    this.seq = ctx.disk.get<number>('nb/seq') ?? 0;
    this.unsubscribe = model.subscribe((deltas) => this.publish(deltas));
    this.heartbeat();
  }

  onMessage(from: NodeId, body: Message): void {
    if (body.type !== 'nb.subscribe') return;
    this.subscribers.add(from);
    this.ctx.send(from, { type: 'nb.snapshot', seq: this.seq, snapshot: this.model.snapshot() } satisfies NbSnapshot);
  }

  private publish(deltas: readonly Delta[]): void {
    // The model commits even while this node is down (the database outlives the server process); a dead
    // incarnation stops listening, and its successor's subscribers start from a snapshot.
    if (!this.ctx.isAlive()) {
      this.unsubscribe();
      return;
    }
    this.seq++;
    this.ctx.disk.put('nb/seq', this.seq);
    for (const s of this.subscribers) this.ctx.send(s, { type: 'nb.changes', seq: this.seq, deltas } satisfies NbChanges);
  }

  private heartbeat(): void {
    this.ctx.setTimer(this.heartbeatNs, () => {
      for (const s of this.subscribers) this.ctx.send(s, { type: 'nb.heartbeat', seq: this.seq } satisfies NbHeartbeat);
      this.heartbeat();
    });
  }
}
