// Seeded randomness: one root seed, and a named stream per component (`rng.stream("net/link/a-b")`), so
// adding a component or a draw in one place never shifts the draws of another. Streams are seedrandom's
// xor4096 (Brent's xorgens) seeded with "<root>/<name>". Owns every random choice the simulator makes;
// nothing in sim/ may use the platform's unseeded generator.
//
// Probabilities are compared as integers: `chance(p)` draws a uint32 and compares it with p scaled to
// 2^32, so a decision never hinges on the last bit of a floating-point library function.

import seedrandom from 'seedrandom';

const TWO_POW_32 = 4294967296;

/** A probability in [0, 1] turned into a uint32 threshold: `uint32() < threshold` has that probability. */
export function probabilityThreshold(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new Error(`probability must be within [0, 1], got ${p}`);
  return Math.round(p * TWO_POW_32);
}

export class Rng {
  private readonly prng: seedrandom.PRNG;

  constructor(readonly seedText: string) {
    this.prng = seedrandom.xor4096(seedText);
  }

  /** Uniform uint32. */
  uint32(): number {
    return this.prng.int32() >>> 0;
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  float(): number {
    return this.prng.double();
  }

  /** Uniform integer in [0, n), without modulo bias. */
  below(n: number): number {
    if (!(Number.isSafeInteger(n) && n > 0)) throw new Error(`below(n) needs a positive integer, got ${n}`);
    if (n <= TWO_POW_32) {
      const limit = TWO_POW_32 - (TWO_POW_32 % n);
      for (;;) {
        const x = this.uint32();
        if (x < limit) return x % n;
      }
    }
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [min, max], both inclusive. */
  between(min: number, max: number): number {
    return min + this.below(max - min + 1);
  }

  /** True with probability p (in [0, 1]). */
  chance(p: number): boolean {
    return this.uint32() < probabilityThreshold(p);
  }

  /** True with the probability a precomputed `probabilityThreshold` stands for. Hot paths use this. */
  chanceThreshold(threshold: number): boolean {
    return threshold !== 0 && this.uint32() < threshold;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.below(items.length)];
  }

  /** Fisher–Yates shuffle of a copy. */
  shuffled<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const tmp = out[i];
      out[i] = out[j];
      out[j] = tmp;
    }
    return out;
  }

  /** Exponential with the given mean. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.float());
  }

  /** Standard normal by Box–Muller (one of the pair; the other is dropped to keep draws per call fixed). */
  standardNormal(): number {
    const u1 = 1 - this.float(); // (0, 1]: keeps the log finite
    const u2 = this.float();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}

/** The root of all randomness in a run. Streams are created on first use and cached by name. */
export class RngStreams {
  private readonly streams = new Map<string, Rng>();

  constructor(readonly rootSeed: number) {
    if (!Number.isSafeInteger(rootSeed)) throw new Error(`seed must be an integer, got ${rootSeed}`);
  }

  stream(name: string): Rng {
    let rng = this.streams.get(name);
    if (rng === undefined) {
      rng = new Rng(`${this.rootSeed}/${name}`);
      this.streams.set(name, rng);
    }
    return rng;
  }
}
