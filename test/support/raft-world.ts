// A World of Raft peers for tests: each node runs one RaftPeer<string>, and the harness records what every
// incarnation of every node applied and every state change it reported. Owns only this wiring; the tests
// own their timings, faults, proposals and what they check.
import { RaftPeer, type RaftOptions, type RaftRole } from '../../sim/coord/raft.ts';
import type { LinkConfig } from '../../sim/net/link.ts';
import type { Message, NodeId } from '../../sim/net/message.ts';
import type { NodeContext, NodeProcess } from '../../sim/net/node.ts';
import { World } from '../../sim/testbed/world.ts';

export interface Applied {
  index: number;
  term: number;
  command: string | null;
}

export interface StateRecord {
  node: NodeId;
  incarnation: number;
  role: RaftRole;
  term: number;
  leader: NodeId | null;
}

/** One Raft peer as a node's whole program. */
export class RaftNode implements NodeProcess {
  readonly raft: RaftPeer<string>;
  constructor(ctx: NodeContext, options: RaftOptions<string>) {
    this.raft = new RaftPeer(ctx, options);
  }
  onMessage(from: NodeId, body: Message): void {
    this.raft.onMessage(from, body);
  }
}

/** Every RaftOptions field the harness does not fill in itself. */
export type RaftTuning = Omit<RaftOptions<string>, 'voters' | 'learners' | 'apply' | 'onStateChange'>;

export interface RaftWorldOptions {
  voters: NodeId[];
  learners?: NodeId[];
  /** Nodes that start outside both lists (for tests that add members later). */
  spares?: NodeId[];
  seed: number;
  tuning?: RaftTuning;
  /** The fabric's default link; the fabric's own default when absent. */
  defaultLink?: LinkConfig;
  /** The nodes' kind in the fabric; the fabric's own default when absent. */
  kind?: string;
}

/**
 * Builds the world with voters, then learners, then spares added in that order. `applied(id)` is what the
 * node's current incarnation applied, `incarnations(id)` every incarnation's, oldest first; `peer(id)` is
 * undefined while the node is down.
 */
export function raftWorld({ voters, learners = [], spares = [], seed, tuning = {}, defaultLink, kind }: RaftWorldOptions) {
  const world = new World({ seed, trace: 'off', defaultLink });
  const nodes = [...voters, ...learners, ...spares];
  const appliedBy = new Map<NodeId, Applied[][]>(nodes.map((id) => [id, []]));
  const states: StateRecord[] = [];
  for (const id of nodes) {
    world.fabric.addNode(
      id,
      (ctx) => {
        const mine: Applied[] = [];
        appliedBy.get(id)!.push(mine);
        return new RaftNode(ctx, {
          ...tuning,
          voters,
          learners,
          apply: (index, term, command) => mine.push({ index, term, command }),
          onStateChange: (s) => states.push({ node: id, incarnation: ctx.incarnation, ...s }),
        });
      },
      { kind },
    );
  }
  const peer = (id: NodeId): RaftPeer<string> | undefined => world.fabric.process<RaftNode>(id)?.raft;
  const up = () => nodes.filter((id) => world.fabric.isUp(id));
  const leaders = () => up().filter((id) => peer(id)!.isLeader);
  const applied = (id: NodeId) => appliedBy.get(id)!.at(-1)!;
  const incarnations = (id: NodeId) => appliedBy.get(id)!;
  return { world, fabric: world.fabric, nodes, peer, up, leaders, applied, incarnations, states };
}
