import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { createService } from '../ingest/helpers.ts';

const MINUTE = 60_000;

interface Candidate {
  incident_id: string;
  score: number;
  evidence: string[];
  reason: string;
}

describeEachDatabase('related incidents: incidents that followed the same change', (kind) => {
  let server: TestServer;
  /** Detection time of the incident under study; everything is placed relative to it. */
  const D = Date.now() - 3 * 60 * MINUTE;
  const iso = (offsetMinutes: number) => new Date(D + offsetMinutes * MINUTE).toISOString();
  const incident = async (services: string[], offsetMinutes: number) =>
    (await server.api('POST', '/api/v1/incidents', { title: `${services.join(', ')} degraded`, severity: 'high', services, detected_at: iso(offsetMinutes) })).body.id as string;
  const related = async (id: string): Promise<Candidate[]> => (await server.api('GET', `/api/v1/incidents/${id}/related`)).body.candidates;

  beforeAll(async () => {
    server = await startTestServer(kind);
    // chat-api and search-api share nothing but the gateway below them, which neither incident names.
    await createService(server, 'llm-gateway');
    await createService(server, 'chat-api', ['llm-gateway']);
    await createService(server, 'search-api', ['llm-gateway']);
    await createService(server, 'billing');
  });
  afterAll(async () => server.close());

  it('an incident that followed the same change is related, with the change in its reason; others are not', async () => {
    const subject = await incident(['chat-api'], 0);
    const follower = await incident(['search-api'], 60);
    const before = await incident(['search-api'], -120);
    const elsewhere = await incident(['billing'], 60);
    // Without a change the two share no service, dependency, label or cause: nothing relates them.
    expect((await related(subject)).map((c) => c.incident_id)).not.toContain(follower);

    const rollout = await server.api('POST', '/api/v1/changes', {
      service: 'llm-gateway',
      kind: 'model',
      summary: 'gpt-4o alias now serves gpt-4o-2024-11-20',
      version_from: 'gpt-4o-2024-08-06',
      version_to: 'gpt-4o-2024-11-20',
      at: iso(-30),
    });
    expect(rollout.status).toBe(201);
    const candidates = await related(subject);
    const found = candidates.find((c) => c.incident_id === follower);
    expect(found).toBeDefined();
    expect(found!.evidence).toEqual(expect.arrayContaining(['shared_change', 'time_proximity']));
    expect(found!.reason).toContain(`both followed the model change ${rollout.body.id} on llm-gateway (gpt-4o-2024-08-06 → gpt-4o-2024-11-20)`);
    // 0.4 × the lower suspect score (llm-gateway is one step down from both: proximity 0.6; 30 and 90 min
    // before detection) + 0.2 × time proximity (60 min apart of 6 h).
    const strength = Math.min(0.5 ** (30 / 60), 0.5 ** (90 / 60)) * 0.6;
    expect(found!.score).toBeCloseTo(0.4 * strength + 0.2 * (1 - 60 / 360), 2);
    expect(found!.reason).toContain(`a suspect scoring at least ${strength.toFixed(2)} for each`);
    // Detected before the change: it did not follow it. On a service the change cannot reach: not either.
    const ids = candidates.map((c) => c.incident_id);
    expect(ids).not.toContain(elsewhere);
    expect(candidates.find((c) => c.incident_id === before)?.evidence ?? []).not.toContain('shared_change');

    // The relation holds from the other side too.
    const back = (await related(follower)).find((c) => c.incident_id === subject);
    expect(back?.evidence).toContain('shared_change');
  });
});
