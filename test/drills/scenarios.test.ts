import { afterAll, beforeAll, expect, it } from 'vitest';
import { runDrill } from '../../src/drills/runner.ts';
import { shippedScenarios } from '../../src/drills/index.ts';
import type { Scorecard } from '../../src/drills/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../support/server.ts';
import { VirtualTime } from './virtual-time.ts';

/**
 * The "done when": every shipped scenario runs against a real server, through the public API
 * only, and its scorecard's expectations hold. Scenarios run at once against one server, each under
 * its own prefix (so the two outage scenarios, which share service names, do not meet), at 60x (a
 * simulated minute is a second) in virtual time shared with the server's clock: the server's reaction
 * is judged, not the machine's speed (`virtual-time.ts`). The CLI test runs a drill in real time.
 */
const SPEED = Number(process.env.FIREBREAK_DRILL_TEST_SPEED ?? 60);

describeEachDatabase('every shipped drill scenario', (kind) => {
  let server: TestServer;
  const scorecards = new Map<string, Scorecard>();
  const scenarios = shippedScenarios();
  let unattended: Scorecard;

  beforeAll(async () => {
    const time = new VirtualTime(Date.now(), () => server.firebreak.ctx.worker.runDue());
    server = await startTestServer(kind, { clock: time.clock });
    const options = { server: server.url, token: ADMIN_TOKEN, speed: SPEED, seed: 1, keepOpen: false, store: true };
    const failover = scenarios.find((s) => s.id === 'provider-outage-failover')!;
    // Every drill joins before any starts, so time only moves when all of them wait.
    const drill = (scenario: (typeof scenarios)[number], extra: { prefix: string; responders: boolean; store?: boolean }) => {
      const own = time.join();
      return async () => {
        try {
          return await runDrill(scenario, { ...options, ...extra, time: own });
        } finally {
          own.done();
        }
      };
    };
    const attended = scenarios.map((scenario, index) => drill(scenario, { prefix: `t${index}-`, responders: true }));
    // Nobody answers: the drill only watches.
    const watching = drill(failover, { prefix: 'tn-', responders: false, store: false });
    const [results, alone] = await Promise.all([Promise.all(attended.map((run) => run())), watching()]);
    results.forEach((card) => scorecards.set(card.scenario, card));
    unattended = alone;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('ships at least the seven scenarios the issue names', () => {
    expect(scenarios.map((s) => s.id).sort()).toEqual(
      expect.arrayContaining([
        'provider-outage-failover',
        'provider-outage-no-plan',
        'gpu-oom-marketing-surge',
        'ttft-regression-rollout',
        'prompt-cost-tripling',
        'jailbreak-wave',
        'cascading-dependencies',
      ]),
    );
  });

  for (const scenario of shippedScenarios()) {
    it(`${scenario.id}: every expectation holds`, () => {
      const card = scorecards.get(scenario.id)!;
      const failed = card.expectations.filter((e) => !e.held);
      expect(failed, JSON.stringify(failed, null, 2)).toEqual([]);
      expect(card.passed).toBe(true);
      expect(card.time_to_detect_minutes).not.toBeNull();
      expect(card.time_to_incident_minutes).not.toBeNull();
      // Normal traffic (the baseline included) raised nothing before the fault.
      expect(card.alerts.filter((a) => a.minute < card.fault_minute - 0.5)).toEqual([]);
    });
  }

  it('the fail-over plan really acted: the gateway was called and recovery came sooner than without it', () => {
    const withPlan = scorecards.get('provider-outage-failover')!;
    const without = scorecards.get('provider-outage-no-plan')!;
    expect(withPlan.plans.map((p) => [p.plan_id, p.status])).toEqual([['failover', 'succeeded']]);
    expect(withPlan.plans[0]!.steps.find((s) => s.id === 'switch-provider')!.status).toBe('succeeded');
    expect(withPlan.failovers).toEqual([expect.objectContaining({ service: 'chat-api', to_provider: 'anthropic' })]);
    expect(without.plans).toEqual([]);
    expect(without.failovers).toEqual([]);
    expect(withPlan.time_to_recovery_minutes!).toBeLessThan(without.time_to_recovery_minutes!);
  });

  it('without responders the drill only watches: nobody acknowledges, the plan waits for its approval, and the scorecard says so', () => {
    expect(unattended.responders).toBe(false);
    expect(unattended.passed).toBe(false);
    expect(unattended.incidents[0]!.acknowledged_minute).toBeNull();
    expect(unattended.plans.map((p) => [p.status, p.waiting_for])).toEqual([['running', ['approve (approval)']]]);
    expect(unattended.failovers).toEqual([]);
    expect(unattended.expectations.filter((e) => !e.held).map((e) => e.kind)).toEqual(['acknowledged', 'plan', 'recovered']);
  });

  it('correlation relates the cascading incidents, and the responder recorded it', () => {
    const card = scorecards.get('cascading-dependencies')!;
    expect(card.correlation).toEqual([
      expect.objectContaining({ service: 'rag-api', with: 'embeddings', suggested: true, linked: ['caused_by'] }),
    ]);
    expect(card.correlation[0]!.evidence).toContain('service_dependency');
  });

  it('stores every scorecard, listed newest first and readable one by one', async () => {
    const list = await server.api('GET', '/api/v1/drills/runs?limit=50');
    expect(list.status).toBe(200);
    expect(list.body.map((r: { scenario: string }) => r.scenario).sort()).toEqual(scenarios.map((s) => s.id).sort());
    const one = await server.api('GET', `/api/v1/drills/runs/${list.body[0].id}`);
    expect(one.status).toBe(200);
    expect(one.body.scorecard.scenario).toBe(list.body[0].scenario);
    const filtered = await server.api('GET', '/api/v1/drills/runs?scenario=jailbreak-wave');
    expect(filtered.body).toHaveLength(1);
    expect((await server.api('GET', '/api/v1/drills/runs/999999')).status).toBe(404);
  });

  it('left no drill incident open, and created nothing without its prefix', async () => {
    const active = await server.api('GET', '/api/v1/incidents?active=true&limit=200');
    expect(active.body.items).toEqual([]);
    const services = await server.api('GET', '/api/v1/services');
    expect(services.body.every((s: { id: string }) => /^t(\d+|n)-/.test(s.id))).toBe(true);
  });
});
