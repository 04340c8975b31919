// PTD transactions (TGP, FIG. 39; scenario S21): guarded multi-key updates, all-or-nothing aborts, statements
// that see earlier writes, prefix reads, and validation that names the bad part of a transaction.
import { describe, expect, test } from 'vitest';
import { canonicalJson, evaluate, validateTransaction, type PtdRecord, type Statement, type Transaction } from '../../sim/store/ptd-transaction.ts';

const rec = (value: unknown, version: number): PtdRecord => ({ value, version });

/** Applies the changes of an evaluation to a copy of the records. */
function applied(records: ReadonlyMap<string, PtdRecord>, changes: Map<string, PtdRecord | null>): Map<string, PtdRecord> {
  const out = new Map(records);
  for (const [k, r] of changes) {
    if (r === null) out.delete(k);
    else out.set(k, r);
  }
  return out;
}

describe('FIG. 39: set all ports of tenant T1 to open if TenantID == T1, else close them', () => {
  const ports = ['port/T1/1', 'port/T1/2', 'port/T1/3'];
  const tenantRule = (tenant: string): Transaction => ({
    statements: [
      {
        op: 'guard',
        when: { kind: 'equals', key: 'tenant/current', value: { id: tenant } },
        then: ports.map((key): Statement => ({ op: 'put', key, value: { state: 'open' } })),
        else: ports.map((key): Statement => ({ op: 'put', key, value: { state: 'closed' } })),
      },
    ],
  });
  const records = new Map<string, PtdRecord>([
    ['tenant/current', rec({ id: 'T1' }, 1)],
    ...ports.map((k, i): [string, PtdRecord] => [k, rec({ state: 'closed' }, 2 + i)]),
  ]);

  test('the guard holds: every port opens, each write carrying the transaction index as its version', () => {
    const { outcome, changes } = evaluate(records, tenantRule('T1'), 10);
    expect(outcome).toEqual({ ok: true, reads: [], writes: ports });
    const after = applied(records, changes);
    for (const k of ports) expect(after.get(k)).toEqual(rec({ state: 'open' }, 10));
    expect(after.get('tenant/current')).toEqual(rec({ id: 'T1' }, 1));
  });

  test('the guard fails: its statements are skipped and the else branch closes every port', () => {
    const { outcome, changes } = evaluate(records, tenantRule('T2'), 11);
    expect(outcome.ok).toBe(true);
    const after = applied(records, changes);
    for (const k of ports) expect(after.get(k)).toEqual(rec({ state: 'closed' }, 11));
  });

  test('a guard without else that fails changes nothing', () => {
    const txn: Transaction = { statements: [{ op: 'guard', when: { kind: 'exists', key: 'tenant/other' }, then: [{ op: 'delete', key: 'port/T1/1' }] }] };
    const { outcome, changes } = evaluate(records, txn, 12);
    expect(outcome).toEqual({ ok: true, reads: [], writes: [] });
    expect(changes.size).toBe(0);
  });

  test('equality is deep and ignores object key order', () => {
    const r = new Map([['k', rec({ a: 1, b: [1, { c: 2, d: 3 }] }, 1)]]);
    const txn: Transaction = { statements: [{ op: 'require', when: { kind: 'equals', key: 'k', value: { b: [1, { d: 3, c: 2 }], a: 1 } }, error: 'differs' }] };
    expect(evaluate(r, txn, 2).outcome.ok).toBe(true);
    expect(canonicalJson({ b: 1, a: [true, null, 'x'] })).toBe('{"a":[true,null,"x"],"b":1}');
  });
});

describe('all or nothing', () => {
  const records = new Map([['a', rec(1, 1)]]);

  test('a failing require after writes aborts the whole transaction and reports its error', () => {
    const txn: Transaction = {
      statements: [
        { op: 'put', key: 'a', value: 2 },
        { op: 'put', key: 'b', value: 3 },
        { op: 'delete', key: 'a' },
        { op: 'require', when: { kind: 'exists', key: 'nope' }, error: 'nope is missing' },
        { op: 'put', key: 'c', value: 4 },
      ],
    };
    const { outcome, changes } = evaluate(records, txn, 5);
    expect(outcome).toEqual({ ok: false, error: 'nope is missing' });
    expect(changes.size).toBe(0);
  });

  test('a require nested in a guard also aborts everything', () => {
    const txn: Transaction = {
      statements: [
        { op: 'put', key: 'x', value: 1 },
        { op: 'guard', when: { kind: 'exists', key: 'a' }, then: [{ op: 'require', when: { kind: 'version', key: 'a', version: 7 }, error: 'version moved' }] },
      ],
    };
    expect(evaluate(records, txn, 5)).toEqual({ outcome: { ok: false, error: 'version moved' }, changes: new Map() });
  });

  test('evaluation never modifies the records it is given', () => {
    const before = JSON.stringify([...records]);
    evaluate(records, { statements: [{ op: 'put', key: 'a', value: 9 }, { op: 'delete', key: 'a' }] }, 3);
    expect(JSON.stringify([...records])).toBe(before);
  });
});

describe('statements see earlier statements', () => {
  test('a guard sees a put, a get sees it, a delete hides it again', () => {
    const txn: Transaction = {
      statements: [
        { op: 'put', key: 'k', value: { n: 1 } },
        { op: 'guard', when: { kind: 'exists', key: 'k' }, then: [{ op: 'put', key: 'seen', value: true }] },
        { op: 'get', key: 'k' },
        { op: 'delete', key: 'k' },
        { op: 'get', key: 'k' },
        { op: 'require', when: { kind: 'absent', key: 'k' }, error: 'still there' },
      ],
    };
    const { outcome, changes } = evaluate(new Map(), txn, 4);
    expect(outcome).toEqual({ ok: true, reads: [{ key: 'k', record: rec({ n: 1 }, 4) }, { key: 'k', record: null }], writes: ['seen'] });
    // k was created and deleted within the transaction: no change to it.
    expect([...changes]).toEqual([['seen', rec(true, 4)]]);
  });

  test('version and field-at-most conditions read the current state', () => {
    const records = new Map([['e', rec({ epoch: 3 }, 2)]]);
    const stale: Transaction = { statements: [{ op: 'require', when: { kind: 'field-at-most', key: 'e', field: 'epoch', value: 2 }, error: 'stale' }] };
    const fresh: Transaction = { statements: [{ op: 'require', when: { kind: 'field-at-most', key: 'e', field: 'epoch', value: 3 }, error: 'stale' }] };
    const absent: Transaction = { statements: [{ op: 'require', when: { kind: 'field-at-most', key: 'none', field: 'epoch', value: 0 }, error: 'stale' }] };
    expect(evaluate(records, stale, 3).outcome).toEqual({ ok: false, error: 'stale' });
    expect(evaluate(records, fresh, 3).outcome.ok).toBe(true);
    expect(evaluate(records, absent, 3).outcome.ok).toBe(true);
    const cas: Transaction = {
      statements: [
        { op: 'require', when: { kind: 'version', key: 'e', version: 2 }, error: 'moved' },
        { op: 'put', key: 'e', value: { epoch: 4 } },
        { op: 'require', when: { kind: 'version', key: 'e', version: 3 }, error: 'not rewritten' },
        { op: 'require', when: { kind: 'version', key: 'missing', version: 0 }, error: 'absent is version 0' },
      ],
    };
    expect(evaluate(records, cas, 3).outcome.ok).toBe(true);
  });
});

describe('get-prefix', () => {
  test('returns every live record under the prefix, sorted by key, including this transaction’s writes', () => {
    const records = new Map([
      ['p/b', rec('B', 1)],
      ['p/a', rec('A', 2)],
      ['p/c', rec('C', 3)],
      ['q/a', rec('Q', 4)],
    ]);
    const txn: Transaction = {
      statements: [
        { op: 'put', key: 'p/0', value: 'zero' },
        { op: 'delete', key: 'p/c' },
        { op: 'get-prefix', prefix: 'p/' },
      ],
    };
    const { outcome } = evaluate(records, txn, 9);
    expect(outcome).toEqual({
      ok: true,
      reads: [
        { key: 'p/0', record: rec('zero', 9) },
        { key: 'p/a', record: rec('A', 2) },
        { key: 'p/b', record: rec('B', 1) },
      ],
      writes: ['p/0', 'p/c'],
    });
  });

  test('an empty prefix reads everything', () => {
    const { outcome } = evaluate(new Map([['z', rec(1, 1)], ['a', rec(2, 1)]]), { statements: [{ op: 'get-prefix', prefix: '' }] }, 2);
    expect(outcome.ok && outcome.reads.map((r) => r.key)).toEqual(['a', 'z']);
  });
});

describe('validateTransaction', () => {
  const bad = (txn: unknown) => () => validateTransaction(txn);

  test('returns a deep copy, so later changes to the caller’s value do not reach the transaction', () => {
    const value = { ports: [1, 2] };
    const txn = validateTransaction({ statements: [{ op: 'put', key: 'k', value }] });
    value.ports.push(3);
    expect(txn).toEqual({ statements: [{ op: 'put', key: 'k', value: { ports: [1, 2] } }] });
  });

  test('accepts every statement and condition kind', () => {
    const txn: Transaction = {
      statements: [
        { op: 'get', key: 'a' },
        { op: 'get-prefix', prefix: '' },
        { op: 'delete', key: 'a' },
        {
          op: 'guard',
          when: { kind: 'field-at-most', key: 'a', field: 'f', value: 1.5 },
          then: [{ op: 'require', when: { kind: 'version', key: 'a', version: 0 }, error: 'e' }],
          else: [{ op: 'put', key: 'b', value: null }],
        },
        { op: 'require', when: { kind: 'equals', key: 'a', value: [1, 'x', { y: false }] }, error: 'e' },
        { op: 'guard', when: { kind: 'absent', key: 'a' }, then: [] },
        { op: 'guard', when: { kind: 'exists', key: 'a' }, then: [] },
      ],
    };
    expect(validateTransaction(txn)).toEqual(txn);
  });

  test('throws one line naming the path of the problem', () => {
    expect(bad(null)).toThrow('bad transaction: a transaction must be an object with a statements list');
    expect(bad({ statements: 'x' })).toThrow('bad transaction: statements: must be a list of statements');
    expect(bad({ statements: [], extra: 1 })).toThrow('bad transaction: extra: unknown field (expected statements)');
    expect(bad({ statements: [{ op: 'upsert', key: 'k' }] })).toThrow("statements[0].op: unknown op 'upsert' (expected one of put, delete, get, get-prefix, guard, require)");
    expect(bad({ statements: [{ op: 'put', key: '' , value: 1 }] })).toThrow('statements[0].key: must be a non-empty string');
    expect(bad({ statements: [{ op: 'put', key: 'k' }] })).toThrow('statements[0].value: is required');
    expect(bad({ statements: [{ op: 'put', key: 'k', value: 1, vaule: 2 }] })).toThrow('statements[0].vaule: unknown field (expected op, key, value)');
    expect(bad({ statements: [{ op: 'put', key: 'k', value: { a: [1, Number.NaN] } }] })).toThrow('statements[0].value.a[1]: NaN is not a JSON number');
    expect(bad({ statements: [{ op: 'put', key: 'k', value: new Map() }] })).toThrow('statements[0].value: an object of class Map is not a JSON value');
    expect(bad({ statements: [{ op: 'put', key: 'k', value: () => 1 }] })).toThrow('statements[0].value: a function is not a JSON value');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(bad({ statements: [{ op: 'put', key: 'k', value: cyclic }] })).toThrow('statements[0].value.self: a value must not contain itself');
    expect(bad({ statements: [{ op: 'guard', when: { kind: 'maybe', key: 'k' }, then: [] }] })).toThrow(
      "statements[0].when.kind: unknown condition 'maybe' (expected one of exists, absent, equals, version, field-at-most)",
    );
    expect(bad({ statements: [{ op: 'guard', when: { kind: 'exists', key: 'k' }, then: [{ op: 'get' }] }] })).toThrow('statements[0].then[0].key: must be a non-empty string');
    expect(bad({ statements: [{ op: 'require', when: { kind: 'exists', key: 'k' }, error: '' }] })).toThrow('statements[0].error: must be a non-empty string');
    expect(bad({ statements: [{ op: 'require', when: { kind: 'version', key: 'k', version: -1 }, error: 'e' }] })).toThrow('statements[0].when.version: must be a whole number, 0 or more');
    expect(bad({ statements: [{ op: 'get-prefix', prefix: 3 }] })).toThrow('statements[0].prefix: must be a string');
    for (const f of [bad(undefined), bad({ statements: [{ op: 'put', key: 'k' }] })]) {
      try {
        f();
      } catch (e) {
        expect((e as Error).message).not.toContain('\n');
      }
    }
  });
});
