// Raft peers in small simulated groups: one leader per group, replication and apply order, CheckQuorum
// under a partition, replay after a restart, learners, log matching over a stale leader's entries,
// pre-vote, batching, the disk layout of the log, and the checks on options and proposals.
import { describe, expect, test } from 'vitest';
import { RaftLog } from '../../sim/coord/raft-log.ts';
import { RaftPeer, type RaftOptions } from '../../sim/coord/raft.ts';
import { NS_PER_MS, NS_PER_S } from '../../sim/kernel/time.ts';
import type { Message, NodeId } from '../../sim/net/message.ts';
import type { NodeContext } from '../../sim/net/node.ts';
import { PersistentStore } from '../../sim/net/persistent-store.ts';
import { World } from '../../sim/testbed/world.ts';
import { RaftNode, raftWorld, type Applied, type RaftTuning, type StateRecord } from '../support/raft-world.ts';

/**
 * A group of voters (and learners, and spare nodes that start outside both lists) on 1 ms links.
 * `applied(id)` is what the node's current incarnation applied; `incarnations(id)` every incarnation's.
 */
function group(voters: NodeId[], { learners = [] as NodeId[], spares = [] as NodeId[], seed = 1, tuning = {} as RaftTuning } = {}) {
  const w = raftWorld({ voters, learners, spares, seed, tuning, kind: 'controller' });
  const peer = (id: NodeId) => w.peer(id)!;
  const theLeader = () => {
    const ls = w.leaders();
    expect(ls).toHaveLength(1);
    return ls[0];
  };
  const runFor = (ns: number) => w.world.scheduler.runFor(ns);
  const commands = (id: NodeId) => w.applied(id).map((a) => a.command);
  return { world: w.world, fabric: w.fabric, peer, leaders: w.leaders, theLeader, applied: w.applied, incarnations: w.incarnations, commands, states: w.states, runFor };
}

const ids = (n: number, prefix = 'c') => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

/** At most one node ever reported itself leader of any term. */
function expectOneLeaderPerTerm(states: readonly StateRecord[]): void {
  const byTerm = new Map<number, Set<NodeId>>();
  for (const s of states) if (s.role === 'leader') byTerm.set(s.term, (byTerm.get(s.term) ?? new Set()).add(s.node));
  for (const [term, nodes] of byTerm) expect([...nodes], `leaders of term ${term}`).toHaveLength(1);
}

describe('election', () => {
  test.each([3, 5])('a group of %i voters elects exactly one leader, and every other voter follows it', (n) => {
    const voters = ids(n);
    const g = group(voters, { seed: n });
    g.runFor(2 * NS_PER_S);
    const leader = g.theLeader();
    const term = g.peer(leader).term;
    expect(term).toBeGreaterThan(0);
    for (const id of voters) {
      if (id === leader) continue;
      expect(g.peer(id).role).toBe('follower');
      expect(g.peer(id).leader).toBe(leader);
      expect(g.peer(id).term).toBe(term);
    }
    expectOneLeaderPerTerm(g.states);
  });

  test('a single voter elects itself and commits alone', () => {
    const g = group(['solo']);
    g.runFor(NS_PER_S);
    expect(g.peer('solo').isLeader).toBe(true);
    expect(g.peer('solo').propose('x')).toBe(2);
    g.runFor(NS_PER_MS);
    expect(g.commands('solo')).toEqual([null, 'x']);
  });

  test('the same seed gives the same elections; another seed gives others', () => {
    const history = (seed: number) => {
      const g = group(ids(5), { seed });
      g.runFor(NS_PER_S);
      g.fabric.crash(g.theLeader());
      g.runFor(NS_PER_S);
      return g.states;
    };
    expect(history(11)).toEqual(history(11));
    expect(history(11)).not.toEqual(history(12));
  });

  test('every role change is in the trace, and state changes reach onStateChange', () => {
    const g = group(ids(3));
    const roles: string[] = [];
    g.world.trace.on('raft.role', (e) => roles.push(`${e.node}:${e.role}`));
    g.runFor(NS_PER_S);
    const leader = g.theLeader();
    expect(roles).toContain(`${leader}:leader`);
    expect(g.states.filter((s) => s.node === leader).at(-1)).toEqual({ node: leader, incarnation: 1, role: 'leader', term: g.peer(leader).term, leader });
  });
});

describe('replication', () => {
  test('proposals at the leader are applied on every node in index order, after the leader no-op', () => {
    const voters = ids(3);
    const g = group(voters, { learners: ['l1'] });
    g.runFor(NS_PER_S);
    const leader = g.theLeader();
    const follower = voters.find((id) => id !== leader)!;
    expect(g.peer(follower).propose('nope')).toBeNull();
    const commands = ids(10, 'cmd');
    const indexes = commands.map((c) => g.peer(leader).propose(c));
    expect(indexes).toEqual(commands.map((_, i) => i + 2));
    g.runFor(500 * NS_PER_MS);
    const term = g.peer(leader).term;
    const expected = [null, ...commands].map((command, i) => ({ index: i + 1, term, command }));
    for (const id of [...voters, 'l1']) {
      expect(g.applied(id)).toEqual(expected);
      expect(g.peer(id).commitIndex).toBe(11);
      expect(g.peer(id).lastApplied).toBe(11);
    }
  });

  test('AppendEntries never carries more than maxBatch entries, and a lagging follower still catches up', () => {
    const voters = ids(3);
    const g = group(voters, { tuning: { maxBatch: 8 } });
    let largest = 0;
    g.world.trace.on('net.send', (e) => {
      if (e.body.type === 'raft.append') largest = Math.max(largest, (e.body.entries as unknown[]).length);
    });
    g.runFor(NS_PER_S);
    const leader = g.theLeader();
    const lagging = voters.find((id) => id !== leader)!;
    g.fabric.crash(lagging);
    for (let i = 0; i < 100; i++) g.peer(leader).propose(`v${i}`);
    g.runFor(200 * NS_PER_MS);
    g.fabric.restart(lagging);
    g.runFor(NS_PER_S);
    expect(largest).toBe(8);
    expect(g.commands(lagging)).toEqual(g.commands(leader));
    expect(g.commands(lagging)).toHaveLength(101);
  });

  test('a restarted follower keeps its term and vote and applies its log again from index 1', () => {
    const voters = ids(3);
    const g = group(voters);
    g.runFor(NS_PER_S);
    const leader = g.theLeader();
    const follower = voters.find((id) => id !== leader)!;
    for (const c of ['a', 'b', 'c']) g.peer(leader).propose(c);
    g.runFor(200 * NS_PER_MS);
    const termBefore = g.peer(follower).term;
    g.fabric.crash(follower);
    for (const c of ['d', 'e']) g.peer(leader).propose(c);
    g.runFor(200 * NS_PER_MS);
    g.fabric.restart(follower);
    expect(g.peer(follower).term).toBe(termBefore);
    expect(g.peer(follower).lastIndex).toBe(4);
    expect(g.peer(follower).lastApplied).toBe(0);
    g.runFor(NS_PER_S);
    const [first, second] = g.incarnations(follower);
    expect(first.map((a) => a.command)).toEqual([null, 'a', 'b', 'c']);
    expect(second.map((a) => a.index)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(second).toEqual(g.applied(leader));
  });
});

describe('partitions', () => {
  test('a leader cut off from the majority steps down, and the majority elects a new one', () => {
    const voters = ids(5);
    const g = group(voters, { seed: 2 });
    g.runFor(NS_PER_S);
    const old = g.theLeader();
    const oldTerm = g.peer(old).term;
    const majority = voters.filter((id) => id !== old);
    g.fabric.partition('cut', [[old], majority]);
    g.runFor(NS_PER_S);
    expect(g.peer(old).isLeader).toBe(false);
    const fresh = g.theLeader();
    expect(majority).toContain(fresh);
    expect(g.peer(fresh).term).toBeGreaterThan(oldTerm);
    g.fabric.heal('cut');
    g.runFor(NS_PER_S);
    expect(g.theLeader()).toBe(fresh);
    expect(g.peer(old).leader).toBe(fresh);
    expectOneLeaderPerTerm(g.states);
  });

  test("a stale leader's uncommitted entries are overwritten by the new leader's (log matching)", () => {
    const voters = ids(5);
    const g = group(voters, { seed: 3 });
    g.runFor(NS_PER_S);
    const old = g.theLeader();
    g.peer(old).propose('before');
    g.runFor(100 * NS_PER_MS);
    const buddy = voters.find((id) => id !== old)!;
    const majority = voters.filter((id) => id !== old && id !== buddy);
    g.fabric.partition('cut', [[old, buddy], majority]);
    const staleIndex = g.peer(old).propose('stale-1');
    g.peer(old).propose('stale-2');
    g.runFor(NS_PER_S);
    expect(g.peer(buddy).lastIndex).toBe(staleIndex! + 1); // the stale entries did reach the minority
    const fresh = g.theLeader();
    g.peer(fresh).propose('fresh-1');
    g.peer(fresh).propose('fresh-2');
    g.runFor(200 * NS_PER_MS);
    g.fabric.heal('cut');
    g.runFor(NS_PER_S);
    const expected = [null, 'before', null, 'fresh-1', 'fresh-2'];
    for (const id of voters) {
      expect(g.commands(id)).toEqual(expected);
      expect(g.peer(id).lastIndex).toBe(5);
    }
    expectOneLeaderPerTerm(g.states);
  });

  test.each([
    [true, 'keeps the term'],
    [false, 'without pre-vote the term is bumped'],
  ])('pre-vote %s: a partitioned follower that rejoins %s', (preVote) => {
    const voters = ids(3);
    const g = group(voters, { seed: 4, tuning: { preVote } });
    g.runFor(NS_PER_S);
    const leader = g.theLeader();
    const term = g.peer(leader).term;
    const loner = voters.find((id) => id !== leader)!;
    const statesBefore = g.states.length;
    g.fabric.partition('cut', [[loner], voters.filter((id) => id !== loner)]);
    g.runFor(2 * NS_PER_S);
    g.fabric.heal('cut');
    g.runFor(NS_PER_S);
    if (preVote) {
      expect(g.peer(loner).role).toBe('follower');
      expect(g.theLeader()).toBe(leader);
      for (const id of voters) expect(g.peer(id).term).toBe(term);
      expect(g.states.slice(statesBefore).filter((s) => s.node === leader)).toEqual([]);
    } else {
      for (const id of voters) expect(g.peer(id).term).toBeGreaterThan(term);
    }
  });
});

/**
 * One real peer 'c1' among puppet voters whose replies the test writes by hand; `inbox(id)` is what a
 * puppet received, `say(id, to, body)` sends as it.
 */
function puppets(tuning: RaftTuning, seedDisk?: (log: RaftLog<string>) => void) {
  const world = new World({ seed: 1, trace: 'off' });
  const applied: Applied[] = [];
  world.fabric.addNode('c1', (ctx) => {
    if (ctx.incarnation === 1 && seedDisk) seedDisk(new RaftLog<string>(ctx.disk, 'raft/'));
    applied.length = 0;
    return new RaftNode(ctx, { ...tuning, voters: ['c1', 'c2', 'c3'], apply: (index, term, command) => applied.push({ index, term, command }) });
  });
  const contexts = new Map<NodeId, NodeContext>();
  const inboxes = new Map<NodeId, Message[]>();
  for (const id of ['c2', 'c3']) {
    inboxes.set(id, []);
    world.fabric.addNode(id, (ctx) => {
      contexts.set(id, ctx);
      return { onMessage: (_from: NodeId, body: Message) => void inboxes.get(id)!.push(body) };
    });
  }
  const inbox = (id: NodeId) => inboxes.get(id)!;
  const say = (id: NodeId, to: NodeId, body: Message) => contexts.get(id)!.send(to, body);
  const c1 = () => world.fabric.process<RaftNode>('c1')!.raft;
  const runFor = (ns: number) => world.scheduler.runFor(ns);
  return { world, fabric: world.fabric, c1, inbox, say, applied, runFor };
}

describe('durability and commitment rules', () => {
  test('a vote and an acknowledged entry survive a crash: the restarted peer does not vote twice in a term', () => {
    const p = puppets({});
    p.say('c2', 'c1', { type: 'raft.vote', term: 5, preVote: false, lastIndex: 0, lastTerm: 0 });
    p.runFor(2 * NS_PER_MS);
    expect(p.inbox('c2').at(-1)).toEqual({ type: 'raft.vote-reply', term: 5, preVote: false, granted: true });
    p.say('c2', 'c1', { type: 'raft.append', term: 5, prevIndex: 0, prevTerm: 0, entries: [{ term: 5, command: 'x' }], commit: 0 });
    p.runFor(2 * NS_PER_MS);
    expect(p.inbox('c2').at(-1)).toEqual({ type: 'raft.append-reply', term: 5, success: true, index: 1 });
    p.fabric.crash('c1');
    p.fabric.restart('c1');
    expect([p.c1().term, p.c1().lastIndex]).toEqual([5, 1]);
    p.say('c3', 'c1', { type: 'raft.vote', term: 5, preVote: false, lastIndex: 1, lastTerm: 5 });
    p.runFor(2 * NS_PER_MS);
    expect(p.inbox('c3').at(-1)).toEqual({ type: 'raft.vote-reply', term: 5, preVote: false, granted: false });
  });

  test("a leader commits an earlier term's entry only by replicating one of its own term (Raft §5.4.2)", () => {
    // c1 holds [a@1, b@2] at term 2; its puppet follower c2 holds only [a@1].
    const p = puppets({ maxBatch: 1 }, (log) => {
      log.setTermAndVote(2, null);
      log.append([{ term: 1, command: 'a' }, { term: 2, command: 'b' }]);
    });
    const answer = (id: NodeId, type: string, reply: (m: Message) => Message) => {
      const m = p.inbox(id).filter((x) => x.type === type).at(-1)!;
      p.say(id, 'c1', reply(m));
      p.runFor(2 * NS_PER_MS);
    };
    let seen = 0;
    for (let ms = 0; ms < 1000 && !p.c1().isLeader; ms++) {
      p.runFor(NS_PER_MS);
      const fresh = p.inbox('c2').slice(seen);
      seen += fresh.length;
      if (fresh.some((m) => m.type === 'raft.vote')) answer('c2', 'raft.vote', (m) => ({ type: 'raft.vote-reply', term: m.term, preVote: m.preVote, granted: true }));
    }
    expect(p.c1().term).toBe(3);
    p.runFor(2 * NS_PER_MS);
    expect(p.inbox('c2').at(-1)).toMatchObject({ type: 'raft.append', prevIndex: 2, entries: [{ term: 3, command: null }] });
    answer('c2', 'raft.append', () => ({ type: 'raft.append-reply', term: 3, success: false, index: 2 }));
    expect(p.inbox('c2').at(-1)).toMatchObject({ type: 'raft.append', prevIndex: 1, entries: [{ term: 2, command: 'b' }] });
    answer('c2', 'raft.append', () => ({ type: 'raft.append-reply', term: 3, success: true, index: 2 }));
    expect(p.c1().commitIndex).toBe(0); // b is on a majority, but of term 2
    answer('c2', 'raft.append', () => ({ type: 'raft.append-reply', term: 3, success: true, index: 3 }));
    expect(p.c1().commitIndex).toBe(3);
    expect(p.applied.map((a) => a.command)).toEqual(['a', 'b', null]);
  });
});

describe('learners', () => {
  test('a learner applies everything and never stands, even with every voter down', () => {
    const voters = ids(3);
    const g = group(voters, { learners: ['l1'] });
    g.runFor(NS_PER_S);
    const leader = g.theLeader();
    for (const c of ['a', 'b']) g.peer(leader).propose(c);
    g.runFor(200 * NS_PER_MS);
    expect(g.applied('l1')).toEqual(g.applied(leader));
    expect(g.peer('l1').leader).toBe(leader);
    const term = g.peer('l1').term;
    for (const id of voters) g.fabric.crash(id);
    g.runFor(5 * NS_PER_S);
    expect(g.peer('l1').role).toBe('learner');
    expect(g.peer('l1').term).toBe(term);
    expect(g.peer('l1').propose('mine')).toBeNull();
    expect(g.states.filter((s) => s.node === 'l1').map((s) => s.role)).not.toContain('candidate');
    expect(g.states.filter((s) => s.node === 'l1').map((s) => s.role)).not.toContain('leader');
  });

  test('setLearners: a node added as a learner later catches up on the whole log', () => {
    const voters = ids(3);
    const g = group(voters, { spares: ['l2'] });
    g.runFor(NS_PER_S);
    const leader = g.theLeader();
    for (const c of ['a', 'b', 'c']) g.peer(leader).propose(c);
    g.runFor(200 * NS_PER_MS);
    expect(g.applied('l2')).toEqual([]);
    for (const id of voters) g.peer(id).setLearners(['l2']);
    g.runFor(500 * NS_PER_MS);
    expect(g.applied('l2')).toEqual(g.applied(leader));
    expect(g.peer('l2').role).toBe('learner');
  });
});

describe('the disk', () => {
  test('the log keeps one key per entry; a truncation deletes the cut entries; a reload sees the same log', () => {
    const disk = new PersistentStore();
    const log = new RaftLog<string>(disk, 'r/');
    log.setTermAndVote(3, 'c2');
    log.append([1, 1, 2, 3, 3].map((term, i) => ({ term, command: `e${i + 1}` })));
    log.truncateFrom(4);
    log.append([{ term: 3, command: 'x' }]);
    expect(disk.keys().sort()).toEqual(['r/entry/1', 'r/entry/2', 'r/entry/3', 'r/entry/4', 'r/last', 'r/state']);
    const reloaded = new RaftLog<string>(disk, 'r/');
    expect([reloaded.term, reloaded.votedFor, reloaded.lastIndex, reloaded.lastTerm]).toEqual([3, 'c2', 4, 3]);
    expect(reloaded.slice(1, 4).map((e) => e.command)).toEqual(['e1', 'e2', 'e3', 'x']);
    expect(reloaded.firstIndexOfTermAt(2)).toBe(1);
    log.truncateFrom(1);
    expect(disk.keys().sort()).toEqual(['r/last', 'r/state']);
  });

  test('two peers on one disk with different prefixes keep separate logs', () => {
    const disk = new PersistentStore();
    new RaftLog<string>(disk, 'a/').append([{ term: 1, command: 'x' }]);
    expect(new RaftLog<string>(disk, 'b/').lastIndex).toBe(0);
    expect(new RaftLog<string>(disk, 'a/').lastIndex).toBe(1);
  });
});

describe('bad input', () => {
  const world = new World({ seed: 1, trace: 'off' });
  let ctx!: NodeContext;
  world.fabric.addNode('c1', (c) => {
    ctx = c;
    return { onMessage() {} };
  });
  world.fabric.addNode('c2', () => ({ onMessage() {} }));
  const apply = () => {};

  test.each<[string, Partial<RaftOptions<string>>, RegExp]>([
    ['no voters', { voters: [] }, /voters must be a non-empty list/],
    ['a voter twice', { voters: ['c1', 'c1'] }, /voters list a node twice/],
    ['a learner that votes', { voters: ['c1'], learners: ['c1'] }, /'c1' is a voter and cannot also be a learner/],
    ['min above max', { voters: ['c1'], electionTimeoutNs: [300, 200] }, /electionTimeoutNs must be/],
    ['a heartbeat as long as the election timeout', { voters: ['c1'], heartbeatNs: 150 * NS_PER_MS }, /heartbeatNs must be/],
    ['an empty batch', { voters: ['c1'], maxBatch: 0 }, /maxBatch must be a positive integer/],
    ['an empty disk prefix', { voters: ['c1'], diskPrefix: '' }, /diskPrefix must be a non-empty string/],
  ])('options with %s are refused in one line, and nothing is written', (_, options, message) => {
    expect(() => new RaftPeer<string>(ctx, { voters: ['c1'], apply, ...options })).toThrow(message);
    expect(ctx.disk.keys()).toEqual([]);
  });

  test('a null or non-cloneable proposal and a learner list with a voter are refused and change nothing', () => {
    const peer = new RaftPeer<unknown>(ctx, { voters: ['c1', 'c2', 'c3'], learners: ['l1'], apply });
    expect(() => peer.propose(null)).toThrow(/must not be null/);
    expect(() => peer.propose({ f: () => 1 })).toThrow(/must be plain data/);
    expect(() => peer.setLearners(['l2', 'c2'])).toThrow(/'c2' is a voter/);
    expect(() => peer.setLearners(['l2', 'l2'])).toThrow(/twice/);
    expect(peer.learners).toEqual(['l1']);
    expect(peer.lastIndex).toBe(0);
  });

  test('onMessage handles only raft messages', () => {
    const peer = new RaftPeer<string>(ctx, { voters: ['c1', 'c2', 'c3'], apply, diskPrefix: 'other/' });
    expect(peer.onMessage('c2', { type: 'cm.hello' })).toBe(false);
    expect(peer.onMessage('c2', { type: 'raft.append', term: 1, prevIndex: 0, prevTerm: 0, entries: [], commit: 0 })).toBe(true);
    expect(peer.leader).toBe('c2');
  });
});
