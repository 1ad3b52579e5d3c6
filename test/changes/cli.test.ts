import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliTimeout, runFirebreak } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { ADMIN_TOKEN, spawnServer, type ServerProcess } from '../support/server.ts';

describe('firebreak change commands against a running server', () => {
  let database: TestDatabase;
  let server: ServerProcess;

  const cli = (args: string[]) => runFirebreak(args, { env: { FIREBREAK_SERVER: server.url, FIREBREAK_TOKEN: ADMIN_TOKEN } });

  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
    server = await spawnServer({ FIREBREAK_DATABASE_URL: database.url, FIREBREAK_BOOTSTRAP_TOKEN: ADMIN_TOKEN });
    const created = await fetch(`${server.url}/api/v1/services`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'chat-api' }),
    });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await server?.stop();
    await database?.drop();
  });

  it('records, lists and ranks changes; bad input is one line and a non-zero exit', async () => {
    const at = new Date(Date.now() - 15 * 60_000).toISOString();
    const recorded = await cli(['--json', 'change', 'record', '--service', 'chat-api', '--kind', 'prompt', '--summary', 'system prompt v7', '--from', 'v6', '--to', 'v7', '--at', at]);
    expect(recorded.code).toBe(0);
    const change = JSON.parse(recorded.stdout) as { id: string };
    const list = await cli(['change', 'list', '--service', 'chat-api', '--kind', 'prompt']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/ID\s+AT\s+SERVICE\s+KIND\s+SOURCE\s+VERSIONS\s+SUMMARY/);
    expect(list.stdout).toContain(change.id);
    expect(list.stdout).toContain('v6 → v7');

    const incident = await cli(['--json', 'incident', 'create', '--title', 'answers off-topic', '--severity', 'high', '--service', 'chat-api']);
    const { id, detected_at: detectedAt } = JSON.parse(incident.stdout) as { id: string; detected_at: string };
    // The incident is detected when it is created, some CLI calls after the change: on a loaded machine that is more than 15 minutes later.
    const minutesBefore = Math.round((Date.parse(detectedAt) - Date.parse(at)) / 60_000);
    const suspects = await cli(['change', 'suspects', id]);
    expect(suspects.code).toBe(0);
    expect(suspects.stdout).toContain(change.id);
    expect(suspects.stdout).toContain(`prompt change (v6 → v7) ${minutesBefore} min before detection`);

    const bad = await cli(['change', 'record', '--service', 'nope', '--kind', 'deploy', '--summary', 'x']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('service: nope is not a catalogue service');
    const badKind = await cli(['change', 'record', '--service', 'chat-api', '--kind', 'rollout', '--summary', 'x']);
    expect(badKind.code).not.toBe(0);
  }, cliTimeout(7));
});
