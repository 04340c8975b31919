// A streaming 64-bit hash of the trace text, so that two runs can be compared by one short string. Owns
// nothing else. It is not cryptographic: it guards against accidental divergence, not an adversary.
// Two independent 32-bit multiplicative lanes over UTF-16 code units, each finished with an avalanche
// step; pure integer arithmetic, so a browser and Node give the same digest.

export class TraceHash {
  private a = 0x6a09e667 | 0;
  private b = 0xbb67ae85 | 0;
  private length = 0;

  update(text: string): void {
    let a = this.a;
    let b = this.b;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      a = Math.imul(a ^ c, 0x9e3779b1);
      a = (a << 15) | (a >>> 17);
      b = Math.imul(b ^ c, 0x85ebca77);
      b = (b << 13) | (b >>> 19);
    }
    this.a = a;
    this.b = b;
    this.length += text.length;
  }

  /** 16 hex digits. Does not change the state, so it may be read mid-run. */
  digest(): string {
    let a = this.a ^ this.length;
    let b = this.b ^ Math.imul(this.length, 0x27d4eb2f);
    a = avalanche(a ^ Math.imul(b, 0x165667b1));
    b = avalanche(b ^ Math.imul(a, 0xc2b2ae3d));
    return hex8(a) + hex8(b);
  }
}

function avalanche(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

function hex8(h: number): string {
  return (h >>> 0).toString(16).padStart(8, '0');
}
