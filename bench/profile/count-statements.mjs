// Counts the statements a server sends to PostgreSQL, by text (a profiling aid: node --import this file). SIGUSR2
// starts counting; the next SIGUSR2 writes the counts to /tmp/firebreak-statements-<pid>.json.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import process from 'node:process';

// The server imports pg (CommonJS) through the same module cache, so it sees this patched query.
const pg = createRequire(import.meta.url)('pg');
const counts = new Map();
const query = pg.Client.prototype.query;
let counting = false;
pg.Client.prototype.query = function (config, values, callback) {
  const text = typeof config === 'string' ? config : config?.text;
  if (counting && text) {
    const key = text.replace(/\s+/g, ' ').slice(0, 300);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return query.call(this, config, values, callback);
};
process.on('SIGUSR2', () => {
  if (!counting) {
    counting = true;
    counts.clear();
    return;
  }
  counting = false;
  fs.writeFileSync(`/tmp/firebreak-statements-${process.pid}.json`, JSON.stringify([...counts].sort((a, b) => b[1] - a[1]), null, 1));
});
