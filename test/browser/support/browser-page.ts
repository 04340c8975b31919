// What the browser tests stand on: the page served by vite's dev server (the same server `npm run viz`
// starts) on a free port, and Debian's Chromium driven by playwright-core (a browser download does not
// work on these machines; scripts/ensure-chromium.mjs installs the package). Owns starting and stopping
// both; the tests say what to check.

import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';

export const CHROMIUM = '/usr/bin/chromium';
/** Without the background-networking flags Chromium keeps trying hosts this machine's network refuses. */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface VizSession {
  readonly baseUrl: string;
  readonly browser: Browser;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export async function openVizSession(): Promise<VizSession> {
  if (!existsSync(CHROMIUM)) throw new Error(`browser tests: ${CHROMIUM} is missing; run 'node scripts/ensure-chromium.mjs' as root (npm test does)`);
  const server: ViteDevServer = await createServer({ configFile: 'viz/vite.config.ts', logLevel: 'error', server: { port: 0, host: '127.0.0.1', strictPort: false } });
  await server.listen();
  const address = server.httpServer?.address();
  if (address === null || address === undefined || typeof address === 'string') throw new Error('browser tests: the dev server has no TCP address');
  const baseUrl = `http://127.0.0.1:${address.port}/`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const pages: Page[] = [];
  return {
    baseUrl,
    browser,
    async newPage() {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      pages.push(page);
      return page;
    },
    async close() {
      await browser.close();
      await server.close();
    },
  };
}
