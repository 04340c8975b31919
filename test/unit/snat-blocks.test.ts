import { describe, expect, test } from 'vitest';
import { parseCidr, parseIpv4 } from '../../sim/dataplane/headers.ts';
import { snatBlockSize, snatPortBlock } from '../../sim/middlebox/snat-blocks.ts';

describe('SNAT port blocks', () => {
  const r = { srcPrefix: parseCidr('10.1.0.0/24'), portMin: 1024, portMax: 65535 };

  test('a /24 over 1024..65535 gives every address 252 ports, in address order, disjoint and inside the range', () => {
    expect(snatBlockSize(r)).toBe(252);
    expect(snatPortBlock(r, parseIpv4('10.1.0.0'))).toEqual([1024, 1275]);
    expect(snatPortBlock(r, parseIpv4('10.1.0.11'))).toEqual([1024 + 11 * 252, 1024 + 12 * 252 - 1]);
    let previousHigh = r.portMin - 1;
    for (let last = 0; last < 256; last++) {
      const [low, high] = snatPortBlock(r, parseIpv4(`10.1.0.${last}`))!;
      expect(low).toBe(previousHigh + 1);
      previousHigh = high;
    }
    expect(previousHigh).toBeLessThanOrEqual(r.portMax);
  });

  test('an address outside the prefix, or a range narrower than the prefix, has no block', () => {
    expect(snatPortBlock(r, parseIpv4('10.2.0.1'))).toBeNull();
    const narrow = { srcPrefix: parseCidr('10.1.0.0/24'), portMin: 1000, portMax: 1200 };
    expect(snatBlockSize(narrow)).toBe(0);
    expect(snatPortBlock(narrow, parseIpv4('10.1.0.1'))).toBeNull();
  });

  test('a rule for any source has one block, the whole range', () => {
    expect(snatPortBlock({ srcPrefix: undefined, portMin: 2000, portMax: 2010 }, parseIpv4('192.0.2.7'))).toEqual([2000, 2010]);
  });
});
