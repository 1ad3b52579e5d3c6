import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { ADMIN_TOKEN, REPO_ROOT, startTestServer, type TestServer } from '../support/server.ts';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import YAML from 'yaml';
import { runCli } from '../../src/cli/main.ts';
import { CLI_COMMANDS } from '../../src/cli/commands.ts';
import { TestTarget, eventually } from './target.ts';

process.env.FIREBREAK_PLAN_POLL_MS = '25';

interface Problem {
  status: number;
  field?: string;
  detail: string;
}

describeEachDatabase('plan definitions, secrets and dry runs', (kind) => {
  let server: TestServer;
  let target: TestTarget;

  beforeAll(async () => {
    target = await new TestTarget().start();
    server = await startTestServer(kind);
  });
  afterAll(async () => {
    await server?.close();
    await target?.close();
  });

  const post = (p: string, body: unknown) => server.api<Problem>('POST', p, body);
  const minimal = (id: string, steps: unknown[], extra: Record<string, unknown> = {}) => ({ id, name: id, steps, ...extra });

  it('publishes the JSON Schema and loads the example plans from the configuration directory', async () => {
    const schema = await server.api<{ $schema: string; properties: Record<string, unknown> }>('GET', '/api/v1/plans/schema.json');
    expect(schema.status).toBe(200);
    expect(schema.body.$schema).toContain('json-schema.org');
    expect(Object.keys(schema.body.properties)).toEqual(expect.arrayContaining(['steps', 'triggers', 'rollback', 'scope', 'roles', 'escalation']));
    // The published schema is usable by any JSON Schema validator, and the shipped examples satisfy it.
    const ajv = new Ajv({ strict: false });
    (addFormatsModule as unknown as (a: Ajv) => Ajv)(ajv);
    const validate = ajv.compile(schema.body);
    for (const file of fs.readdirSync(path.join(REPO_ROOT, 'config/plans'))) {
      const example: unknown = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, 'config/plans', file), 'utf8'));
      expect(validate(example), `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
    expect(validate({ id: 'x', name: 'x', steps: [{ id: 'a', type: 'teleport', with: {} }] })).toBe(false);
    const openapi = await server.api<{ paths: Record<string, unknown> }>('GET', '/openapi.json');
    expect(Object.keys(openapi.body.paths)).toEqual(expect.arrayContaining(['/api/v1/plans/{id}/run', '/api/v1/plans/{id}/test', '/api/v1/incidents/{id}/executions', '/api/v1/secrets/{name}']));
    const plans = (await server.api<{ id: string; source: string; version: string; problems: { field: string }[] }[]>('GET', '/api/v1/plans')).body;
    const examples = plans.filter((p) => p.source.startsWith('file:'));
    expect(examples.map((p) => p.id).sort()).toEqual(['model-rollback', 'provider-failover', 'shed-load']);
    expect(examples.every((p) => p.version === '1.0')).toBe(true);
    // Their secrets do not exist in a fresh database: reported on the plan, not fatal.
    expect(plans.find((p) => p.id === 'provider-failover')!.problems[0]!.field).toBe('steps[3].with.headers.Authorization');
  });

  it('makes a new immutable version on every change, and executions record the version they ran', async () => {
    const url = `${target.url}/versions`;
    const v1 = minimal(`versioned-${kind}`, [{ id: 'call', type: 'http', with: { method: 'POST', url } }]);
    expect((await post('/api/v1/plans', v1)).status).toBe(201);
    expect((await post('/api/v1/plans', v1)).status).toBe(409);
    const same = await server.api<{ version: string }>('PUT', `/api/v1/plans/${v1.id}`, v1);
    expect(same.body.version, JSON.stringify(same.body)).toBe('1.0');
    const v2 = { ...v1, description: 'now with a description' };
    expect((await server.api<{ version: string }>('PUT', `/api/v1/plans/${v1.id}`, v2)).body.version).toBe('1.1');
    const versions = (await server.api<{ version: string; definition: { description?: string } }[]>('GET', `/api/v1/plans/${v1.id}/versions`)).body;
    expect(versions.map((v) => v.version)).toEqual(['1.0', '1.1']);
    expect(versions[0]!.definition.description).toBeUndefined();
    const incident = (await server.api<{ id: string }>('POST', '/api/v1/incidents', { title: 'versions', severity: 'low' })).body.id;
    const latest = await server.api<{ plan_version: string }>('POST', `/api/v1/plans/${v1.id}/run`, { incident_id: incident });
    const old = await server.api<{ plan_version: string }>('POST', `/api/v1/plans/${v1.id}/run`, { incident_id: incident, version: '1.0' });
    expect([latest.body.plan_version, old.body.plan_version]).toEqual(['1.1', '1.0']);
    const viewer = await server.tokenFor('viewer');
    expect((await server.api('PUT', `/api/v1/plans/${v1.id}`, v2, { token: viewer })).status).toBe(403);
    // The file format works over the API as well.
    const yamlHeaders = { headers: { 'content-type': 'application/yaml' } };
    const yaml = `id: yaml-${kind}\nname: from yaml\nsteps:\n  - id: pause\n    type: wait\n    with: { duration: 1s }\n`;
    expect((await server.api<{ version: string }>('POST', '/api/v1/plans', yaml, yamlHeaders)).body.version).toBe('1.0');
    const broken = await server.api<Problem>('POST', '/api/v1/plans', 'id: [oops\nname: x\n', yamlHeaders);
    expect(broken.status).toBe(400);
    expect(broken.body.detail).toMatch(/invalid YAML at line \d+/);
  });

  it('rejects bad plans with the path of the problem', async () => {
    const http = (id: string, extra: Record<string, unknown> = {}, w: Record<string, unknown> = {}) => ({ id, type: 'http', ...extra, with: { method: 'GET', url: 'http://x.test/', ...w } });
    const cases: [unknown, number, string][] = [
      [minimal('bad-type', [http('a'), { id: 'b', type: 'teleport', with: {} }]), 400, 'steps[1].type'],
      [minimal('bad-url', [{ id: 'a', type: 'http', with: { method: 'GET' } }]), 400, 'steps[0].with.url'],
      [minimal('bad-check', [{ id: 'v', type: 'verify', with: { checks: [{ kind: 'http', url: 'not a url' }] } }]), 400, 'steps[0].with.checks[0].url'],
      [minimal('missing-need', [http('a'), http('b', { needs: ['a', 'nope'] })]), 422, 'steps[1].needs[1]'],
      [minimal('cycle', [http('a', { needs: ['b'] }), http('b', { needs: ['a'] })]), 422, 'steps[0].needs'],
      [minimal('dup', [http('a'), http('a')]), 422, 'steps[1].id'],
      [minimal('bad-template', [{ id: 'c', type: 'communicate', with: { message: 'hello {{#incident.title}' } }]), 422, 'steps[0].with.message'],
      [minimal('unknown-field', [{ id: 'c', type: 'communicate', with: { message: '{{incident.colour}}' } }]), 422, 'steps[0].with.message'],
      [minimal('not-needed', [http('a'), http('b', {}, { body: '{{steps.a.output.response.status}}' })]), 422, 'steps[1].with.body'],
      [minimal('missing-secret', [http('a', {}, { headers: { Authorization: 'Bearer {{secrets.nope}}' } })]), 422, 'steps[0].with.headers.Authorization'],
      [minimal('bad-channel', [{ id: 'c', type: 'communicate', with: { message: 'x', channels: ['pager'] } }]), 422, 'steps[0].with.channels[0]'],
      [minimal('bad-when', [http('a', { when: [{ field: 'steps.z.status', equals: 'succeeded' }] })]), 422, 'steps[0].when[0].field'],
      [minimal('bad-undo', [http('a')], { rollback: [{ ...http('u'), undoes: ['zz'] }] }), 422, 'rollback[0].undoes[0]'],
    ];
    for (const [body, status, field] of cases) {
      const response = await post('/api/v1/plans', body);
      expect({ status: response.status, field: response.body.field }, response.body.detail).toEqual({ status, field });
    }
    const report = await server.api<{ valid: boolean; problems: { field: string }[] }>('POST', '/api/v1/plans/validate', minimal('many', [http('a', { needs: ['x'] }), http('b', {}, { url: '{{secrets.missing}}' })]));
    expect(report.body.valid).toBe(false);
    expect(report.body.problems.map((p) => p.field)).toEqual(['steps[0].needs[0]', 'steps[1].with.url']);
  });

  it('stores secrets encrypted and lists only names; admin only', async () => {
    const responder = await server.tokenFor('responder');
    expect((await server.api('PUT', '/api/v1/secrets/flags_key', { value: 'abcd-1234' }, { token: responder })).status).toBe(403);
    expect((await server.api('PUT', '/api/v1/secrets/flags_key', { value: 'abcd-1234' })).status).toBe(201);
    expect((await server.api('PUT', '/api/v1/secrets/flags_key', { value: 'abcd-5678' })).status).toBe(200);
    const listed = await server.api<{ name: string }[]>('GET', '/api/v1/secrets');
    expect(listed.body.map((s) => s.name)).toContain('flags_key');
    expect(JSON.stringify(listed.body)).not.toContain('abcd');
    expect((await server.api('DELETE', '/api/v1/secrets/flags_key')).status).toBe(204);
    expect((await server.api('DELETE', '/api/v1/secrets/flags_key')).status).toBe(404);
  });

  it('dry-runs a plan: previews exactly what would be sent, sends nothing, and recommends fixes for the problems found', async () => {
    await server.api('PUT', '/api/v1/secrets/dry_token', { value: 'dry-run-secret-9999' });
    const p = `/dry-${kind}`;
    const plan = minimal(
      `dry-${kind}`,
      [
        { id: 'assess', type: 'assess' },
        { id: 'ok', type: 'approval', needs: ['assess'], with: { prompt: 'switch {{incident.services}}?' } },
        {
          id: 'switch',
          type: 'http',
          needs: ['ok'],
          with: { method: 'PUT', url: `${target.url}${p}/route`, headers: { Authorization: 'Bearer {{secrets.dry_token}}' }, body: '{"incident":"{{incident.id}}"}' },
        },
        { id: 'contain', type: 'set_status', needs: ['switch'], with: { status: 'containing' } },
        { id: 'resolve-too-early', type: 'set_status', needs: ['contain'], on_failure: 'continue', with: { status: 'post_incident' } },
        { id: 'tell', type: 'communicate', needs: ['switch'], with: { message: 'switched for {{incident.id}}', webhook_url: `${target.url}${p}/hook` } },
      ],
      { scope: { services: ['chat-api'], severities: ['critical'] } },
    );
    expect((await post('/api/v1/plans', plan)).status).toBe(201);
    const report = await server.api<{
      incident: { severity: string; services: string[] };
      steps: { step_id: string; outcome: string; preview: Record<string, unknown> }[];
      problems: { field: string; message: string }[];
      recommendations: string[];
    }>('POST', `/api/v1/plans/${plan.id}/test`, {});
    expect(report.status).toBe(200);
    expect(report.body.incident).toMatchObject({ severity: 'critical', services: ['chat-api'] });
    const byId = Object.fromEntries(report.body.steps.map((s) => [s.step_id, s]));
    expect(byId.ok!.outcome).toBe('would_wait');
    expect(byId.switch!.preview).toEqual({
      method: 'PUT',
      url: `${target.url}${p}/route`,
      headers: { Authorization: 'Bearer [REDACTED]' },
      body: '{"incident":"INC-DRYRUN-0001"}',
    });
    expect(byId.tell!.preview).toMatchObject({ deliveries: [{ channel: 'timeline' }, { channel: 'webhook', request: { method: 'POST', body: { text: 'switched for INC-DRYRUN-0001' } } }] });
    expect(byId['resolve-too-early']!.outcome).toBe('would_fail');
    expect(report.body.problems.map((x) => x.field)).toEqual(['steps[4]']);
    expect(report.body.recommendations.join('\n')).toMatch(/steps\[4\].*containing here and cannot move to post_incident/);
    expect(report.body.recommendations.join('\n')).toContain('Approval ok has no timeout');
    expect(report.body.recommendations.join('\n')).toContain('no rollback step undoes it');
    expect(report.body.recommendations.join('\n')).toContain('Nothing verifies the effect of switch');
    expect(JSON.stringify(report.body)).not.toContain('dry-run-secret-9999');
    // A step's effects are awaited before the step ends, so whatever the dry run sent has arrived by its answer;
    // work it left for later (a real execution, a queued message) runs with the server's due background work.
    expect(target.byPath(p)).toHaveLength(0);
    await server.firebreak.ctx.worker.runDue();
    expect(target.byPath(p)).toHaveLength(0);
    const stored = (await server.api<{ last_tested_at: string | null; last_test: { problem_count: number } }>('GET', `/api/v1/plans/${plan.id}`)).body;
    expect(stored.last_tested_at).not.toBeNull();
    expect(stored.last_test.problem_count).toBe(1);
    // The example plan's missing secret is a problem with a concrete recommendation.
    const failover = await server.api<{ recommendations: string[] }>('POST', '/api/v1/plans/provider-failover/test', {});
    expect(failover.body.recommendations[0]).toContain('Create secret gateway_token');
  });

  it('serves the CLI: validate files offline, list and run plans through the API', async () => {
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    try {
      for (const file of fs.readdirSync(path.join(REPO_ROOT, 'config/plans'))) {
        expect(await runCli(['plan', 'validate', path.join(REPO_ROOT, 'config/plans', file)], CLI_COMMANDS)).toBe(0);
      }
      const bad = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'plan-')), 'bad.yaml');
      fs.writeFileSync(bad, 'id: bad\nname: bad\nsteps:\n  - id: a\n    type: wait\n    needs: [ghost]\n    with: { duration: 1s }\n');
      expect(await runCli(['plan', 'validate', bad], CLI_COMMANDS)).not.toBe(0);
      expect(out.join('')).toContain('steps[0].needs[0]: step ghost does not exist');
      fs.writeFileSync(bad, 'id: [unclosed\n');
      expect(await runCli(['plan', 'validate', bad], CLI_COMMANDS)).toBe(2);
      const remote = ['--server', server.url, '--token', ADMIN_TOKEN, '--json'];
      out.length = 0;
      expect(await runCli([...remote, 'plan', 'list'], CLI_COMMANDS)).toBe(0);
      expect(out.join('')).toContain('provider-failover');
      const incident = (await server.api<{ id: string }>('POST', '/api/v1/incidents', { title: 'cli', severity: 'low' })).body.id;
      await server.api('POST', '/api/v1/plans', minimal(`cli-${kind}`, [{ id: 'ok', type: 'approval', with: { prompt: 'go?' } }]));
      out.length = 0;
      expect(await runCli([...remote, 'plan', 'run', `cli-${kind}`, '--incident', incident], CLI_COMMANDS)).toBe(0);
      const execution = JSON.parse(out.join('')) as { id: string };
      await eventually(async () => ((await server.api<{ waiting_for: unknown[] }>('GET', `/api/v1/executions/${execution.id}`)).body.waiting_for.length ? true : undefined));
      out.length = 0;
      expect(await runCli([...remote, 'plan', 'approve', execution.id, 'ok', '--reject'], CLI_COMMANDS)).toBe(0);
      expect((JSON.parse(out.join('')) as { status: string }).status).toBe('failed');
      expect(await runCli([...remote, 'plan', 'test', `cli-${kind}`], CLI_COMMANDS)).toBe(0);
    } finally {
      spy.mockRestore();
      err.mockRestore();
    }
  });
});

describeEachDatabase('secrets without a key', (kind) => {
  it('refuses to store a secret when FIREBREAK_SECRET_KEY is not set', async () => {
    const server = await startTestServer(kind, { config: { secretKey: undefined } });
    try {
      const response = await server.api<Problem>('PUT', '/api/v1/secrets/x_token', { value: 'abcdefgh' });
      expect(response.status).toBe(400);
      expect(response.body.detail).toContain('FIREBREAK_SECRET_KEY');
    } finally {
      await server.close();
    }
  });
});
