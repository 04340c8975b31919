// The nvsim command's contract: outputs and exit statuses (0 held, 1 an invariant failed, 2 bad input),
// and bad input reported as one line with nothing written.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { nvsim, tempDir } from '../support/cli.ts';

function expectBadInput(args: string[], mentions: RegExp): void {
  const out = join(tempDir(), 'out');
  const r = nvsim([...args, '--out', out]);
  expect(r.status, r.stdout + r.stderr).toBe(2);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^nvsim: /);
  expect(lines[0]).toMatch(mentions);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(existsSync(out), 'the output folder must not be created').toBe(false);
}

describe('nvsim run', () => {
  test('a passing run writes trace.jsonl and summary.json and exits 0', () => {
    const out = tempDir();
    const r = nvsim(['run', 'scenarios/gossip-partition.ts', '--seed', '3', '--until', '8s', '--out', out, '--no-progress']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('all 3 invariants held');
    expect(r.stdout).toContain(join(out, 'trace.jsonl').split('/').pop()!);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ scenario: 'gossip-partition', seed: 3, virtualEndNs: 8_000_000_000, ok: true });
    for (const field of ['events', 'wallSeconds', 'eventsPerSecond']) expect(typeof summary[field]).toBe('number');
    expect(summary.traceHash).toMatch(/^[0-9a-f]{16}$/);
    expect(summary.invariants.length).toBe(3);
    for (const i of summary.invariants) expect(i).toMatchObject({ id: expect.any(String), ok: true, detail: expect.any(String) });
    const lines = readFileSync(join(out, 'trace.jsonl'), 'utf8').trim().split('\n');
    expect(lines.length).toBe(summary.traceLines);
    expect(JSON.parse(lines[0])).toMatchObject({ t: 0, type: 'run.start', scenario: 'gossip-partition', seed: 3 });
    expect(readdirSync(out).sort()).toEqual(['faults.json', 'summary.json', 'trace.jsonl']);
  });

  test('a run whose invariant fails exits 1 and says which, with the seed that replays it', () => {
    const out = tempDir();
    const r = nvsim(['run', 'gossip-lost-ack', '--seed', '1', '--out', out, '--no-progress']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/FAIL\s+acknowledged-writes-survive/);
    expect(r.stdout).toContain('replay: nvsim run scenarios/gossip-lost-ack.ts --seed 1');
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.ok).toBe(false);
    expect(summary.invariants.find((i: { id: string }) => i.id === 'acknowledged-writes-survive').ok).toBe(false);
    expect(summary.replay).toBe('nvsim run scenarios/gossip-lost-ack.ts --seed 1');
  });

  test('--trace off writes no trace and has no hash; --trace summary writes fewer lines than full', () => {
    const off = tempDir();
    expect(nvsim(['run', 'gossip-partition', '--trace', 'off', '--out', off, '--no-progress']).status).toBe(0);
    expect(existsSync(join(off, 'trace.jsonl'))).toBe(false);
    expect(JSON.parse(readFileSync(join(off, 'summary.json'), 'utf8')).traceHash).toBeNull();
    const summary = tempDir();
    expect(nvsim(['run', 'gossip-partition', '--trace', 'summary', '--out', summary, '--no-progress']).status).toBe(0);
    const types = new Set(readFileSync(join(summary, 'trace.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).type));
    expect(types.has('fault.crash')).toBe(true);
    expect(types.has('net.send')).toBe(false);
  });

  test('plain progress lines when stderr is not a terminal', () => {
    const out = tempDir();
    // A long run (10 minutes of virtual time) takes over a second of wall time, so at least one line shows.
    const r = nvsim(['run', 'gossip-partition', '--until', '600s', '--trace', 'off', '--out', out]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^progress: gossip-partition virtual \d+\.\d{3}s of 600\.000s, \d+ events, \d+ events\/s$/m);
  });
});

describe('bad input: one line, exit 2, nothing written', () => {
  test('unknown flag', () => expectBadInput(['run', 'gossip-partition', '--sed', '3'], /unknown option '--sed'/));
  test('missing scenario argument', () => expectBadInput(['run'], /missing required argument 'scenario'/));
  test('unknown command', () => expectBadInput(['walk'], /unknown command 'walk'/));
  test('missing scenario file', () => expectBadInput(['run', 'scenarios/nope.ts'], /scenario file not found: scenarios\/nope\.ts/));
  test('unknown scenario name', () => expectBadInput(['run', 'nope'], /no scenario named 'nope'/));
  test('seed that is not an integer', () => expectBadInput(['run', 'gossip-partition', '--seed', '1.5'], /--seed must be an integer, got '1\.5'/));
  test('bad duration', () => expectBadInput(['run', 'gossip-partition', '--until', '10 parsecs'], /--until: not a duration: '10 parsecs'/));
  test('zero duration', () => expectBadInput(['run', 'gossip-partition', '--until', '0s'], /--until must be a positive duration/));
  test('bad trace level', () => expectBadInput(['run', 'gossip-partition', '--trace', 'loud'], /--trace must be one of off, summary, full/));

  test('malformed scenario file', () => {
    const file = join(tempDir(), 'broken.ts');
    writeFileSync(file, 'export default defineScenario({ name: "x", \n');
    expectBadInput(['run', file], /cannot load scenario .*broken\.ts/);
  });

  test('a file that is not a scenario', () => {
    const file = join(tempDir(), 'not-a-scenario.ts');
    writeFileSync(file, 'export default { hello: 1 };\n');
    expectBadInput(['run', file], /does not export a scenario/);
  });

  test('a scenario whose definition is invalid', () => {
    const file = join(tempDir(), 'bad-duration.ts');
    const testbed = join(import.meta.dirname, '../../sim/testbed/index.ts');
    writeFileSync(file, `import { defineScenario } from '${testbed}';\nexport default defineScenario({ name: 'bad', description: 'x', duration: 'soon', setup() {} });\n`);
    expectBadInput(['run', file], /scenario 'bad': duration: not a duration: 'soon'/);
  });

  test('fault schedule that is not JSON', () => {
    const file = join(tempDir(), 'faults.json');
    writeFileSync(file, '[{ "at": ');
    expectBadInput(['run', 'gossip-partition', '--faults', file], /is not valid JSON/);
  });

  test('fault schedule with an unknown verb', () => {
    const file = join(tempDir(), 'faults.json');
    writeFileSync(file, JSON.stringify([{ at: '1s', verb: 'explode', node: 'r1' }]));
    expectBadInput(['run', 'gossip-partition', '--faults', file], /bad fault schedule: at 0\.verb/);
  });

  test('fault schedule that crashes a protected node', () => {
    const file = join(tempDir(), 'faults.json');
    writeFileSync(file, JSON.stringify([{ at: '1s', verb: 'crash', node: 'c1' }]));
    expectBadInput(['run', 'gossip-partition', '--faults', file], /'c1' is protected from crashes/);
  });

  test('fault schedule naming an unknown node', () => {
    const file = join(tempDir(), 'faults.json');
    writeFileSync(file, JSON.stringify({ faults: [{ at: 5, verb: 'crash', node: 'r9' }] }));
    expectBadInput(['run', 'gossip-partition', '--faults', file], /unknown node 'r9'/);
  });
});

describe('nvsim list and help', () => {
  test('list names every scenario with its description', () => {
    const r = nvsim(['list']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^gossip-partition\s+gossiped replicated set/m);
    expect(r.stdout).toMatch(/^gossip-lost-ack\s+replicas ack writes/m);
  });

  test('--help lists the commands', () => {
    const r = nvsim(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('run [options] <scenario>');
    expect(r.stdout).toContain('list');
  });
});
