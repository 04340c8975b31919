// Virtual time units: parseDuration/formatDuration round trips and one-line errors on bad duration text.
import { describe, expect } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { formatDuration, ms, NS_PER_MS, NS_PER_S, NS_PER_US, parseDuration, s, toNanos, us } from '../../sim/kernel/time.ts';

const RUNS = Number(process.env.NVSIM_PROPERTY_RUNS ?? 500);

describe('parseDuration', () => {
  test.each([
    ['7ns', 7],
    ['20us', 20 * NS_PER_US],
    ['250ms', 250 * NS_PER_MS],
    ['10s', 10 * NS_PER_S],
    ['1.5s', 1_500 * NS_PER_MS],
    ['2m', 120 * NS_PER_S],
    ['0s', 0],
    ['0ns', 0],
    [' 3ms ', 3 * NS_PER_MS],
  ])('%s is %i ns', (text, expected) => {
    expect(parseDuration(text)).toBe(expected);
  });

  test('results are whole nanoseconds', () => {
    expect(Number.isInteger(parseDuration('0.1s'))).toBe(true);
    expect(parseDuration('0.1s')).toBe(100 * NS_PER_MS);
    expect(parseDuration('1.0000001ms')).toBe(1_000_000);
  });

  test.each(['', '10', 's', '10 s', '-1s', '1h', '1e3ns', '1.s', '.5s', 'ten seconds', '1s2ms', '99999999999999999ns'])(
    'rejects %j with a one-line error naming the text',
    (text) => {
      let message = '';
      expect(() => {
        try {
          parseDuration(text);
        } catch (e) {
          message = (e as Error).message;
          throw e;
        }
      }).toThrow();
      expect(message).not.toContain('\n');
      expect(message).toContain(`'${text}'`);
    },
  );
});

describe('formatDuration', () => {
  test.each([
    [0, '0ns'],
    [7, '7ns'],
    [20 * NS_PER_US, '20us'],
    [1_500 * NS_PER_MS, '1500ms'],
    [3 * NS_PER_S, '3s'],
    [1_234_567, '1234567ns'],
    [120 * NS_PER_S, '120s'],
  ])('%i ns is %s', (t, text) => {
    expect(formatDuration(t)).toBe(text);
  });

  test.prop([fc.maxSafeNat()], { numRuns: RUNS })('formatDuration(t) parses back to t for any safe non-negative integer', (t) => {
    expect(parseDuration(formatDuration(t))).toBe(t);
  });

  test.prop([fc.nat({ max: 1_000_000 }), fc.constantFrom(1, NS_PER_US, NS_PER_MS, NS_PER_S)], { numRuns: RUNS })(
    'round-trips values on unit boundaries',
    (n, unit) => {
      expect(parseDuration(formatDuration(n * unit))).toBe(n * unit);
    },
  );
});

describe('unit helpers and toNanos', () => {
  test('helpers round to whole nanoseconds', () => {
    expect(us(1.5)).toBe(1_500);
    expect(ms(0.0000015)).toBe(2);
    expect(s(2)).toBe(2 * NS_PER_S);
  });

  test('toNanos takes whole ns numbers or duration text', () => {
    expect(toNanos(42)).toBe(42);
    expect(toNanos('42us')).toBe(42_000);
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) expect(() => toNanos(bad)).toThrow(/non-negative nanosecond/);
  });
});
