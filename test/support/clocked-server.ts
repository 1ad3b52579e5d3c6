/**
 * A Firebreak server in its own OS process whose clock the test sets over IPC, so several replicas on one
 * database share the test's time and can be killed (SIGKILL) and restarted like real servers. Background
 * workers are off: the test runs due work itself (`runDue`), so what runs when depends on the test's steps,
 * not on the machine's speed. Started by `forkClockedServer` (test/support/replicas.ts).
 */
import path from 'node:path';
import pino from 'pino';
import { createFirebreak } from '../../src/app/server.ts';

type Message = { id: number; type: 'clock'; ms: number } | { id: number; type: 'runDue' } | { id: number; type: 'close' };

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
let nowMs = Number(process.env.CLOCKED_START_MS);
const firebreak = await createFirebreak({
  config: {
    port: 0,
    host: '127.0.0.1',
    databaseUrl: process.env.CLOCKED_DATABASE_URL!,
    logLevel: 'silent',
    bootstrapToken: process.env.CLOCKED_ADMIN_TOKEN!,
    configDir: process.env.CLOCKED_CONFIG_DIR ?? path.join(REPO_ROOT, 'config'),
    secretKey: 'test-secret-key-for-firebreak',
    prometheusUrl: undefined,
    workers: false,
    otlpGrpcPort: null,
  },
  log: pino({ level: 'silent' }),
  clock: () => new Date(nowMs),
});
const url = await firebreak.listen();
process.on('message', (message: Message) => {
  const answer = (error?: unknown) => process.send!({ id: message.id, error: error === undefined ? undefined : String((error as Error).stack ?? error) });
  if (message.type === 'clock') {
    nowMs = message.ms;
    answer();
  } else if (message.type === 'runDue') firebreak.ctx.worker.runDue().then(() => answer(), answer);
  else firebreak.close().then(() => answer(), answer);
});
process.send!({ id: 0, url });
