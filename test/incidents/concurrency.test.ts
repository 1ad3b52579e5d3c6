import { afterAll, beforeAll, expect, it } from 'vitest';
import { INCIDENT_ID_PATTERN } from '../../src/incidents/index.ts';
import { createTestDatabase, describeEachDatabase } from '../support/databases.ts';
import { rejectInserts } from '../support/reject-inserts.ts';
import { ADMIN_TOKEN, spawnServer, startTestServer, type TestServer } from '../support/server.ts';

describeEachDatabase('concurrency', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    // Ids are numbered per UTC day: a clock that runs from noon keeps the 200 creations on one day at any hour.
    const startedAt = Date.now();
    server = await startTestServer(kind, { clock: () => new Date(Date.parse('2026-03-14T12:00:00Z') + (Date.now() - startedAt)) });
    // Assignees are people Firebreak knows: here, members of a team.
    const members = ['ana', ...Array.from({ length: 10 }, (_, i) => `user${i}`)].map((user) => ({ user }));
    await server.api('POST', '/api/v1/teams', { id: 'responders', name: 'Responders', members });
  });
  afterAll(async () => server.close());

  it('200 concurrent creations yield 200 distinct INC-YYYYMMDD-NNNN ids', async () => {
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) => server.api('POST', '/api/v1/incidents', { title: `storm ${i}`, severity: 'low' })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(200).fill(201));
    const ids = responses.map((r) => r.body.id as string);
    expect(new Set(ids).size).toBe(200);
    for (const id of ids) expect(id).toMatch(INCIDENT_ID_PATTERN);
    const numbers = ids.map((id) => Number(id.split('-')[2])).sort((a, b) => a - b);
    expect(numbers[0]).toBe(1);
    expect(numbers[199]).toBe(200);
  });

  /** Opens `count` keep-alive connections first, so the requests that follow arrive together and share a batch. */
  const openConnections = (count: number) => Promise.all(Array.from({ length: count }, () => server.api('GET', '/healthz')));

  it('creations sent together succeed or fail each on their own (group commit)', async () => {
    await openConnections(30);
    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        server.api('POST', '/api/v1/incidents', { title: `together ${i}`, severity: 'low', ...(i % 5 === 0 ? { services: ['no-such-service'] } : {}) }),
      ),
    );
    responses.forEach((response, i) => {
      if (i % 5 === 0) expect(response.body).toMatchObject({ status: 422, field: 'services[0]' });
      else expect(response.status).toBe(201);
    });
    const created = responses.filter((r) => r.status === 201);
    expect(new Set(created.map((r) => r.body.id)).size).toBe(24);
    for (const response of created) {
      const timeline = await server.api('GET', `/api/v1/incidents/${response.body.id}/timeline`);
      expect(timeline.body.map((e: { kind: string }) => e.kind)).toEqual(['created', 'assigned']);
      expect(timeline.body[0].summary).toBe(`low incident opened: ${response.body.title}`);
    }
  });

  it('a creation whose write fails fails alone; the others sent with it are created', async () => {
    const undo = await rejectInserts(server.firebreak.ctx.database.db, kind, 'incidents', 'title', 'poison');
    try {
      await openConnections(20);
      const titles = Array.from({ length: 20 }, (_, i) => (i === 7 || i === 13 ? 'poison' : `healthy ${i}`));
      const responses = await Promise.all(titles.map((title) => server.api('POST', '/api/v1/incidents', { title, severity: 'high' })));
      responses.forEach((response, i) => expect(response.status).toBe(titles[i] === 'poison' ? 500 : 201));
      expect(new Set(responses.filter((r) => r.status === 201).map((r) => r.body.id)).size).toBe(18);
      const listed = await server.api('GET', '/api/v1/incidents?q=poison');
      expect(listed.body.items).toEqual([]);
    } finally {
      await undo();
    }
  });

  it('a stale update gets 409 and changes nothing', async () => {
    const created = await server.api('POST', '/api/v1/incidents', { title: 'original', severity: 'low' });
    const id = created.body.id;
    const first = await server.api('PATCH', `/api/v1/incidents/${id}`, { title: 'first writer' }, { headers: { 'if-match': '"1"' } });
    expect(first.status).toBe(200);
    expect(first.headers.get('etag')).toBe('"2"');
    const stale = await server.api('PATCH', `/api/v1/incidents/${id}`, { title: 'second writer', severity: 'critical' }, { headers: { 'if-match': '"1"' } });
    expect(stale.status).toBe(409);
    expect(stale.body.code).toBe('version_conflict');
    const after = await server.api('GET', `/api/v1/incidents/${id}`);
    expect(after.body).toMatchObject({ title: 'first writer', severity: 'low', version: 2 });
    const timeline = await server.api('GET', `/api/v1/incidents/${id}/timeline?kind=field_updated`);
    expect(timeline.body).toHaveLength(1);
    expect(timeline.body[0].data).toEqual({ field: 'title', old: 'original', new: 'first writer' });
  });

  it('of many concurrent updates based on one version exactly one wins', async () => {
    const created = await server.api('POST', '/api/v1/incidents', { title: 'race', severity: 'low' });
    const attempts = await Promise.all(
      Array.from({ length: 10 }, (_, i) => server.api('PATCH', `/api/v1/incidents/${created.body.id}`, { version: 1, assignee: `user${i}` })),
    );
    expect(attempts.filter((a) => a.status === 200)).toHaveLength(1);
    expect(attempts.filter((a) => a.status === 409)).toHaveLength(9);
  });

  it('concurrent unversioned actions are all applied, none lost', async () => {
    const created = await server.api('POST', '/api/v1/incidents', { title: 'notes', severity: 'low' });
    const id = created.body.id;
    await Promise.all([
      server.api('POST', `/api/v1/incidents/${id}/acknowledge`, {}),
      ...Array.from({ length: 10 }, (_, i) => server.api('POST', `/api/v1/incidents/${id}/notes`, { text: `note ${i}` })),
      server.api('PATCH', `/api/v1/incidents/${id}`, { version: 1, assignee: 'ana' }),
    ]);
    const timeline = await server.api('GET', `/api/v1/incidents/${id}/timeline`);
    expect(timeline.body.filter((e: { kind: string }) => e.kind === 'note')).toHaveLength(10);
    const incident = await server.api('GET', `/api/v1/incidents/${id}`);
    // The PATCH raced the acknowledgement on version 1: either it won, or it lost with a 409; never both silently.
    const ackEntries = timeline.body.filter((e: { kind: string }) => e.kind === 'acknowledged');
    expect(ackEntries).toHaveLength(1);
    expect(incident.body.status).toBe('investigating');
  });

  if (kind === 'postgres') {
    it('two server processes sharing one PostgreSQL never hand out the same id', async () => {
      const database = await createTestDatabase('postgres');
      const env = { FIREBREAK_DATABASE_URL: database.url, FIREBREAK_BOOTSTRAP_TOKEN: ADMIN_TOKEN };
      const [a, b] = await Promise.all([spawnServer(env), spawnServer(env)]);
      try {
        const create = (url: string, i: number) =>
          fetch(`${url}/api/v1/incidents`, {
            method: 'POST',
            headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
            body: JSON.stringify({ title: `p${i}`, severity: 'low' }),
          }).then((r) => r.json() as Promise<{ id: string }>);
        const results = await Promise.all(Array.from({ length: 200 }, (_, i) => create(i % 2 ? a.url : b.url, i)));
        expect(new Set(results.map((r) => r.id)).size).toBe(200);
      } finally {
        await Promise.all([a.stop(), b.stop()]);
        await database.drop();
      }
    });
  }
});
