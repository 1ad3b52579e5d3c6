import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

describeEachDatabase('active incidents by urgency, counts and bulk actions', (kind) => {
  let server: TestServer;
  let me: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    server = await startTestServer(kind);
    me = (await server.api('GET', '/api/v1/me')).body.name;
    // Created in this order (oldest first); acknowledgements and resolutions follow.
    const specs = [
      ['low-acked', 'low'],
      ['critical-acked', 'critical'],
      ['low-open', 'low'],
      ['critical-open-old', 'critical'],
      ['medium-open', 'medium'],
      ['critical-open-new', 'critical'],
      ['high-resolved', 'high'],
    ] as const;
    for (const [title, severity] of specs) {
      const created = await server.api('POST', '/api/v1/incidents', { title, severity, team: undefined });
      expect(created.status).toBe(201);
      ids[title] = created.body.id;
    }
    await server.api('POST', `/api/v1/incidents/${ids['low-acked']}/acknowledge`, {});
    await server.api('POST', `/api/v1/incidents/${ids['critical-acked']}/acknowledge`, {});
    await server.api('POST', `/api/v1/incidents/${ids['high-resolved']}/resolve`, { resolution: 'restarted' });
    // Assignees are people: a team member (or an account) by handle.
    expect((await server.api('POST', '/api/v1/teams', { id: 'core', name: 'Core', members: [{ user: me }] })).status).toBe(201);
    expect((await server.api('PATCH', `/api/v1/incidents/${ids['medium-open']}`, { assignee: me, version: 1 })).status).toBe(200);
  });
  afterAll(async () => server.close());

  const titles = (items: { title: string }[]) => items.map((i) => i.title);

  it('lists active incidents unacknowledged first, then critical first, then oldest first by default', async () => {
    const page = await server.api('GET', '/api/v1/incidents?active=true');
    expect(page.status).toBe(200);
    expect(titles(page.body.items)).toEqual(['critical-open-old', 'critical-open-new', 'medium-open', 'low-open', 'critical-acked', 'low-acked']);
  });

  it('pages through the urgency order with its cursor, without gaps or repeats', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { title: string }[]; next_cursor: string | null } } = await server.api(
        'GET',
        `/api/v1/incidents?active=true&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...titles(page.body.items));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(['critical-open-old', 'critical-open-new', 'medium-open', 'low-open', 'critical-acked', 'low-acked']);
  });

  it('gives the other orders with sort, and keeps newest first when active is not asked for', async () => {
    const newest = await server.api('GET', '/api/v1/incidents?active=true&sort=newest');
    expect(titles(newest.body.items)).toEqual(['critical-open-new', 'medium-open', 'critical-open-old', 'low-open', 'critical-acked', 'low-acked']);
    const oldest = await server.api('GET', '/api/v1/incidents?active=true&sort=oldest&limit=2');
    expect(titles(oldest.body.items)).toEqual(['low-acked', 'critical-acked']);
    const next = await server.api('GET', `/api/v1/incidents?active=true&sort=oldest&limit=2&cursor=${oldest.body.next_cursor}`);
    expect(titles(next.body.items)).toEqual(['low-open', 'critical-open-old']);
    const all = await server.api('GET', '/api/v1/incidents');
    expect(titles(all.body.items)[0]).toBe('high-resolved');
    const urgentAll = await server.api('GET', '/api/v1/incidents?sort=urgency&limit=1');
    expect(titles(urgentAll.body.items)).toEqual(['critical-open-old']);
  });

  it('filters by acknowledgement and assignee for the triggered, acknowledged and mine views', async () => {
    const triggered = await server.api('GET', '/api/v1/incidents?active=true&acknowledged=false');
    expect(titles(triggered.body.items)).toEqual(['critical-open-old', 'critical-open-new', 'medium-open', 'low-open']);
    const acked = await server.api('GET', '/api/v1/incidents?active=true&acknowledged=true');
    expect(titles(acked.body.items)).toEqual(['critical-acked', 'low-acked']);
    const mine = await server.api('GET', `/api/v1/incidents?active=true&assignee=${encodeURIComponent(me)}`);
    expect(titles(mine.body.items)).toEqual(['medium-open']);
  });

  it('counts every view, with a true total, under the same filters', async () => {
    const counts = await server.api('GET', '/api/v1/incidents/counts');
    expect(counts.status).toBe(200);
    expect(counts.body).toEqual({ total: 7, active: 6, triggered: 4, acknowledged: 2, mine: 1, closed: 1 });
    const critical = await server.api('GET', '/api/v1/incidents/counts?severity=critical');
    expect(critical.body).toEqual({ total: 3, active: 3, triggered: 2, acknowledged: 1, mine: 0, closed: 0 });
    const someoneElse = await server.api('GET', '/api/v1/incidents/counts?assignee=nobody-here');
    expect(someoneElse.body.mine).toBe(0);
  });

  it('rejects a bad sort or a cursor from another order with problem+json naming the field', async () => {
    const badSort = await server.api('GET', '/api/v1/incidents?active=true&sort=loudest');
    expect(badSort.status).toBe(400);
    expect(badSort.headers.get('content-type')).toContain('application/problem+json');
    expect(badSort.body.field).toBe('sort');
    const newest = await server.api('GET', '/api/v1/incidents?sort=newest&limit=1');
    const mixed = await server.api('GET', `/api/v1/incidents?active=true&cursor=${newest.body.next_cursor}`);
    expect(mixed.status).toBe(400);
    expect(mixed.body.field).toBe('cursor');
    const badCount = await server.api('GET', '/api/v1/incidents/counts?severity=loud');
    expect(badCount.status).toBe(400);
  });

  it('acknowledges several incidents at once, reporting those that moved on', async () => {
    const result = await server.api('POST', '/api/v1/incidents/bulk', { action: 'acknowledge', ids: [ids['low-open'], ids['low-acked'], 'INC-19990101-0001'] });
    expect(result.status).toBe(200);
    const [first, second, third] = result.body.results;
    expect(first).toMatchObject({ id: ids['low-open'], ok: true, incident: { acknowledged_by: me } });
    expect(second).toMatchObject({ id: ids['low-acked'], ok: false, error: { code: 'conflict' } });
    expect(third).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const timeline = await server.api('GET', `/api/v1/incidents/${ids['low-open']}/timeline`);
    expect(timeline.body.map((e: { kind: string }) => e.kind)).toContain('acknowledged');
  });

  it('resolves several incidents at once with one resolution, and needs that resolution', async () => {
    const missing = await server.api('POST', '/api/v1/incidents/bulk', { action: 'resolve', ids: [ids['low-open']] });
    expect(missing.status).toBe(400);
    expect(missing.body.field).toBe('resolution');
    const empty = await server.api('POST', '/api/v1/incidents/bulk', { action: 'resolve', ids: [] });
    expect(empty.status).toBe(400);
    expect(empty.body.field).toBe('ids');
    const result = await server.api('POST', '/api/v1/incidents/bulk', { action: 'resolve', ids: [ids['low-open'], ids['low-acked']], resolution: 'noise from a flapping probe' });
    expect(result.body.results.every((r: { ok: boolean }) => r.ok)).toBe(true);
    const low = await server.api('GET', `/api/v1/incidents/${ids['low-open']}`);
    expect(low.body).toMatchObject({ status: 'resolved', resolution: 'noise from a flapping probe' });
    const counts = await server.api('GET', '/api/v1/incidents/counts');
    expect(counts.body).toMatchObject({ active: 4, closed: 3 });
  });

  it('needs a responder to act in bulk', async () => {
    const viewer = await server.tokenFor('viewer');
    const denied = await server.api('POST', '/api/v1/incidents/bulk', { action: 'acknowledge', ids: [ids['critical-open-old']] }, { token: viewer });
    expect(denied.status).toBe(403);
    const counts = await server.api('GET', '/api/v1/incidents/counts', undefined, { token: viewer });
    expect(counts.status).toBe(200);
  });
});
