#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm install` or `npm run build`); no transpiling at start.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write('firebreak is not built yet: run `npm install` (or `npm run build`) in the repository first\n');
  process.exit(1);
}
await import(entry);
