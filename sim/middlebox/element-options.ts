// The middlebox element's knobs, their defaults and their validation. Owns nothing else.

import { NS_PER_S, type Nanos } from '../kernel/time.ts';

export interface ElementOptions {
  /** A connection idle longer than this is collected (the seed's "timestamps for dead-connection detection"). */
  idleTimeoutNs: Nanos;
  /** How often idle connections are collected. */
  gcIntervalNs: Nanos;
  /** The longest a state gap (a migration destination waiting for the VM's state) lasts. */
  gapTimeoutNs: Nanos;
  /** Packets held per VM during a 'buffer' state gap; later ones are dropped. */
  bufferLimit: number;
}

export const DEFAULT_ELEMENT_OPTIONS: ElementOptions = {
  idleTimeoutNs: 300 * NS_PER_S,
  gcIntervalNs: 10 * NS_PER_S,
  gapTimeoutNs: 2 * NS_PER_S,
  bufferLimit: 64,
};

/** Fills in defaults; throws a one-line Error for an unknown knob or a value out of range. */
export function elementOptions(partial: Partial<ElementOptions>): ElementOptions {
  for (const key of Object.keys(partial)) {
    if (!(key in DEFAULT_ELEMENT_OPTIONS)) throw new Error(`middlebox element: unknown option '${key}'`);
  }
  const options = { ...DEFAULT_ELEMENT_OPTIONS, ...partial };
  for (const key of ['idleTimeoutNs', 'gcIntervalNs', 'gapTimeoutNs'] as const) {
    const v = options[key];
    if (!Number.isSafeInteger(v) || v <= 0) throw new Error(`middlebox element: ${key} must be a positive whole number of nanoseconds, got ${String(v)}`);
  }
  if (!Number.isSafeInteger(options.bufferLimit) || options.bufferLimit < 0) {
    throw new Error(`middlebox element: bufferLimit must be a non-negative whole number, got ${String(options.bufferLimit)}`);
  }
  return options;
}
