import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { startHttpReceiver, type HttpReceiver } from '../oncall/receivers.ts';
import { EgressPolicy } from '../../src/egress/index.ts';

describe('egress policy rules', () => {
  it('always refuses metadata, link-local, "this network", multicast and broadcast, in every spelling', () => {
    const policy = new EgressPolicy();
    for (const host of ['169.254.169.254', '[fd00:ec2::254]', '[fe80::1]', '0.0.0.0', '0.1.2.3', '224.0.0.1', '[ff02::1]', '255.255.255.255', '[::ffff:169.254.169.254]', '[64:ff9b::a9fe:a9fe]', '[::]']) {
      expect(policy.urlRefusal(`http://${host}/latest/meta-data`), host).not.toBeNull();
    }
    for (const host of ['127.0.0.1', '[::1]', '10.1.2.3', 'prometheus.internal', 'hooks.slack.com']) expect(policy.urlRefusal(`https://${host}/x`), host).toBeNull();
  });

  it('narrows with allow and deny lists of CIDRs and host patterns', () => {
    const policy = new EgressPolicy({ allow: ['10.0.0.0/8', '*.example.com'], deny: ['10.9.0.0/16', 'bad.example.com'] });
    expect(policy.refusal('hooks.example.com', undefined, 443)).toBeNull();
    expect(policy.refusal('bad.example.com', undefined, 443)).toMatch(/FIREBREAK_EGRESS_DENY/);
    expect(policy.refusal('10.1.1.1', undefined, 80)).toBeNull();
    expect(policy.refusal('10.9.1.1', undefined, 80)).toMatch(/FIREBREAK_EGRESS_DENY/);
    expect(policy.refusal('127.0.0.1', undefined, 80)).toMatch(/FIREBREAK_EGRESS_ALLOW/);
    // A name outside the host patterns may still resolve into an allowed range: the connection decides.
    expect(policy.refusal('prometheus.internal', undefined, 80)).toBeNull();
    expect(policy.refusal('prometheus.internal', '192.168.1.1', 80)).toMatch(/FIREBREAK_EGRESS_ALLOW/);
    expect(policy.refusal('prometheus.internal', '10.2.2.2', 80)).toBeNull();
    expect(() => new EgressPolicy({ deny: ['not a rule!'] })).toThrow(/FIREBREAK_EGRESS_DENY/);
  });
});

describeEachDatabase('egress policy on a real server', (kind) => {
  let server: TestServer;
  let receiver: HttpReceiver;
  let incidentId: string;
  beforeAll(async () => {
    receiver = await startHttpReceiver();
    server = await startTestServer(kind, { config: { egressDeny: ['10.66.0.0/16'] } });
    incidentId = (await server.api('POST', '/api/v1/incidents', { title: 'egress', severity: 'low' })).body.id;
  });
  afterAll(async () => {
    await server.close();
    await receiver.close();
  });

  const metadata = 'http://169.254.169.254/latest/meta-data/iam/security-credentials/';

  it('refuses metadata URLs when they are saved or validated, naming the field', async () => {
    const recovery = await server.api('POST', `/api/v1/incidents/${incidentId}/recovery`, { criteria: [{ id: 'meta', check: { kind: 'http', url: metadata } }] });
    expect(recovery.status).toBe(422);
    expect(recovery.body).toMatchObject({ code: 'egress_denied', field: 'criteria[0].check.url' });

    const plan = {
      id: 'grab-metadata',
      name: 'grab metadata',
      steps: [{ id: 'grab', type: 'http', with: { method: 'GET', url: metadata } }],
    };
    const saved = await server.api('POST', '/api/v1/plans', plan);
    expect(saved.status).toBe(422);
    expect(saved.body).toMatchObject({ code: 'egress_denied', field: 'steps[0].with.url' });
    const validated = await server.api('POST', '/api/v1/plans/validate', plan);
    expect(validated.body.problems).toContainEqual(expect.objectContaining({ field: 'steps[0].with.url', code: 'egress_denied' }));

    for (const [body, field] of [
      [{ id: 'meta-hook', kind: 'webhook', url: 'http://[fd00:ec2::254]/hook' }, 'url'],
      [{ id: 'meta-slack', kind: 'slack', url: metadata }, 'url'],
      [{ id: 'deny-hook', kind: 'webhook', url: 'http://10.66.1.1/hook' }, 'url'],
      [{ id: 'mail', kind: 'email', from: 'firebreak@example.com', smtp: { host: '0.0.0.0', port: 25 } }, 'smtp.host'],
      [{ id: 'self', kind: 'webhook', url: `${server.url}/api/v1/incidents` }, 'url'],
    ] as const) {
      const response = await server.api('POST', '/api/v1/notification-channels', body);
      expect(response.status, JSON.stringify(body)).toBe(422);
      expect(response.body).toMatchObject({ code: 'egress_denied', field });
    }
    const measured = await server.api('POST', `/api/v1/incidents/${incidentId}/recovery/data-loss`, {
      measure_with_prometheus: { query: 'up', unit: 'seconds', url: 'http://[fe80::1]:9090' },
    });
    expect(measured.body).toMatchObject({ code: 'egress_denied', field: 'measure_with_prometheus.url' });
  });

  it('judges the address a name resolves to, and connects only to the judged address', async () => {
    // Loopback denied by address: `localhost` passes as written (a name), and is refused once resolved.
    const strict = await startTestServer(kind, { config: { egressDeny: ['127.0.0.0/8', '::1/128'] } });
    try {
      const port = new URL(receiver.url).port;
      const saved = await strict.api('POST', '/api/v1/notification-channels', { id: 'via-name', kind: 'webhook', url: `http://localhost:${port}/by-name` });
      expect(saved.status).toBe(201);
      const tested = await strict.api('POST', '/api/v1/notification-channels/via-name/test');
      expect(tested.body.ok).toBe(false);
      expect(tested.body.detail).toMatch(/egress policy.*FIREBREAK_EGRESS_DENY/);
      const checked = await strict.firebreak.ctx.services.checks.evaluate({ kind: 'http', url: `http://localhost:${port}/by-name` });
      expect(checked).toMatchObject({ passed: false, detail: expect.stringMatching(/egress policy/) });
      expect(receiver.on('/by-name')).toHaveLength(0);
      const literal = await strict.api('POST', '/api/v1/notification-channels', { id: 'via-ip', kind: 'webhook', url: `http://127.0.0.1:${port}/by-ip` });
      expect(literal.body).toMatchObject({ code: 'egress_denied', field: 'url' });
    } finally {
      await strict.close();
    }
  });

  it('shows check results to non-admins with status and timing but not the body, and redacts URL credentials for everyone', async () => {
    const url = `http://probe:hunter2@127.0.0.1:${new URL(receiver.url).port}/health?token=s3cret&region=eu`;
    const created = await server.api('POST', `/api/v1/incidents/${incidentId}/recovery`, {
      steps: [{ id: 'restore', title: 'restore', estimate_minutes: 5 }],
      criteria: [{ id: 'health', check: { kind: 'http', url, body_contains: 'ok' } }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const verified = await server.api('POST', `/api/v1/incidents/${incidentId}/recovery/verify`, {});
    expect(verified.status).toBe(200);
    const sent = receiver.on('/health?token=s3cret&region=eu');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.headers.authorization).toBe(`Basic ${Buffer.from('probe:hunter2').toString('base64')}`);

    const viewer = await server.tokenFor('viewer');
    const asViewer = await server.api('GET', `/api/v1/incidents/${incidentId}/recovery/verifications`, undefined, { token: viewer });
    const asAdmin = await server.api('GET', `/api/v1/incidents/${incidentId}/recovery/verifications`);
    const viewed = JSON.stringify(asViewer.body);
    expect(viewed).toContain('"status":200');
    expect(viewed).toContain('latency_ms');
    expect(viewed).not.toContain('body_excerpt');
    expect(JSON.stringify(asAdmin.body)).toContain('body_excerpt');
    for (const body of [asViewer.body, asAdmin.body, (await server.api('GET', `/api/v1/incidents/${incidentId}/recovery`, undefined, { token: viewer })).body]) {
      const text = JSON.stringify(body);
      expect(text).not.toContain('hunter2');
      expect(text).not.toContain('s3cret');
      expect(text).toContain('region=eu');
    }
  });

  it('seals generic webhook URLs like Slack’s: never shown after they are saved, still used to deliver', async () => {
    const secretUrl = `${receiver.url}/hooks/abc?api_key=k3y-in-query`;
    const created = await server.api('POST', '/api/v1/notification-channels', { id: 'sealed-hook', kind: 'webhook', url: secretUrl });
    expect(created.status).toBe(201);
    expect(created.body.secrets_stored).toContain('url');
    const viewer = await server.tokenFor('viewer');
    for (const token of [undefined, viewer]) {
      const text = JSON.stringify((await server.api('GET', '/api/v1/notification-channels/sealed-hook', undefined, token ? { token } : {})).body);
      expect(text).not.toContain('k3y-in-query');
      expect(text).not.toContain('/hooks/abc');
      expect(text).toContain(new URL(receiver.url).host);
    }
    const tested = await server.api('POST', '/api/v1/notification-channels/sealed-hook/test');
    expect(tested.body.ok).toBe(true);
    expect(receiver.on('/hooks/abc?api_key=k3y-in-query')).toHaveLength(1);
  });
});
