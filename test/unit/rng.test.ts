// Seeded RNG streams: determinism per (seed, name), independence between named streams, below() range and
// uniformity, and chance() at its edges.
import { describe, expect } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { probabilityThreshold, Rng, RngStreams } from '../../sim/kernel/rng.ts';

const RUNS = Number(process.env.NVSIM_PROPERTY_RUNS ?? 50);

const draws = (rng: Rng, n: number): number[] => Array.from({ length: n }, () => rng.uint32());

describe('RngStreams', () => {
  test.prop([fc.integer(), fc.string({ minLength: 1, maxLength: 20 })], { numRuns: RUNS })('same seed and name give the same sequence', (seed, name) => {
    const a = new RngStreams(seed).stream(name);
    const b = new RngStreams(seed).stream(name);
    expect(draws(a, 20)).toEqual(draws(b, 20));
    expect(a.float()).toBe(b.float());
    expect(a.below(1000)).toBe(b.below(1000));
  });

  test('stream(name) returns the same stream object, continuing its sequence', () => {
    const streams = new RngStreams(7);
    const first = streams.stream('x').uint32();
    const second = streams.stream('x').uint32();
    const fresh = new RngStreams(7).stream('x');
    expect([first, second]).toEqual(draws(fresh, 2));
  });

  test('different names and different seeds give different sequences', () => {
    const streams = new RngStreams(1);
    const a = draws(streams.stream('net/link/a->b'), 16);
    const b = draws(streams.stream('net/link/b->a'), 16);
    const c = draws(new RngStreams(2).stream('net/link/a->b'), 16);
    expect(a).not.toEqual(b);
    expect(a).not.toEqual(c);
  });

  test.prop([fc.integer(), fc.array(fc.nat({ max: 5 }), { minLength: 1, maxLength: 60 })], { numRuns: RUNS })(
    "adding a stream and drawing from it does not shift another stream's draws",
    (seed, interleaving) => {
      const alone = new RngStreams(seed).stream('victim');
      const expected = draws(alone, interleaving.length);

      const shared = new RngStreams(seed);
      const intruders = [shared.stream('intruder/0')];
      const victim = shared.stream('victim');
      const got: number[] = [];
      for (const k of interleaving) {
        // Create new streams and draw from them, at random points between the victim's draws.
        if (k >= intruders.length) intruders.push(shared.stream(`intruder/${intruders.length}`));
        for (let i = 0; i < k; i++) intruders[k % intruders.length].float();
        got.push(victim.uint32());
      }
      expect(got).toEqual(expected);
    },
  );

  test('rejects a non-integer root seed', () => {
    expect(() => new RngStreams(1.5)).toThrow(/seed must be an integer/);
    expect(() => new RngStreams(Number.NaN)).toThrow(/seed must be an integer/);
  });
});

describe('Rng draws', () => {
  test.prop([fc.integer({ min: 1, max: 2 ** 40 }), fc.integer()], { numRuns: RUNS })('below(n) is an integer in [0, n)', (n, seed) => {
    const rng = new Rng(`below/${seed}`);
    for (let i = 0; i < 200; i++) {
      const x = rng.below(n);
      expect(Number.isInteger(x)).toBe(true);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(n);
    }
  });

  test('below(1) is always 0 and between(min, max) is inclusive', () => {
    const rng = new Rng('edges');
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) {
      expect(rng.below(1)).toBe(0);
      seen.add(rng.between(3, 5));
    }
    expect([...seen].sort()).toEqual([3, 4, 5]);
  });

  test('below(n) is roughly uniform (chi-square)', () => {
    const rng = new Rng('uniformity');
    for (const n of [2, 7, 10, 3_000_000_001]) {
      const buckets = 10;
      const counts = new Array(Math.min(n, buckets)).fill(0);
      const draws = 50_000;
      for (let i = 0; i < draws; i++) {
        const x = rng.below(n);
        counts[Math.floor((x * counts.length) / n)]++;
      }
      // For a large n the buckets are near-equal; for small n each value is a bucket.
      const expected = draws / counts.length;
      const chi2 = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
      // df <= 9: the 99.99th percentile is about 33.7.
      expect(chi2).toBeLessThan(34);
    }
  });

  test('below(n) rejects non-positive or non-integer n', () => {
    const rng = new Rng('bad');
    for (const n of [0, -1, 1.5, Number.NaN, Infinity]) expect(() => rng.below(n)).toThrow(/positive integer/);
  });

  test('chance(0) is never true and chance(1) is always true', () => {
    const rng = new Rng('chance-edges');
    let zeroHits = 0;
    let oneHits = 0;
    for (let i = 0; i < 20_000; i++) {
      if (rng.chance(0)) zeroHits++;
      if (rng.chance(1)) oneHits++;
    }
    expect(zeroHits).toBe(0);
    expect(oneHits).toBe(20_000);
    expect(probabilityThreshold(0)).toBe(0);
    expect(probabilityThreshold(1)).toBe(2 ** 32);
    expect(rng.chanceThreshold(probabilityThreshold(0))).toBe(false);
    expect(rng.chanceThreshold(probabilityThreshold(1))).toBe(true);
  });

  test('chance(p) hits about p of the time', () => {
    const rng = new Rng('chance-rate');
    const n = 40_000;
    for (const p of [0.01, 0.3, 0.5, 0.99]) {
      let hits = 0;
      for (let i = 0; i < n; i++) if (rng.chance(p)) hits++;
      expect(Math.abs(hits / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
    }
  });

  test('chance(p) rejects probabilities outside [0, 1]', () => {
    const rng = new Rng('bad-p');
    for (const p of [-0.1, 1.1, Number.NaN]) expect(() => rng.chance(p)).toThrow(/within \[0, 1\]/);
  });

  test('shuffled returns a permutation of a copy; pick picks a member', () => {
    const rng = new Rng('shuffle');
    const items = [1, 2, 3, 4, 5, 6];
    const out = rng.shuffled(items);
    expect(items).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...out].sort()).toEqual(items);
    expect(items).toContain(rng.pick(items));
    expect(() => rng.pick([])).toThrow(/empty/);
  });
});
