import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../support/server.ts';
import { createIntegration, createService, eventually, post } from './helpers.ts';
import { runCli } from '../../src/cli/main.ts';
import { CLI_COMMANDS } from '../../src/cli/commands.ts';

interface Candidate {
  incident_id: string;
  score: number;
  evidence: string[];
  reason: string;
  links: string[];
}

describeEachDatabase('correlation between incidents', (kind) => {
  let server: TestServer;
  let vectorKey: string;
  let chatKey: string;
  beforeAll(async () => {
    server = await startTestServer(kind);
    await createService(server, 'vector-db');
    await createService(server, 'chat-api', ['vector-db']);
    await createService(server, 'billing');
    vectorKey = (await createIntegration(server, 'vector-db')).routing_key;
    chatKey = (await createIntegration(server, 'chat-api')).routing_key;
  });
  afterAll(async () => server.close());

  const related = async (id: string): Promise<{ candidates: Candidate[]; links: { kind: string; from_incident: string; to_incident: string; id: number }[] }> =>
    (await server.api('GET', `/api/v1/incidents/${id}/related`)).body;
  const alert = (key: string, summary: string, labels: Record<string, string>, minutesAgo: number) =>
    post(server, '/api/v1/alerts', { summary, source: 'prometheus', severity: 'critical', labels, timestamp: new Date(Date.now() - minutesAgo * 60_000).toISOString() }, { authorization: `Bearer ${key}` });

  it('a cascade through a catalogue dependency is found with its evidence and reason; unrelated incidents are not', async () => {
    const root = await alert(vectorKey, 'qdrant cluster unavailable', { alertname: 'QdrantDown', cluster: 'eu-1', namespace: 'rag' }, 12);
    const cascade = await alert(chatKey, 'chat-api 5xx above 10%', { alertname: 'HighErrorRate', cluster: 'eu-1', namespace: 'rag' }, 7);
    expect(root.body.incident_id).not.toBe(cascade.body.incident_id);
    const unrelated = (await server.api('POST', '/api/v1/incidents', { title: 'invoice emails delayed', severity: 'low', services: ['billing'] })).body;

    const fromCascade = await related(cascade.body.incident_id);
    const top = fromCascade.candidates[0]!;
    expect(top.incident_id).toBe(root.body.incident_id);
    expect(top.evidence).toEqual(expect.arrayContaining(['service_dependency', 'time_proximity', 'label_similarity']));
    expect(top.reason).toContain('chat-api depends on vector-db');
    expect(top.reason).toMatch(/detected \d+ min apart/);
    expect(top.reason).toContain('cluster=eu-1');
    expect(top.score).toBeGreaterThan(0.4);
    expect(fromCascade.candidates.map((c) => c.incident_id)).not.toContain(unrelated.id);

    // And from the other side: vector-db's incident sees the dependent one.
    const fromRoot = await related(root.body.incident_id);
    expect(fromRoot.candidates[0]!.incident_id).toBe(cascade.body.incident_id);
    expect(fromRoot.candidates[0]!.reason).toContain('chat-api depends on vector-db');
  });

  it('shared services and shared root causes are evidence; incidents opened through the API are indexed too', async () => {
    const a = (await server.api('POST', '/api/v1/incidents', { title: 'chat latency', severity: 'high', services: ['chat-api'] })).body;
    const b = (await server.api('POST', '/api/v1/incidents', { title: 'chat timeouts', severity: 'high', services: ['chat-api'] })).body;
    const shared = await eventually(() => related(a.id), (r) => r.candidates.some((c) => c.incident_id === b.id));
    expect(shared.candidates.find((c) => c.incident_id === b.id)!.evidence).toContain('shared_service');

    const billingA = (await server.api('POST', '/api/v1/incidents', { title: 'ledger stuck', severity: 'medium', services: ['billing'] })).body;
    await server.api('PATCH', `/api/v1/incidents/${billingA.id}`, { version: 1, root_cause: 'Expired TLS certificate on the internal CA.' });
    await server.api('PATCH', `/api/v1/incidents/${a.id}`, { version: 1, root_cause: 'expired TLS certificate on the internal CA' });
    const byCause = await eventually(() => related(a.id), (r) => r.candidates.some((c) => c.incident_id === billingA.id));
    const candidate = byCause.candidates.find((c) => c.incident_id === billingA.id)!;
    expect(candidate.evidence).toContain('shared_root_cause');
    expect(candidate.reason).toContain('same root cause');
  });

  it('responders link incidents as related, duplicate_of or caused_by, and /related shows the links', async () => {
    const x = (await server.api('POST', '/api/v1/incidents', { title: 'embedding drift', severity: 'medium', services: ['billing'] })).body;
    const y = (await server.api('POST', '/api/v1/incidents', { title: 'answers off-topic', severity: 'medium', services: ['vector-db'] })).body;
    const z = (await server.api('POST', '/api/v1/incidents', { title: 'answers off-topic again', severity: 'medium', services: ['chat-api'] })).body;
    const link = await server.api('POST', `/api/v1/incidents/${y.id}/links`, { to: x.id, kind: 'caused_by', note: 'drift broke retrieval' });
    expect(link.status).toBe(201);
    expect(link.body).toMatchObject({ from_incident: y.id, to_incident: x.id, kind: 'caused_by' });
    expect((await server.api('POST', `/api/v1/incidents/${y.id}/links`, { to: x.id, kind: 'caused_by' })).status).toBe(409);
    expect((await server.api('POST', `/api/v1/incidents/${y.id}/links`, { to: y.id, kind: 'related' })).body.field).toBe('to');
    expect((await server.api('POST', `/api/v1/incidents/${y.id}/links`, { to: 'INC-19990101-0001', kind: 'related' })).status).toBe(422);
    expect((await server.api('POST', `/api/v1/incidents/${y.id}/links`, { to: x.id, kind: 'sibling_of' })).body.field).toBe('kind');
    await server.api('POST', `/api/v1/incidents/${z.id}/links`, { to: x.id, kind: 'caused_by' });
    await server.api('POST', `/api/v1/incidents/${z.id}/links`, { to: y.id, kind: 'duplicate_of' });

    const fromY = await related(y.id);
    expect(fromY.links.map((l) => l.kind).sort()).toEqual(['caused_by', 'duplicate_of']);
    const toX = fromY.candidates.find((c) => c.incident_id === x.id)!;
    expect(toX.links).toEqual(['caused_by']);
    expect(toX.evidence).toContain('linked');
    const toZ = fromY.candidates.find((c) => c.incident_id === z.id)!;
    expect(toZ.evidence).toContain('shared_root_cause');
    expect(toZ.reason).toContain(`both caused by ${x.id}`);

    const timeline = (await server.api('GET', `/api/v1/incidents/${x.id}/timeline?kind=linked`)).body;
    expect(timeline.map((e: { summary: string }) => e.summary)).toContain(`${y.id} marked as caused by this incident`);
    const removed = await server.api('DELETE', `/api/v1/incidents/${y.id}/links/${link.body.id}`);
    expect(removed.status).toBe(200);
    expect((await related(y.id)).links.map((l) => l.kind)).toEqual(['duplicate_of']);
  });

  it('the CLI creates and lists integrations, lists alerts and shows related incidents', async () => {
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    const cli = (...args: string[]) => runCli(['--server', server.url, '--token', ADMIN_TOKEN, ...args], CLI_COMMANDS);
    try {
      expect(await cli('--json', 'integration', 'create', '--name', 'cli-made', '--service', 'billing', '--rate', '50')).toBe(0);
      const created = JSON.parse(out.join(''));
      expect(created).toMatchObject({ name: 'cli-made', service: 'billing', rate_limit: { per_second: 50, burst: 500 } });
      expect(created.routing_key).toMatch(/^[0-9a-f]{32}$/);
      out.length = 0;
      expect(await cli('integration', 'list', '--service', 'billing')).toBe(0);
      expect(out.join('')).toContain('cli-made');
      out.length = 0;
      expect(await cli('alert', 'list', '--service', 'chat-api', '--status', 'firing')).toBe(0);
      expect(out.join('')).toContain('chat-api 5xx above 10%');
      out.length = 0;
      const incidents = (await server.api('GET', '/api/v1/alerts?service=chat-api')).body.items;
      const id = incidents.find((a: { summary: string }) => a.summary === 'chat-api 5xx above 10%').incident_id;
      expect(await cli('incident', 'related', id)).toBe(0);
      expect(out.join('')).toContain('chat-api depends on vector-db');
    } finally {
      spy.mockRestore();
    }
  });
});
