import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from '../support/database-factory.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

/**
 * Databases written by earlier releases upgrade in place at start with nothing lost. Each fixture was made by
 * test/upgrade/make-fixture.ts at the commit named in its .json, before a round of schema changes.
 */
const FIXTURES_DIR = path.join(import.meta.dirname, 'fixtures');
const fixtureNames = fs
  .readdirSync(FIXTURES_DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length));

interface Expected {
  incidents: string[];
  incident: string;
  drill_incident: string;
  timeline_entries: number;
  services: string[];
  /** Changes recorded by the fixture's code (fixtures made before change tracking have none). */
  changes?: string[];
}

async function restore(kind: DatabaseKind, fixture: string): Promise<TestDatabase> {
  const database = await createTestDatabase(kind);
  if (kind === 'sqlite') {
    fs.copyFileSync(path.join(FIXTURES_DIR, `${fixture}.sqlite`), database.url);
    return database;
  }
  // pg_dump's plain format, less the psql meta-commands (\restrict) that only psql understands.
  const dump = fs
    .readFileSync(path.join(FIXTURES_DIR, `${fixture}.pg.sql`), 'utf8')
    .split('\n')
    .filter((line) => !line.startsWith('\\'))
    .join('\n');
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    await client.query(dump);
  } finally {
    await client.end();
  }
  return database;
}

for (const fixture of fixtureNames) {
  const expectations = JSON.parse(fs.readFileSync(path.join(FIXTURES_DIR, `${fixture}.json`), 'utf8')) as Record<DatabaseKind, Expected | null>;

  describeEachDatabase(`upgrade from ${fixture}`, (kind) => {
    const expected = expectations[kind];
    let server: TestServer;
    beforeAll(async () => {
      if (!expected) return;
      server = await startTestServer(kind, { database: await restore(kind, fixture) });
    });
    afterAll(async () => {
      if (!server) return;
      await server.close();
      await server.database.drop();
    });

    const run = expected ? it : it.skip;

    run('keeps every incident, service and timeline entry', async () => {
      const incidents = await server.api('GET', '/api/v1/incidents?limit=200');
      const list: { id: string }[] = Array.isArray(incidents.body) ? incidents.body : incidents.body.items;
      expect(list.map((i) => i.id).sort()).toEqual(expected!.incidents);
      const services = await server.api('GET', '/api/v1/services');
      expect(services.body.map((s: { id: string }) => s.id).sort()).toEqual(expect.arrayContaining(expected!.services));
      const timeline = await server.api('GET', `/api/v1/incidents/${expected!.incident}/timeline`);
      const entries = Array.isArray(timeline.body) ? timeline.body : timeline.body.items;
      expect(entries.length).toBeGreaterThanOrEqual(expected!.timeline_entries);
    });

    run('keeps analyses, fault trees, postmortems, on-call, status pages and drill runs', async () => {
      const id = expected!.incident;
      expect((await server.api('GET', `/api/v1/incidents/${id}/analyses`)).body).toHaveLength(1);
      expect((await server.api('GET', `/api/v1/incidents/${id}/fault-trees`)).body).toHaveLength(1);
      const postmortem = await server.api('GET', `/api/v1/incidents/${id}/postmortem`);
      expect(postmortem.status).toBe(200);
      expect(JSON.stringify(postmortem.body)).toContain('A provider queue made chat slow');
      const items = await server.api('GET', '/api/v1/action-items');
      expect(JSON.stringify(items.body)).toContain('Alert on provider queue time');
      expect((await server.api('GET', '/api/v1/schedules/core-weekly')).status).toBe(200);
      expect((await server.api('GET', '/api/v1/escalation-policies/core-policy')).status).toBe(200);
      expect((await server.api('GET', '/api/v1/status-pages/acme')).status).toBe(200);
      const runs = await server.api('GET', '/api/v1/drills/runs');
      expect(runs.body).toHaveLength(1);
      const recovery = await server.api('GET', `/api/v1/incidents/${expected!.drill_incident}/recovery`);
      expect([200, 404]).toContain(recovery.status);
      // Deadlines stored before they were jobs are adopted at start: the open item's overdue notice is due
      // the day after its due date; a recovery verified in time leaves no RTO deadline to fire.
      const openItem = (items.body as { id: number; title: string; due_date: string }[]).find((i) => i.title === 'Alert on provider queue time')!;
      const notice = await server.firebreak.ctx.jobs.get('recovery.item_overdue', String(openItem.id));
      expect(notice).toMatchObject({ status: 'scheduled', run_at: new Date(Date.parse(`${openItem.due_date}T00:00:00.000Z`) + 86_400_000).toISOString() });
      if (recovery.status === 200 && recovery.body.status === 'verified' && recovery.body.rto.breached === false) {
        expect(await server.firebreak.ctx.jobs.get('recovery.rto_breach', expected!.drill_incident)).toBeUndefined();
      }
      const tokens = await server.api('GET', '/api/v1/tokens');
      expect(JSON.stringify(tokens.body)).toContain('ci-bot');
      const secrets = await server.api('GET', '/api/v1/secrets');
      expect(JSON.stringify(secrets.body)).toContain('provider_key');
      if (expected!.changes) {
        const changes = await server.api('GET', '/api/v1/changes?service=chat-api');
        expect(changes.status).toBe(200);
        const ids = (changes.body.items as { id: string }[]).map((c) => c.id);
        expect(ids).toEqual(expect.arrayContaining(expected!.changes));
        const suspects = await server.api('GET', `/api/v1/incidents/${expected!.incident}/changes`);
        expect(suspects.body.items.map((s: { change: { id: string } }) => s.change.id)).toEqual(expect.arrayContaining(expected!.changes));
      }
    });

    run('lists the team members as people, and lets people get accounts and sign in', async () => {
      const teams = (await server.api('GET', '/api/v1/teams')).body as { members: { user: string }[] }[];
      const members = [...new Set(teams.flatMap((t) => t.members.map((m) => m.user)))];
      const people = (await server.api('GET', '/api/v1/people')).body as { handle: string; account: boolean }[];
      expect(people.map((p) => p.handle)).toEqual(expect.arrayContaining(members));
      const member = members[0]!;
      const account = await server.api('POST', '/api/v1/users', { email: `${member}@example.com`, name: member, role: 'responder', password: 'after the upgrade, a passphrase', handle: member });
      expect(account.status).toBe(201);
      const session = await fetch(new URL('/api/v1/sessions', server.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: `${member}@example.com`, password: 'after the upgrade, a passphrase' }),
      });
      expect(session.status).toBe(201);
      expect((await server.api('GET', '/api/v1/people')).body.find((p: { handle: string }) => p.handle === member).account).toBe(true);
    });

    run("keeps the LLM detectors' baselines, saved by earlier versions of the detector", async () => {
      // Restored at start with the current algorithm (a state it cannot read would be dropped and relearned).
      const detectors = (await server.api('GET', '/api/v1/llm/detectors')).body as { kind: string; service: string; provider: string; model: string; points: number }[];
      const anomaly = detectors.filter((d) => d.kind === 'anomaly');
      const series = new Set(anomaly.map((d) => `${d.service}/${d.provider}/${d.model}`));
      expect(series.size).toBeGreaterThan(0);
      // Four signals a series, none dropped; the rate rules (in fixtures made since they exist) too.
      expect(anomaly.length).toBe(4 * series.size);
      expect(anomaly.every((d) => d.points > 0)).toBe(true);
      expect(detectors.filter((d) => d.kind === 'rate').every((d) => d.points > 0)).toBe(true);
    });

    run('takes new writes after the upgrade', async () => {
      const created = await server.api('POST', '/api/v1/incidents', { title: 'after the upgrade', severity: 'low', services: ['chat-api'] });
      expect(created.status).toBe(201);
      expect(expected!.incidents).not.toContain(created.body.id);
      const note = await server.api('POST', `/api/v1/incidents/${expected!.incident}/notes`, { text: 'read after the upgrade' });
      expect(note.status).toBeLessThan(300);
      // Change tracking arrived after the fixture: its tables exist and rank changes for incidents made before.
      const change = await server.api('POST', '/api/v1/changes', { service: 'chat-api', kind: 'deploy', summary: 'after the upgrade', at: new Date(Date.now() - 60_000).toISOString() });
      expect(change.status).toBe(201);
      const suspects = await server.api('GET', `/api/v1/incidents/${created.body.id}/changes`);
      expect(suspects.status).toBe(200);
      // A fixture made after change tracking arrived carries its own change, which may rank beside this one.
      expect(suspects.body.items.map((s: { change: { id: string } }) => s.change.id)).toEqual(
        expect.arrayContaining([change.body.id, ...(expected!.changes ?? [])]),
      );
      expect((await server.api('GET', `/api/v1/incidents/${expected!.incident}/changes`)).status).toBe(200);
    });
  });
}

describe('upgrade fixtures', () => {
  it('exist for SQLite and PostgreSQL', () => {
    expect(fixtureNames.length).toBeGreaterThan(0);
    for (const name of fixtureNames) {
      expect(fs.existsSync(path.join(FIXTURES_DIR, `${name}.sqlite`))).toBe(true);
      expect(fs.existsSync(path.join(FIXTURES_DIR, `${name}.pg.sql`))).toBe(true);
    }
  });
});
