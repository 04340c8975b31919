// The DHT's hash generator (seed 000 FIG. 36 #3620): a key's place in the hash space [0, 2^48). Owns the
// function only; which instance owns a hash is the range list's business (range-list.ts).
//
// FNV-1a 64 over the key's UTF-16LE bytes, xor-folded to 48 bits as the FNV authors suggest for widths
// between the standard ones. The 64-bit state lives in four 16-bit limbs so every step is exact in
// double-precision arithmetic without BigInt, and the result is an integer a JS number holds exactly.

const FNV64_OFFSET_LIMBS = [0x2325, 0x8422, 0x9ce4, 0xcbf2] as const; // 0xcbf29ce484222325, low limb first
const FNV64_PRIME_LOW = 0x1b3; // 0x100000001b3 = 2^40 + 0x1b3

/** A deterministic, well-spread 48-bit hash of `key`: an integer in [0, 2^48). */
export function hash48(key: string): number {
  let h0: number = FNV64_OFFSET_LIMBS[0];
  let h1: number = FNV64_OFFSET_LIMBS[1];
  let h2: number = FNV64_OFFSET_LIMBS[2];
  let h3: number = FNV64_OFFSET_LIMBS[3];
  for (let i = 0; i < key.length; i++) {
    const unit = key.charCodeAt(i);
    for (let b = 0; b < 2; b++) {
      h0 ^= b === 0 ? unit & 0xff : unit >>> 8;
      // h × prime mod 2^64 = h × 0x1b3 + (h << 40); only h's low 24 bits survive the shift by 40.
      const t0 = h0 * FNV64_PRIME_LOW;
      const t1 = h1 * FNV64_PRIME_LOW + (t0 >>> 16);
      const t2 = h2 * FNV64_PRIME_LOW + (t1 >>> 16) + ((h0 & 0xff) << 8);
      const t3 = h3 * FNV64_PRIME_LOW + (t2 >>> 16) + (h0 >>> 8) + ((h1 & 0xff) << 8);
      h0 = t0 & 0xffff;
      h1 = t1 & 0xffff;
      h2 = t2 & 0xffff;
      h3 = t3 & 0xffff;
    }
  }
  return h2 * 2 ** 32 + h1 * 2 ** 16 + (h0 ^ h3);
}
