// Fault schedules and their generators: parsing (duration text or ns, one-line errors naming the step),
// the consistency check, compiling windows (protected nodes, maxCrashed, no double crash), seeded
// sampling, shrinking toward fewer steps, and the nemesis applying, stopping and quiescing a schedule.
import { describe, expect, test } from 'vitest';
import { test as propTest, fc } from '@fast-check/vitest';
import { faultScheduleArbitrary, faultWindowsArbitrary } from '../../sim/faults/arbitrary.ts';
import { checkScheduleConsistency, describeStep, parseFaultSchedule, scheduleToJson, type FaultSchedule } from '../../sim/faults/schedule.ts';
import { sampleFaultSchedule, swarmSpace } from '../../sim/faults/swarm.ts';
import { compileWindows, FAULT_KINDS, type FaultSpace, type FaultWindow } from '../../sim/faults/windows.ts';
import { Rng } from '../../sim/kernel/rng.ts';
import { NS_PER_MS, NS_PER_S } from '../../sim/kernel/time.ts';
import { World } from '../../sim/testbed/world.ts';

const RUNS = Number(process.env.NVSIM_PROPERTY_RUNS ?? 200);

const NODES = ['a', 'b', 'c', 'd', 'e'];
const SPACE: FaultSpace = {
  nodes: NODES,
  protectedNodes: ['a'],
  kinds: FAULT_KINDS,
  startNs: 0,
  endNs: NS_PER_S,
  durationMinNs: 0,
  durationMaxNs: 500 * NS_PER_MS,
  maxFaults: 10,
  maxCrashed: 2,
};

/** The error a call throws (fails the test when it does not throw). */
function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, none was thrown');
}

describe('parseFaultSchedule', () => {
  test('accepts duration text and whole ns numbers, and sorts by time keeping listed order for ties', () => {
    const schedule = parseFaultSchedule([
      { at: '2s', verb: 'restart', node: 'b' },
      { at: 1_500_000_000, verb: 'crash', node: 'b' },
      { at: '1.5s', verb: 'partition', id: 'p1', groups: [['a'], ['c', 'd']] },
      { at: '250ms', verb: 'degrade', id: 'd1', from: ['a'], to: ['b'], link: { lossProbability: 0.2 } },
      { at: '20us', verb: 'partition-one-way', id: 'p2', from: ['a'], to: ['c'] },
      { at: '3s', verb: 'heal' },
      { at: '3s', verb: 'restore', id: 'd1' },
      { at: '3s', verb: 'heal', id: 'p1' },
    ]);
    expect(schedule).toEqual([
      { at: 20_000, verb: 'partition-one-way', id: 'p2', from: ['a'], to: ['c'] },
      { at: 250 * NS_PER_MS, verb: 'degrade', id: 'd1', from: ['a'], to: ['b'], symmetric: true, link: { lossProbability: 0.2 } },
      { at: 1_500 * NS_PER_MS, verb: 'crash', node: 'b' },
      { at: 1_500 * NS_PER_MS, verb: 'partition', id: 'p1', groups: [['a'], ['c', 'd']] },
      { at: 2 * NS_PER_S, verb: 'restart', node: 'b' },
      { at: 3 * NS_PER_S, verb: 'heal' },
      { at: 3 * NS_PER_S, verb: 'restore', id: 'd1' },
      { at: 3 * NS_PER_S, verb: 'heal', id: 'p1' },
    ]);
  });

  test('accepts the { faults: [...] } form and an empty schedule', () => {
    expect(parseFaultSchedule({ faults: [{ at: '1ms', verb: 'crash', node: 'x' }] })).toEqual([{ at: NS_PER_MS, verb: 'crash', node: 'x' }]);
    expect(parseFaultSchedule([])).toEqual([]);
  });

  propTest.prop([faultScheduleArbitrary(SPACE)], { numRuns: RUNS })('scheduleToJson output parses back to the same schedule', (schedule) => {
    const json = JSON.parse(JSON.stringify(scheduleToJson(schedule)));
    expect(parseFaultSchedule(json)).toEqual(schedule);
  });

  /** Asserts a one-line "bad fault schedule" error that names step `index` (and optionally more text). */
  function expectStepError(value: unknown, index: number, ...mentions: string[]): void {
    const message = errorOf(() => parseFaultSchedule(value)).message;
    expect(message).not.toContain('\n');
    expect(message).toMatch(new RegExp(`^bad fault schedule: at (faults\\.)?${index}[.:]`));
    for (const m of mentions) expect(message).toContain(m);
  }

  const ok = { at: '1s', verb: 'crash', node: 'a' };

  test('rejects an unknown field, naming the step and the field', () => {
    expectStepError([ok, { ...ok, node: 'b', colour: 'red' }], 1, 'colour');
  });

  test('rejects a negative ns time, naming the step', () => {
    expectStepError([ok, { at: -5, verb: 'restart', node: 'a' }], 1);
  });

  test('rejects a missing field, naming the step', () => {
    expectStepError([ok, { at: '2s', verb: 'partition', groups: [['a'], ['b']] }], 1, 'id');
  });

  test('rejects a bad probability in a degrade step', () => {
    expectStepError([{ at: '1s', verb: 'degrade', id: 'd', from: ['a'], to: ['b'], link: { lossProbability: 3 } }], 0);
  });

  // These four failed against the committed parser (HEAD sim/faults/schedule.ts:65-71: a top-level z.union
  // reduced any failure inside a step to "bad fault schedule: Invalid input"); the working tree checks
  // the verb first and no longer wraps the step list in a union.
  test('rejects an unknown verb, naming the step and the verb', () => {
    expectStepError([ok, { at: '2s', verb: 'explode', node: 'a' }], 1, 'verb');
  });

  test('rejects bad duration text, naming the step and the text', () => {
    expectStepError([ok, { at: '2 parsecs', verb: 'restart', node: 'a' }], 1, "'2 parsecs'");
  });

  test('rejects a fractional ns time, naming the step', () => {
    expectStepError([ok, { at: 1.5, verb: 'restart', node: 'a' }], 1);
  });

  test('rejects an unknown verb in the { faults } form, naming the step', () => {
    expectStepError({ faults: [ok, { at: '2s', verb: 'boom' }] }, 1, 'verb');
  });

  test('every rejection is still a one-line "bad fault schedule" error', () => {
    for (const bad of [
      [ok, { at: '2s', verb: 'explode', node: 'a' }],
      [ok, { at: '2 parsecs', verb: 'restart', node: 'a' }],
      [{ at: 1.5, verb: 'crash', node: 'a' }],
      'not a schedule',
      { steps: [] },
      [null],
    ]) {
      const message = errorOf(() => parseFaultSchedule(bad)).message;
      expect(message).toMatch(/^bad fault schedule: /);
      expect(message).not.toContain('\n');
    }
  });
});

describe('checkScheduleConsistency', () => {
  const check = (schedule: FaultSchedule, protectedNodes: string[] = []) => () => checkScheduleConsistency(schedule, NODES, protectedNodes);

  test('accepts a consistent schedule', () => {
    expect(
      check([
        { at: 0, verb: 'crash', node: 'b' },
        { at: 1, verb: 'partition', id: 'p', groups: [['a'], ['c']] },
        { at: 2, verb: 'restart', node: 'b' },
        { at: 3, verb: 'crash', node: 'b' },
        { at: 4, verb: 'heal' },
        { at: 4, verb: 'partition', id: 'p', groups: [['a'], ['c']] },
        { at: 5, verb: 'degrade', id: 'd', from: ['a'], to: ['b'], symmetric: true, link: {} },
        { at: 6, verb: 'restore' },
      ]),
    ).not.toThrow();
  });

  test.each<[string, FaultSchedule, string[], RegExp]>([
    ['a crash of a protected node', [{ at: 0, verb: 'crash', node: 'a' }], ['a'], /step 0 .*'a' is protected/],
    ['a double crash', [{ at: 0, verb: 'crash', node: 'b' }, { at: 1, verb: 'crash', node: 'b' }], [], /step 1 .*'b' is already down/],
    ['a restart of an up node', [{ at: 0, verb: 'restart', node: 'b' }], [], /step 0 .*'b' is not down/],
    [
      'a restart after the node was already restarted',
      [
        { at: 0, verb: 'crash', node: 'b' },
        { at: 1, verb: 'restart', node: 'b' },
        { at: 2, verb: 'restart', node: 'b' },
      ],
      [],
      /step 2 .*'b' is not down/,
    ],
    ['a heal of an unknown id', [{ at: 0, verb: 'heal', id: 'p9' }], [], /step 0 .*no active partition 'p9'/],
    [
      'a heal of an already healed id',
      [
        { at: 0, verb: 'partition', id: 'p', groups: [['a'], ['b']] },
        { at: 1, verb: 'heal' },
        { at: 2, verb: 'heal', id: 'p' },
      ],
      [],
      /step 2 .*no active partition 'p'/,
    ],
    ['a restore of an unknown id', [{ at: 0, verb: 'restore', id: 'd9' }], [], /step 0 .*no active degradation 'd9'/],
    ['an unknown node', [{ at: 0, verb: 'crash', node: 'zz' }], [], /step 0 .*unknown node 'zz'/],
    ['an unknown node in a partition', [{ at: 0, verb: 'partition', id: 'p', groups: [['a'], ['zz']] }], [], /unknown node 'zz'/],
    ['overlapping groups', [{ at: 0, verb: 'partition', id: 'p', groups: [['a', 'b'], ['b']] }], [], /more than one group/],
    [
      'a partition id reused while active',
      [
        { at: 0, verb: 'partition', id: 'p', groups: [['a'], ['b']] },
        { at: 1, verb: 'partition-one-way', id: 'p', from: ['c'], to: ['d'] },
      ],
      [],
      /step 1 .*'p' is already active/,
    ],
  ])('rejects %s with a one-line error naming the step', (_name, schedule, protectedNodes, message) => {
    const error = errorOf(check(schedule, protectedNodes));
    expect(error.message).toMatch(/^bad fault schedule: step \d+ \(/);
    expect(error.message).toMatch(message);
    expect(error.message).toContain(describeStep(schedule[Number(/step (\d+)/.exec(error.message)![1])]));
    expect(error.message).not.toContain('\n');
  });
});

describe('compileWindows', () => {
  /** Walks a schedule and returns the most nodes down at once, after checking each step is applicable. */
  function maxDown(schedule: FaultSchedule, space: FaultSpace): number {
    checkScheduleConsistency(schedule, space.nodes, space.protectedNodes);
    const down = new Set<string>();
    let most = 0;
    for (const step of schedule) {
      if (step.verb === 'crash') down.add(step.node);
      if (step.verb === 'restart') down.delete(step.node);
      most = Math.max(most, down.size);
    }
    return most;
  }

  // The space is part of the generated input, so a counterexample shows the cap and the protected set.
  const spaceAndWindows = fc
    .record({ maxCrashed: fc.integer({ min: 0, max: 4 }), protectedNodes: fc.subarray(NODES) })
    .chain(({ maxCrashed, protectedNodes }) => {
      const space: FaultSpace = { ...SPACE, maxCrashed, protectedNodes, maxFaults: 20 };
      return fc.tuple(fc.constant(space), faultWindowsArbitrary(space));
    });

  propTest.prop([spaceAndWindows], { numRuns: RUNS })(
    'respects maxCrashed and protected nodes, never crashes a down node, and yields a time-ordered consistent schedule',
    ([space, windows]) => {
      const schedule = compileWindows(windows, space);
      expect(maxDown(schedule, space)).toBeLessThanOrEqual(space.maxCrashed);
      for (const step of schedule) if (step.verb === 'crash') expect(space.protectedNodes).not.toContain(step.node);
      expect(schedule.map((s) => s.at)).toEqual(schedule.map((s) => s.at).sort((x, y) => x - y));
    },
  );

  propTest.prop([fc.array(fc.record({ start: fc.nat({ max: 100 }), duration: fc.nat({ max: 100 }), node: fc.constantFrom(...NODES) }), { maxLength: 15 })], {
    numRuns: RUNS,
  })('crash windows alone: consistent, within the cap, and each kept window is a crash then a restart', (raw) => {
    const windows: FaultWindow[] = raw.map((w) => ({ kind: 'crash', startNs: w.start, durationNs: w.duration, node: w.node }));
    const schedule = compileWindows(windows, SPACE);
    expect(maxDown(schedule, SPACE)).toBeLessThanOrEqual(SPACE.maxCrashed);
    expect(schedule.filter((s) => s.verb === 'crash').length).toBe(schedule.filter((s) => s.verb === 'restart').length);
  });

  test('drops a window that would crash a protected node, a node already down, or exceed maxCrashed', () => {
    const crash = (node: string, startNs: number, durationNs: number): FaultWindow => ({ kind: 'crash', startNs, durationNs, node });
    const schedule = compileWindows(
      [
        crash('a', 0, 10), // protected
        crash('b', 0, 100),
        crash('b', 50, 100), // b is down until 100
        crash('c', 10, 100),
        crash('d', 20, 10), // b and c are down: over maxCrashed = 2
        crash('b', 100, 5), // b restarts at 100, then may crash again at once
        crash('d', 105, 10), // b came back at 105, only c is down: allowed
      ],
      SPACE,
    );
    expect(schedule).toEqual([
      { at: 0, verb: 'crash', node: 'b' },
      { at: 10, verb: 'crash', node: 'c' },
      { at: 100, verb: 'restart', node: 'b' },
      { at: 100, verb: 'crash', node: 'b' },
      { at: 105, verb: 'restart', node: 'b' },
      { at: 105, verb: 'crash', node: 'd' },
      { at: 110, verb: 'restart', node: 'c' },
      { at: 115, verb: 'restart', node: 'd' },
    ]);
  });

  test('drops partitions with an empty side and gives each kept fault its own id and closing step', () => {
    const schedule = compileWindows(
      [
        { kind: 'partition', startNs: 5, durationNs: 10, groups: [[], ['a', 'b']] },
        { kind: 'partition', startNs: 5, durationNs: 10, groups: [['a'], ['b']] },
        { kind: 'partition-one-way', startNs: 6, durationNs: 1, from: ['c'], to: ['d'] },
        { kind: 'degrade', startNs: 7, durationNs: 1, node: 'e', preset: 'flaky' },
      ],
      SPACE,
    );
    expect(schedule.map(describeStep)).toEqual([
      '5ns partition p1 [a] | [b]',
      '6ns partition-one-way p2 [c] -> [d]',
      '7ns heal p2', // closes at 7ns and was opened first, so it comes first
      '7ns degrade d3 [e] <-> [a b c d] {"lossProbability":0.3}',
      '8ns restore d3',
      '15ns heal p1',
    ]);
  });
});

describe('seeded sampling and shrinking', () => {
  const targets = { nodes: NODES, protectedNodes: ['a'], startNs: 0, endNs: 2 * NS_PER_S };

  test('sampleFaultSchedule with the same Rng seed gives the same schedule', () => {
    for (const seed of ['1', '2', 'swarm/7']) {
      const draw = () => {
        const rng = new Rng(seed);
        return sampleFaultSchedule(rng, swarmSpace(rng, targets));
      };
      const first = draw();
      expect(draw()).toEqual(first);
      expect(() => checkScheduleConsistency(first, NODES, ['a'])).not.toThrow();
    }
    const many = Array.from({ length: 10 }, (_, i) => {
      const rng = new Rng(`varied/${i}`);
      return JSON.stringify(sampleFaultSchedule(rng, swarmSpace(rng, targets)));
    });
    expect(new Set(many).size).toBeGreaterThan(1);
  });

  test('swarmSpace keeps crashes to a minority of the crashable nodes', () => {
    for (let i = 0; i < 20; i++) {
      const space = swarmSpace(new Rng(`space/${i}`), targets);
      expect(space.maxCrashed).toBe(1); // 4 crashable nodes: floor(3 / 2)
      expect(space.kinds.length).toBeGreaterThan(0);
      expect(space.maxFaults).toBeGreaterThanOrEqual(1);
    }
  });

  test('a property that fails on any crash shrinks to exactly a crash and its restart', () => {
    const space: FaultSpace = { ...SPACE, maxFaults: 10 };
    for (const seed of [1, 2, 3]) {
      const result = fc.check(
        fc.property(faultScheduleArbitrary(space), (schedule) => !schedule.some((s) => s.verb === 'crash')),
        { seed, numRuns: 500 },
      );
      expect(result.failed).toBe(true);
      const [shrunk] = result.counterexample!;
      expect(shrunk.map((s) => s.verb)).toEqual(['crash', 'restart']);
      // Shrinking also heads for the earliest start and the shortest window.
      expect(shrunk[0].at).toBe(space.startNs);
      expect(shrunk[1].at).toBe(space.startNs + space.durationMinNs);
    }
  });
});

describe('nemesis', () => {
  function world() {
    const w = new World({ seed: 1, trace: 'off' });
    for (const id of NODES) w.fabric.addNode(id, () => ({ onMessage() {} }));
    return w;
  }

  test('applies each step at its time through the fabric verbs', () => {
    const w = world();
    const schedule = parseFaultSchedule([
      { at: '1ms', verb: 'crash', node: 'b' },
      { at: '2ms', verb: 'partition', id: 'p', groups: [['a'], ['c']] },
      { at: '3ms', verb: 'degrade', id: 'd', from: ['a'], to: ['d'], link: { lossProbability: 0.5 } },
      { at: '4ms', verb: 'restart', node: 'b' },
      { at: '5ms', verb: 'heal', id: 'p' },
    ]);
    w.nemesis.load(schedule);
    w.scheduler.runUntil(3 * NS_PER_MS);
    expect(w.fabric.isUp('b')).toBe(false);
    expect(w.fabric.canReach('a', 'c')).toBe(false);
    expect(w.fabric.linkConfig('d', 'a').lossProbability).toBe(0.5);
    w.scheduler.runUntil(5 * NS_PER_MS);
    expect(w.fabric.info('b')).toMatchObject({ up: true, incarnation: 2 });
    expect(w.fabric.activePartitions()).toEqual([]);
    expect(w.nemesis.applied).toEqual(schedule);
  });

  test('load rejects an inconsistent schedule (or one touching a protected node) before scheduling anything', () => {
    const w = world();
    w.protect('a');
    expect(() => w.nemesis.load([{ at: 0, verb: 'crash', node: 'a' }])).toThrow(/'a' is protected/);
    expect(() =>
      w.nemesis.load([
        { at: 0, verb: 'crash', node: 'b' },
        { at: 1, verb: 'heal', id: 'nope' },
      ]),
    ).toThrow(/step 1/);
    expect(w.scheduler.pendingCount).toBe(0);
    w.scheduler.runUntil(NS_PER_MS);
    expect(w.fabric.isUp('b')).toBe(true);
  });

  test('stop drops steps not yet applied; quiesce heals, restores and restarts everything', () => {
    const w = world();
    w.nemesis.load(
      compileWindows(
        [
          { kind: 'crash', startNs: NS_PER_MS, durationNs: 100 * NS_PER_MS, node: 'b' },
          { kind: 'partition', startNs: NS_PER_MS, durationNs: 100 * NS_PER_MS, groups: [['a'], ['c']] },
          { kind: 'degrade', startNs: NS_PER_MS, durationNs: 100 * NS_PER_MS, node: 'd', preset: 'flaky' },
          { kind: 'crash', startNs: 50 * NS_PER_MS, durationNs: 10 * NS_PER_MS, node: 'e' },
        ],
        SPACE,
      ),
    );
    w.scheduler.runUntil(2 * NS_PER_MS);
    const events: unknown[] = [];
    w.trace.on('fault.quiesce', (e) => events.push(e));
    w.nemesis.quiesce();
    expect(w.fabric.nodes().every((n) => n.up)).toBe(true);
    expect(w.fabric.activePartitions()).toEqual([]);
    expect(w.fabric.activeDegradations()).toEqual([]);
    expect(events).toEqual([{ t: 2 * NS_PER_MS, type: 'fault.quiesce', healed: ['p1'], restored: ['d2'], restarted: ['b'], pendingStepsDropped: 5 }]);
    expect(w.scheduler.pendingCount).toBe(0);
    const applied = w.nemesis.applied.length;
    w.scheduler.runUntil(NS_PER_S);
    expect(w.nemesis.applied.length).toBe(applied);
    expect(w.fabric.isUp('e')).toBe(true);
  });
});
