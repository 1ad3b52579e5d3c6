import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { createService, eventually } from '../ingest/helpers.ts';
import { TestTarget } from '../plans/target.ts';

const MINUTE = 60_000;

describeEachDatabase('suspects: changes ranked against an incident', (kind) => {
  let server: TestServer;
  let target: TestTarget;
  /** Detection time of the incident under study; everything is placed relative to it. */
  const D = Date.now() - 10 * MINUTE;
  const iso = (offsetMinutes: number) => new Date(D + offsetMinutes * MINUTE).toISOString();
  const ids: Record<string, string> = {};
  let incidentId: string;
  let earlierIncidentId: string;

  beforeAll(async () => {
    server = await startTestServer(kind);
    target = await new TestTarget().start();
    await createService(server, 'provider-proxy');
    await createService(server, 'llm-gateway', ['provider-proxy']);
    await createService(server, 'chat-api', ['llm-gateway']);
    await createService(server, 'billing');
    const record = async (name: string, body: Record<string, unknown>) => {
      const created = await server.api('POST', '/api/v1/changes', body);
      if (created.status !== 201) throw new Error(`${name}: ${created.status} ${JSON.stringify(created.body)}`);
      ids[name] = created.body.id;
    };
    await record('model', { service: 'chat-api', kind: 'model', summary: 'gpt-4o alias now serves 2024-11-20', version_from: 'gpt-4o-2024-08-06', version_to: 'gpt-4o-2024-11-20', at: iso(-20) });
    await record('deploy', { service: 'chat-api', kind: 'deploy', summary: 'chat-api r40', version_from: 'r39', version_to: 'r40', at: iso(-5) });
    await record('gatewayConfig', { service: 'llm-gateway', kind: 'config', summary: 'gateway timeout 30s → 20s', at: iso(-2) });
    await record('proxyInfra', { service: 'provider-proxy', kind: 'infra', summary: 'proxy nodes resized', at: iso(-1) });
    await record('unrelated', { service: 'billing', kind: 'deploy', summary: 'billing r7', at: iso(-1) });
    await record('afterDetection', { service: 'chat-api', kind: 'deploy', summary: 'chat-api r42 (the fix?)', version_from: 'r41', version_to: 'r42', at: iso(5) });
    await record('tooOld', { service: 'chat-api', kind: 'prompt', summary: 'prompt v3', at: iso(-30 * 60) });
    await record('flag', { service: 'chat-api', kind: 'flag', summary: 'streaming on', at: iso(-180) });
    const earlier = await server.api('POST', '/api/v1/incidents', { title: 'chat answers truncated', severity: 'medium', services: ['chat-api'], detected_at: iso(-10) });
    earlierIncidentId = earlier.body.id;
    const incident = await server.api('POST', '/api/v1/incidents', { title: 'chat-api quality collapse', severity: 'high', services: ['chat-api'], detected_at: iso(0) });
    incidentId = incident.body.id;
  });
  afterAll(async () => {
    await server.close();
    await target.close();
  });

  it('ranks changes on the incident’s services and dependencies before detection, with the parts of each score', async () => {
    const response = await server.api('GET', `/api/v1/incidents/${incidentId}/changes`);
    expect(response.status).toBe(200);
    const result = response.body;
    expect(result.services).toEqual([
      { service: 'chat-api', distance: 0, via: ['chat-api'] },
      { service: 'llm-gateway', distance: 1, via: ['chat-api', 'llm-gateway'] },
      { service: 'provider-proxy', distance: 2, via: ['chat-api', 'llm-gateway', 'provider-proxy'] },
    ]);
    expect(result.considered).toBe(5);
    const order = result.items.map((s: { change: { id: string } }) => s.change.id);
    expect(order).toEqual([ids.model, ids.deploy, ids.gatewayConfig, ids.proxyInfra, ids.flag]);
    const [first, second, third] = result.items;
    expect(first.rank).toBe(1);
    expect(first.parts).toEqual({ minutes_before_detection: 20, time: expect.closeTo(0.5 ** (20 / 60), 4), distance: 0, via: ['chat-api'], proximity: 1, kind: 1 });
    expect(first.score).toBeCloseTo(0.5 ** (20 / 60), 4);
    expect(first.reason).toContain('model change (gpt-4o-2024-08-06 → gpt-4o-2024-11-20) 20 min before detection on chat-api');
    expect(second.score).toBeCloseTo(0.5 ** (5 / 60) * 0.8, 4);
    expect(third.parts).toMatchObject({ distance: 1, via: ['chat-api', 'llm-gateway'], proximity: 0.6, kind: 0.9 });
    expect(third.reason).toContain('on llm-gateway, which chat-api depends on');
    expect(result.scoring.formula).toContain('time × proximity × kind');
    // The incident that followed the model rollout (and not the deploy, which came after it) is counted.
    expect(first.followed_by).toMatchObject({ count: 1, incidents: [{ id: earlierIncidentId }] });
    expect(second.followed_by.count).toBe(0);

    const narrow = await server.api('GET', `/api/v1/incidents/${incidentId}/changes?window_hours=1&limit=2`);
    expect(narrow.body.items.map((s: { change: { id: string } }) => s.change.id)).toEqual([ids.model, ids.deploy]);
    expect(narrow.body.considered).toBe(4);
    expect((await server.api('GET', '/api/v1/incidents/INC-20000101-0001/changes')).status).toBe(404);
    expect((await server.api('GET', `/api/v1/incidents/${incidentId}/changes?window_hours=-1`)).body.field).toBe('window_hours');
  });

  it('5 whys and postmortems cite a change as evidence; an unknown change is refused', async () => {
    const analysis = await server.api('POST', `/api/v1/incidents/${incidentId}/analyses`, { kind: 'five_whys' });
    const put = (evidence: unknown) =>
      server.api('PUT', `/api/v1/analyses/${analysis.body.id}`, {
        version: 1,
        body: { problem: 'answers got worse', whys: [{ id: 'w1', parent_id: null, question: 'Why did quality drop?', answer: 'the provider swapped the model behind gpt-4o', evidence: [evidence] }] },
      });
    const unknown = await put({ kind: 'change', change_id: 'chg_nope' });
    expect(unknown.status).toBe(422);
    expect(unknown.body.field).toBe('body.whys[0].evidence[0]');
    const cited = await put({ kind: 'change', change_id: ids.model, note: 'response model changed 20 min before' });
    expect(cited.status).toBe(200);

    const fishbone = await server.api('POST', `/api/v1/incidents/${incidentId}/analyses`, { kind: 'fishbone' });
    const body = fishbone.body.body;
    body.categories[2].causes.push({ id: 'c1', text: 'gateway timeout cut', evidence: [{ kind: 'change', change_id: ids.gatewayConfig }] });
    expect((await server.api('PUT', `/api/v1/analyses/${fishbone.body.id}`, { version: 1, body })).status).toBe(200);

    const postmortem = await server.api('POST', `/api/v1/incidents/${incidentId}/postmortem`, {});
    expect(postmortem.status).toBe(201);
    const changes = postmortem.body.document.root_cause.changes;
    expect(changes.available).toBe(true);
    expect(changes.cited.map((c: { id: string }) => c.id).sort()).toEqual([ids.model, ids.gatewayConfig].sort());
    expect(changes.suspects[0]).toMatchObject({ id: ids.model, rank: 1, kind: 'model' });
  });

  it('plans read incident.suspect_change: a dry run shows the change it would act on, a run acts on it', async () => {
    const plan = {
      id: `rollback-suspect-${kind}`,
      name: 'Roll back the suspect change',
      scope: { services: ['chat-api'] },
      steps: [
        {
          id: 'rollback',
          type: 'http',
          on_failure: 'continue',
          with: {
            method: 'POST',
            url: `${target.url}/rollback-${kind}`,
            body: '{"change":"{{incident.suspect_change.id}}","service":"{{incident.suspect_change.service}}","to":"{{incident.suspect_change.version_from}}"}',
          },
        },
      ],
    };
    expect((await server.api('POST', '/api/v1/plans', plan)).status).toBe(201);
    // The dry run's synthetic incident is detected now on chat-api: the latest deploy is its suspect.
    const dry = await server.api('POST', `/api/v1/plans/${plan.id}/test`, {});
    expect(dry.status).toBe(200);
    expect(dry.body.incident.suspect_change).toMatchObject({ id: ids.afterDetection, version_from: 'r41', kind: 'deploy' });
    expect(dry.body.incident.suspect_change.reason).toContain('deploy change');
    expect(dry.body.steps[0].preview.body).toBe(`{"change":"${ids.afterDetection}","service":"chat-api","to":"r41"}`);
    expect(target.byPath(`/rollback-${kind}`)).toHaveLength(0);

    const run = await server.api('POST', `/api/v1/plans/${plan.id}/run`, { incident_id: incidentId });
    expect(run.status).toBe(201);
    const received = await eventually(async () => target.byPath(`/rollback-${kind}`), (r) => r.length > 0);
    expect(JSON.parse(received[0]!.body)).toEqual({ change: ids.model, service: 'chat-api', to: 'gpt-4o-2024-08-06' });
  });
});
