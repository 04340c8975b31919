// A stand-alone PTD group for storage scenarios: a few PTD servers and their clients, each a node process
// holding a coordination manager (sim/coord) and a PTD component (sim/store/ptd.ts) — a controller
// instance stripped of everything but its secondary storage. The servers are the CM's voters and hold PTD
// replicas; the clients follow the CM log as learners and are PTD-less (they submit and import). The CM
// names the master PTD (the first PTD holder up, then a live one whenever it is declared down) and its
// epoch; every node hands each such change to its PTD. Owns this wiring only: no workload, no checks.

import type { Nanos } from '../../sim/kernel/time.ts';
import type { Message, NodeContext, NodeId, NodeProcess } from '../../sim/net/index.ts';
import { CoordinationManager } from '../../sim/coord/coordination-manager.ts';
import { PtdNode } from '../../sim/store/ptd.ts';
import type { World } from '../../sim/testbed/index.ts';

export interface PtdGroupOptions {
  /** CM voters and PTD holders. */
  servers: readonly NodeId[];
  /** CM learners without a PTD. */
  clients: readonly NodeId[];
  commit: 'all' | 'majority';
  order: 'ack-then-write' | 'write-then-notify';
  /** Key prefixes every node's import module watches; default none. */
  watch?: readonly string[];
  /** The CM's failure detector (defaults: the CM's own). */
  sessionHeartbeatNs?: Nanos;
  sessionTimeoutNs?: Nanos;
}

export class PtdGroupNode implements NodeProcess {
  readonly cm: CoordinationManager;
  readonly ptd: PtdNode;

  constructor(ctx: NodeContext, options: PtdGroupOptions) {
    const server = options.servers.includes(ctx.id);
    this.cm = new CoordinationManager(ctx, {
      voters: options.servers,
      learners: options.clients,
      hasPtd: server,
      hasDht: false,
      sessionHeartbeatNs: options.sessionHeartbeatNs,
      sessionTimeoutNs: options.sessionTimeoutNs,
      onApplied: (_index, _command, effects) => {
        if (effects.ptdMaster || effects.membership) this.ptd.onViewChange();
      },
    });
    this.ptd = new PtdNode(ctx, {
      view: () => ({
        master: this.cm.state.ptdMaster,
        epoch: this.cm.state.ptdEpoch,
        replicas: options.servers,
        importers: [...options.servers, ...options.clients],
      }),
      hasReplica: server,
      commit: options.commit,
      order: options.order,
    });
    for (const prefix of options.watch ?? []) this.ptd.watch(prefix);
  }

  onMessage(from: NodeId, body: Message): void {
    if (!this.cm.onMessage(from, body)) this.ptd.onMessage(from, body);
  }
}

/** Adds a group's nodes to the world (servers first) and returns their ids. */
export function addPtdGroup(world: World, options: PtdGroupOptions): NodeId[] {
  const ids = [...options.servers, ...options.clients];
  if (new Set(ids).size !== ids.length || options.servers.length === 0) throw new Error(`PTD group: servers and clients must be distinct ids, at least one server (got ${ids.join(', ')})`);
  for (const id of ids) world.fabric.addNode(id, (ctx) => new PtdGroupNode(ctx, options), { kind: options.servers.includes(id) ? 'ptd-server' : 'ptd-client' });
  return ids;
}

/**
 * The group's acting master PTD: of the up servers that act as ready master in the epoch their own CM
 * names them for, the newest; else whom the most up-to-date up CM names (mid-failover).
 */
export function currentPtdMaster(world: World, servers: readonly NodeId[]): NodeId | null {
  let best: { id: NodeId | null; epoch: number; ready: boolean } | null = null;
  for (const id of servers) {
    const node = world.fabric.process<PtdGroupNode>(id);
    if (node === undefined) continue;
    const state = node.cm.state;
    const ready = state.ptdMaster === id && node.ptd.isReadyMaster;
    const better = best === null || (ready && !best.ready) || (ready === best.ready && state.ptdEpoch > best.epoch);
    if (better) best = { id: ready ? id : state.ptdMaster, epoch: state.ptdEpoch, ready };
  }
  return best?.id ?? null;
}
