import path from 'node:path';
import pino from 'pino';
import { expect, it } from 'vitest';
import { createTestDatabase, describeEachDatabase } from '../support/databases.ts';
import { ADMIN_TOKEN, REPO_ROOT } from '../support/server.ts';
import { createConsoleModule } from '../../src/console/index.ts';
import { createFirebreak } from '../../src/app/server.ts';
import { MODULES } from '../../src/app/modules.ts';

describeEachDatabase('live stream of a signed-in person', (kind) => {
  it('streams to a session cookie and ends the stream when the person signs out', async () => {
    const database = await createTestDatabase(kind);
    // The console's heartbeat shortened, so the ended session shows within the test.
    const modules = MODULES.map((m) => (m.name === 'console' ? createConsoleModule({ heartbeatMs: 150 }) : m));
    const firebreak = await createFirebreak({
      config: {
        port: 0,
        host: '127.0.0.1',
        databaseUrl: database.url,
        logLevel: 'silent',
        bootstrapToken: ADMIN_TOKEN,
        configDir: path.join(REPO_ROOT, 'config'),
        secretKey: 'test-secret-key-for-firebreak',
        prometheusUrl: undefined,
        workers: false,
      },
      log: pino({ level: 'silent' }),
      modules,
    });
    const url = await firebreak.listen();
    try {
      const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
      await fetch(`${url}/api/v1/users`, { method: 'POST', headers: admin, body: JSON.stringify({ email: 'ana@example.com', name: 'Ana', role: 'viewer', password: 'a passphrase for ana' }) });
      const signedIn = await fetch(`${url}/api/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'ana@example.com', password: 'a passphrase for ana' }) });
      const cookie = signedIn.headers.getSetCookie()[0]!.split(';')[0]!;
      const { csrf_token: csrf } = (await signedIn.json()) as { csrf_token: string };

      const response = await fetch(`${url}/api/v1/stream`, { headers: { cookie } });
      const text = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      let seen = '';
      const readUntil = async (needle: string) => {
        while (!seen.includes(needle)) {
          const { value, done } = await text.read();
          if (done) break;
          seen += value;
        }
      };
      await readUntil(': heartbeat');
      expect(seen).toContain('"name":"ana"');
      expect((await fetch(`${url}/api/v1/sessions/current`, { method: 'DELETE', headers: { cookie, 'x-csrf-token': csrf } })).status).toBe(204);
      await readUntil('event: unauthorized');
      expect(seen).toContain('the session ended');
      expect((await text.read()).done).toBe(true);
    } finally {
      await firebreak.close();
      await database.drop();
    }
  });
});
