/// <reference lib="dom" />
// How smooth the page is with a big world: a synthetic trace (test/viz/support/synthetic-trace.ts) of
// --hosts hosts, one VM each, 3 controllers, --seconds of virtual time and a packet per VM every
// --packet-ms, opened in Debian's Chromium (headless, software rendering) from the dev server. Reports
// wall times measured inside the page: the load (file chosen → first view drawn), a scrub (the #scrub
// input event → two animation frames later, so the redraw has been painted) over --scrubs random times,
// and the frame rate while playing. No peer draws these traces, so the figures are absolute; the
// machine is shared and noisy, so read them as orders of magnitude and compare runs made together.
//
//   npx tsx bench/viz-scrub.ts [--hosts 1000] [--seconds 10] [--packet-ms 50] [--scrubs 60]

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openVizSession } from '../test/browser/support/browser-page.ts';
import { syntheticTrace } from '../test/viz/support/synthetic-trace.ts';
import { benchArgs } from './bench-args.ts';

const args = benchArgs('viz-scrub', {
  hosts: { type: 'string', default: '1000' },
  seconds: { type: 'string', default: '10' },
  'packet-ms': { type: 'string', default: '50' },
  scrubs: { type: 'string', default: '60' },
});
const hosts = args.positiveInteger('hosts');
const seconds = args.positiveInteger('seconds');
const packetMs = args.positiveInteger('packet-ms');
const scrubs = args.positiveInteger('scrubs');
if (hosts < 2) args.fail(`--hosts must be at least 2, got ${hosts}`);
if (seconds < 4) args.fail(`--seconds must be at least 4, got ${seconds}`);

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];

const text = syntheticTrace({ hosts, controllers: 3, seconds, seed: 1, packetIntervalMs: packetMs });
const file = join(mkdtempSync(join(tmpdir(), 'nvsim-viz-bench-')), `synthetic-${hosts}.jsonl`);
writeFileSync(file, text);
const lines = text.length === 0 ? 0 : text.split('\n').length - 1;

const session = await openVizSession();
try {
  const page = await session.newPage();
  // tsx keeps function names with an `__name` helper, which the functions evaluated in the page then call.
  await page.addInitScript({ content: 'globalThis.__name = (f) => f;' });
  await page.goto(session.baseUrl);
  const t0 = Date.now();
  await page.setInputFiles('#trace-file', file);
  await page.waitForFunction((n) => (window as unknown as { __nvsimView: { nodes: { switches: string[] } } | null }).__nvsimView?.nodes.switches.length === n, hosts, { timeout: 600_000 });
  const loadMs = Date.now() - t0;

  // Every scrub is timed inside the page, from the input event to the second frame after it.
  const scrubMs = await page.evaluate(
    async ({ count, endNs }) => {
      const input = document.querySelector('#scrub') as HTMLInputElement;
      const frame = () => new Promise<void>((resolve) => requestAnimationFrame(() => resolve()));
      const times: number[] = [];
      let x = 12345;
      for (let i = 0; i < count; i++) {
        x = (x * 1103515245 + 12345) % 2147483648; // the same times on every run
        const start = performance.now();
        input.value = String(Math.floor((x / 2147483648) * endNs));
        input.dispatchEvent(new Event('input', { bubbles: true }));
        await frame();
        await frame();
        times.push(performance.now() - start);
      }
      return times;
    },
    { count: scrubs, endNs: seconds * 1e9 },
  );

  // Playing: frames drawn in three seconds of wall time.
  await page.click('#play');
  const fps = await page.evaluate(async () => {
    let frames = 0;
    const start = performance.now();
    while (performance.now() - start < 3000) {
      await new Promise<void>((resolve) => requestAnimationFrame(() => resolve()));
      frames++;
    }
    return frames / ((performance.now() - start) / 1000);
  });
  await page.click('#pause');

  const sorted = [...scrubMs].sort((a, b) => a - b);
  const script = relative(process.cwd(), fileURLToPath(import.meta.url));
  console.log(`# tsx ${[script, ...process.argv.slice(2)].join(' ')}`);
  console.log(`# synthetic trace: ${hosts} hosts, ${hosts} VMs, 3 controllers, ${seconds} s, a packet per VM every ${packetMs} ms: ${lines} lines, ${(text.length / 1e6).toFixed(1)} MB`);
  console.log('load_ms  scrub_median_ms  scrub_p95_ms  scrub_max_ms  play_fps');
  console.log(
    [String(loadMs).padStart(7), quantile(sorted, 0.5).toFixed(1).padStart(15), quantile(sorted, 0.95).toFixed(1).padStart(12), sorted[sorted.length - 1].toFixed(1).padStart(12), fps.toFixed(1).padStart(8)].join('  '),
  );
} finally {
  await session.close();
}
