// What a controller-cluster scenario whose instances hold a DHT checks of it (seed 000 §4.3, invariant
// 22 and the DHT's consistency after quiescence):
//   - ranges partition the space: every time a CM replica applies a membership change, its range list
//     covers [0, 2^48) exactly, without gap or overlap, and its owners are the members it holds up with a
//     DHT;
//   - gets agree (liveness): once faults stop, every live DHT-holding instance's get of every flow record
//     key ('pcp/…') some instance holds returns the same record. The check asks: it issues a round of
//     gets (without registering watches) from every live instance, and judges the round once every answer
//     is in; a round that an instance's crash leaves unanswered is abandoned for a new one.
// Owns those checks and their counts; reads the cluster through the view, changes nothing but sending gets.

import type { LivenessInvariant, SafetyInvariant } from '../../sim/check/invariant.ts';
import type { ClusterInstance } from '../../sim/control/cluster-instance.ts';
import { NS_PER_MS, type Nanos } from '../../sim/kernel/time.ts';
import type { NodeId } from '../../sim/net/message.ts';
import type { DhtResult } from '../../sim/store/dht.ts';
import { checkPartition } from '../../sim/store/range-list.ts';
import type { World } from '../../sim/testbed/index.ts';

/** What the checks read of the cluster (an NvTestbed is one). */
export interface DhtClusterView {
  readonly instances: readonly NodeId[];
  /** The instance's process, or undefined while it is down. */
  instance(id: NodeId): ClusterInstance | undefined;
}

const PCP_PREFIX = 'pcp/';
/** Longer than a get's whole retransmit schedule: a round older than this lost an answer to a crash. */
const ROUND_TIMEOUT_NS: Nanos = 500 * NS_PER_MS;

interface GetRound {
  readonly startedNs: Nanos;
  readonly keys: readonly string[];
  /** Per key, per instance: what its get returned, as comparable text. */
  readonly answers: Map<string, Map<NodeId, string>>;
  outstanding: number;
}

export class DhtChecks {
  private rangeListsChecked = 0;
  private keysAgreed: number | null = null;
  private round: GetRound | null = null;

  constructor(
    private readonly world: World,
    private readonly cluster: DhtClusterView,
  ) {}

  installInvariants(): this {
    this.world.invariant(this.rangesPartitionInvariant());
    this.world.invariant(this.getsAgreeInvariant());
    return this;
  }

  installMetrics(): this {
    this.world.metric('dht', () => ({ rangeListsChecked: this.rangeListsChecked, keysAgreed: this.keysAgreed }));
    return this;
  }

  private rangesPartitionInvariant(): SafetyInvariant {
    return {
      kind: 'safety',
      id: 'dht-ranges-partition',
      description: 'at every membership change a CM replica applies, its DHT range list partitions [0, 2^48) among the up DHT holders',
      watch: (violated) => {
        this.world.trace.on('cm.member', (e) => {
          const state = this.cluster.instance(e.node)?.cm.state;
          if (state === undefined) return; // applied while the process is being built: nothing to read yet
          this.rangeListsChecked++;
          const holders = state.upMembers().filter((id) => state.members.get(id)?.hasDht === true);
          const ranges = state.dhtRanges;
          const where = `${e.node} at CM index ${e.index}`;
          if (holders.length === 0) {
            if (ranges.length > 0) violated(`${where}: no DHT holder is up, yet the range list has ${ranges.length} range(s)`);
            return;
          }
          const gap = checkPartition(ranges);
          if (gap !== null) return violated(`${where}: ${gap}`);
          const owners = [...new Set(ranges.map((r) => r.owner))].sort();
          if (owners.join() !== holders.join()) violated(`${where}: ranges owned by [${owners.join(', ')}], but the up DHT holders are [${holders.join(', ')}]`);
        });
      },
    };
  }

  private getsAgreeInvariant(): LivenessInvariant {
    return {
      kind: 'liveness',
      id: 'dht-gets-agree',
      description: "after faults stop, every live DHT holder's get of every flow record key returns the same record",
      holds: () => {
        const round = this.round;
        if (round !== null && round.outstanding > 0) {
          if (this.world.now - round.startedNs < ROUND_TIMEOUT_NS) return 'a round of gets is under way';
          this.round = null;
          return 'a round of gets went unanswered (an instance went down)';
        }
        if (round === null) return this.startRound();
        this.round = null;
        const verdict = judge(round);
        if (verdict === true) this.keysAgreed = round.keys.length;
        return verdict;
      },
    };
  }

  /** Sends a get of every flow record key held anywhere from every live DHT holder. */
  private startRound(): string {
    const live = this.cluster.instances.filter((id) => this.cluster.instance(id)?.dht != null);
    const keys = new Set<string>();
    for (const id of live) for (const key of this.cluster.instance(id)!.dht!.localRecords().keys()) if (key.startsWith(PCP_PREFIX)) keys.add(key);
    if (live.length === 0) return 'no DHT holder is up';
    if (keys.size === 0) return 'no DHT holder holds a flow record';
    const round: GetRound = { startedNs: this.world.now, keys: [...keys].sort(), answers: new Map(), outstanding: live.length * keys.size };
    this.round = round;
    for (const key of round.keys) {
      const answers = new Map<NodeId, string>();
      round.answers.set(key, answers);
      for (const id of live) {
        this.cluster.instance(id)!.dht!.get(
          key,
          (r) => {
            answers.set(id, describe(r));
            round.outstanding--;
          },
          { watch: false },
        );
      }
    }
    return `a round of gets of ${keys.size} key(s) from ${live.length} instance(s) has started`;
  }
}

function describe(r: DhtResult): string {
  if (!r.ok) return `error ${r.error}`;
  return r.record === null ? 'absent' : `v${r.record.version} ${JSON.stringify(r.record.value)}`;
}

function judge(round: GetRound): true | string {
  for (const key of round.keys) {
    const answers = [...round.answers.get(key)!].sort(([a], [b]) => (a < b ? -1 : 1));
    const failed = answers.find(([, a]) => a.startsWith('error '));
    if (failed !== undefined) return `${failed[0]}'s get of ${key} failed (${failed[1]})`;
    const [first, ...rest] = answers;
    const other = rest.find(([, a]) => a !== first[1]);
    if (other !== undefined) {
      const [a, b] = [versionOf(first[1]), versionOf(other[1])];
      const what = a === b ? `${a} with different values` : `${a} and ${b}`;
      return `gets of ${key} disagree: ${first[0]} and ${other[0]} see ${what}`;
    }
  }
  return true;
}

/** The version part of an answer (values are whole flow tables, too long for a one-line verdict). */
function versionOf(answer: string): string {
  const space = answer.indexOf(' ');
  return space < 0 ? answer : answer.slice(0, space);
}
