import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { configFromEnv } from '../../src/app/config.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { readSse } from '../web/support.ts';

const pgUrl = process.env.FIREBREAK_TEST_PG_URL;
const describePg = pgUrl ? describe : describe.skip;

async function openStream(server: TestServer, until: (events: { event: string; data: unknown }[]) => boolean) {
  const controller = new AbortController();
  const response = await fetch(new URL('/api/v1/stream', server.url), { headers: { authorization: `Bearer ${await server.tokenFor('viewer')}` }, signal: controller.signal });
  expect(response.status).toBe(200);
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  const events = readSse(response, (seen) => {
    if (seen.some((e) => e.event === 'ready')) ready();
    return until(seen);
  });
  await isReady;
  return { events, stop: () => controller.abort() };
}

/** Polls until the probe answers; the limit is a safety net for a loaded machine, not a speed target. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describeEachDatabase('health for load balancers', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
  });
  afterAll(async () => server?.close());

  it('answers /healthz and /readyz without a token', async () => {
    expect(await server.api('GET', '/healthz', undefined, { token: null })).toMatchObject({ status: 200, body: { status: 'ok', database: kind } });
    expect(await server.api('GET', '/readyz', undefined, { token: null })).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('waits FIREBREAK_READY_TIMEOUT_MS for the database, 10 s unless set', () => {
    expect(configFromEnv({}).readyTimeoutMs).toBe(10_000);
    expect(configFromEnv({ FIREBREAK_READY_TIMEOUT_MS: '500' }).readyTimeoutMs).toBe(500);
    for (const bad of ['0', '-5', '1.5', 'soon']) {
      expect(() => configFromEnv({ FIREBREAK_READY_TIMEOUT_MS: bad })).toThrow(expect.objectContaining({ code: 'validation_failed', details: expect.objectContaining({ field: 'FIREBREAK_READY_TIMEOUT_MS' }) }));
    }
  });

  it('is not ready while a migration is pending', async () => {
    const fresh = await startTestServer(kind);
    try {
      await fresh.firebreak.ctx.database.db.deleteFrom('kysely_migration' as never).where('name' as never, '=', '095_storage_cluster' as never).execute();
      const ready = await fresh.api('GET', '/readyz', undefined, { token: null });
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ status: 'unavailable', pending_migrations: ['095_storage_cluster'] });
      expect((await fresh.api('GET', '/healthz', undefined, { token: null })).status).toBe(200);
    } finally {
      await fresh.close();
    }
  });
});

describePg('replicas on one PostgreSQL database', () => {
  let database: TestDatabase;
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    a = await startTestServer('postgres', { database });
    b = await startTestServer('postgres', { database });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  it('streams a change committed on one replica to the clients of another', async () => {
    const stream = await openStream(b, (events) => events.some((e) => e.event === 'incident.updated'));
    const created = await a.api('POST', '/api/v1/incidents', { title: 'made on replica A', severity: 'high' });
    expect(created.status).toBe(201);
    expect((await a.api('POST', `/api/v1/incidents/${created.body.id}/acknowledge`, {})).status).toBe(200);
    const events = await stream.events;
    stream.stop();
    const createdEvent = events.find((e) => e.event === 'incident.created');
    expect(createdEvent?.data).toMatchObject({ incident: { id: created.body.id, title: 'made on replica A' } });
    expect(events.find((e) => e.event === 'incident.updated')?.data).toMatchObject({ incident: { id: created.body.id, status: 'investigating' } });
    expect(events.filter((e) => e.event === 'timeline.appended').length).toBeGreaterThan(0);
    // A replica's own changes reach its clients once: they are not relayed back to it.
    const own = await openStream(a, (seen) => seen.some((e) => e.event === 'incident.created' && (e.data as { incident: { title: string } }).incident.title === 'second'));
    await a.api('POST', '/api/v1/incidents', { title: 'second', severity: 'low' });
    const ownEvents = await own.events;
    own.stop();
    expect(ownEvents.filter((e) => e.event === 'incident.created')).toHaveLength(1);
  });

  it('relays changes larger than a NOTIFY payload by id', async () => {
    // Changes of the earlier tests may still be arriving: wait for this one by its title.
    const isLarge = (e: { event: string; data: unknown }) => e.event === 'incident.created' && (e.data as { incident: { title: string } }).incident.title === 'large';
    const stream = await openStream(b, (events) => events.some(isLarge));
    const description = 'x'.repeat(20_000);
    const created = await a.api('POST', '/api/v1/incidents', { title: 'large', severity: 'low', description });
    expect(created.status).toBe(201);
    const events = await stream.events;
    stream.stop();
    expect((events.find(isLarge)?.data as { incident: { description: string } }).incident.description).toHaveLength(20_000);
  });

  it("splits an integration's rate limit between the live replicas", async () => {
    await a.api('POST', '/api/v1/services', { id: 'split-api', owner_team: null, tier: 2 });
    // A limit that barely refills during the test: only the burst counts.
    const integration = await a.api('POST', '/api/v1/integrations', { name: 'split', service: 'split-api', rate_limit: { per_second: 0.001, burst: 10 } });
    expect(integration.status).toBe(201);
    // Each replica learns of the other at its next heartbeat (every 5 s).
    await until('both replicas to count each other', async () => (a.firebreak.ctx.cluster.liveReplicas() === 2 && b.firebreak.ctx.cluster.liveReplicas() === 2 ? true : undefined));
    const send = (server: TestServer, i: number) =>
      server.api('POST', '/v2/enqueue', { routing_key: integration.body.routing_key, event_action: 'trigger', dedup_key: `split-${i}`, payload: { summary: `s${i}`, source: 'x', severity: 'warning' } }, { token: null });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await send(a, i)).status);
    for (let i = 10; i < 20; i++) statuses.push((await send(b, i)).status);
    // Each replica holds half the burst: 5 + 5 accepted of 20, as one server would accept 10.
    expect(statuses.filter((s) => s === 202)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
  });
});

describePg('a replica whose database goes away', () => {
  let proxy: TcpProxy;
  let server: TestServer;
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    const target = new URL(database.url);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const viaProxy = new URL(database.url);
    viaProxy.port = String(proxy.port);
    server = await startTestServer('postgres', { database: { ...database, url: viaProxy.toString() } });
  });
  afterAll(async () => {
    await server?.close().catch(() => {});
    await proxy?.close();
    await database?.drop();
  });

  it('answers 503 problem+json while the database is unreachable, resyncs streams and serves again when it is back', async () => {
    const stream = await openStream(server, (events) => events.some((e) => e.event === 'stream.resync'));
    await proxy.cut();
    const during = await server.api('GET', '/api/v1/incidents');
    expect(during.status).toBe(503);
    expect(during.headers.get('content-type')).toContain('application/problem+json');
    expect(during.body).toMatchObject({ code: 'unavailable' });
    expect(during.headers.get('retry-after')).toBe('5');
    expect((await server.api('GET', '/readyz', undefined, { token: null })).status).toBe(503);
    expect((await server.api('GET', '/healthz', undefined, { token: null })).status).toBe(200);
    await proxy.restore();
    const events = await stream.events;
    stream.stop();
    expect(events.map((e) => e.event)).toContain('stream.resync');
    await until('the server to serve again', async () => ((await server.api('GET', '/api/v1/incidents')).status === 200 ? true : undefined));
    expect((await server.api('GET', '/readyz', undefined, { token: null })).status).toBe(200);
  });

  it('is not ready, but alive, while the database hangs', async () => {
    // A short readiness timeout of its own: a database that never answers misses any timeout, so the test need not wait out the default.
    const viaProxy = new URL(database.url);
    viaProxy.port = String(proxy.port);
    const impatient = await startTestServer('postgres', { database: { ...database, url: viaProxy.toString() }, config: { readyTimeoutMs: 300 } });
    proxy.freeze();
    try {
      const ready = await impatient.api('GET', '/readyz', undefined, { token: null });
      expect(ready.status).toBe(503);
      expect(ready.body.detail).toBe('the database did not answer within 300 ms');
      expect((await impatient.api('GET', '/healthz', undefined, { token: null })).status).toBe(200);
    } finally {
      await proxy.cut();
      await proxy.restore();
      await impatient.close();
    }
  });
});

