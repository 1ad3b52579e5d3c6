import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

describeEachDatabase('services, teams and assignment', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
    await server.api('POST', '/api/v1/teams', { id: 'llm-platform', name: 'LLM Platform', members: [{ user: 'ana', role: 'lead' }, { user: 'bo' }] });
    await server.api('POST', '/api/v1/teams', { id: 'search', name: 'Search' });
    await server.api('POST', '/api/v1/services', { id: 'gateway', owner_team: 'llm-platform', tier: 1, rto_minutes: 15, rpo_minutes: 0 });
    await server.api('POST', '/api/v1/services', { id: 'embeddings', owner_team: 'search', depends_on: ['gateway'] });
    await server.api('POST', '/api/v1/services', { id: 'orphan' });
  });
  afterAll(async () => server.close());

  it('stores services with their recovery objectives and teams with members', async () => {
    const gateway = await server.api('GET', '/api/v1/services/gateway');
    expect(gateway.body).toMatchObject({ owner_team: 'llm-platform', tier: 1, rto_minutes: 15, rpo_minutes: 0, data_integrity_required: false });
    const team = await server.api('GET', '/api/v1/teams/llm-platform');
    expect(team.body.members).toEqual([{ user: 'ana', role: 'lead' }, { user: 'bo', role: 'member' }]);
  });

  it('assigns a new incident to the owner of its first affected service and says why', async () => {
    const created = await server.api('POST', '/api/v1/incidents', { title: 'x', severity: 'high', services: ['embeddings', 'gateway'] });
    expect(created.body.team).toBe('search');
    const timeline = await server.api('GET', `/api/v1/incidents/${created.body.id}/timeline?kind=assigned`);
    expect(timeline.body[0].summary).toBe('team search owns the first affected service embeddings; other affected services are owned by llm-platform');
  });

  it('is explicit when there is no owner, and an explicit team wins', async () => {
    const orphan = await server.api('POST', '/api/v1/incidents', { title: 'x', severity: 'low', services: ['orphan'] });
    expect(orphan.body.team).toBeNull();
    const timeline = await server.api('GET', `/api/v1/incidents/${orphan.body.id}/timeline?kind=assigned`);
    expect(timeline.body[0].summary).toBe('service orphan has no owning team');
    const chosen = await server.api('POST', '/api/v1/incidents', { title: 'x', severity: 'low', services: ['gateway'], team: 'search' });
    expect(chosen.body.team).toBe('search');
  });

  it('rejects references to unknown teams and services, self-dependencies and duplicates', async () => {
    expect((await server.api('POST', '/api/v1/services', { id: 'x', owner_team: 'ghosts' })).body.field).toBe('owner_team');
    expect((await server.api('POST', '/api/v1/services', { id: 'y', depends_on: ['nope'] })).body.field).toBe('depends_on[0]');
    expect((await server.api('PATCH', '/api/v1/services/gateway', { version: 1, depends_on: ['gateway'] })).status).toBe(422);
    expect((await server.api('POST', '/api/v1/services', { id: 'gateway' })).status).toBe(409);
    expect((await server.api('POST', '/api/v1/teams', { id: 'Bad Id', name: 'x' })).body.field).toBe('id');
    expect((await server.api('DELETE', '/api/v1/teams/search')).status).toBe(409);
    expect((await server.api('DELETE', '/api/v1/services/gateway')).status).toBe(409);
  });

  it('updates services and teams with versions', async () => {
    const updated = await server.api('PATCH', '/api/v1/services/orphan', { rto_minutes: 60, owner_team: 'search' }, { headers: { 'if-match': '"1"' } });
    expect(updated.body).toMatchObject({ rto_minutes: 60, owner_team: 'search', version: 2 });
    expect((await server.api('PATCH', '/api/v1/services/orphan', { rto_minutes: 5 }, { headers: { 'if-match': '"1"' } })).status).toBe(409);
    const team = await server.api('PATCH', '/api/v1/teams/search', { version: 1, members: [{ user: 'cy' }] });
    expect(team.body.members).toEqual([{ user: 'cy', role: 'member' }]);
    expect((await server.api('PATCH', '/api/v1/teams/search', { version: 2, members: [{ user: 'cy' }, { user: 'cy' }] })).body.field).toBe('members[1].user');
  });

  it('lists incidents with filters and cursor pagination', async () => {
    for (let i = 0; i < 7; i++) await server.api('POST', '/api/v1/incidents', { title: `page ${i}`, severity: i % 2 ? 'critical' : 'low', services: ['gateway'] });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { id: string }[]; next_cursor: string | null } } = await server.api(
        'GET',
        `/api/v1/incidents?service=gateway&limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...page.body.items.map((i) => i.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toHaveLength(9);
    expect(new Set(seen).size).toBe(9);
    expect([...seen].sort().reverse()).toEqual(seen);
    const critical = await server.api('GET', '/api/v1/incidents?severity=critical&service=gateway');
    expect(critical.body.items).toHaveLength(3);
    const search = await server.api('GET', '/api/v1/incidents?q=PAGE%206');
    expect(search.body.items.map((i: { title: string }) => i.title)).toEqual(['page 6']);
    const team = await server.api('GET', '/api/v1/incidents?team=search&active=true');
    expect(team.body.items.every((i: { team: string }) => i.team === 'search')).toBe(true);
    const first = seen[seen.length - 1]!;
    await server.api('POST', `/api/v1/incidents/${first}/resolve`, { resolution: 'done' });
    const active = await server.api('GET', '/api/v1/incidents?active=true&limit=500');
    expect(active.body.items.map((i: { id: string }) => i.id)).not.toContain(first);
    const resolved = await server.api('GET', '/api/v1/incidents?status=resolved');
    expect(resolved.body.items.map((i: { id: string }) => i.id)).toEqual([first]);
  });
});
