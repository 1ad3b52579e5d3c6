import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const BUILD_SCRIPT = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../scripts/build.mjs')).href;
const made: string[] = [];

function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-build-'));
  made.push(root);
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), content);
  }
  return root;
}

function listFiles(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((name) => fs.statSync(path.join(dir, name)).isFile()).sort();
}

afterEach(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the build removes output whose source is gone', () => {
  it('deletes compiled files and folders of removed sources and keeps everything else', () => {
    const src = tree({ 'main.ts': '', 'plans/schema.ts': '', 'drills/scenarios/a.yaml': '' });
    const dist = tree({
      'main.js': '',
      'main.js.map': '',
      'plans/schema.js': '',
      'plans/store.js': '',
      'plans/store.js.map': '',
      'gone/old.js': '',
      'drills/scenarios/a.yaml': '',
      'examples/tree.json': '',
      '.built': '',
    });
    execFileSync(process.execPath, ['--input-type=module', '-e', `import(${JSON.stringify(BUILD_SCRIPT)}).then((m) => m.removeOrphanedOutput(${JSON.stringify(dist)}, ${JSON.stringify(src)}))`], {
      // A synchronous call cannot be stopped by the test's own limit: this one is a safety limit for a busy machine.
      timeout: 60_000,
    });
    expect(listFiles(dist)).toEqual(['.built', 'drills/scenarios/a.yaml', 'examples/tree.json', 'main.js', 'main.js.map', 'plans/schema.js'].sort());
  });
});
