// The DHT: the range list partitions [0, 2^48) and answers owner and replica lookups; hash48 is FNV-1a 64
// folded to 48 bits; the query manager's local get and put (FIGS. 35, 36), remote put carrying the hash
// (FIG. 37), the retransmit-then-error path (FIG. 38), forwarding when views differ, triggers, deletes,
// keys moving with the range list, and replication surviving an owner's crash.
import { describe, expect, test } from 'vitest';
import { test as propTest, fc } from '@fast-check/vitest';
import { NS_PER_MS } from '../../sim/kernel/time.ts';
import { DEFAULT_LINK } from '../../sim/net/link.ts';
import type { Message, NodeId } from '../../sim/net/message.ts';
import type { NodeContext, NodeProcess } from '../../sim/net/node.ts';
import { DhtInstance, type DhtOptions, type DhtRecord, type DhtResult, type DhtView } from '../../sim/store/dht.ts';
import { hash48 } from '../../sim/store/hash.ts';
import { checkPartition, computeRanges, HASH_SPACE, ownerOf, replicasOf, type HashRange } from '../../sim/store/range-list.ts';
import { World } from '../../sim/testbed/world.ts';

const RUNS = Number(process.env.NVSIM_PROPERTY_RUNS ?? 50);

// ---- range list and hash ---------------------------------------------------------------------------------

describe('range list', () => {
  propTest.prop([fc.uniqueArray(fc.string({ maxLength: 6 }), { minLength: 1, maxLength: 10 }), fc.array(fc.nat({ max: HASH_SPACE - 1 }), { maxLength: 20 })], { numRuns: RUNS })(
    'partitions the space among 1..10 members of any names; ownerOf agrees with a linear scan',
    (members, hashes) => {
      const ranges = computeRanges(members);
      expect(checkPartition(ranges)).toBeNull();
      expect(ranges.map((r) => r.owner)).toEqual([...members].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      const width = Math.floor(HASH_SPACE / members.length);
      ranges.forEach((r, i) => expect(r.end - r.start).toBe(i === ranges.length - 1 ? HASH_SPACE - width * (members.length - 1) : width));
      const probes = [...hashes, 0, HASH_SPACE - 1, ...ranges.flatMap((r) => [r.start, r.end - 1])];
      for (const h of probes) expect(ownerOf(ranges, h)).toBe(ranges.find((r) => r.start <= h && h < r.end)!.owner);
    },
  );

  test('the same members in any order give the same list; none give an empty one', () => {
    expect(computeRanges(['c', 'a', 'b'])).toEqual(computeRanges(['b', 'c', 'a']));
    expect(computeRanges([])).toEqual([]);
    expect(ownerOf([], 5)).toBeNull();
    expect(replicasOf([], 5, 2)).toEqual([]);
  });

  test('replicasOf: the owner, then the following owners in ring order, distinct, up to the factor', () => {
    const ranges = computeRanges(['a', 'b', 'c', 'd']);
    const inLast = HASH_SPACE - 1;
    expect(replicasOf(ranges, inLast, 1)).toEqual(['d']);
    expect(replicasOf(ranges, inLast, 3)).toEqual(['d', 'a', 'b']);
    expect(replicasOf(ranges, 0, 9)).toEqual(['a', 'b', 'c', 'd']);
    const repeated: HashRange[] = [
      { start: 0, end: 10, owner: 'a' },
      { start: 10, end: 20, owner: 'b' },
      { start: 20, end: HASH_SPACE, owner: 'a' },
    ];
    expect(replicasOf(repeated, 15, 3)).toEqual(['b', 'a']);
  });

  test('checkPartition names the first defect', () => {
    const ok = computeRanges(['a', 'b']);
    expect(checkPartition([])).toMatch(/empty/);
    expect(checkPartition([{ ...ok[0], start: 1 }, ok[1]])).toMatch(/^gap \[0, 1\)/);
    expect(checkPartition([ok[0], { ...ok[1], start: ok[1].start - 1 }])).toMatch(/overlaps/);
    expect(checkPartition([ok[0], { ...ok[1], end: HASH_SPACE - 1 }])).toMatch(/gap .* after the last range/);
    expect(checkPartition([ok[0], { ...ok[1], end: HASH_SPACE + 1 }])).toMatch(/past 2\^48/);
    expect(checkPartition([{ ...ok[0], end: 0 }, ok[1]])).toMatch(/empty/);
    expect(checkPartition([ok[1], ok[0]])).not.toBeNull();
  });

  test('bad input throws one line', () => {
    expect(() => computeRanges(['a', 'b', 'a'])).toThrow(/'a' is listed twice/);
    expect(() => ownerOf(computeRanges(['a']), HASH_SPACE)).toThrow(/not a hash/);
    expect(() => ownerOf(computeRanges(['a']), 1.5)).toThrow(/not a hash/);
    expect(() => replicasOf(computeRanges(['a']), 0, 0)).toThrow(/positive integer/);
  });
});

describe('hash48', () => {
  /** FNV-1a 64 over UTF-16LE bytes, xor-folded to 48 bits, in BigInt: the definition, spelled out. */
  function reference(key: string): number {
    let h = 0xcbf29ce484222325n;
    for (let i = 0; i < key.length; i++) {
      const unit = key.charCodeAt(i);
      for (const byte of [unit & 0xff, unit >> 8]) h = ((h ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
    }
    return Number((h >> 48n) ^ (h & 0xffffffffffffn));
  }

  propTest.prop([fc.string({ unit: 'binary', maxLength: 40 })], { numRuns: RUNS * 4 })('matches the BigInt definition and stays in [0, 2^48)', (key) => {
    const h = hash48(key);
    expect(Number.isInteger(h) && h >= 0 && h < HASH_SPACE).toBe(true);
    expect(h).toBe(reference(key));
  });

  test('spreads similar keys evenly over the ranges', () => {
    const ranges = computeRanges(['c1', 'c2', 'c3', 'c4']);
    const counts = new Map<string, number>();
    for (let i = 0; i < 8000; i++) {
      const owner = ownerOf(ranges, hash48(`Node${i}.port1.state`))!;
      counts.set(owner, (counts.get(owner) ?? 0) + 1);
    }
    for (const n of counts.values()) expect(Math.abs(n - 2000)).toBeLessThan(200);
  });
});

// ---- a small cluster of DHT instances ----------------------------------------------------------------------

interface Notification {
  key: string;
  record: DhtRecord | null;
}

class DhtNode implements NodeProcess {
  readonly dht: DhtInstance;
  constructor(ctx: NodeContext, options: DhtOptions) {
    this.dht = new DhtInstance(ctx, options);
  }
  onMessage(from: NodeId, body: Message): void {
    if (!this.dht.onMessage(from, body)) throw new Error(`unexpected message '${body.type}'`);
  }
}

interface ClusterOptions extends Omit<DhtOptions, 'view' | 'onTrigger' | 'hash'> {
  /** Per-node hash generators (the default is hash48). */
  hash?: Record<NodeId, (key: string) => number>;
  seed?: number;
}

/**
 * Nodes with a DHT each, a view per node (all equal until `setView` gives one node its own), and a log of
 * every notification each node's import module received. Plays the coordination manager's part.
 */
function cluster(ids: NodeId[], options: ClusterOptions = {}) {
  const world = new World({ seed: options.seed ?? 1, trace: 'off' });
  const views = new Map<NodeId, DhtView>();
  const notified = new Map<NodeId, Notification[]>(ids.map((id) => [id, []]));
  let viewVersion = 0;
  const { hash, seed: _seed, ...dhtOptions } = options;
  for (const id of ids) {
    views.set(id, { ranges: computeRanges(ids), version: 0 });
    world.fabric.addNode(id, (ctx) =>
      new DhtNode(ctx, { ...dhtOptions, view: () => views.get(id)!, onTrigger: (key, record) => notified.get(id)!.push({ key, record }), hash: hash?.[id] }),
    );
  }
  const dht = (id: NodeId) => world.fabric.process<DhtNode>(id)!.dht;
  /** Like the CM: a new list from `members`, given to every live node, which then hands records over. */
  const setMembers = (members: NodeId[]) => {
    const view = { ranges: computeRanges(members), version: ++viewVersion };
    for (const id of ids) views.set(id, view);
    for (const id of ids) if (world.fabric.isUp(id)) dht(id).onViewChange();
  };
  const setView = (id: NodeId, members: NodeId[]) => views.set(id, { ranges: computeRanges(members), version: ++viewVersion });
  const results: DhtResult[] = [];
  const collect = (r: DhtResult) => results.push(r);
  /** Which nodes hold `key`. */
  const holders = (key: string) => ids.filter((id) => world.fabric.isUp(id) && dht(id).localRecords().has(key));
  const getFrom = (id: NodeId, key: string): DhtResult => {
    let got: DhtResult | undefined;
    dht(id).get(key, (r) => (got = r), { watch: false });
    world.scheduler.runUntilQuiescent();
    return got!;
  };
  const run = () => world.scheduler.runUntilQuiescent();
  return { world, fabric: world.fabric, dht, setMembers, setView, notified, results, collect, holders, getFrom, run };
}

/** A hash in the middle of `owner`'s range under a list of `members`. */
function hashOwnedBy(members: NodeId[], owner: NodeId): number {
  const r = computeRanges(members).find((x) => x.owner === owner)!;
  return r.start + Math.floor((r.end - r.start) / 2);
}

const fixedHash = (table: Record<string, number>) => (key: string) => {
  if (!(key in table)) throw new Error(`no hash for '${key}'`);
  return table[key];
};

// ---- the query manager ---------------------------------------------------------------------------------------

describe('local operations (FIGS. 35, 36)', () => {
  test('FIG. 35: a local get returns the record stored under the key, through its hash', () => {
    const hash = fixedHash({ 'Node123.port1.state': 111, 'Link4789.stats': 222 });
    const c = cluster(['c1'], { hash: { c1: hash } });
    const seen: { key: string; hash: number; version: number | null }[] = [];
    c.world.trace.on('dht.get', (e) => seen.push({ key: e.key, hash: e.hash, version: e.version }));
    c.dht('c1').put('Node123.port1.state', 'Open');
    c.dht('c1').put('Link4789.stats', '100 bytes');
    c.dht('c1').get('Node123.port1.state', c.collect);
    c.dht('c1').get('Link4789.stats', c.collect);
    expect(c.results).toEqual([
      { ok: true, record: { value: 'Open', version: 1 } },
      { ok: true, record: { value: '100 bytes', version: 1 } },
    ]);
    expect(seen).toEqual([
      { key: 'Node123.port1.state', hash: 111, version: 1 },
      { key: 'Link4789.stats', hash: 222, version: 1 },
    ]);
    expect(c.fabric.stats.sent).toBe(0); // all local: nothing crossed the fabric
  });

  test('FIG. 36: a local put creates the record, notifies each of three registered importers once, and confirms', () => {
    const ids = ['c1', 'c2', 'c3'];
    const key = 'Node123.port1.state';
    const h = hashOwnedBy(ids, 'c1');
    const c = cluster(ids, { hash: { c1: () => h, c2: () => h, c3: () => h } });
    for (const id of ids) c.dht(id).get(key, c.collect); // each NIB queries the record, so each is registered
    c.run();
    expect(c.results).toEqual(ids.map(() => ({ ok: true, record: null })));
    const confirmations: DhtResult[] = [];
    c.dht('c1').put(key, 'Open', (r) => confirmations.push(r));
    c.run();
    expect(confirmations).toEqual([{ ok: true, record: { value: 'Open', version: 1 } }]);
    for (const id of ids) expect(c.notified.get(id)).toEqual([{ key, record: { value: 'Open', version: 1 } }]);
    expect(c.holders(key)).toEqual(['c1']);
  });

  test("a put with triggers 'all' registers every member's import module (FIG. 44); 'self' only the source", () => {
    const ids = ['c1', 'c2', 'c3'];
    const c = cluster(ids);
    c.dht('c2').put('everyone', 1, undefined, { triggers: 'all' });
    c.dht('c3').put('mine', 1, undefined, { triggers: 'self' });
    c.run();
    c.dht('c1').put('everyone', 2);
    c.dht('c1').put('mine', 2);
    c.run();
    const versionsOf = (id: NodeId, key: string) => c.notified.get(id)!.filter((n) => n.key === key).map((n) => n.record?.version);
    for (const id of ids) expect(versionsOf(id, 'everyone')).toEqual([1, 2]);
    expect(versionsOf('c3', 'mine')).toEqual([1, 2]);
    expect(versionsOf('c1', 'mine')).toEqual([]);
    expect(versionsOf('c2', 'mine')).toEqual([]);
  });

  test('a get with watch: false does not register; a delete notifies with null and leaves the version counting', () => {
    const c = cluster(['c1', 'c2']);
    c.dht('c1').get('k', c.collect, { watch: false });
    c.dht('c2').get('k', c.collect);
    c.run();
    c.dht('c1').put('k', 'a', c.collect);
    c.run();
    c.dht('c1').delete('k', c.collect);
    c.run();
    c.dht('c1').delete('k', c.collect); // nothing left to delete: no change, no notification
    c.run();
    c.dht('c1').put('k', 'b', c.collect);
    c.run();
    expect(c.results.slice(2)).toEqual([
      { ok: true, record: { value: 'a', version: 1 } },
      { ok: true, record: null },
      { ok: true, record: null },
      { ok: true, record: { value: 'b', version: 3 } },
    ]);
    expect(c.notified.get('c1')).toEqual([]);
    expect(c.notified.get('c2')).toEqual([
      { key: 'k', record: { value: 'a', version: 1 } },
      { key: 'k', record: null },
      { key: 'k', record: { value: 'b', version: 3 } },
    ]);
    expect(c.getFrom('c1', 'k')).toEqual({ ok: true, record: { value: 'b', version: 3 } });
  });

  test('values are copied in and out: changing an object after put or after get changes nothing stored', () => {
    const c = cluster(['c1', 'c2']);
    const value = { ports: [1, 2] };
    c.dht('c1').put('k', value);
    value.ports.push(3);
    c.run();
    const first = c.getFrom('c2', 'k');
    expect(first).toEqual({ ok: true, record: { value: { ports: [1, 2] }, version: 1 } });
    ((first as { record: DhtRecord }).record.value as { ports: number[] }).ports.push(9);
    expect(c.getFrom('c1', 'k')).toEqual({ ok: true, record: { value: { ports: [1, 2] }, version: 1 } });
  });
});

describe('remote operations and errors (FIGS. 37, 38)', () => {
  test('FIG. 37: the source forwards the put with the hash, the owner writes with that hash and triggers, the confirmation is relayed', () => {
    const ids = ['c1', 'c2', 'c3'];
    const key = 'Link4789.stats';
    const h = hashOwnedBy(ids, 'c2');
    const refuse = () => {
      throw new Error('the owner must not hash again');
    };
    const c = cluster(ids, { hash: { c1: () => h, c2: refuse, c3: () => h } });
    c.dht('c3').get(key, c.collect); // c3's import module registers
    c.run();
    const requests: Message[] = [];
    c.world.trace.on('net.send', (e) => e.body.type === 'dht.request' && requests.push(e.body));
    const writes: { owner: string; origin: string; hash: number; version: number }[] = [];
    c.world.trace.on('dht.put', (e) => writes.push({ owner: e.owner, origin: e.origin, hash: e.hash, version: e.version }));
    const confirmations: DhtResult[] = [];
    c.dht('c1').put(key, '100 bytes', (r) => confirmations.push(r));
    c.run();
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ op: 'put', key, hash: h, value: '100 bytes' });
    expect(writes).toEqual([{ owner: 'c2', origin: 'c1', hash: h, version: 1 }]);
    expect(confirmations).toEqual([{ ok: true, record: { value: '100 bytes', version: 1 } }]);
    expect(c.notified.get('c3')).toEqual([{ key, record: { value: '100 bytes', version: 1 } }]);
    expect(c.holders(key)).toEqual(['c2']);
  });

  test('FIG. 38: an owner partitioned away gets 1 + maxRetransmits attempts, then the caller gets exactly one error', () => {
    const ids = ['c1', 'c2'];
    const h = hashOwnedBy(ids, 'c2');
    const c = cluster(ids, { hash: { c1: () => h, c2: () => h }, retransmitNs: 10 * NS_PER_MS, maxRetransmits: 3 });
    c.fabric.partition('cut', [['c1'], ['c2']]);
    let sends = 0;
    c.world.trace.on('net.send', (e) => e.body.type === 'dht.request' && sends++);
    const errors: unknown[] = [];
    c.world.trace.on('dht.error', (e) => errors.push({ node: e.node, op: e.op, owner: e.owner, attempts: e.attempts, error: e.error, hash: e.hash }));
    const calls: { at: number; r: DhtResult }[] = [];
    c.dht('c1').put('k', 'v', (r) => calls.push({ at: c.world.now, r }));
    c.run();
    expect(sends).toBe(4);
    expect(calls).toEqual([{ at: 40 * NS_PER_MS, r: { ok: false, error: 'timeout', message: expect.stringContaining('4 attempts') } }]);
    expect(errors).toEqual([{ node: 'c1', op: 'put', owner: 'c2', attempts: 4, error: 'timeout', hash: h }]);
  });

  test('lost confirmations: the owner applies a retransmitted put once and confirms again; late ones are ignored', () => {
    const ids = ['c1', 'c2'];
    const h = hashOwnedBy(ids, 'c2');
    const c = cluster(ids, { hash: { c1: () => h, c2: () => h }, retransmitNs: 10 * NS_PER_MS });
    c.fabric.partitionOneWay('replies', ['c2'], ['c1']);
    c.world.scheduler.at(25 * NS_PER_MS, () => c.fabric.heal('replies')); // the third attempt's reply gets through
    let applied = 0;
    c.world.trace.on('dht.put', () => applied++);
    c.dht('c1').put('k', 'v', c.collect);
    c.run();
    expect(applied).toBe(1);
    expect(c.results).toEqual([{ ok: true, record: { value: 'v', version: 1 } }]);
  });

  test('duplicated messages: one confirmation per request and one notification per importer per change', () => {
    const ids = ['c1', 'c2', 'c3'];
    const c = cluster(ids, { seed: 4 });
    c.fabric.setDefaultLink({ ...DEFAULT_LINK, duplicateProbability: 1 });
    for (const id of ids) c.dht(id).get('k', () => {});
    c.run();
    for (let i = 0; i < 5; i++) c.dht(ids[i % 3]).put('k', i, c.collect);
    c.run();
    expect(c.results).toHaveLength(5);
    expect(c.results.map((r) => r.ok && r.record!.version).sort()).toEqual([1, 2, 3, 4, 5]);
    for (const id of ids) expect(c.notified.get(id)!.map((n) => n.record!.version)).toEqual([1, 2, 3, 4, 5]);
  });

  test('an empty range list answers no-owner at once, with one dht.error', () => {
    const c = cluster(['c1']);
    c.setMembers([]);
    let errors = 0;
    c.world.trace.on('dht.error', () => errors++);
    c.dht('c1').get('k', c.collect);
    expect(c.results).toEqual([{ ok: false, error: 'no-owner', message: expect.stringMatching(/empty/) }]);
    expect(errors).toBe(1);
  });
});

describe('views that differ while the range list changes', () => {
  test('a receiver that is not the owner forwards once to the owner it believes in, which answers the source', () => {
    const ids = ['c1', 'c2', 'c3'];
    const c = cluster(ids);
    const key = ['a', 'b', 'c', 'd', 'e'].map((k) => `key-${k}`).find((k) => ownerOf(computeRanges(ids), hash48(k)) === 'c2' && ownerOf(computeRanges(['c1', 'c3']), hash48(k)) === 'c3')!;
    c.setView('c2', ['c1', 'c3']); // c2 already believes the new list; c1 still has the old one
    c.setView('c3', ['c1', 'c3']);
    const forwards: string[] = [];
    c.world.trace.on('dht.forward', (e) => forwards.push(`${e.node}->${e.to}`));
    c.dht('c1').put(key, 'v', c.collect);
    c.run();
    expect(forwards).toEqual(['c2->c3']);
    expect(c.results).toEqual([{ ok: true, record: { value: 'v', version: 1 } }]);
    expect(c.holders(key)).toEqual(['c3']);
  });

  test('a request that reaches a second non-owner is answered no-owner (hops are bounded)', () => {
    const ids = ['c1', 'c2', 'c3'];
    const h = hashOwnedBy(ids, 'c2');
    const c = cluster(ids, { hash: { c1: () => h, c2: () => h, c3: () => h } });
    c.setView('c2', ['c3']);
    c.setView('c3', ['c1']);
    c.dht('c1').put('k', 'v', c.collect);
    c.run();
    expect(c.results).toEqual([{ ok: false, error: 'no-owner', message: expect.stringContaining("'c3' does not own") }]);
    expect(c.holders('k')).toEqual([]);
  });
});

describe('range changes and replication', () => {
  const keys = Array.from({ length: 40 }, (_, i) => `Node${i}.port1.state`);

  test('keys move to their new owners when a member joins and when one leaves', () => {
    const c = cluster(['c1', 'c2', 'c3', 'c4']);
    c.setMembers(['c1', 'c2', 'c3']);
    keys.forEach((k, i) => c.dht(`c${(i % 3) + 1}`).put(k, i));
    c.run();
    const placed = (members: NodeId[]) => {
      const ranges = computeRanges(members);
      for (const k of keys) expect(c.holders(k)).toEqual([ownerOf(ranges, hash48(k))]);
    };
    placed(['c1', 'c2', 'c3']);
    c.setMembers(['c1', 'c2', 'c3', 'c4']);
    c.run();
    placed(['c1', 'c2', 'c3', 'c4']);
    expect(c.dht('c4').localRecords().size).toBeGreaterThan(0);
    c.setMembers(['c1', 'c3', 'c4']);
    c.run();
    placed(['c1', 'c3', 'c4']);
    expect(c.dht('c2').localRecords().size).toBe(0);
    keys.forEach((k, i) => expect(c.getFrom('c2', k)).toEqual({ ok: true, record: { value: i, version: 1 } }));
  });

  test('a moved record keeps its version and trigger list; the new owner continues counting', () => {
    const c = cluster(['c1', 'c2', 'c3']);
    const key = keys.find((k) => ownerOf(computeRanges(['c1', 'c2', 'c3']), hash48(k)) === 'c1')!;
    c.dht('c3').get(key, () => {});
    c.run();
    c.dht('c1').put(key, 'a');
    c.dht('c1').put(key, 'b');
    c.run();
    c.setMembers(['c2', 'c3']);
    c.run();
    c.dht('c2').put(key, 'c', c.collect);
    c.run();
    expect(c.results).toEqual([{ ok: true, record: { value: 'c', version: 3 } }]);
    expect(c.notified.get('c3')!.map((n) => n.record!.value)).toEqual(['a', 'b', 'c']);
  });

  test('r = 1: the records of a crashed owner are lost', () => {
    const c = cluster(['c1', 'c2', 'c3']);
    keys.forEach((k, i) => c.dht('c1').put(k, i));
    c.run();
    c.fabric.crash('c2');
    c.setMembers(['c1', 'c3']);
    c.run();
    const lost = keys.filter((k) => ownerOf(computeRanges(['c1', 'c2', 'c3']), hash48(k)) === 'c2');
    expect(lost.length).toBeGreaterThan(0);
    for (const k of lost) expect(c.getFrom('c1', k)).toEqual({ ok: true, record: null });
  });

  test('r = 2: every record is on its owner and successor, survives the owner crash, and is copied again to the new replica set', () => {
    const ids = ['c1', 'c2', 'c3', 'c4'];
    const c = cluster(ids, { replicationFactor: 2 });
    keys.forEach((k, i) => c.dht(ids[i % 4]).put(k, i, c.collect));
    c.run();
    expect(c.results.every((r) => r.ok)).toBe(true);
    for (const k of keys) expect(c.holders(k)).toEqual(replicasOf(computeRanges(ids), hash48(k), 2).sort());
    c.fabric.crash('c2');
    const live = ['c1', 'c3', 'c4'];
    c.setMembers(live);
    c.run();
    keys.forEach((k, i) => expect(c.getFrom('c4', k)).toEqual({ ok: true, record: { value: i, version: 1 } }));
    for (const k of keys) expect(c.holders(k)).toEqual(replicasOf(computeRanges(live), hash48(k), 2).sort());
  });

  test('r = 2: a restarted owner gets its records back from its replica at the next range change', () => {
    const ids = ['c1', 'c2', 'c3'];
    const c = cluster(ids, { replicationFactor: 2 });
    keys.forEach((k, i) => c.dht('c1').put(k, i));
    c.run();
    c.fabric.crash('c2');
    c.fabric.restart('c2'); // back before the coordination manager noticed: the list never changed
    c.setMembers(ids);
    c.run();
    for (const k of keys) expect(c.holders(k)).toEqual(replicasOf(computeRanges(ids), hash48(k), 2).sort());
  });
});

describe('bad input', () => {
  test('invalid options and requests throw one line and change nothing', () => {
    const world = new World({ seed: 1, trace: 'off' });
    const view = () => ({ ranges: computeRanges(['n']), version: 1 });
    let dht: DhtInstance | undefined;
    world.fabric.addNode('n', (ctx) => {
      const make = (o: Partial<DhtOptions>) => () => new DhtInstance(ctx, { view, ...o } as DhtOptions);
      expect(make({ replicationFactor: 0 })).toThrow(/replicationFactor must be an integer >= 1, got 0/);
      expect(make({ retransmitNs: 0 })).toThrow(/retransmitNs/);
      expect(make({ maxRetransmits: -1 })).toThrow(/maxRetransmits/);
      expect(make({ maxRetransmits: 1.5 })).toThrow(/maxRetransmits/);
      expect(make({ view: undefined })).toThrow(/options.view/);
      dht = new DhtInstance(ctx, { view });
      return { onMessage: () => {} };
    });
    const d = dht!;
    expect(() => d.put('k', () => 1)).toThrow(/not plain data/);
    expect(() => d.put('k', 1, undefined, { triggers: 'most' as 'all' })).toThrow(/triggers must be/);
    expect(() => d.put(7 as unknown as string, 1)).toThrow(/key must be a string/);
    expect(() => d.get('k', undefined as unknown as () => void)).toThrow(/done callback is required/);
    expect(d.localRecords().size).toBe(0);
    const bad = new World({ seed: 1, trace: 'off' });
    bad.fabric.addNode('n', (ctx) => {
      const d2 = new DhtInstance(ctx, { view, hash: () => HASH_SPACE });
      expect(() => d2.put('k', 1)).toThrow(/hash generator returned/);
      expect(d2.localRecords().size).toBe(0);
      return { onMessage: () => {} };
    });
  });
});
