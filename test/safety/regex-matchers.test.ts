import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { call } from '../support/openapi.ts';

describeEachDatabase('regex matchers run in linear time', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
  });
  afterAll(async () => server.close());

  it('evaluates a classic catastrophic-backtracking pattern against a hostile label, and stays healthy', async () => {
    // On a backtracking engine `^(?:(a+)+)$` against 5,000 a's and a ! takes 2^5000 steps: it never answers.
    const yaml = `
rules:
  - name: redos
    match: ['component=~"(a+)+"', 'team=~"(x|x)*y"']
    map_severity: { warning: critical }
  - name: anchored
    match: ['component=~"gp|gpu"']
    map_severity: { warning: error }
`;
    expect((await server.api('PUT', '/api/v1/routing-rules', { yaml })).status).toBe(200);
    const hostile = await server.api('POST', '/api/v1/routing-rules/test', { service: 'inference', severity: 'warning', labels: { component: `${'a'.repeat(5000)}!`, team: `${'x'.repeat(5000)}` } });
    expect(hostile.status).toBe(200);
    expect(hostile.body.modified_by ?? []).not.toContain('redos');
    // Whole-value matching, as Alertmanager anchors: `gp|gpu` matches "gpu" but not "gpux".
    const gpu = await server.api('POST', '/api/v1/routing-rules/test', { service: 'inference', severity: 'warning', labels: { component: 'gpu' } });
    expect(gpu.body).toMatchObject({ severity: 'error', modified_by: ['anchored'] });
    const gpux = await server.api('POST', '/api/v1/routing-rules/test', { service: 'inference', severity: 'warning', labels: { component: 'gpux' } });
    expect(gpux.body.modified_by ?? []).toEqual([]);
    const matching = await server.api('POST', '/api/v1/routing-rules/test', { service: 'inference', severity: 'warning', labels: { component: 'aaaa', team: 'xxy' } });
    expect(matching.body).toMatchObject({ severity: 'critical', modified_by: ['redos'] });
    expect((await call(server, 'GET', '/healthz')).status).toBe(200);
  });

  it('refuses syntax RE2 does not have (backreferences, lookahead) with a 400 naming the matcher', async () => {
    for (const pattern of ['(a)\\\\1', '(?=a)a']) {
      const response = await server.api('PUT', '/api/v1/routing-rules', { yaml: `rules:\n  - name: bad\n    match: ['component=~"${pattern}"']\n    map_severity: { warning: error }\n` });
      expect(response.status, pattern).toBe(400);
      expect(response.body.field).toMatch(/match\[0\]/);
    }
  });
});
