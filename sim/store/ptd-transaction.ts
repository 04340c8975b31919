// PTD transactions with transactional guard processing (TGP, FIG. 39): the statement language, its
// validation, and its pure evaluation against a record map. Owns nothing else: it does not know about logs,
// replicas or messages. Every replica evaluates the same transaction at the same log index against the same
// records and so reaches the same result, which is what lets the log carry transactions instead of effects.
//
// Semantics: statements run in order and see the effects of earlier ones; a false `guard` skips its `then`
// (and runs its `else`); a false `require` aborts the whole transaction, which then changes nothing
// (all or nothing: the patent's "undo a series of prior query operations" when a later one fails).

export interface PtdRecord {
  readonly value: unknown;
  /** The log index of the transaction that last wrote the record. */
  readonly version: number;
}

export type Condition =
  | { kind: 'exists'; key: string }
  | { kind: 'absent'; key: string }
  /** Deep equality of the record's value (compared as canonical JSON). */
  | { kind: 'equals'; key: string; value: unknown }
  /** The record's version; 0 stands for an absent record. */
  | { kind: 'version'; key: string; version: number }
  /** The record is absent, or its value is an object whose numeric `field` is at most `value`. */
  | { kind: 'field-at-most'; key: string; field: string; value: number };

export type Statement =
  | { op: 'put'; key: string; value: unknown }
  | { op: 'delete'; key: string }
  | { op: 'get'; key: string }
  | { op: 'get-prefix'; prefix: string }
  | { op: 'guard'; when: Condition; then: Statement[]; else?: Statement[] }
  | { op: 'require'; when: Condition; error: string };

export interface Transaction {
  readonly statements: readonly Statement[];
}

export type TxnOutcome =
  | { ok: true; reads: Array<{ key: string; record: PtdRecord | null }>; writes: string[] }
  | { ok: false; error: string };

/**
 * Runs `txn` as the transaction at log `index` (the version its writes get). Returns the outcome and the
 * changes to apply (key → new record, or null for a deletion); a failed `require` yields no changes.
 * Does not modify `records`.
 */
export function evaluate(
  records: ReadonlyMap<string, PtdRecord>,
  txn: Transaction,
  index: number,
): { outcome: TxnOutcome; changes: Map<string, PtdRecord | null> } {
  const changes = new Map<string, PtdRecord | null>();
  const reads: Array<{ key: string; record: PtdRecord | null }> = [];
  const read = (key: string): PtdRecord | null => (changes.has(key) ? changes.get(key)! : (records.get(key) ?? null));

  const holds = (c: Condition): boolean => {
    const r = read(c.key);
    switch (c.kind) {
      case 'exists':
        return r !== null;
      case 'absent':
        return r === null;
      case 'equals':
        return r !== null && canonicalJson(r.value) === canonicalJson(c.value);
      case 'version':
        return (r?.version ?? 0) === c.version;
      case 'field-at-most': {
        if (r === null) return true;
        const field = isPlainObject(r.value) ? r.value[c.field] : undefined;
        return typeof field === 'number' && field <= c.value;
      }
    }
  };

  const keysUnder = (prefix: string): string[] => {
    const keys = new Set<string>();
    for (const key of records.keys()) if (key.startsWith(prefix)) keys.add(key);
    for (const key of changes.keys()) if (key.startsWith(prefix)) keys.add(key);
    return [...keys].filter((k) => read(k) !== null).sort(compareKeys);
  };

  /** Runs statements; returns the error of a failed require, or null. */
  const run = (statements: readonly Statement[]): string | null => {
    for (const s of statements) {
      switch (s.op) {
        case 'put':
          changes.set(s.key, { value: s.value, version: index });
          break;
        case 'delete':
          if (read(s.key) !== null) changes.set(s.key, null);
          break;
        case 'get':
          reads.push({ key: s.key, record: read(s.key) });
          break;
        case 'get-prefix':
          for (const key of keysUnder(s.prefix)) reads.push({ key, record: read(key) });
          break;
        case 'guard': {
          const error = run(holds(s.when) ? s.then : (s.else ?? []));
          if (error !== null) return error;
          break;
        }
        case 'require':
          if (!holds(s.when)) return s.error;
          break;
      }
    }
    return null;
  };

  const error = run(txn.statements);
  if (error !== null) return { outcome: { ok: false, error }, changes: new Map() };
  // A key created and deleted within the transaction did not change.
  for (const [key, record] of changes) if (record === null && !records.has(key)) changes.delete(key);
  return { outcome: { ok: true, reads, writes: [...changes.keys()] }, changes };
}

/** JSON with object keys sorted at every level: equal JSON values give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isPlainObject(value)) {
    const fields = Object.keys(value)
      .sort(compareKeys)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`);
    return `{${fields.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Orders keys by UTF-16 code units, independent of locale. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---- validation ----------------------------------------------------------------------------------------

const CONDITION_KINDS = ['exists', 'absent', 'equals', 'version', 'field-at-most'] as const;
const STATEMENT_OPS = ['put', 'delete', 'get', 'get-prefix', 'guard', 'require'] as const;

/**
 * Checks that `txn` is a transaction and returns a fresh copy of it (values deep-copied, so later changes
 * to the caller's objects cannot reach the log). Throws a one-line Error naming the path of the first
 * problem: unknown ops or condition kinds, missing or extra fields, and values that are not JSON.
 */
export function validateTransaction(txn: unknown): Transaction {
  if (!isPlainObject(txn)) fail('', 'a transaction must be an object with a statements list');
  onlyFields(txn, ['statements'], '');
  return { statements: statementList(txn.statements, 'statements') };
}

function statementList(value: unknown, path: string): Statement[] {
  if (!Array.isArray(value)) fail(path, 'must be a list of statements');
  return value.map((s, i) => statement(s, `${path}[${i}]`));
}

function statement(s: unknown, path: string): Statement {
  if (!isPlainObject(s)) fail(path, 'a statement must be an object');
  const op = s.op;
  switch (op) {
    case 'put':
      onlyFields(s, ['op', 'key', 'value'], path);
      return { op, key: key(s.key, `${path}.key`), value: jsonValue(s.value, `${path}.value`) };
    case 'delete':
    case 'get':
      onlyFields(s, ['op', 'key'], path);
      return { op, key: key(s.key, `${path}.key`) };
    case 'get-prefix':
      onlyFields(s, ['op', 'prefix'], path);
      if (typeof s.prefix !== 'string') fail(`${path}.prefix`, 'must be a string');
      return { op, prefix: s.prefix };
    case 'guard': {
      onlyFields(s, ['op', 'when', 'then', 'else'], path);
      const guard: Extract<Statement, { op: 'guard' }> = { op, when: condition(s.when, `${path}.when`), then: statementList(s.then, `${path}.then`) };
      if (s.else !== undefined) guard.else = statementList(s.else, `${path}.else`);
      return guard;
    }
    case 'require':
      onlyFields(s, ['op', 'when', 'error'], path);
      if (typeof s.error !== 'string' || s.error === '') fail(`${path}.error`, 'must be a non-empty string');
      return { op, when: condition(s.when, `${path}.when`), error: s.error };
    default:
      return fail(`${path}.op`, `unknown op ${describe(op)} (expected one of ${STATEMENT_OPS.join(', ')})`);
  }
}

function condition(c: unknown, path: string): Condition {
  if (!isPlainObject(c)) fail(path, 'a condition must be an object');
  const kind = c.kind;
  switch (kind) {
    case 'exists':
    case 'absent':
      onlyFields(c, ['kind', 'key'], path);
      return { kind, key: key(c.key, `${path}.key`) };
    case 'equals':
      onlyFields(c, ['kind', 'key', 'value'], path);
      return { kind, key: key(c.key, `${path}.key`), value: jsonValue(c.value, `${path}.value`) };
    case 'version':
      onlyFields(c, ['kind', 'key', 'version'], path);
      if (!(Number.isSafeInteger(c.version) && (c.version as number) >= 0)) fail(`${path}.version`, 'must be a whole number, 0 or more');
      return { kind, key: key(c.key, `${path}.key`), version: c.version as number };
    case 'field-at-most':
      onlyFields(c, ['kind', 'key', 'field', 'value'], path);
      if (typeof c.field !== 'string' || c.field === '') fail(`${path}.field`, 'must be a non-empty string');
      if (!(typeof c.value === 'number' && Number.isFinite(c.value))) fail(`${path}.value`, 'must be a finite number');
      return { kind, key: key(c.key, `${path}.key`), field: c.field, value: c.value };
    default:
      return fail(`${path}.kind`, `unknown condition ${describe(kind)} (expected one of ${CONDITION_KINDS.join(', ')})`);
  }
}

function key(value: unknown, path: string): string {
  if (typeof value !== 'string' || value === '') fail(path, 'must be a non-empty string');
  return value;
}

/** A deep copy of a JSON value; throws on anything else (undefined, NaN, functions, Maps, cycles, …). */
function jsonValue(value: unknown, path: string, ancestors: unknown[] = []): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) fail(path, `${value} is not a JSON number`);
    return value;
  }
  if (typeof value === 'object') {
    if (ancestors.includes(value)) fail(path, 'a value must not contain itself');
    const inner = [...ancestors, value];
    if (Array.isArray(value)) return value.map((v, i) => jsonValue(v, `${path}[${i}]`, inner));
    if (isPlainObject(value)) {
      const copy: Record<string, unknown> = {};
      for (const k of Object.keys(value)) copy[k] = jsonValue(value[k], `${path}.${k}`, inner);
      return copy;
    }
  }
  return fail(path, value === undefined ? 'is required' : `${describe(value)} is not a JSON value`);
}

function onlyFields(o: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(path === '' ? k : `${path}.${k}`, `unknown field (expected ${allowed.join(', ')})`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'object' && v !== null) return `an object of class ${v.constructor?.name ?? 'unknown'}`;
  return String(v);
}

function fail(path: string, why: string): never {
  throw new Error(`bad transaction: ${path === '' ? '' : `${path}: `}${why}`);
}
