// Serving and building the page: root viz/ (index.html), output viz/dist, the scenario worker as an ES
// module worker. sim/ and scenarios/ live outside viz/, so the dev server may read the whole repository.
// Dev: `vite --config viz/vite.config.ts`; build: `vite build --config viz/vite.config.ts`.

import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const vizDir = fileURLToPath(new URL('.', import.meta.url));
const repoDir = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  root: vizDir,
  // Relative asset paths, so the static build works from any folder or sub-path it is copied to.
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
  },
  worker: { format: 'es' },
  server: { fs: { allow: [repoDir] } },
  // The worker's imports are scanned up front too; found later, they would make the dev server pre-bundle
  // them mid-session and reload the page.
  optimizeDeps: { entries: ['index.html', 'src/run/run-worker.ts'] },
  // Vite's cache beside the repository's other dependencies, not in a node_modules inside viz/.
  cacheDir: fileURLToPath(new URL('../node_modules/.vite/viz', import.meta.url)),
});
