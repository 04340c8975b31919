// A LogicalNetworks call that must be refused: it throws one line matching `expected`, and the model — its
// snapshot and views as `observe` renders them, and its change stream — is exactly as it was.
import { expect } from 'vitest';
import type { LogicalNetworks } from '../../sim/logical/logical-networks.ts';

export function expectRefusedWithoutChange(net: LogicalNetworks, call: (net: LogicalNetworks) => unknown, expected: RegExp | string, observe: (net: LogicalNetworks) => string): void {
  const before = observe(net);
  const delivered: unknown[] = [];
  net.subscribe((d) => delivered.push(d));
  let error: unknown;
  try {
    call(net);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(Error);
  const message = (error as Error).message;
  expect(message).toMatch(expected);
  expect(message).not.toMatch(/[\n\r]/);
  expect(observe(net)).toBe(before);
  expect(delivered).toEqual([]);
}
