import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

describeEachDatabase('auth', (kind) => {
  let server: TestServer;
  let viewer: string;
  let responder: string;
  beforeAll(async () => {
    server = await startTestServer(kind);
    viewer = await server.tokenFor('viewer');
    responder = await server.tokenFor('responder');
  });
  afterAll(async () => server.close());

  it('needs a valid bearer token everywhere except /healthz', async () => {
    expect((await server.api('GET', '/healthz', undefined, { token: null })).status).toBe(200);
    for (const path of ['/api/v1/incidents', '/api/v1/services', '/metrics', '/openapi.json', '/api/v1/me']) {
      const missing = await server.api('GET', path, undefined, { token: null });
      expect(missing.status, path).toBe(401);
      expect(missing.headers.get('content-type')).toContain('application/problem+json');
      expect(missing.headers.get('www-authenticate')).toBe('Bearer');
      expect((await server.api('GET', path, undefined, { token: 'fbk_wrong_token_value_123' })).status, path).toBe(401);
    }
    const malformed = await server.api('GET', '/api/v1/incidents', undefined, { token: null, headers: { authorization: 'Basic abc' } });
    expect(malformed.status).toBe(401);
  });

  it('viewer reads but cannot write', async () => {
    expect((await server.api('GET', '/api/v1/incidents', undefined, { token: viewer })).status).toBe(200);
    const write = await server.api('POST', '/api/v1/incidents', { title: 'x', severity: 'low' }, { token: viewer });
    expect(write.status).toBe(403);
    expect(write.body.detail).toContain('responder');
    expect((await server.api('GET', '/api/v1/incidents')).body.items).toHaveLength(0);
  });

  it('responder writes incidents but cannot manage tokens, services or teams', async () => {
    const created = await server.api('POST', '/api/v1/incidents', { title: 'by responder', severity: 'low' }, { token: responder });
    expect(created.status).toBe(201);
    expect(created.body.created_by).toMatch(/^responder-/);
    for (const [method, path, body] of [
      ['POST', '/api/v1/tokens', { name: 'x', role: 'admin' }],
      ['GET', '/api/v1/tokens', undefined],
      ['POST', '/api/v1/services', { id: 'svc' }],
      ['POST', '/api/v1/teams', { id: 'team', name: 'Team' }],
    ] as const) {
      expect((await server.api(method, path, body, { token: responder })).status, `${method} ${path}`).toBe(403);
    }
  });

  it('admin manages tokens; a revoked token stops working at once', async () => {
    const created = await server.api('POST', '/api/v1/tokens', { name: 'temp', role: 'responder' });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^fbk_/);
    const listed = await server.api('GET', '/api/v1/tokens');
    expect(JSON.stringify(listed.body)).not.toContain(created.body.token);
    expect((await server.api('GET', '/api/v1/me', undefined, { token: created.body.token })).body).toMatchObject({ name: 'temp', role: 'responder' });
    expect((await server.api('DELETE', `/api/v1/tokens/${created.body.id}`)).status).toBe(200);
    expect((await server.api('GET', '/api/v1/incidents', undefined, { token: created.body.token })).status).toBe(401);
    expect((await server.api('DELETE', `/api/v1/tokens/${created.body.id}`)).status).toBe(409);
  });

  it('stores only hashes of tokens', async () => {
    const created = await server.api('POST', '/api/v1/tokens', { name: 'hashed', role: 'viewer' });
    const rows = await server.firebreak.ctx.database.db
      .withTables<{ api_tokens: { name: string; token_hash: string } }>()
      .selectFrom('api_tokens')
      .selectAll()
      .execute();
    expect(JSON.stringify(rows)).not.toContain(created.body.token);
  });
});
