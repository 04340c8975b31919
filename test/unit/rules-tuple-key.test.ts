// Value identity and order in the rules engine: keys are injective across values and column boundaries,
// equality is SameValueZero (as a Map's), and the order is total and locale-free.
import { describe, expect, test } from 'vitest';
import { fc } from '@fast-check/vitest';
import type { Value } from '../../sim/rules/schema.ts';
import { compareValues, encodeValue, encodeValues, valuesEqual } from '../../sim/rules/tuple-key.ts';

describe('tuple keys', () => {
  test('concatenated encodings never collide across column boundaries or types', () => {
    const tricky: Value[][] = [
      ['1|', 2],
      ['1', '|2'],
      [1, 2],
      [12],
      ['12'],
      ['1:2'],
      [[1, 2]],
      [[1], 2],
      [[12]],
      [['1', '2']],
      [['12']],
      [true, false],
      ['tf'],
      ['', ''],
      [''],
      [[]],
      [[], []],
    ];
    const keys = tricky.map(encodeValues);
    expect(new Set(keys).size).toBe(tricky.length);
    const value = fc.oneof(fc.integer(), fc.double(), fc.string(), fc.boolean(), fc.array(fc.integer(), { maxLength: 3 }), fc.array(fc.string(), { maxLength: 3 }));
    fc.assert(
      fc.property(fc.array(value, { maxLength: 3 }), fc.array(value, { maxLength: 3 }), (a, b) => {
        const same = a.length === b.length && a.every((v, i) => valuesEqual(v, b[i]) && typeof v === typeof b[i]);
        // Equal encodings exactly when the values are equal (typed lists of equal content aside).
        if (same) expect(encodeValues(a)).toBe(encodeValues(b));
        else if (encodeValues(a) === encodeValues(b)) {
          expect(a.length).toBe(b.length);
          a.forEach((v, i) => expect(valuesEqual(v, b[i])).toBe(true));
        }
      }),
      { numRuns: 500 },
    );
  });

  test('equality is SameValueZero on scalars and element-wise on lists', () => {
    expect(valuesEqual(0, -0)).toBe(true);
    expect(encodeValue(0)).toBe(encodeValue(-0));
    expect(valuesEqual(NaN, NaN)).toBe(true);
    expect(valuesEqual(1, '1' as never)).toBe(false);
    expect(valuesEqual([1, 2], [1, 2])).toBe(true);
    expect(valuesEqual([1, 2], [2, 1])).toBe(false);
  });

  test('the order is total and locale-free', () => {
    const sorted = [3, -1, NaN, 10, 2].sort(compareValues);
    expect(sorted.slice(0, 4)).toEqual([-1, 2, 3, 10]);
    expect(Number.isNaN(sorted[4])).toBe(true);
    expect(['b', 'B', 'a', 'é', 'A'].sort(compareValues)).toEqual(['A', 'B', 'a', 'b', 'é']);
    expect([true, false].sort(compareValues)).toEqual([false, true]);
    expect([[1, 2], [1], [0, 9]].sort(compareValues)).toEqual([[0, 9], [1], [1, 2]]);
  });
});
