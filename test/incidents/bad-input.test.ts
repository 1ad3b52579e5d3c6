import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

describeEachDatabase('bad input', (kind) => {
  let server: TestServer;
  let existing: { id: string; version: number };
  beforeAll(async () => {
    server = await startTestServer(kind);
    existing = (await server.api('POST', '/api/v1/incidents', { title: 'existing', severity: 'low' })).body;
  });
  afterAll(async () => server.close());

  async function expectNothingChanged() {
    const list = await server.api('GET', '/api/v1/incidents');
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0]).toMatchObject({ id: existing.id, title: 'existing', version: 1 });
  }

  const cases: [string, string, string, unknown, number, string | undefined][] = [
    ['wrong type', 'POST', '/api/v1/incidents', { title: 42, severity: 'low' }, 400, 'title'],
    ['unknown field', 'POST', '/api/v1/incidents', { title: 'x', severity: 'low', colour: 'red' }, 400, 'colour'],
    ['unknown severity', 'POST', '/api/v1/incidents', { title: 'x', severity: 'urgent' }, 400, 'severity'],
    ['missing field', 'POST', '/api/v1/incidents', { severity: 'low' }, 400, 'title'],
    ['empty title', 'POST', '/api/v1/incidents', { title: '', severity: 'low' }, 400, 'title'],
    ['unknown service', 'POST', '/api/v1/incidents', { title: 'x', severity: 'low', services: ['nope'] }, 422, 'services[0]'],
    ['unknown team', 'POST', '/api/v1/incidents', { title: 'x', severity: 'low', team: 'nope' }, 422, 'team'],
    ['bad timestamp', 'POST', '/api/v1/incidents', { title: 'x', severity: 'low', detected_at: 'yesterday' }, 400, 'detected_at'],
    ['malformed JSON', 'POST', '/api/v1/incidents', '{"title": "x",', 400, undefined],
    ['unknown state', 'POST', '/api/v1/incidents/ID/transition', { to: 'fixed' }, 400, 'to'],
    ['bad query', 'GET', '/api/v1/incidents?severity=urgent', undefined, 400, 'severity[0]'],
    ['bad limit', 'GET', '/api/v1/incidents?limit=100000', undefined, 400, 'limit'],
    ['bad cursor', 'GET', '/api/v1/incidents?cursor=zzz', undefined, 400, 'cursor'],
    ['PATCH without version', 'PATCH', '/api/v1/incidents/ID', { title: 'y' }, 428, 'version'],
    ['empty PATCH', 'PATCH', '/api/v1/incidents/ID', {}, 400, undefined],
    ['bad If-Match', 'PATCH', '/api/v1/incidents/ID', { title: 'y' }, 400, 'If-Match'],
  ];

  it.each(cases)('%s → clear problem, nothing stored', async (_name, method, path, body, status, field) => {
    const headers: Record<string, string> = _name === 'bad If-Match' ? { 'if-match': 'yesterday' } : {};
    const response = await server.api(method, path.replace('ID', existing.id), body, { headers });
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String) });
    if (field) expect(response.body.field).toBe(field);
    await expectNothingChanged();
  });

  it('rejects bodies over 1 MiB with 413', async () => {
    const response = await server.api('POST', '/api/v1/incidents', { title: 'x', severity: 'low', description: 'a'.repeat(1024 * 1024 + 10) });
    expect(response.status).toBe(413);
    expect(response.body.code).toBe('payload_too_large');
    await expectNothingChanged();
  });

  it('answers unknown ids and unknown endpoints with 404 problems', async () => {
    const missing = await server.api('GET', '/api/v1/incidents/INC-20200101-0001');
    expect(missing.status).toBe(404);
    expect(missing.body.detail).toContain('INC-20200101-0001');
    expect((await server.api('POST', '/api/v1/incidents/INC-20200101-0001/acknowledge', {})).status).toBe(404);
    expect((await server.api('GET', '/api/v1/nothing-here')).status).toBe(404);
  });

  it('has no API to edit or delete timeline entries, and the database refuses it too', async () => {
    const timeline = await server.api('GET', `/api/v1/incidents/${existing.id}/timeline`);
    const entryId = timeline.body[0].id;
    for (const method of ['PATCH', 'PUT', 'DELETE']) {
      expect((await server.api(method, `/api/v1/incidents/${existing.id}/timeline/${entryId}`, method === 'DELETE' ? undefined : {})).status).toBe(404);
    }
    const db = server.firebreak.ctx.database.db.withTables<{ timeline_entries: { id: number; summary: string } }>();
    await expect(db.updateTable('timeline_entries').set({ summary: 'rewritten' }).where('id', '=', entryId).execute()).rejects.toThrow(/append-only/);
    await expect(db.deleteFrom('timeline_entries').where('id', '=', entryId).execute()).rejects.toThrow(/append-only/);
  });
});
