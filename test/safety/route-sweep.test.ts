import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { call, fillPath, minimalBody, operationsOf, type Operation } from '../support/openapi.ts';

describeEachDatabase('every route with junk and missing ids', (kind) => {
  let server: TestServer;
  let operations: Operation[];
  let incidentId: string;
  beforeAll(async () => {
    server = await startTestServer(kind);
    operations = operationsOf((await server.api('GET', '/openapi.json')).body);
    // A real incident with nothing attached: ids that exist at one level and not below it reach the deepest code.
    incidentId = (await server.api('POST', '/api/v1/incidents', { title: 'sweep target', severity: 'low' })).body.id;
  });
  afterAll(async () => server.close());

  const idSets: [string, (param: string, op: Operation) => string][] = [
    ['junk ids', () => 'no such thing'],
    ['missing ids', (param) => (param === 'id' ? 'INC-20200101-0001' : param === 'tier' ? 'tier-1' : '999999')],
    ['an incident without anything below it', (param, op) => (param === 'id' && op.path.startsWith('/api/v1/incidents/') ? incidentId : 'missing-step')],
  ];

  it.each(idSets)('answers every route with %s, then stays healthy', async (_name, idFor) => {
    const failures: string[] = [];
    sweep: for (const op of operations) {
      if (op.path === '/healthz' || op.path === '/metrics') continue;
      const path = fillPath(op.path, (param) => idFor(param, op));
      const bodies = op.body
        ? [JSON.stringify(minimalBody(op.body)), JSON.stringify(minimalBody(op.body, 0, true))]
        : [['POST', 'PUT', 'PATCH'].includes(op.method) ? '{}' : undefined];
      for (const body of bodies) {
        try {
          const answer = await call(server, op.method, path, body);
          if (answer.status >= 500) failures.push(`${op.method} ${path} ${body ?? ''} → ${answer.status} ${answer.text.slice(0, 300)}`);
        } catch (error) {
          // A request that never answers usually means the server is wedged: every later one would wait too.
          failures.push(`${op.method} ${path} ${body ?? ''} → ${(error as Error).name}: ${(error as Error).message}`);
          break sweep;
        }
      }
    }
    expect(failures).toEqual([]);
    const health = await call(server, 'GET', '/healthz');
    expect(health.status).toBe(200);
  }, 600_000);
});
