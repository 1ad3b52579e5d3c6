import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { seededRandom } from '../support/random.ts';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../support/server.ts';
import { call, fillPath, minimalBody, mutateBody, nestedJson, operationsOf, type Operation } from '../support/openapi.ts';

const SEED = 15_2026;
const MUTATIONS_PER_ROUTE = 12;
/** Emulations of other products answer errors in those products' own formats (PagerDuty Events API v2). */
const OWN_ERROR_FORMAT = new Set(['/v2/enqueue', '/v2/change/enqueue']);
const isProblem = (op: Operation, contentType: string) => OWN_ERROR_FORMAT.has(op.path) || contentType.includes('application/problem+json');

describeEachDatabase('bad bodies on every route', (kind) => {
  let server: TestServer;
  let withBody: Operation[];
  let incidentId: string;
  beforeAll(async () => {
    server = await startTestServer(kind);
    withBody = operationsOf((await server.api('GET', '/openapi.json')).body).filter((op) => op.body);
    incidentId = (await server.api('POST', '/api/v1/incidents', { title: 'fuzz target', severity: 'low' })).body.id;
  });
  afterAll(async () => server.close());

  const pathOf = (op: Operation) => fillPath(op.path, (param) => (param === 'id' && op.path.startsWith('/api/v1/incidents/') ? incidentId : 'fuzz-missing'));

  // Too deep for the depth limit, or (on routes with small body limits) too large for the size limit.
  const notObjects: [string, string, number[]][] = [
    ['null', 'null', [400]],
    ['an array', '[{"title": "x"}]', [400]],
    ['a number', '42', [400]],
    ['a string', '"x"', [400]],
    ['true', 'true', [400]],
    ['100,000 nested arrays', nestedJson(100_000), [400, 413]],
    ['100,000 nested objects', nestedJson(100_000, false), [400, 413]],
    ['65 nested arrays', nestedJson(65), [400]],
  ];

  it.each(notObjects)('answers %s with a 4xx problem on every route that takes a body', async (_name, text, statuses) => {
    const wrong: string[] = [];
    for (const op of withBody) {
      const answer = await call(server, op.method, pathOf(op), text);
      if (!statuses.includes(answer.status) || !isProblem(op, answer.contentType)) wrong.push(`${op.method} ${op.path} → ${answer.status} ${answer.text.slice(0, 200)}`);
    }
    expect(wrong).toEqual([]);
    expect((await call(server, 'GET', '/healthz')).status).toBe(200);
  }, 300_000);

  it('refuses text holding a NUL character with 400 naming the field, on every database, and stores nothing', async () => {
    const before = (await server.api('GET', '/api/v1/incidents?limit=200')).body.items.length;
    const answer = await call(server, 'POST', '/api/v1/incidents', JSON.stringify({ title: 'nul', severity: 'low', description: 'a\u0000b' }));
    expect(answer.status).toBe(400);
    expect(answer.contentType).toContain('application/problem+json');
    expect(JSON.parse(answer.text).field).toBe('description');
    const nested = await call(server, 'PATCH', `/api/v1/incidents/${incidentId}/postmortem`, JSON.stringify({ version: 1, what_went_badly: ['x', 'y\u0000'] }));
    expect(nested.status).toBe(400);
    expect(JSON.parse(nested.text).field).toBe('what_went_badly.1');
    expect((await server.api('GET', '/api/v1/incidents?limit=200')).body.items.length).toBe(before);
  });

  it('refuses deeply nested YAML plans and YAML that is not a mapping with 400', async () => {
    for (const text of ['['.repeat(100_000) + ']'.repeat(100_000), Array.from({ length: 70 }, (_, i) => `${' '.repeat(i)}- `).join('\n') + 'x', '- a\n- b', 'null']) {
      const response = await fetch(new URL('/api/v1/plans/validate', server.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/yaml' },
        body: text,
      });
      expect(response.status, text.slice(0, 40)).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    }
    expect((await call(server, 'GET', '/healthz')).status).toBe(200);
  });

  it('never answers seeded mutations of valid bodies with a 5xx, and stays healthy', async () => {
    const random = seededRandom(SEED);
    const failures: string[] = [];
    for (const op of withBody) {
      const valid = minimalBody(op.body, 0, random() < 0.5);
      for (let i = 0; i < MUTATIONS_PER_ROUTE; i++) {
        const text = JSON.stringify(mutateBody(valid, random));
        const answer = await call(server, op.method, pathOf(op), text);
        if (answer.status >= 500) failures.push(`${op.method} ${op.path} ${text.slice(0, 200)} → ${answer.status} ${answer.text.slice(0, 200)}`);
        else if (answer.status >= 400 && !isProblem(op, answer.contentType)) failures.push(`${op.method} ${op.path} → ${answer.status} as ${answer.contentType}`);
      }
    }
    expect(failures).toEqual([]);
    expect((await call(server, 'GET', '/healthz')).status).toBe(200);
  }, 600_000);
});
