import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeEachDatabase } from '../support/databases.ts';
import { ADMIN_TOKEN, REPO_ROOT, startTestServer, type TestServer } from '../support/server.ts';
import { ALLOWED_TRANSITIONS } from '../../src/incidents/index.ts';
import { createConsoleModule, formatSseEvent } from '../../src/console/index.ts';
import { createFirebreak } from '../../src/app/server.ts';
import { MODULES } from '../../src/app/modules.ts';
import { buildConsoleOnce, readSse } from './support.ts';

describeEachDatabase('web console serving and live stream', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    await buildConsoleOnce();
    server = await startTestServer(kind);
  });
  afterAll(async () => server?.close());

  it('serves the app at / and for client routes, without a token, with HTML security headers', async () => {
    for (const path of ['/', '/incidents', '/incidents/INC-20261124-0001', '/settings/tokens']) {
      const response = await fetch(new URL(path, server.url), { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await response.text()).toContain('<div id="app"></div>');
    }
  });

  it('serves hashed assets with their type, long-lived caching, gzip and conditional requests', async () => {
    const html = await (await fetch(new URL('/', server.url), { headers: { accept: 'text/html' } })).text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    const style = /href="(\/assets\/[^"]+\.css)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect(style).toBeDefined();
    const js = await fetch(new URL(script!, server.url), { headers: { 'accept-encoding': 'gzip' } });
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('content-encoding')).toBe('gzip');
    expect((await js.text()).length).toBeGreaterThan(1000);
    const css = await fetch(new URL(style!, server.url));
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    const again = await fetch(new URL(script!, server.url), { headers: { 'if-none-match': js.headers.get('etag')! } });
    expect(again.status).toBe(304);
  });

  it('answers 404 problems for missing files, API paths and paths outside the build', async () => {
    const missingAsset = await server.api('GET', '/assets/nope-123.js', undefined, { token: null });
    expect(missingAsset.status).toBe(404);
    const api = await server.api('GET', '/api/v1/nothing-here', undefined, { token: null, headers: { accept: 'text/html' } });
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toContain('application/problem+json');
    // Only a browser navigating gets the app for an unknown path; an API client gets a problem.
    const client = await server.api('GET', '/v2/something', undefined, { token: null, headers: { accept: 'application/json' } });
    expect(client.status).toBe(404);
    // The root is the console's address even for a client that does not say it wants HTML (curl).
    const root = await server.api<string>('GET', '/', undefined, { token: null, headers: { accept: '*/*' } });
    expect(root.status).toBe(200);
    expect(root.body).toContain('<title>Firebreak</title>');
    expect(client.body.code).toBe('not_found');
    const openapi = await server.api('GET', '/openapi.json');
    expect(Object.keys(openapi.body.paths)).toEqual(expect.arrayContaining(['/api/v1/stream', '/api/v1/lifecycle']));
    expect(Object.keys(openapi.body.paths)).not.toContain('/*');
    for (const sneaky of ['/..%2f..%2fpackage.json', '/%2e%2e/%2e%2e/package.json', '/assets/..%2f..%2f..%2fpackage.json']) {
      const response = await fetch(new URL(sneaky, server.url), { headers: { accept: 'text/html' } });
      expect(response.status, sneaky).toBe(404);
      expect(await response.text()).not.toContain('"dependencies"');
    }
  });

  it('keeps the API behind tokens', async () => {
    expect((await server.api('GET', '/api/v1/incidents', undefined, { token: null })).status).toBe(401);
    expect((await server.api('GET', '/api/v1/lifecycle', undefined, { token: null })).status).toBe(401);
    expect((await fetch(new URL('/api/v1/stream', server.url))).status).toBe(401);
  });

  it('exposes the lifecycle table generated from ALLOWED_TRANSITIONS', async () => {
    const response = await server.api('GET', '/api/v1/lifecycle');
    expect(response.status).toBe(200);
    expect(response.body.transitions).toEqual(ALLOWED_TRANSITIONS);
    expect(response.body.active_statuses).not.toContain('resolved');
    expect(response.body.severities).toEqual(['low', 'medium', 'high', 'critical']);
  });

  it('streams incident.created, incident.updated and timeline.appended as Server-Sent Events', async () => {
    const viewer = await server.tokenFor('viewer');
    const controller = new AbortController();
    const response = await fetch(new URL('/api/v1/stream', server.url), {
      headers: { authorization: `Bearer ${viewer}` },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    let ready!: () => void;
    const isReady = new Promise<void>((resolve) => (ready = resolve));
    const reading = readSse(response, (events) => {
      if (events.some((e) => e.event === 'ready')) ready();
      return events.some((e) => e.event === 'incident.updated');
    });
    // The stream is subscribed before the ready event is written, so anything after it is seen (a fixed wait was not enough on a busy machine).
    await isReady;
    const created = await server.api('POST', '/api/v1/incidents', { title: 'stream check', severity: 'high' });
    expect(created.status).toBe(201);
    expect((await server.api('POST', `/api/v1/incidents/${created.body.id}/acknowledge`, {})).status).toBe(200);
    const events = await reading;
    controller.abort();
    expect(events[0]).toMatchObject({ event: 'ready', data: { role: 'viewer', heartbeat_ms: 15_000 } });
    const names = events.map((e) => e.event);
    expect(names).toContain('incident.created');
    expect(names).toContain('timeline.appended');
    const updated = events.find((e) => e.event === 'incident.updated')!.data as { incident: { id: string; status: string } };
    expect(updated.incident).toMatchObject({ id: created.body.id, status: 'investigating' });
  });

  it('rejects a revoked token on the stream', async () => {
    const token = await server.tokenFor('responder');
    const tokens = await server.api<{ id: string; name: string }[]>('GET', '/api/v1/tokens');
    const me = await server.api<{ token_id: string }>('GET', '/api/v1/me', undefined, { token });
    expect(tokens.body.some((t) => t.id === me.body.token_id)).toBe(true);
    expect((await server.api('DELETE', `/api/v1/tokens/${me.body.token_id}`)).status).toBe(200);
    const response = await fetch(new URL('/api/v1/stream', server.url), { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(401);
    expect(ADMIN_TOKEN).not.toBe(token);
  });
});

describeEachDatabase('web console stream heartbeats', (kind) => {
  it('sends heartbeats and ends an open stream once its token is revoked', async () => {
    const database = await createTestDatabase(kind);
    // The real module list with the console's heartbeat shortened, so revocation shows within the test.
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
      const created = (await (await fetch(`${url}/api/v1/tokens`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'wall', role: 'viewer' }) })).json()) as {
        id: string;
        token: string;
      };
      const response = await fetch(`${url}/api/v1/stream`, { headers: { authorization: `Bearer ${created.token}` } });
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
      expect(seen).toContain('"heartbeat_ms":150');
      expect((await fetch(`${url}/api/v1/tokens/${created.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(200);
      await readUntil('event: unauthorized');
      expect((await text.read()).done).toBe(true);
    } finally {
      await firebreak.close();
      await database.drop();
    }
  });
});

it('never puts secrets from an event on the wire, and keeps large events to their identifiers', () => {
  const wire = formatSseEvent('integration.created', { integration: { id: 'pd', routing_key: 'rk_secret', nested: { api_token: 'x' } } });
  expect(wire).toContain('"id":"pd"');
  expect(wire).not.toContain('rk_secret');
  expect(wire).not.toContain('"x"');
  const large = formatSseEvent('thing.changed', { thing: { id: 't1', blob: 'y'.repeat(100_000) }, incident_id: 'INC-1' });
  expect(large.length).toBeLessThan(1000);
  expect(large).toContain('"incident_id":"INC-1"');
  expect(large).toContain('"truncated":true');
  expect(formatSseEvent('bad\nname', {})).toMatch(/^event: bad_name\n/);
});
