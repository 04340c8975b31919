#!/usr/bin/env node
// Makes sure the browser tests have Debian's Chromium at /usr/bin/chromium (playwright-core drives it; a
// browser download does not work on these machines). Installs the `chromium` package when it is missing
// and this process is root; otherwise says what to do. Exits 0 when the browser is there, 1 when not.

import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const CHROMIUM = '/usr/bin/chromium';

function aptGet(args) {
  const r = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return r.status === 0;
}

if (!existsSync(CHROMIUM)) {
  if (process.getuid?.() !== 0) {
    console.error(`ensure-chromium: ${CHROMIUM} is missing; install Debian's chromium package (apt-get install chromium) as root, then run the tests again`);
    process.exit(1);
  }
  console.error('ensure-chromium: installing Debian\'s chromium package for the browser tests…');
  // A fresh machine may have no package lists yet: update once and try again.
  if (!aptGet(['install', '-y', '--no-install-recommends', 'chromium']) && !(aptGet(['update']) && aptGet(['install', '-y', '--no-install-recommends', 'chromium']))) {
    console.error('ensure-chromium: apt-get could not install chromium');
    process.exit(1);
  }
  if (!existsSync(CHROMIUM)) {
    console.error(`ensure-chromium: the chromium package is installed but ${CHROMIUM} is not there`);
    process.exit(1);
  }
}
