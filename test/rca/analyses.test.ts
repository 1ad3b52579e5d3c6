import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chosenBranch, rootCauseOf, validateFiveWhys, type FiveWhysBody } from '../../src/rca/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

describe('5 whys domain', () => {
  const body: FiveWhysBody = {
    problem: 'chat-api answered 429 to 30% of requests',
    whys: [
      { id: 'w1', parent_id: null, question: 'Why 429s?', answer: 'provider quota exhausted' },
      { id: 'w2', parent_id: 'w1', question: 'Why exhausted?', answer: 'retries tripled the request rate' },
      { id: 'w3', parent_id: 'w1', question: 'Why exhausted (2)?', answer: 'a marketing campaign doubled traffic' },
      { id: 'w4', parent_id: 'w2', question: 'Why did retries triple it?', answer: 'the client retried without backoff' },
    ],
    chosen_why_id: 'w4',
  };

  it('takes the root cause from the last answer of the chosen branch', () => {
    expect(chosenBranch(body).map((w) => w.id)).toEqual(['w1', 'w2', 'w4']);
    expect(rootCauseOf(body)).toBe('the client retried without backoff');
    expect(rootCauseOf({ ...body, chosen_why_id: 'w3' })).toBe('a marketing campaign doubled traffic');
  });

  it('rejects loops, unknown parents, duplicate ids and a chosen why that is answered further', () => {
    const loop = { ...body, whys: [{ id: 'a', parent_id: 'b', question: 'q', answer: null }, { id: 'b', parent_id: 'a', question: 'q', answer: null }], chosen_why_id: null };
    expect(() => validateFiveWhys(loop)).toThrow(/loops back/);
    expect(() => validateFiveWhys({ ...body, whys: [{ id: 'a', parent_id: 'zz', question: 'q', answer: null }], chosen_why_id: null })).toThrow(/whys\[0\]\.parent_id/);
    expect(() => validateFiveWhys({ ...body, whys: [...body.whys, body.whys[0]!] })).toThrow(/used twice/);
    expect(() => validateFiveWhys({ ...body, chosen_why_id: 'w2' })).toThrow(/answered further/);
  });
});

describeEachDatabase('root-cause analyses over HTTP', (kind) => {
  let server: TestServer;
  let incidentId: string;
  let entryId: number;
  beforeAll(async () => {
    server = await startTestServer(kind);
    await server.api('POST', '/api/v1/services', { id: 'chat-api' });
    const incident = await server.api('POST', '/api/v1/incidents', { title: '429 storm on chat-api', severity: 'high', services: ['chat-api'] });
    incidentId = incident.body.id;
    entryId = (await server.api('POST', `/api/v1/incidents/${incidentId}/notes`, { text: 'quota dashboard shows 100% use since 09:12' })).body.id;
  });
  afterAll(async () => server.close());

  it('runs a branching 5 whys with evidence, reviews it and flows the accepted root cause to the incident', async () => {
    const templates = await server.api('GET', '/api/v1/rca/templates');
    expect(templates.body.map((t: { id: string }) => t.id)).toEqual(['gpu_memory_exhaustion', 'provider_outage', 'rate_limiting', 'bad_rollout', 'traffic_surge']);

    const created = await server.api('POST', `/api/v1/incidents/${incidentId}/analyses`, { kind: 'five_whys', template: 'rate_limiting' });
    expect(created.status).toBe(201);
    expect(created.body.body.whys).toHaveLength(5);
    // Templates suggest questions only.
    expect(created.body.body.whys.every((w: { answer: unknown }) => w.answer === null)).toBe(true);

    const body = {
      problem: '429 storm on chat-api',
      whys: [
        { id: 'w1', parent_id: null, question: 'Why did the provider answer 429?', answer: 'our token quota was exhausted', evidence: [{ kind: 'timeline_entry', entry_id: entryId }] },
        { id: 'w2', parent_id: 'w1', question: 'Why was it exhausted?', answer: 'retries without backoff tripled traffic', evidence: [{ kind: 'link', url: 'https://grafana.example/d/quota' }] },
        { id: 'w3', parent_id: 'w1', question: 'Why was it exhausted (other branch)?', answer: 'a campaign doubled traffic', evidence: [{ kind: 'llm_stats_window', service: 'chat-api', from: '2026-03-01T09:00:00Z', to: '2026-03-01T10:00:00Z' }] },
      ],
      chosen_why_id: 'w2',
      contributing_factors: [{ id: 'f1', text: 'no quota alert' }],
      recommendations: [{ id: 'r1', text: 'add exponential backoff with jitter to the SDK' }],
    };
    const saved = await server.api('PUT', `/api/v1/analyses/${created.body.id}`, { version: 1, body });
    expect(saved.status).toBe(200);
    expect(saved.body.root_cause).toBe('retries without backoff tripled traffic');

    const stale = await server.api('PUT', `/api/v1/analyses/${created.body.id}`, { version: 1, body });
    expect(stale.status).toBe(409);

    expect((await server.api('POST', `/api/v1/analyses/${created.body.id}/review`, {})).body.status).toBe('reviewed');
    const accepted = await server.api('POST', `/api/v1/analyses/${created.body.id}/accept`);
    expect(accepted.body.accepted).toBe(true);
    const incident = await server.api('GET', `/api/v1/incidents/${incidentId}`);
    expect(incident.body.root_cause).toBe('retries without backoff tripled traffic');
    const timeline = await server.api('GET', `/api/v1/incidents/${incidentId}/timeline?kind=root_cause_accepted`);
    expect(timeline.body).toHaveLength(1);

    const history = await server.api('GET', `/api/v1/analyses/${created.body.id}/history`);
    expect(history.body.map((h: { change: string }) => h.change)).toEqual(['created', 'edited', 'reviewed', 'accepted root cause: retries without backoff tripled traffic']);
    expect(history.body.every((h: { actor: string }) => h.actor === 'bootstrap-admin')).toBe(true);
  });

  it('rejects evidence that points at nothing real, naming the field', async () => {
    const other = await server.api('POST', '/api/v1/incidents', { title: 'other', severity: 'low' });
    const otherEntry = (await server.api('GET', `/api/v1/incidents/${other.body.id}/timeline`)).body[0].id;
    const analysis = await server.api('POST', `/api/v1/incidents/${incidentId}/analyses`, { kind: 'five_whys' });
    const put = (evidence: unknown) =>
      server.api('PUT', `/api/v1/analyses/${analysis.body.id}`, {
        version: 1,
        body: { problem: 'p', whys: [{ id: 'w1', parent_id: null, question: 'q', answer: 'a', evidence: [evidence] }] },
      });
    const foreign = await put({ kind: 'timeline_entry', entry_id: otherEntry });
    expect(foreign.status).toBe(422);
    expect(foreign.body.field).toBe('body.whys[0].evidence[0]');
    expect((await put({ kind: 'llm_stats_window', service: 'nope', from: '2026-03-01T09:00:00Z', to: '2026-03-01T10:00:00Z' })).body.detail).toContain('service nope does not exist');
    expect((await put({ kind: 'link', url: 'javascript:alert(1)' })).status).toBe(400);
    expect((await put({ kind: 'gossip', text: 'x' })).status).toBe(400);
    expect((await server.api('GET', `/api/v1/analyses/${analysis.body.id}`)).body.version).toBe(1);
  });

  it('builds a fishbone with renamed categories, votes and a server-rendered SVG', async () => {
    const created = await server.api('POST', `/api/v1/incidents/${incidentId}/analyses`, { kind: 'fishbone' });
    const body = created.body.body;
    expect(body.categories.map((c: { key: string }) => c.key)).toEqual(['people', 'process', 'technology', 'environment', 'measurement', 'materials']);
    body.categories[2].name = 'Models & infra';
    body.categories[2].causes.push({ id: 'c1', text: 'SDK retries without backoff', sub_causes: [{ id: 'c1a', text: 'default retry policy' }] });
    body.categories[4].causes.push({ id: 'c2', text: 'no quota <alert> & dashboard' });
    body.chosen_cause_id = 'c1a';
    const saved = await server.api('PUT', `/api/v1/analyses/${created.body.id}`, { version: 1, body });
    expect(saved.body.root_cause).toBe('Models & infra: SDK retries without backoff — default retry policy');
    await server.api('POST', `/api/v1/analyses/${created.body.id}/causes/c1/vote`);
    const voted = await server.api('POST', `/api/v1/analyses/${created.body.id}/causes/c2/vote`);
    expect(voted.body.body.categories[2].causes[0].votes).toEqual(['bootstrap-admin']);
    const unvoted = await server.api('POST', `/api/v1/analyses/${created.body.id}/causes/c1/vote`);
    expect(unvoted.body.body.categories[2].causes[0].votes).toEqual([]);
    expect((await server.api('POST', `/api/v1/analyses/${created.body.id}/causes/nope/vote`)).status).toBe(404);

    const svg = await server.api<string>('GET', `/api/v1/analyses/${created.body.id}/diagram.svg`);
    expect(svg.headers.get('content-type')).toContain('image/svg+xml');
    expect(svg.body).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg.body).toContain('Models &amp; infra');
    expect(svg.body).toContain('no quota &lt;alert&gt; &amp; dashboard (1▲)');
    expect(svg.body).toContain('class="sub-cause chosen" data-cause="c1a"');

    const missing = { ...body, categories: body.categories.slice(0, 5) };
    expect((await server.api('PUT', `/api/v1/analyses/${created.body.id}`, { version: 4, body: missing })).body.field).toBe('body.categories');
  });

  it('refuses to accept an analysis that has no root cause yet', async () => {
    const created = await server.api('POST', `/api/v1/incidents/${incidentId}/analyses`, { kind: 'fishbone' });
    const accepted = await server.api('POST', `/api/v1/analyses/${created.body.id}/accept`);
    expect(accepted.status).toBe(409);
    expect(accepted.body.detail).toContain('choose a cause');
    expect((await server.api('POST', `/api/v1/incidents/${incidentId}/analyses`, { kind: 'five_whys', template: 'astrology' })).body.field).toBe('template');
  });
});

describeEachDatabase('recommendations become action items', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
  });
  afterAll(async () => server.close());

  it('turns a 5-whys recommendation into a tracked action item once', async () => {
    await server.api('POST', '/api/v1/teams', { id: 'llm', name: 'LLM', members: [{ user: 'ana' }] });
    const incident = await server.api('POST', '/api/v1/incidents', { title: 'ttft regression', severity: 'high' });
    const analysis = await server.api('POST', `/api/v1/incidents/${incident.body.id}/analyses`, { kind: 'five_whys' });
    await server.api('PUT', `/api/v1/analyses/${analysis.body.id}`, {
      version: 1,
      body: { problem: 'ttft', whys: [{ id: 'w1', parent_id: null, question: 'why?', answer: 'new build' }], recommendations: [{ id: 'r1', text: 'canary model builds' }] },
    });
    const path = `/api/v1/analyses/${analysis.body.id}/recommendations/r1/action-item`;
    const unknownOwner = await server.api('POST', path, { owner: 'nobody', priority: 'p2', due_date: '2026-12-01' });
    expect(unknownOwner.status).toBe(422);
    const created = await server.api('POST', path, { owner: 'ana', priority: 'p2', due_date: '2026-12-01' });
    expect(created.status).toBe(201);
    expect(created.body.analysis.body.recommendations[0].action_item_id).toBe(created.body.action_item_id);
    const items = await server.api('GET', `/api/v1/action-items?incident=${incident.body.id}`);
    expect(JSON.stringify(items.body)).toContain('canary model builds');
    expect((await server.api('POST', path, { owner: 'ana', priority: 'p2', due_date: '2026-12-01' })).status).toBe(409);
  });

  it('puts the analyses, with the chosen chain and root cause, into the postmortem', async () => {
    const incident = await server.api('POST', '/api/v1/incidents', { title: 'cost spike', severity: 'medium' });
    const analysis = await server.api('POST', `/api/v1/incidents/${incident.body.id}/analyses`, { kind: 'five_whys', title: 'Why did cost triple?' });
    await server.api('PUT', `/api/v1/analyses/${analysis.body.id}`, {
      version: 1,
      body: {
        problem: 'cost',
        whys: [
          { id: 'w1', parent_id: null, question: 'Why did cost triple?', answer: 'prompts grew threefold' },
          { id: 'w2', parent_id: 'w1', question: 'Why did prompts grow?', answer: 'the new template inlines the whole history' },
        ],
        chosen_why_id: 'w2',
      },
    });
    expect((await server.api('POST', `/api/v1/incidents/${incident.body.id}/postmortem`, {})).status).toBe(201);
    const markdown = await server.api<string>('GET', `/api/v1/incidents/${incident.body.id}/postmortem/export?format=md`);
    expect(markdown.body).toContain('Why did cost triple? (5 whys, draft, by bootstrap-admin): root cause: the new template inlines the whole history');
    expect(markdown.body).toContain('Why did prompts grow? the new template inlines the whole history');
  });
});
