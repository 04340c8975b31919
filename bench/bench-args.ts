// Command-line flags for the benchmarks: parsing, and bad input reported as one line with exit status 2
// (node's parseArgs alone would throw with a stack trace on an unknown flag).

import { parseArgs } from 'node:util';

type StringOptions<K extends string> = Record<K, { type: 'string'; default: string }>;

/** Parses `--name value` flags with string defaults; exits 2 with one line on anything else. */
export function benchArgs<K extends string>(bench: string, options: StringOptions<K>): { [P in K]: string } & { fail(message: string): never; positiveInteger(name: K): number } {
  const fail = (message: string): never => {
    process.stderr.write(`${bench}: ${message}\n`);
    process.exit(2);
  };
  let values: Record<string, string>;
  try {
    values = parseArgs({ options, strict: true }).values as Record<string, string>;
  } catch (e) {
    return fail((e as Error).message.split('\n')[0]);
  }
  const positiveInteger = (name: K): number => {
    const n = Number(values[name]);
    if (!Number.isSafeInteger(n) || n <= 0) fail(`--${name} must be a positive integer, got '${values[name]}'`);
    return n;
  };
  return { ...(values as { [P in K]: string }), fail, positiveInteger };
}
