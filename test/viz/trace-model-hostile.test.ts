// A trace is untrusted input. Each malformed trace gives one TraceError naming the line (1-based) and what
// is wrong, in one line of text; hostile names (HTML, '__proto__', line breaks) are kept as plain data and
// pollute nothing; a size over the limit is refused before anything is read.

import { describe, expect, test } from 'vitest';
import { assertTraceSize, loadTrace, TraceError } from '../../viz/src/model/index.ts';

const lines = (...records: object[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';
const start = (node: string, kind = 'host') => ({ t: 0, type: 'node.start', node, kind, incarnation: 1 });

function errorOf(text: string, options?: { maxBytes?: number }): TraceError {
  try {
    loadTrace(text, options);
  } catch (error) {
    expect(error).toBeInstanceOf(TraceError);
    const traceError = error as TraceError;
    expect(traceError.message).not.toMatch(/[\n\r\u2028\u2029]/);
    expect(traceError.message.length).toBeLessThanOrEqual(300);
    return traceError;
  }
  throw new Error('the trace was accepted');
}

describe('malformed traces: one line saying where and what', () => {
  const ok = JSON.stringify(start('h1'));

  test.each([
    ['bad JSON', `${ok}\n${ok}\n{"t":5,"type":"x",}\n`, 3, /^trace line 3: not valid JSON/],
    ['not an object', `${ok}\n[1,2]\n`, 2, /^trace line 2: not a JSON object$/],
    ['a time going backwards', lines({ t: 200, type: 'a' }, { t: 100, type: 'b' }), 2, /^trace line 2: time 100 is before the previous line's 200$/],
    ['a negative time', lines({ t: -1, type: 'a' }), 1, /^trace line 1: needs a time 't'/],
    ['a fractional time', lines({ t: 0, type: 'a' }, { t: 1.5, type: 'a' }), 2, /^trace line 2: needs a time 't'/],
    ['a time as a string', lines({ t: '5', type: 'a' }), 1, /^trace line 1: needs a time 't'/],
    ['a time past 2^53', '{"t":9007199254740993,"type":"a"}\n', 1, /^trace line 1: needs a time 't'/],
    ['no type', lines({ t: 0 }), 1, /^trace line 1: needs a non-empty string 'type'$/],
    ['an empty type', lines({ t: 0, type: '' }), 1, /^trace line 1: needs a non-empty string 'type'$/],
    ['a blank line', `${ok}\n\n${ok}\n`, 2, /^trace line 2: blank line$/],
    ['a line of spaces', `${ok}\n   \n`, 2, /^trace line 2: blank line$/],
    [
      'a missing field',
      lines(start('h1'), { t: 1, type: 'cm.master', instance: 'ctl-1', epoch: 1, held: true, reason: 'r' }),
      2,
      /^trace line 2: 'cm.master' record needs a string 'entity'$/,
    ],
    [
      'a field of the wrong type',
      lines(start('h1'), { t: 1, type: 'cm.master', instance: 'ctl-1', entity: 'switch:h1', epoch: 1, held: 'yes', reason: 'r' }),
      2,
      /^trace line 2: 'cm.master' record needs a boolean 'held'$/,
    ],
    ['a nested wrong type', lines({ t: 0, type: 'fault.partition', id: 'p', mode: 'groups', groups: [['a'], [7]] }), 1, /^trace line 1: 'fault.partition' record needs a string 'groups\[1\]\[0\]'$/],
    ['an unknown enum value', lines({ t: 0, type: 'fault.partition', id: 'p', mode: 'sideways', groups: [] }), 1, /^trace line 1: 'fault.partition' record needs 'mode' to be 'groups' or 'one-way'$/],
    ['a fractional integer', lines({ t: 0, type: 'dp.drop', node: 'h1', packetId: 1.5, reason: 'r', table: 0 }), 1, /^trace line 1: 'dp.drop' record needs an integer 'packetId'$/],
    [
      'flow hits without keys',
      lines({ t: 0, type: 'dp.pipeline', node: 'h1', packetId: 1, inPort: 1, hits: [{ table: 0 }], outputs: [], drop: null }),
      1,
      /^trace line 1: 'dp.pipeline' record needs a string 'hits\[0\]\.flowKey'$/,
    ],
    ['a degrade without link settings', lines({ t: 0, type: 'fault.degrade', id: 'd', from: [], to: [], symmetric: true, link: 3 }), 1, /^trace line 1: 'fault.degrade' record needs an object 'link'$/],
    [
      'a tunnelled packet without an id',
      lines({ t: 0, type: 'net.send', id: 1, src: 'a', dst: 'b', body: { type: 'dp.tunnel', packet: { originId: 1 } } }),
      1,
      /^trace line 1: 'net.send' record of a 'dp.tunnel' message needs a number 'body\.packet\.id'$/,
    ],
  ])('%s', (_name, text, line, message) => {
    const error = errorOf(text);
    expect(error.line).toBe(line);
    expect(error.message).toMatch(message);
  });

  test('a line break or a huge value inside a bad line stays out of the message', () => {
    const error = errorOf(`${ok}\n{"t":1,"type":"x" ${'<b>'.repeat(5000)}\u2028\n`);
    expect(error.line).toBe(2);
  });

  test('an empty trace', () => {
    const error = errorOf('');
    expect(error.line).toBeNull();
    expect(error.message).toBe('trace is empty');
  });

  test('a final empty line is fine, and so is no final newline', () => {
    expect(loadTrace(`${ok}\n`).meta.lines).toBe(1);
    expect(loadTrace(ok).meta.lines).toBe(1);
    expect(loadTrace(ok).meta.hash).toBe(loadTrace(`${ok}\n`).meta.hash);
  });
});

describe('size', () => {
  test('a text over maxBytes is refused without being read', () => {
    const error = errorOf(`${'x'.repeat(100)}\n`, { maxBytes: 64 });
    expect(error.line).toBeNull();
    expect(error.message).toBe('trace is over the limit of 64 bytes');
  });

  test('a 2 GB file is refused from its size alone; a small one passes', () => {
    expect(() => assertTraceSize(2 * 1024 ** 3)).toThrow(TraceError);
    expect(() => assertTraceSize(2 * 1024 ** 3)).toThrow('trace is 2048 MiB, over the limit of 512 MiB');
    expect(() => assertTraceSize(1000)).not.toThrow();
    expect(() => assertTraceSize(1000, 999)).toThrow('trace is 1000 bytes, over the limit of 999 bytes');
  });
});

describe('hostile content is data, never code or markup', () => {
  test("'__proto__' as a key and as a name pollutes nothing and stays an ordinary entry", () => {
    // A literal '__proto__' key in the JSON text itself (in an object literal here it would set a prototype).
    const protoKey = '{"t":0,"type":"node.start","node":"__proto__","kind":"host","incarnation":1,"__proto__":{"polluted":true}}\n';
    const model = loadTrace(
      protoKey +
        lines(
          { t: 0, type: 'node.start', node: 'constructor', kind: 'controller', incarnation: 1 },
          { t: 0, type: '__proto__', polluted: true },
          { t: 1, type: 'switch.role', node: '__proto__', controller: 'constructor', role: 'master', generationId: 1 },
          { t: 1, type: 'dp.vif.attach', node: '__proto__', vm: 'toString', vifId: 'v', port: 1 },
          { t: 2, type: 'switch.flowmod', node: '__proto__', from: 'constructor', command: 'add', flowKey: '__proto__', cookie: 'constructor' },
        ),
    );
    expect(model.nodes.map((n) => n.id)).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    const view = model.viewAt(5);
    expect(Object.getOwnPropertyNames(view.masterOf)).toEqual(['__proto__']);
    expect(view.masterOf['__proto__']).toBe('constructor');
    expect(view.vmHost['toString']).toBe('__proto__');
    expect(view.masterOf['toString']).toBeUndefined();
    expect(view.nodes.switches).toEqual(['__proto__']);
    expect(view.nodes.controllers).toEqual(['constructor']);
    expect(Object.getOwnPropertyNames(model.charts.flowsPerSwitch)).toEqual(['__proto__']);
    expect(model.charts.flowsPerSwitch['__proto__']).toEqual([{ t: 2, value: 1 }]);
  });

  test('HTML in names and details is kept as text; labels stay on one line', () => {
    const evil = '<img src=x onerror="alert(1)">';
    const model = loadTrace(
      lines(
        start(evil),
        { t: 5, type: 'fault.crash', node: evil, incarnation: 1 },
        { t: 6, type: 'check.violation', id: '<script>alert(2)</script>', detail: 'line one\nline two\u2028three' },
        { t: 7, type: 'nvt.config', action: 'x'.repeat(10_000), detail: '' },
      ),
    );
    expect(model.nodes[0].id).toBe(evil);
    expect(model.timeline[0].label).toBe(`${evil} crashes`);
    expect(model.timeline[1].label).toBe('violation <script>alert(2)</script>: line one line two three');
    expect(model.timeline[2].label.length).toBeLessThanOrEqual(200);
    expect(model.viewAt(6).violations).toEqual([{ t: 6, id: '<script>alert(2)</script>', detail: 'line one\nline two\u2028three' }]);
    expect(model.viewAt(6).crashed).toEqual([evil]);
  });

  test('unknown record types are kept as lines and otherwise ignored', () => {
    const model = loadTrace(lines(start('h1'), { t: 1, type: 'gset.apply', anything: { nested: [1, 2] } }, { t: 2, type: 'x' }));
    expect(model.meta.lines).toBe(3);
    expect(model.meta.endNs).toBe(2);
    expect(model.timeline).toEqual([]);
  });

  test('times outside the trace are clamped', () => {
    const model = loadTrace(lines(start('h1'), { t: 10, type: 'fault.crash', node: 'h1', incarnation: 1 }));
    expect(model.viewAt(-5).time).toBe(0);
    expect(model.viewAt(Number.NaN).time).toBe(0);
    expect(model.viewAt(Infinity)).toMatchObject({ time: 10, crashed: ['h1'] });
  });
});
