// The page in a real browser (Debian's Chromium driven by playwright-core, the page from vite's dev server,
// as `npm run viz` serves it): a trace opened through the file picker shows the right nodes and, at two
// scrub times, the masters the trace says (read independently by test/viz/support/reference-view.ts);
// selecting a packet lists its hops with the flows hit; a scenario run in the page's worker ends with the
// trace hash `nvsim run` prints for that scenario and seed (one scenario of each family); a malformed
// trace is refused with one line and changes nothing, a hostile one stays text, and a dropped one opens;
// a thousand-host trace loads and scrubs to the masters it says; the static build (`npm run viz:build`)
// serves the same page, with a trace given by `?trace=`. Screenshots go to test-results/.
// (The DOM library types the callbacks that page.evaluate runs in the browser.)
/// <reference lib="dom" />

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import controllerFailover from '../../scenarios/controller-failover.ts';
import { NS_PER_MS } from '../../sim/kernel/time.ts';
import { runScenario } from '../../sim/testbed/index.ts';
import { parseLines, referenceViewAt } from '../viz/support/reference-view.ts';
import { syntheticTrace } from '../viz/support/synthetic-trace.ts';
import { build, preview } from 'vite';
import { openVizSession, type VizSession } from './support/browser-page.ts';

const SHOTS = 'test-results';
/** The crash of controller-failover is at 3 s; the CM has re-mastered ctl-1's switches well before 7 s. */
const BEFORE_CRASH_NS = 2900 * NS_PER_MS;
const AFTER_RECOVERY_NS = 7000 * NS_PER_MS;

interface PageView {
  time: number;
  nodes: { controllers: string[]; switches: string[]; vms: string[] };
  masterOf: Record<string, string>;
  violations: unknown[];
}

let session: VizSession;
const dir = mkdtempSync(join(tmpdir(), 'nvsim-viz-'));

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  session = await openVizSession();
}, 120_000);

afterAll(async () => {
  await session?.close();
});

function traceOf(seed: number): { file: string; lines: string[]; hash: string } {
  const lines: string[] = [];
  const result = runScenario(controllerFailover, { seed, trace: 'full', traceSink: { write: (line) => void lines.push(line.replace(/\n$/, '')) } });
  const file = join(dir, `controller-failover-seed${seed}.jsonl`);
  writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
  return { file, lines, hash: result.traceHash! };
}

const view = (page: Page): Promise<PageView | null> => page.evaluate(() => (window as unknown as { __nvsimView: PageView | null }).__nvsimView);

async function scrubTo(page: Page, ns: number): Promise<PageView> {
  await page.$eval(
    '#scrub',
    (el, value) => {
      const input = el as HTMLInputElement;
      input.value = String(value);
      input.dispatchEvent(new Event('input', { bubbles: true }));
    },
    ns,
  );
  await page.waitForFunction((t) => (window as unknown as { __nvsimView: { time: number } | null }).__nvsimView?.time === t, ns);
  return (await view(page))!;
}

async function openTrace(page: Page, file: string, hash: string): Promise<void> {
  await page.setInputFiles('#trace-file', file);
  await page.waitForFunction((h) => document.querySelector('#trace-hash')?.textContent?.includes(h) === true && (window as unknown as { __nvsimView: unknown }).__nvsimView !== null, hash, { timeout: 60_000 });
}

describe('the page in Chromium', () => {
  test('an opened trace shows its nodes, and at two scrub times the masters the trace says', async () => {
    const { file, lines, hash } = traceOf(1);
    const records = parseLines(lines);
    const page = await session.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(session.baseUrl);
    await openTrace(page, file, hash);

    const before = await scrubTo(page, BEFORE_CRASH_NS);
    const expectedBefore = referenceViewAt(records, BEFORE_CRASH_NS);
    expect(before.nodes.controllers).toEqual(['ctl-1', 'ctl-2', 'ctl-3']);
    expect(before.nodes.switches).toEqual(['h1', 'h2', 'h3', 'h4']);
    expect(before.nodes.vms).toEqual(expectedBefore.vms);
    expect(before.masterOf).toEqual(expectedBefore.masterOf);
    expect(Object.keys(before.masterOf).sort()).toEqual(['h1', 'h2', 'h3', 'h4']);
    expect(Object.values(before.masterOf)).toContain('ctl-1');
    await page.screenshot({ path: `${SHOTS}/viz-controller-failover-2.9s.png` });

    const after = await scrubTo(page, AFTER_RECOVERY_NS);
    const expectedAfter = referenceViewAt(records, AFTER_RECOVERY_NS);
    expect(after.masterOf).toEqual(expectedAfter.masterOf);
    expect(Object.keys(after.masterOf).sort()).toEqual(['h1', 'h2', 'h3', 'h4']);
    expect(Object.values(after.masterOf)).not.toContain('ctl-1');
    expect(after.nodes.vms).toEqual(expectedAfter.vms);
    expect(after.violations).toEqual([]);
    await page.screenshot({ path: `${SHOTS}/viz-controller-failover-7s.png`, fullPage: true });

    // A packet: its hops, with the flows each pipeline pass hit.
    await page.click('#packets li button');
    await page.waitForFunction(() => (document.querySelector('#packet-hops')?.textContent ?? '').length > 0);
    const hops = await page.textContent('#packet-hops');
    const firstSend = records.find((r) => r.type === 'dp.vm.send')!;
    const firstPass = records.find((r) => r.type === 'dp.pipeline' && r.packetId === firstSend.packetId)!;
    expect(hops).toContain(firstSend.node);
    expect(hops).toContain(firstPass.hits[0].flowKey);
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);

  test("a scenario run in the page's worker gives the trace hash nvsim run prints", async () => {
    const out = join(dir, 'cli-seed2');
    const cli = spawnSync(process.execPath, ['bin/nvsim.mjs', 'run', 'scenarios/controller-failover.ts', '--seed', '2', '--out', out, '--no-progress'], { encoding: 'utf8' });
    expect(cli.status).toBe(0);
    const cliHash = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).traceHash as string;
    expect(cli.stdout).toContain(`trace hash ${cliHash}`);

    const page = await session.newPage();
    await page.goto(`${session.baseUrl}?scenario=controller-failover&seed=2`);
    await page.waitForFunction(() => ['done', 'error'].includes((window as unknown as { __nvsimRun: { status: string } }).__nvsimRun?.status), undefined, { timeout: 150_000 });
    const run = await page.evaluate(() => (window as unknown as { __nvsimRun: { status: string; hash: string | null; error: string | null } }).__nvsimRun);
    expect(run).toEqual({ status: 'done', hash: cliHash, error: null });
    expect(await page.textContent('#trace-hash')).toContain(cliHash);
    const shown = (await view(page))!;
    expect(shown.nodes.controllers).toEqual(['ctl-1', 'ctl-2', 'ctl-3']);
    await page.screenshot({ path: `${SHOTS}/viz-run-in-page.png` });
    await page.close();
  }, 240_000);

  test('a thousand hosts: the page shows them all, and at two scrub times the masters the trace says', async () => {
    const text = syntheticTrace({ hosts: 1000, controllers: 3, seconds: 10, seed: 7, packetIntervalMs: 1000 });
    const file = join(dir, 'synthetic-1000.jsonl');
    writeFileSync(file, text);
    const records = parseLines(text.split('\n'));
    const page = await session.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(session.baseUrl);
    await page.setInputFiles('#trace-file', file);
    await page.waitForFunction(() => (window as unknown as { __nvsimView: { nodes: { switches: string[] } } | null }).__nvsimView?.nodes.switches.length === 1000, undefined, { timeout: 120_000 });
    // ctl-1 crashes half-way through (synthetic-trace.ts): before, it masters a third; after, nothing.
    for (const t of [4000 * NS_PER_MS, 5800 * NS_PER_MS]) {
      const shown = await scrubTo(page, t);
      const expected = referenceViewAt(records, t);
      expect(shown.nodes.controllers).toEqual(['ctl-1', 'ctl-2', 'ctl-3']);
      expect(shown.nodes.vms).toHaveLength(1000);
      expect(shown.masterOf).toEqual(expected.masterOf);
    }
    expect(Object.values((await view(page))!.masterOf)).not.toContain('ctl-1');
    await page.screenshot({ path: `${SHOTS}/viz-1000-hosts.png` });
    expect(errors).toEqual([]);
    await page.close();
  }, 240_000);

  test('runs of other kinds of scenario in the page give the CLI hash too', async () => {
    // One of each family: a gossip world with its own faults, a data-plane one with a gateway, the PTD, and
    // a migration with middleboxes (the lab's every element kind).
    const runs: [string, number][] = [
      ['gossip-partition', 3],
      ['gateway', 2],
      ['ptd-replication', 1],
      ['migration-prenotify', 4],
    ];
    const page = await session.newPage();
    for (const [scenario, seed] of runs) {
      const out = join(dir, `cli-${scenario}-${seed}`);
      const cli = spawnSync(process.execPath, ['bin/nvsim.mjs', 'run', `scenarios/${scenario}.ts`, '--seed', String(seed), '--out', out, '--no-progress'], { encoding: 'utf8' });
      expect(cli.status, `${scenario}: ${cli.stderr}`).toBe(0);
      const cliHash = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).traceHash as string;
      await page.goto(`${session.baseUrl}?scenario=${scenario}&seed=${seed}`);
      await page.waitForFunction(() => ['done', 'error'].includes((window as unknown as { __nvsimRun: { status: string } }).__nvsimRun?.status), undefined, { timeout: 150_000 });
      const run = await page.evaluate(() => (window as unknown as { __nvsimRun: { status: string; hash: string | null; error: string | null } }).__nvsimRun);
      expect(run, `${scenario} seed ${seed}`).toEqual({ status: 'done', hash: cliHash, error: null });
    }
    await page.close();
  }, 480_000);

  test('a malformed trace is refused in one line and changes nothing; a hostile one stays text', async () => {
    const { file, hash } = traceOf(3);
    const page = await session.newPage();
    await page.goto(session.baseUrl);
    await openTrace(page, file, hash);
    const shown = await scrubTo(page, 1000 * NS_PER_MS);

    const malformed = join(dir, 'malformed.jsonl');
    writeFileSync(malformed, '{"t":0,"type":"run.start","scenario":"x","seed":1}\n{"t":5,"type":"node.start","node":"h1"\n');
    await page.setInputFiles('#trace-file', malformed);
    await page.waitForFunction(() => (document.querySelector('#error')?.textContent ?? '') !== '');
    const error = (await page.textContent('#error'))!;
    expect(error).toMatch(/line 2/);
    expect(error.split('\n')).toHaveLength(1);
    expect(await view(page)).toEqual(shown);
    expect(await page.textContent('#trace-hash')).toContain(hash);

    const hostile = join(dir, 'hostile.jsonl');
    const payload = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
    writeFileSync(
      hostile,
      [
        { t: 0, type: 'run.start', scenario: payload, seed: 1, untilNs: 10 },
        { t: 0, type: 'node.start', node: payload, kind: 'controller', incarnation: 1 },
        { t: 0, type: 'node.start', node: 'h1', kind: 'host', incarnation: 1 },
        { t: 1, type: 'check.violation', id: payload, detail: payload },
        { t: 2, type: 'nvt.config', action: payload, detail: payload },
      ]
        .map((r) => `${JSON.stringify(r)}\n`)
        .join(''),
    );
    await page.setInputFiles('#trace-file', hostile);
    await page.waitForFunction(() => (window as unknown as { __nvsimView: { nodes: { controllers: string[] } } | null }).__nvsimView?.nodes.controllers.length === 1);
    await scrubTo(page, 2);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.$$('#violations img, #timeline img, #legend img, #ldps img')).toHaveLength(0);
    expect(await page.textContent('#violations')).toContain('<img');
    await page.screenshot({ path: `${SHOTS}/viz-hostile.png` });

    // A trace dropped on the page replaces it.
    await page.evaluate((text) => {
      const data = new DataTransfer();
      data.items.add(new File([text], 'dropped.jsonl'));
      document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    }, readFileSync(file, 'utf8'));
    await page.waitForFunction((h) => document.querySelector('#trace-hash')?.textContent?.includes(h) === true, hash);
    expect((await view(page))!.nodes.controllers).toEqual(['ctl-1', 'ctl-2', 'ctl-3']);
    await page.close();
  }, 180_000);

  test('the static build serves the same page; ?trace= opens a trace next to it', async () => {
    const outDir = join(dir, 'dist');
    await build({ configFile: 'viz/vite.config.ts', logLevel: 'error', build: { outDir, emptyOutDir: true } });
    const { lines, hash } = traceOf(1);
    writeFileSync(join(outDir, 'failover.jsonl'), lines.map((l) => `${l}\n`).join(''));
    const server = await preview({ configFile: 'viz/vite.config.ts', logLevel: 'error', build: { outDir }, preview: { port: 0, host: '127.0.0.1' } });
    try {
      const address = server.httpServer.address();
      if (address === null || typeof address === 'string') throw new Error('the preview server has no TCP address');
      const page = await session.newPage();
      await page.goto(`http://127.0.0.1:${address.port}/?trace=failover.jsonl`);
      await page.waitForFunction((h) => document.querySelector('#trace-hash')?.textContent?.includes(h) === true, hash, { timeout: 60_000 });
      const shown = await scrubTo(page, AFTER_RECOVERY_NS);
      expect(shown.masterOf).toEqual(referenceViewAt(parseLines(lines), AFTER_RECOVERY_NS).masterOf);
      await page.close();
    } finally {
      await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
    }
  }, 240_000);
});
