import { afterAll, beforeAll, expect, it } from 'vitest';
import { signGitHubBody } from '../../src/changes/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { createIntegration, createService, post } from '../ingest/helpers.ts';

/** A `deployment_status` delivery shaped as GitHub documents it (trimmed of fields Firebreak does not read, plus a few it ignores). */
function deploymentStatus(sha: string, state: string, at: string, deploymentId = 42) {
  return {
    action: 'created',
    deployment_status: {
      url: `https://api.github.com/repos/acme/chat-api/deployments/${deploymentId}/statuses/1`,
      id: 1,
      node_id: 'DES_kwDOA',
      state,
      creator: { login: 'octocat', id: 1, type: 'User' },
      description: 'Deployed by Actions',
      environment: 'production',
      target_url: 'https://github.com/acme/chat-api/actions/runs/1',
      created_at: at,
      updated_at: at,
      deployment_url: `https://api.github.com/repos/acme/chat-api/deployments/${deploymentId}`,
      repository_url: 'https://api.github.com/repos/acme/chat-api',
      environment_url: 'https://chat.acme.example',
      log_url: 'https://github.com/acme/chat-api/actions/runs/1/job/2',
    },
    deployment: {
      url: `https://api.github.com/repos/acme/chat-api/deployments/${deploymentId}`,
      id: deploymentId,
      node_id: 'DE_kwDOA',
      sha,
      ref: 'main',
      task: 'deploy',
      payload: {},
      original_environment: 'production',
      environment: 'production',
      description: null,
      creator: { login: 'octocat', id: 1, type: 'User' },
      created_at: at,
      updated_at: at,
      statuses_url: `https://api.github.com/repos/acme/chat-api/deployments/${deploymentId}/statuses`,
      repository_url: 'https://api.github.com/repos/acme/chat-api',
      transient_environment: false,
      production_environment: true,
    },
    repository: { id: 1296269, name: 'chat-api', full_name: 'acme/chat-api', private: true, html_url: 'https://github.com/acme/chat-api', owner: { login: 'acme' } },
    organization: { login: 'acme' },
    sender: { login: 'octocat', id: 1, type: 'User' },
  };
}

describeEachDatabase('change events from senders', (kind) => {
  let server: TestServer;
  let key: string;
  let integrationId: string;
  beforeAll(async () => {
    server = await startTestServer(kind);
    await createService(server, 'chat-api');
    await createService(server, 'search');
    ({ routing_key: key, id: integrationId } = await createIntegration(server, 'chat-api'));
  });
  afterAll(async () => server.close());

  const changesOf = async (query = '') => (await server.api('GET', `/api/v1/changes?limit=500${query}`)).body.items as Record<string, unknown>[];

  it('PagerDuty Change Events: 202 as PagerDuty answers, custom details read, PagerDuty timestamps accepted', async () => {
    const before = (await changesOf()).length;
    const response = await post(server, '/v2/change/enqueue', {
      routing_key: key,
      payload: {
        summary: 'Build Success: Increase snapshot create timeout to 30 seconds',
        timestamp: '2026-12-06T08:42:58.315+0000',
        source: 'acme-build-pipeline-tool-default-i-9999',
        custom_details: { build_state: 'passed', build_number: '2', run_time: '1236s', version_from: '1.4.1', revision: '1.4.2' },
      },
      links: [{ href: 'https://acme.pagerduty.dev/build/2', text: 'View more details in Acme!' }],
    });
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ status: 'success', message: 'Change event processed' });
    const stored = await changesOf('&service=chat-api');
    expect(stored).toHaveLength(before + 1);
    expect(stored[0]).toMatchObject({
      service: 'chat-api',
      kind: 'deploy',
      source: 'pagerduty',
      integration_id: integrationId,
      summary: 'Build Success: Increase snapshot create timeout to 30 seconds',
      version_from: '1.4.1',
      version_to: '1.4.2',
      at: '2026-12-06T08:42:58.315Z',
      links: [{ href: 'https://acme.pagerduty.dev/build/2', text: 'View more details in Acme!' }],
      target: 'acme-build-pipeline-tool-default-i-9999',
    });

    const withKind = await post(server, '/v2/change/enqueue', { routing_key: key, payload: { summary: 'flag chat.streaming on', custom_details: { kind: 'flag' } } });
    expect(withKind.status).toBe(202);
    expect((await changesOf('&kind=flag'))[0]).toMatchObject({ summary: 'flag chat.streaming on', kind: 'flag' });
  });

  it('PagerDuty Change Events: 400 with errors for bad events and unknown keys; nothing is stored', async () => {
    const before = (await changesOf()).length;
    const missingSummary = await post(server, '/v2/change/enqueue', { routing_key: key, payload: { source: 'ci' } });
    expect(missingSummary.status).toBe(400);
    expect(missingSummary.body).toEqual({ status: 'invalid event', message: 'Event object is invalid', errors: ['payload.summary: is required'] });
    const badKey = await post(server, '/v2/change/enqueue', { routing_key: 'f'.repeat(32), payload: { summary: 'x' } });
    expect(badKey.status).toBe(400);
    expect(badKey.body.errors).toEqual(['Invalid routing key']);
    const tooLong = await post(server, '/v2/change/enqueue', { routing_key: key, payload: { summary: 'x'.repeat(1025) } });
    expect(tooLong.status).toBe(400);
    const notJson = await post(server, '/v2/change/enqueue', '{"routing_key":', {});
    expect(notJson.status).toBe(400);
    expect(notJson.body.status).toBe('invalid event');
    expect(await changesOf()).toHaveLength(before);
  });

  it('shares the integration’s rate limit: PagerDuty senders get 429 with Retry-After', async () => {
    // One token per 1,000 s: the bucket cannot refill during the test however slow the machine is.
    const limited = await createIntegration(server, 'search', { per_second: 0.001, burst: 2 });
    const event = { routing_key: limited.routing_key, payload: { summary: 'deploy' } };
    expect((await post(server, '/v2/change/enqueue', event)).status).toBe(202);
    expect((await post(server, '/api/v1/changes', { service: 'search', kind: 'deploy', summary: 'x' }, { authorization: `Bearer ${limited.routing_key}` })).status).toBe(201);
    const throttled = await post(server, '/v2/change/enqueue', event);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBeTruthy();
    expect(throttled.body.status).toBe('throttle event');
    expect((await post(server, '/api/v1/changes', { service: 'search', kind: 'deploy', summary: 'x' }, { authorization: `Bearer ${limited.routing_key}` })).status).toBe(429);
  });

  it('the generic endpoint takes a routing key or a responder token; bad input is 400 problem+json naming the field and stores nothing', async () => {
    const body = { service: 'chat-api', kind: 'prompt', summary: 'system prompt v7', version_from: 'v6', version_to: 'v7', author: 'dana', links: [{ href: 'https://git.example/p/7' }], at: new Date(Date.now() - 60_000).toISOString() };
    const created = await post(server, '/api/v1/changes', body, { authorization: `Bearer ${key}` });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ service: 'chat-api', kind: 'prompt', version_from: 'v6', version_to: 'v7', author: 'dana', source: 'api', integration_id: integrationId });
    expect(created.headers.get('location')).toBe(`/api/v1/changes/${created.body.id}`);
    // A sender's retry of the same change (same body, same timestamp) is the same change.
    const retried = await post(server, `/api/v1/changes?key=${key}`, body);
    expect(retried.status).toBe(200);
    expect(retried.body.id).toBe(created.body.id);

    const responder = await server.tokenFor('responder');
    const byHand = await server.api('POST', '/api/v1/changes', { service: 'search', kind: 'config', summary: 'raised timeout' }, { token: responder });
    expect(byHand.status).toBe(201);
    expect(byHand.body.author).toMatch(/^responder-/);
    const viewer = await server.tokenFor('viewer');
    expect((await server.api('POST', '/api/v1/changes', { service: 'search', kind: 'config', summary: 'x' }, { token: viewer })).status).toBe(403);
    expect((await post(server, '/api/v1/changes', { service: 'search', kind: 'config', summary: 'x' })).status).toBe(401);

    const before = (await changesOf()).length;
    const bad = async (payload: unknown, field: string) => {
      const response = await post(server, '/api/v1/changes', payload, { authorization: `Bearer ${key}` });
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.body.field).toBe(field);
    };
    await bad({ service: 'chat-api', kind: 'rollout', summary: 'x' }, 'kind');
    await bad({ service: 'chat-api', kind: 'deploy' }, 'summary');
    await bad({ service: 'chat-api', kind: 'deploy', summary: 'x', colour: 'red' }, 'colour');
    await bad({ service: 'nope', kind: 'deploy', summary: 'x' }, 'service');
    await bad({ service: 'chat-api', kind: 'deploy', summary: 'x', at: 'yesterday' }, 'at');
    await bad({ service: 'chat-api', kind: 'deploy', summary: 'x', at: new Date(Date.now() + 3_600_000).toISOString() }, 'at');
    await bad({ service: 'chat-api', kind: 'deploy', summary: 'x', links: [{ href: 'javascript:alert(1)' }] }, 'links[0].href');
    expect(await changesOf()).toHaveLength(before);
  });

  it('GitHub deployment_status: a good signature records the deploy with the version it replaced; a bad or missing one is refused', async () => {
    const unsigned = await post(server, `/api/v1/integrations/github?key=${key}`, deploymentStatus('a'.repeat(40), 'success', new Date().toISOString()), { 'x-github-event': 'deployment_status' });
    expect(unsigned.status).toBe(401);
    expect(unsigned.body.detail).toContain('no webhook secret');

    const secret = await server.api('PUT', `/api/v1/integrations/${integrationId}/webhook-secret`, {});
    expect(secret.status).toBe(200);
    const webhookSecret = secret.body.secret as string;
    expect(webhookSecret.length).toBeGreaterThanOrEqual(24);
    const responder = await server.tokenFor('responder');
    expect((await server.api('PUT', `/api/v1/integrations/${integrationId}/webhook-secret`, {}, { token: responder })).status).toBe(403);

    const deliver = async (payload: unknown, signWith: string | null, event = 'deployment_status', delivery = crypto.randomUUID()) => {
      const raw = JSON.stringify(payload);
      return post(server, `/api/v1/integrations/github?key=${key}`, raw, {
        'x-github-event': event,
        'x-github-delivery': delivery,
        ...(signWith ? { 'x-hub-signature-256': signGitHubBody(raw, signWith) } : {}),
      });
    };
    const ping = await deliver({ zen: 'Keep it logically awesome.', hook_id: 1 }, webhookSecret, 'ping');
    expect(ping.status).toBe(200);

    const before = (await changesOf('&service=chat-api&kind=deploy')).length;
    const t1 = new Date(Date.now() - 3_600_000).toISOString();
    const t2 = new Date(Date.now() - 600_000).toISOString();
    const first = await deliver(deploymentStatus('1'.repeat(40), 'success', t1, 41), webhookSecret);
    expect(first.status).toBe(202);
    expect(first.body.status).toBe('recorded');
    const second = await deliver(deploymentStatus('2'.repeat(40), 'success', t2, 42), webhookSecret);
    expect(second.body.change).toMatchObject({
      service: 'chat-api',
      kind: 'deploy',
      source: 'github',
      version_from: '1'.repeat(40),
      version_to: '2'.repeat(40),
      author: 'octocat',
      target: 'acme/chat-api@production',
      at: t2,
    });
    expect(second.body.change.summary).toContain('acme/chat-api main (222222222222) deployed to production');
    // GitHub redelivers on a timeout: the same deployment status is one change.
    const redelivered = await deliver(deploymentStatus('2'.repeat(40), 'success', t2, 42), webhookSecret);
    expect(redelivered.body.status).toBe('duplicate');
    expect(redelivered.body.change.id).toBe(second.body.change.id);

    const pending = await deliver(deploymentStatus('3'.repeat(40), 'in_progress', t2, 43), webhookSecret);
    expect(pending.status).toBe(202);
    expect(pending.body.status).toBe('ignored');

    const forged = await deliver(deploymentStatus('4'.repeat(40), 'success', t2, 44), 'not-the-secret-at-all');
    expect(forged.status).toBe(401);
    expect(forged.body.field).toBe('X-Hub-Signature-256');
    const missing = await deliver(deploymentStatus('4'.repeat(40), 'success', t2, 44), null);
    expect(missing.status).toBe(401);
    // A body changed after signing fails too.
    const raw = JSON.stringify(deploymentStatus('5'.repeat(40), 'success', t2, 45));
    const tampered = await post(server, `/api/v1/integrations/github?key=${key}`, raw.replace('5555', '6666'), {
      'x-github-event': 'deployment_status',
      'x-hub-signature-256': signGitHubBody(raw, webhookSecret),
    });
    expect(tampered.status).toBe(401);
    expect((await deliver(deploymentStatus('7'.repeat(40), 'success', t2, 47), webhookSecret, 'deployment_status')).status).toBe(202);
    const malformed = await deliver({ deployment_status: { state: 'success' } }, webhookSecret);
    expect(malformed.status).toBe(400);
    expect(malformed.body.field).toBe('deployment');
    expect(await changesOf('&service=chat-api&kind=deploy')).toHaveLength(before + 3);
  });

  it('Argo CD notifications: the documented template’s payload is a deploy; other phases are ignored; bad payloads are 400', async () => {
    const finished = new Date(Date.now() - 120_000).toISOString();
    const payload = {
      app: 'search-prod',
      project: 'default',
      revision: '9f8e7d6c5b4a39281706f5e4d3c2b1a098765432',
      phase: 'Succeeded',
      sync_status: 'Synced',
      health_status: 'Healthy',
      finished_at: finished,
      initiated_by: 'admin',
      repo_url: 'https://github.com/acme/deploy.git',
      url: 'https://argocd.acme.example/applications/search-prod',
      service: 'search',
    };
    const response = await server.api('POST', '/api/v1/integrations/argocd', payload, { token: key });
    expect(response.status).toBe(202);
    expect(response.body.change).toMatchObject({
      service: 'search',
      kind: 'deploy',
      source: 'argocd',
      version_to: payload.revision,
      version_from: null,
      author: 'admin',
      target: 'argocd:search-prod',
      at: finished,
      links: [{ href: payload.url, text: 'Argo CD application' }],
    });
    const next = await server.api('POST', '/api/v1/integrations/argocd', { ...payload, revision: 'abc123', finished_at: new Date(Date.now() - 60_000).toISOString() }, { token: key });
    expect(next.body.change.version_from).toBe(payload.revision);
    // An automated sync has no username: the documented template prints Go's "<no value>" for it.
    const automated = await server.api('POST', '/api/v1/integrations/argocd', { ...payload, revision: 'def456', initiated_by: '<no value>', project: '<no value>', finished_at: new Date(Date.now() - 30_000).toISOString() }, { token: key });
    expect(automated.status).toBe(202);
    expect(automated.body.change).toMatchObject({ author: null, version_from: 'abc123' });
    expect(automated.body.change.details).not.toHaveProperty('project');
    const running = await server.api('POST', '/api/v1/integrations/argocd', { ...payload, phase: 'Running' }, { token: key });
    expect(running.body.status).toBe('ignored');
    const before = (await changesOf()).length;
    const empty = await server.api('POST', '/api/v1/integrations/argocd', { ...payload, revision: '' }, { token: key });
    expect(empty.status).toBe(400);
    expect(empty.body.field).toBe('revision');
    expect((await server.api('POST', '/api/v1/integrations/argocd', { ...payload, service: 'nope' }, { token: key })).body.field).toBe('service');
    expect((await server.api('POST', '/api/v1/integrations/argocd', payload, { token: null })).status).toBe(401);
    expect(await changesOf()).toHaveLength(before);
  });

  it('lists changes filtered by service, kind and time, a page at a time', async () => {
    const all = await changesOf();
    const page1 = await server.api('GET', '/api/v1/changes?limit=2');
    expect(page1.body.items).toHaveLength(2);
    const page2 = await server.api('GET', `/api/v1/changes?limit=2&cursor=${page1.body.next_cursor}`);
    expect([...page1.body.items, ...page2.body.items].map((c: { id: string }) => c.id)).toEqual(all.slice(0, 4).map((c) => c.id));
    const search = await changesOf('&service=search');
    expect(search.every((c) => c.service === 'search')).toBe(true);
    const deploysAndFlags = await changesOf('&kind=deploy&kind=flag');
    expect(new Set(deploysAndFlags.map((c) => c.kind))).toEqual(new Set(['deploy', 'flag']));
    const from = new Date(Date.now() - 30 * 60_000).toISOString();
    const recent = await changesOf(`&from=${from}`);
    expect(recent.length).toBeGreaterThan(0);
    expect(recent.every((c) => String(c.at) >= from)).toBe(true);
    const badCursor = await server.api('GET', '/api/v1/changes?cursor=zzz');
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.field).toBe('cursor');
    expect((await server.api('GET', '/api/v1/changes?kind=rollout')).body.field).toBe('kind[0]');
    const openapi = await server.api('GET', '/openapi.json');
    expect(Object.keys(openapi.body.paths)).toEqual(
      expect.arrayContaining(['/v2/change/enqueue', '/api/v1/changes', '/api/v1/integrations/github', '/api/v1/integrations/argocd', '/api/v1/incidents/{id}/changes']),
    );
  });
});
