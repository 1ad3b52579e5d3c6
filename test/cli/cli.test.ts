import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliTimeout, runFirebreak, type CliResult } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { ADMIN_TOKEN, SERVER_START_LIMIT_MS, spawnServer, type ServerProcess } from '../support/server.ts';

describe('firebreak CLI against a running server', () => {
  let database: TestDatabase;
  let server: ServerProcess;

  function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
    return runFirebreak(args, { env: { FIREBREAK_SERVER: server.url, FIREBREAK_TOKEN: ADMIN_TOKEN, FIREBREAK_DATABASE_URL: database.url, ...env } });
  }

  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
    server = await spawnServer({ FIREBREAK_DATABASE_URL: database.url, FIREBREAK_BOOTSTRAP_TOKEN: ADMIN_TOKEN });
  });
  afterAll(async () => {
    await server.stop();
    await database.drop();
  });

  it('creates, lists, shows, acknowledges, transitions, notes and resolves an incident', async () => {
    const created = await cli(['--json', 'incident', 'create', '--title', 'TTFT regression after rollout', '--severity', 'high']);
    expect(created.code).toBe(0);
    const id = JSON.parse(created.stdout).id as string;
    expect(id).toMatch(/^INC-\d{8}-0001$/);

    const table = await cli(['incident', 'list', '--active']);
    expect(table.stdout).toMatch(/^ID\s+SEVERITY\s+STATUS\s+TITLE/m);
    expect(table.stdout).toContain(id);

    expect((await cli(['incident', 'ack', id])).stdout).toContain('investigating');
    expect((await cli(['incident', 'transition', id, 'identified', '--note', 'new model build'])).stdout).toContain('identified');
    expect((await cli(['incident', 'note', id, 'rolling back to previous build'])).stdout).toContain(`noted on ${id}`);
    const resolved = await cli(['--json', 'incident', 'resolve', id, '--resolution', 'rolled back', '--root-cause', 'bad build']);
    expect(JSON.parse(resolved.stdout)).toMatchObject({ status: 'resolved', root_cause: 'bad build' });

    const shown = await cli(['incident', 'show', id]);
    expect(shown.stdout).toContain('moved from investigating to identified: new model build');
    expect(shown.stdout).toContain('rolling back to previous build');
  }, cliTimeout(8));

  it('fails with one line and a non-zero exit on bad input', async () => {
    const invalid = await cli(['incident', 'transition', 'INC-20200101-0001', 'identified']);
    expect(invalid.code).toBe(4);
    expect(invalid.stderr.trim().split('\n')).toHaveLength(1);
    expect(invalid.stderr).toContain('firebreak: incident INC-20200101-0001 does not exist');

    const badToken = await cli(['incident', 'list'], { FIREBREAK_TOKEN: 'fbk_nope_nope_nope_nope' });
    expect(badToken.code).toBe(3);
    expect(badToken.stderr.trim()).toBe('firebreak: invalid or revoked token');

    const usage = await cli(['incident', 'create', '--title', 'x', '--severity', 'urgent']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('urgent');

    const unreachable = await cli(['incident', 'list'], { FIREBREAK_SERVER: 'http://127.0.0.1:9' });
    expect(unreachable.code).toBe(6);
    expect(unreachable.stderr).toMatch(/^firebreak: cannot reach http:\/\/127\.0\.0\.1:9/);
  }, cliTimeout(4));

  it('manages tokens directly on the database and through the server', async () => {
    const created = await cli(['token', 'create', '--role', 'viewer', '--name', 'grafana']);
    expect(created.code).toBe(0);
    const secret = created.stdout.trim();
    expect(secret).toMatch(/^fbk_/);
    const asViewer = await cli(['incident', 'list'], { FIREBREAK_TOKEN: secret });
    expect(asViewer.code).toBe(0);
    const denied = await cli(['incident', 'create', '--title', 'x', '--severity', 'low'], { FIREBREAK_TOKEN: secret });
    expect(denied.code).toBe(3);

    const listed = await cli(['token', 'list', '--remote']);
    expect(listed.stdout).toContain('grafana');
    expect(listed.stdout).not.toContain(secret);
    expect((await cli(['token', 'revoke', 'grafana'])).stdout).toContain('revoked grafana');
    expect((await cli(['incident', 'list'], { FIREBREAK_TOKEN: secret })).code).toBe(3);
  }, cliTimeout(7));
});

describe('first start', () => {
  it('prints a fresh admin token once when no bootstrap token is given', async () => {
    const database = await createTestDatabase('sqlite');
    try {
      const first = await spawnServer({ FIREBREAK_DATABASE_URL: database.url, FIREBREAK_BOOTSTRAP_TOKEN: '' });
      await first.stop();
      const match = /shown only this once:\s+(fbk_\S+)/.exec(first.output());
      expect(match).not.toBeNull();
      const second = await spawnServer({ FIREBREAK_DATABASE_URL: database.url, FIREBREAK_BOOTSTRAP_TOKEN: '' });
      try {
        expect(second.output()).not.toContain('shown only this once');
        const me = await fetch(`${second.url}/api/v1/me`, { headers: { authorization: `Bearer ${match![1]}` } });
        expect(await me.json()).toMatchObject({ role: 'admin' });
      } finally {
        expect(await second.stop()).toBe(0);
      }
    } finally {
      await database.drop();
    }
  }, 2 * SERVER_START_LIMIT_MS + 60_000);
});
