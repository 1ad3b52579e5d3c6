import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The console is plain Preact compiled by esbuild's automatic JSX runtime: no framework plugin is needed,
 * and the output (hashed assets under `assets/`) is what `src/console/` serves with long-lived caching.
 */
export default defineConfig({
  root,
  base: '/',
  logLevel: 'warn',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // Chart.js is only needed on the dashboard; it is split into its own chunk by the dynamic import.
    chunkSizeWarningLimit: 400,
  },
});
