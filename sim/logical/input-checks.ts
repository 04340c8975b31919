// Small checks shared by every call of the logical API: names, strings, integers, the shape of an input
// object, and quoting user text into one-line error messages. Owns these generic checks; not the
// meaning of any entity (the *-ops.ts files) nor address syntax (address-text.ts).

/** Quotes user text for an error message, escaping control characters so the message stays one line. */
export function q(value: unknown): string {
  if (typeof value !== 'string') return typeof value === 'number' ? String(value) : `<${value === null ? 'null' : typeof value}>`;
  return `'${oneLine(value)}'`;
}

/** Escapes control characters (newlines included) so any message is one line. */
export function oneLine(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Names, tenants, VIF ids, network and node names: a letter, digit or underscore, then up to 127 of
 * those or . : @ / -. No spaces or control characters, so every error that names one is one line and
 * address entries (space-separated) cannot be confused with names.
 */
const NAME_TEXT = /^[A-Za-z0-9_][A-Za-z0-9_.:@/-]{0,127}$/;

export function checkName(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new Error(`${what} must be a string, got ${q(value)}`);
  if (!NAME_TEXT.test(value)) {
    throw new Error(`${what} ${q(value)} is not a valid name (letters, digits and _ . : @ / -, at most 128, not starting with a symbol)`);
  }
  return value;
}

export function checkInteger(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${what} must be an integer in ${min}..${max}, got ${q(value)}`);
  }
  return value;
}

export function checkOneOf<T extends string>(value: unknown, what: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new Error(`${what} must be one of ${allowed.join(', ')}, got ${q(value)}`);
  }
  return value as T;
}

export function checkStringList(value: unknown, what: string): readonly string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new Error(`${what} must be a list of strings`);
  return value as string[];
}

/**
 * Checks that `input` is a plain object with only `allowed` fields (a misspelt field would otherwise be
 * silently ignored) and returns it for reading.
 */
export function checkFields<T extends object>(input: T, allowed: readonly (keyof T & string)[], what: string): T {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new Error(`${what}: expected an object, got ${q(input)}`);
  for (const field of Object.keys(input)) {
    if (!(allowed as readonly string[]).includes(field)) throw new Error(`${what}: unknown field ${q(field)} (expected ${allowed.join(', ')})`);
  }
  return input;
}

/** Runs a parser from headers.ts and prefixes its error with the context, one line. */
export function parseWith<T>(parse: (text: string) => T, text: unknown, context: string): T {
  if (typeof text !== 'string') throw new Error(`${context}: expected a string, got ${q(text)}`);
  try {
    return parse(text);
  } catch (e) {
    throw new Error(`${context}: ${oneLine((e as Error).message)}`);
  }
}

export function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** "'a', 'b'" or "'a', 'b', ... and 4 more": bounded so an error stays one readable line. */
export function listNames(names: readonly string[]): string {
  const shown = names.slice(0, 5).map(q).join(', ');
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}
