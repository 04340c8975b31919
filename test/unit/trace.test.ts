// The trace recorder: what each level records, listeners at every level, the `active` flag, the hash's
// determinism and sensitivity, and the sink's one-JSON-line-per-event format.
import { describe, expect } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { TraceRecorder, type TraceLevel, type TraceRecord } from '../../sim/kernel/trace.ts';
import '../../sim/net/trace-events.ts';

const RUNS = Number(process.env.NVSIM_PROPERTY_RUNS ?? 100);

function recorder(level: TraceLevel) {
  const clock = { now: 0 };
  const lines: string[] = [];
  const trace = new TraceRecorder(clock, { level, sink: { write: (line) => lines.push(line) } });
  return { clock, lines, trace };
}

/** One summary event and one detail event. */
function emitBoth(trace: TraceRecorder): void {
  trace.emit('fault.crash', { node: 'a', incarnation: 1 });
  trace.detail('net.deliver', { id: 1, src: 'a', dst: 'b' });
}

describe('levels', () => {
  test("'off' records nothing, has no hash and is inactive", () => {
    const { trace, lines } = recorder('off');
    expect(trace.active).toBe(false);
    emitBoth(trace);
    expect(trace.recorded).toBe(0);
    expect(trace.counts()).toEqual({});
    expect(lines).toEqual([]);
    expect(trace.hash()).toBeNull();
  });

  test("'summary' records emit() but not detail()", () => {
    const { trace, lines } = recorder('summary');
    expect(trace.active).toBe(true);
    emitBoth(trace);
    expect(trace.recorded).toBe(1);
    expect(trace.counts()).toEqual({ 'fault.crash': 1 });
    expect(lines.map((l) => JSON.parse(l).type)).toEqual(['fault.crash']);
    expect(trace.hash()).toMatch(/^[0-9a-f]{16}$/);
  });

  test("'full' records both", () => {
    const { trace, lines } = recorder('full');
    emitBoth(trace);
    expect(trace.recorded).toBe(2);
    expect(trace.counts()).toEqual({ 'fault.crash': 1, 'net.deliver': 1 });
    expect(lines.map((l) => JSON.parse(l).type)).toEqual(['fault.crash', 'net.deliver']);
  });

  test('a detail-only run hashes differently at summary and full', () => {
    const summary = recorder('summary');
    const full = recorder('full');
    emitBoth(summary.trace);
    emitBoth(full.trace);
    expect(summary.trace.hash()).not.toBe(full.trace.hash());
  });
});

describe('listeners', () => {
  test.each(['off', 'summary', 'full'] as const)("at level '%s' listeners hear every event, emit and detail", (level) => {
    const { trace } = recorder(level);
    const heard: string[] = [];
    const typed: TraceRecord<'net.deliver'>[] = [];
    trace.on('*', (e) => heard.push(e.type));
    trace.on('net.deliver', (e) => typed.push(e));
    emitBoth(trace);
    expect(heard).toEqual(['fault.crash', 'net.deliver']);
    expect(typed).toEqual([{ t: 0, type: 'net.deliver', id: 1, src: 'a', dst: 'b' }]);
  });

  test("at 'off', `active` turns on with the first listener and off after the last unsubscribes", () => {
    const { trace } = recorder('off');
    expect(trace.active).toBe(false);
    const offA = trace.on('fault.crash', () => {});
    const offB = trace.on('*', () => {});
    expect(trace.active).toBe(true);
    offA();
    expect(trace.active).toBe(true);
    offB();
    expect(trace.active).toBe(false);
    offB(); // unsubscribing twice is harmless
    expect(trace.active).toBe(false);
    const heard: unknown[] = [];
    trace.on('fault.crash', (e) => heard.push(e));
    trace.emit('fault.crash', { node: 'x', incarnation: 2 });
    expect(heard).toHaveLength(1);
    expect(trace.recorded).toBe(0);
  });

  test("at 'summary', unsubscribing every listener leaves it active", () => {
    const { trace } = recorder('summary');
    const off = trace.on('*', () => {});
    off();
    expect(trace.active).toBe(true);
  });

  test('an unsubscribed listener hears nothing more', () => {
    const { trace } = recorder('full');
    let n = 0;
    const off = trace.on('fault.crash', () => n++);
    trace.emit('fault.crash', { node: 'a', incarnation: 1 });
    off();
    trace.emit('fault.crash', { node: 'a', incarnation: 2 });
    expect(n).toBe(1);
  });

  test('an event a listener emits in response is recorded after the event it heard', () => {
    const { trace, lines } = recorder('summary');
    trace.on('fault.crash', (e) => trace.emit('fault.restart', { node: e.node, incarnation: e.incarnation + 1 }));
    trace.emit('fault.crash', { node: 'a', incarnation: 1 });
    expect(lines.map((l) => JSON.parse(l).type)).toEqual(['fault.crash', 'fault.restart']);
  });
});

// A small random event: a delivery with arbitrary fields at an arbitrary time.
const eventArb = fc.record({
  t: fc.nat({ max: 1e12 }),
  id: fc.nat(),
  src: fc.string({ maxLength: 6 }),
  dst: fc.string({ maxLength: 6 }),
});
type Ev = { t: number; id: number; src: string; dst: string };

function hashOf(events: Ev[]): string | null {
  const { clock, trace } = recorder('full');
  for (const e of events) {
    clock.now = e.t;
    trace.detail('net.deliver', { id: e.id, src: e.src, dst: e.dst });
  }
  return trace.hash();
}

describe('hash', () => {
  test.prop([fc.array(eventArb, { maxLength: 30 })], { numRuns: RUNS })('identical event sequences give identical hashes', (events) => {
    expect(hashOf(events)).toBe(hashOf(events.map((e) => ({ ...e }))));
  });

  test.prop(
    [fc.array(eventArb, { minLength: 1, maxLength: 30 }), fc.nat(), fc.constantFrom('t', 'id', 'src', 'dst'), fc.string({ minLength: 1, maxLength: 3 })],
    { numRuns: RUNS },
  )('changing any field of any event changes the hash', (events, at, field, suffix) => {
    const i = at % events.length;
    const changed = events.map((e) => ({ ...e }));
    const e = changed[i];
    if (field === 't') e.t = e.t + 1;
    else if (field === 'id') e.id = e.id + 1;
    else e[field] = e[field] + suffix;
    expect(hashOf(changed)).not.toBe(hashOf(events));
  });

  test('the order of events matters, and the hash can be read mid-run without changing it', () => {
    const { trace } = recorder('summary');
    trace.emit('fault.heal', { id: 'p1' });
    const mid = trace.hash();
    expect(trace.hash()).toBe(mid);
    trace.emit('fault.heal', { id: 'p2' });
    const ab = trace.hash();
    const other = recorder('summary').trace;
    other.emit('fault.heal', { id: 'p2' });
    other.emit('fault.heal', { id: 'p1' });
    expect(other.hash()).not.toBe(ab);
    expect(ab).not.toBe(mid);
  });
});

describe('sink', () => {
  test('gets one JSON line per recorded event, `t` and `type` first, then the fields in order', () => {
    const { clock, trace, lines } = recorder('full');
    clock.now = 5;
    trace.emit('fault.partition', { id: 'p1', mode: 'groups', groups: [['a'], ['b', 'c']] });
    clock.now = 1_000_000;
    trace.detail('net.send', { id: 7, src: 'a', dst: 'b', body: { type: 'ping', n: 1 } });
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line.endsWith('\n')).toBe(true);
      expect(line.slice(0, -1)).not.toContain('\n');
      expect(Object.keys(JSON.parse(line)).slice(0, 2)).toEqual(['t', 'type']);
    }
    expect(lines[0]).toBe('{"t":5,"type":"fault.partition","id":"p1","mode":"groups","groups":[["a"],["b","c"]]}\n');
    expect(JSON.parse(lines[1])).toEqual({ t: 1_000_000, type: 'net.send', id: 7, src: 'a', dst: 'b', body: { type: 'ping', n: 1 } });
  });

  test('lines not recorded at the level do not reach the sink', () => {
    const { trace, lines } = recorder('summary');
    for (let i = 0; i < 10; i++) trace.detail('net.deliver', { id: i, src: 'a', dst: 'b' });
    expect(lines).toEqual([]);
  });
});
