import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cliTimeout, runFirebreak } from '../support/cli.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../support/server.ts';

/** A real service whose health the test breaks and restores. */
async function startHealthService(): Promise<{ url: string; setHealthy(ok: boolean): void; hits(): number; close(): Promise<void> }> {
  let healthy = true;
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits++;
    if (req.url === '/health' && healthy) res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    else res.writeHead(503, { 'content-type': 'text/plain' }).end('pool exhausted');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/health`,
    setHealthy: (ok) => {
      healthy = ok;
    },
    hits: () => hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Polls until the probe answers; the limit is a safety net for a loaded machine, not a speed target. */
const WAIT_LIMIT_MS = 120_000;
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = WAIT_LIMIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Response bodies are checked field by field below; their full shapes live in the OpenAPI schemas. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = any;
const at = (hhmm: string, day = '2026-03-02') => `${day}T${hhmm}:00.000Z`;

describeEachDatabase('recovery: a whole incident from detection to a published postmortem', (kind) => {
  let server: TestServer;
  let health: Awaited<ReturnType<typeof startHealthService>>;
  let now = Date.parse(at('10:00'));
  const clock = () => new Date(now);
  const setClock = (iso: string) => {
    now = Date.parse(iso);
  };

  beforeAll(async () => {
    server = await startTestServer(kind, { clock });
    health = await startHealthService();
  });
  afterAll(async () => {
    await server?.close();
    await health?.close();
  });

  // One long story on purpose (each step builds on the stored state of the last): it may wait up to its limit for
  // each of three conditions and three CLI commands, and a minute for everything else on a loaded machine.
  it('tracks recovery against catalogue objectives, verifies for real, rolls back, reports and publishes', { timeout: 3 * WAIT_LIMIT_MS + cliTimeout(3) }, async () => {
    const { api } = server;
    const ok = <T>(r: { status: number; body: T }, status = 200): T => {
      expect(r.status, JSON.stringify(r.body)).toBe(status);
      return r.body;
    };

    // ---- catalogue: objectives live here, per service ---------------------------------------
    ok(await api('POST', '/api/v1/teams', { id: 'payments', name: 'Payments', members: [{ user: 'alice', role: 'lead' }, { user: 'bob' }] }), 201);
    ok(
      await api('POST', '/api/v1/services', {
        id: 'chat-api',
        owner_team: 'payments',
        tier: 1,
        rto_minutes: 30,
        rpo_minutes: 5,
        slo_target: 0.999,
        data_integrity_required: true,
      }),
      201,
    );
    ok(await api('POST', '/api/v1/services', { id: 'search', tier: 2, rto_minutes: 60, slo_target: 0.99 }), 201);
    const alice = ok<{ token: string }>(await api('POST', '/api/v1/tokens', { name: 'alice', role: 'responder' }), 201).token;

    // ---- detection: the first signal was two minutes before the incident was opened ------------
    setClock(at('10:00'));
    const incident = ok<{ id: string; created_at: string; detected_at: string; team: string }>(
      await api('POST', '/api/v1/incidents', {
        title: 'chat-api 503s',
        severity: 'high',
        services: ['chat-api', 'search'],
        detected_at: at('09:58'),
        labels: { source: 'prometheus' },
      }),
      201,
    );
    const id = incident.id;
    const base = `/api/v1/incidents/${id}/recovery`;
    expect(incident.team).toBe('payments');
    setClock(at('10:03'));
    ok(await api('POST', `/api/v1/incidents/${id}/acknowledge`, {}));
    setClock(at('10:05'));
    ok(await api('POST', `/api/v1/incidents/${id}/transition`, { to: 'identified' }));
    setClock(at('10:08'));
    ok(await api('POST', `/api/v1/incidents/${id}/transition`, { to: 'containing' }));

    // ---- the plan: strictest objectives, default tier-1 steps, critical path -------------------
    const plan = ok<Body>(
      await api('POST', base, {
        owners: { restore: 'alice' },
        criteria: [
          { id: 'health', check: { kind: 'http', url: health.url, timeout_ms: 15_000 } },
          { id: 'lead-ok', sign_off: { by: 'alice', question: 'chat works end to end' } },
        ],
        soak_minutes: 10,
        rollback: { after_failed_verifications: 2, steps: ['re-enable the old pool config', 'drain new pods'] },
      }),
      201,
    );
    expect(plan.objectives.rto_minutes).toMatchObject({ value: 30, source_service: 'chat-api' });
    expect(plan.objectives.rpo_minutes).toMatchObject({ value: 5, source_service: 'chat-api' });
    expect(plan.objectives.slo_target).toMatchObject({ value: 0.999, source_service: 'chat-api' });
    expect(plan.objectives.data_integrity_required).toMatchObject({ value: true, services: ['chat-api'] });
    expect(plan.tier).toBe(1);
    expect(plan.rto).toMatchObject({ tracked: true, clock_started_at: at('09:58'), due_at: at('10:28'), elapsed_seconds: 600, remaining_seconds: 1200 });
    expect(plan.steps.map((s: { id: string }) => s.id)).toEqual(['assess', 'restore', 'data-integrity', 'verify', 'communicate']);
    expect(plan.steps.find((s: { id: string }) => s.id === 'restore').owner).toBe('alice');
    // From 10:08: assess 5 → restore 15 → data-integrity 15 (verify 10 runs beside it) → communicate 5.
    expect(plan.critical_path).toEqual(['assess', 'restore', 'data-integrity', 'communicate']);
    expect(plan.projected_completion_at).toBe(at('10:48'));
    expect(plan.projected_rto_breach).toBe(true);

    // ---- bad input on the plan ------------------------------------------------------------------
    const early = await api('POST', `${base}/steps/restore/complete`, {});
    expect(early.status).toBe(409);
    expect(early.body.detail).toContain('assess');
    const stranger = await api('PATCH', `${base}/steps/verify`, { owner: 'mallory' });
    expect(stranger.status).toBe(422);
    expect(stranger.body.field).toBe('owner');
    expect((await api('POST', base, { criteria: [{ id: 'x', sign_off: { question: 'q' } }] })).status).toBe(409);

    // ---- work the steps; times are the stored clock times -----------------------------------
    setClock(at('10:09'));
    ok(await api('POST', `/api/v1/incidents/${id}/transition`, { to: 'recovering' }));
    ok(await api('POST', `${base}/steps/assess/start`, {}));
    setClock(at('10:12'));
    ok(await api('POST', `${base}/steps/assess/complete`, {}));
    ok(await api('POST', `${base}/steps/restore/start`, {}));
    setClock(at('10:20'));
    const afterRestore = ok<Body>(await api('POST', `${base}/steps/restore/complete`, {}));
    expect(afterRestore.steps.find((s: { id: string }) => s.id === 'restore')).toMatchObject({ started_at: at('10:12'), completed_at: at('10:20') });
    // Remaining from 10:20: data-integrity 15 → communicate 5; the path names the finished steps that led there.
    expect(afterRestore.projected_completion_at).toBe(at('10:40'));
    expect(afterRestore.critical_path).toEqual(['assess', 'restore', 'data-integrity', 'communicate']);
    ok(await api('POST', `${base}/signoffs`, { criterion: 'lead-ok', note: 'looks fine to me' }, { token: alice }));

    // ---- verification fails for real (the service is down) twice → automatic rollback ----------
    health.setHealthy(false);
    setClock(at('10:21'));
    const first = ok<Body>(await api('POST', `${base}/verify`, {}));
    expect(first).toMatchObject({ passed: false, outcome: 'failed' });
    const healthResult = first.results.find((r: { criterion: string }) => r.criterion === 'health');
    expect(healthResult).toMatchObject({ passed: false, observed: { status: 503 } });
    // The sign-off held, but every criterion must pass in the same evaluation.
    expect(first.results.find((r: { criterion: string }) => r.criterion === 'lead-ok')).toMatchObject({ passed: true, observed: { signed_by: 'alice' } });
    setClock(at('10:22'));
    const second = ok<Body>(await api('POST', `${base}/verify`, {}));
    expect(second).toMatchObject({ passed: false, outcome: 'failed' });

    const rollbacks = ok<Body[]>(await api('GET', `${base}/rollbacks`));
    expect(rollbacks).toHaveLength(1);
    expect(rollbacks[0]).toMatchObject({
      trigger: 'verification_failed',
      started_at: at('10:22'),
      incident_status_before: 'recovering',
      incident_moved_to: 'containing',
      procedure_steps: ['re-enable the old pool config', 'drain new pods'],
    });
    expect(rollbacks[0].reverted_steps).toEqual([
      { id: 'assess', status: 'done', started_at: at('10:09'), completed_at: at('10:12') },
      { id: 'restore', status: 'done', started_at: at('10:12'), completed_at: at('10:20') },
    ]);
    const rolledBack = ok<Body>(await api('GET', base));
    expect(rolledBack.steps.every((s: { status: string }) => s.status === 'pending')).toBe(true);
    expect(rolledBack.verification).toMatchObject({ epoch: 2, consecutive_failures: 0, verified_at: null });
    expect(ok<Body>(await api('GET', `/api/v1/incidents/${id}`)).status).toBe('containing');

    // ---- the RTO passes with nobody calling the API: the worker records it once --------------
    // A second server on the same database runs its own worker: the breach must still be recorded once.
    const other = await startTestServer(kind, { clock, database: server.database });
    const breaches: unknown[] = [];
    server.firebreak.ctx.events.on('recovery.rto_breached', (e) => breaches.push(e));
    other.firebreak.ctx.events.on('recovery.rto_breached', (e) => breaches.push(e));
    setClock(at('10:29'));
    const breachEntries = await waitFor('the RTO breach on the timeline', async () => {
      const entries = ok<Body[]>(await api('GET', `/api/v1/incidents/${id}/timeline?kind=recovery_rto_breached`));
      return entries.length > 0 ? entries : undefined;
    });
    // Both workers run what is due again after the breach was recorded: neither records it twice.
    await server.firebreak.ctx.worker.runDue();
    await other.firebreak.ctx.worker.runDue();
    await other.close();
    expect(ok<Body[]>(await api('GET', `/api/v1/incidents/${id}/timeline?kind=recovery_rto_breached`))).toHaveLength(1);
    expect(breaches).toEqual([{ incident_id: id, rto_minutes: 30, source_service: 'chat-api', due_at: at('10:28'), recorded_at: at('10:29') }]);
    expect(breachEntries[0]).toMatchObject({ actor: 'firebreak', at: at('10:29') });
    expect(ok<Body>(await api('GET', base)).rto).toMatchObject({ breached: true, breach_recorded_at: at('10:29'), remaining_seconds: -60 });

    // ---- fix for real, redo the steps, verify, soak ------------------------------------------
    health.setHealthy(true);
    setClock(at('10:30'));
    ok(await api('POST', `/api/v1/incidents/${id}/transition`, { to: 'recovering' }));
    for (const [step, start, end] of [
      ['assess', '10:30', '10:31'],
      ['restore', '10:31', '10:35'],
      ['verify', '10:35', '10:37'],
      ['data-integrity', '10:37', '10:38'],
      ['communicate', '10:38', '10:39'],
    ] as const) {
      setClock(at(start));
      ok(await api('POST', `${base}/steps/${step}/start`, {}));
      setClock(at(end));
      ok(await api('POST', `${base}/steps/${step}/complete`, {}));
    }
    // The old sign-off belonged to the rolled-back attempt: it no longer counts.
    setClock(at('10:40'));
    const unsigned = ok<Body>(await api('POST', `${base}/verify`, {}));
    expect(unsigned.passed).toBe(false);
    expect(unsigned.results.find((r: { criterion: string }) => r.criterion === 'health')).toMatchObject({ passed: true, observed: { status: 200 } });
    expect(unsigned.results.find((r: { criterion: string }) => r.criterion === 'lead-ok').passed).toBe(false);
    expect((await api('POST', `${base}/signoffs`, { criterion: 'lead-ok' })).status).toBe(403); // must be alice
    setClock(at('10:41'));
    ok(await api('POST', `${base}/signoffs`, { criterion: 'lead-ok' }, { token: alice }));
    setClock(at('10:42'));
    const soaking = ok<Body>(await api('POST', `${base}/verify`, {}));
    expect(soaking).toMatchObject({ passed: true, outcome: 'soak_started' });
    expect(ok<Body>(await api('GET', base)).verification).toMatchObject({ soak_started_at: at('10:42'), soak_due_at: at('10:52') });
    expect(ok<Body>(await api('GET', base)).status).toBe('soaking');

    // The soak ends with nobody calling: the worker re-evaluates the checks against the live service.
    const hitsBefore = health.hits();
    setClock(at('10:53'));
    const verified = await waitFor('the soak re-evaluation', async () => {
      const current = ok<Body>(await api('GET', base));
      return current.status === 'verified' ? current : undefined;
    });
    expect(health.hits()).toBeGreaterThan(hitsBefore);
    expect(verified.verification.verified_at).toBe(at('10:53'));
    expect(verified.verification.last_evaluation).toMatchObject({ phase: 'soak_end', outcome: 'verified', actor: 'firebreak' });

    // ---- data loss against the RPO: from a recorded measurement, never invented ---------------
    expect((await api('POST', `${base}/data-loss`, { last_good_data_at: at('11:30') })).status).toBe(400);
    expect((await api('POST', `${base}/data-loss`, { last_good_data_at: 'yesterday' })).status).toBe(400);
    ok(await api('POST', `${base}/data-loss`, { last_good_data_at: at('09:55'), source: 'wal replay log' }));

    const report = ok<Body>(await api('GET', `${base}/report`));
    expect(report).toMatchObject({ status: 'verified', started_at: at('09:58'), verified_at: at('10:53'), duration_seconds: 55 * 60 });
    expect(report.rto).toMatchObject({ tracked: true, objective_minutes: 30, source_service: 'chat-api', met: false, margin_seconds: -25 * 60 });
    expect(report.rpo).toMatchObject({ tracked: true, objective_minutes: 5, met: true, margin_minutes: 2 });
    expect(report.rpo.data_loss).toMatchObject({ window_minutes: 3, basis: 'last_good_data', lost_until: at('09:58'), source: 'wal replay log' });
    expect(report.verification).toMatchObject({ evaluations: 5, passed: 2, failed: 3 });
    expect(report.verification.evidence.map((e: { outcome: string }) => e.outcome)).toEqual(['failed', 'failed', 'failed', 'soak_started', 'verified']);
    expect(report.rollbacks).toHaveLength(1);

    // ---- resolve and write the postmortem -----------------------------------------------------
    setClock(at('11:00'));
    ok(
      await api('POST', `/api/v1/incidents/${id}/resolve`, {
        resolution: 'pool size raised and retries capped',
        root_cause: 'Connection pool exhausted by a retry storm',
      }),
    );
    setClock(at('11:05'));
    ok(await api('POST', `/api/v1/incidents/${id}/postmortem`, { summary: 'Retries <b>amplified</b> a slow database' }), 201);
    expect((await api('POST', `/api/v1/incidents/${id}/postmortem/transition`, { to: 'published' })).status).toBe(409);
    ok(await api('POST', `/api/v1/incidents/${id}/postmortem/transition`, { to: 'in_review' }));
    const noItems = await api('POST', `/api/v1/incidents/${id}/postmortem/transition`, { to: 'published' });
    expect(noItems.status).toBe(422);
    expect(noItems.body.field).toBe('reason');
    expect(noItems.body.detail).toContain('action item');

    const items = `/api/v1/incidents/${id}/action-items`;
    const unknownOwner = await api('POST', items, { title: 'x', owner: 'nobody', priority: 'p1', due_date: '2026-03-05' });
    expect(unknownOwner.status).toBe(422);
    expect(unknownOwner.body.field).toBe('owner');
    const badDate = await api('POST', items, { title: 'x', owner: 'bob', priority: 'p1', due_date: '2026-02-30' });
    expect(badDate.status).toBe(400);
    expect(badDate.body.field).toBe('due_date');
    const capRetries = ok<Body>(
      await api('POST', items, { title: 'Cap client retries with jitter', owner: 'bob', priority: 'p1', due_date: '2026-03-05', link: 'https://tracker.example/RET-1' }),
      201,
    );
    const alertOnPool = ok<Body>(await api('POST', items, { title: 'Alert on pool saturation', owner: 'alice', priority: 'p2', due_date: '2026-03-03' }), 201);
    ok(
      await api('PATCH', `/api/v1/incidents/${id}/postmortem`, {
        version: 2,
        what_went_well: 'Rollback was automatic',
        what_went_badly: 'We verified before the fix was live',
      }),
    );
    setClock(at('11:30'));
    const published = ok<Body>(await api('POST', `/api/v1/incidents/${id}/postmortem/transition`, { to: 'published' }));
    expect(published).toMatchObject({ status: 'published', published_at: at('11:30'), published_by: 'bootstrap-admin' });
    expect(published.document.detection).toMatchObject({ time_to_detect_seconds: 120, time_to_acknowledge_seconds: 300 });
    expect(published.document.impact.duration_seconds).toBe(62 * 60);
    expect(published.document.response.plan_executions).toEqual({ available: true, items: [] });
    expect((await api('PATCH', `/api/v1/incidents/${id}/postmortem`, { version: published.version, summary: 'x' })).status).toBe(409);

    const markdown = await api<string>('GET', `/api/v1/incidents/${id}/postmortem/export?format=md`);
    expect(markdown.headers.get('content-type')).toContain('text/markdown');
    const md = markdown.body;
    expect(md).toContain(`# Postmortem ${id}: chat-api 503s`);
    expect(md).toContain('Status: published (published 2026-03-02T11:30:00.000Z by bootstrap-admin)');
    expect(md).toContain('Duration (first signal to resolution): 1 h 2 min');
    expect(md).toContain('Incident opened: 2026-03-02T10:00:00.000Z (time to detect 2 min)');
    expect(md).toContain('time to acknowledge 5 min');
    expect(md).toContain('How: opened by bootstrap-admin from prometheus');
    expect(md).toContain('Connection pool exhausted by a retry storm');
    expect(md).toContain('RTO: 30 min (from chat-api), missed by 25 min');
    expect(md).toContain('RPO: 5 min (from chat-api); data-loss window 3 min, met with 2 min to spare');
    expect(md).toContain('Recovery verified: 2026-03-02T10:53:00.000Z (55 min after the first signal)');
    expect(md).toContain('Verification: 5 evaluations, 2 passed, 3 failed');
    expect(md).toContain('Rollback at 2026-03-02T10:22:00.000Z (verification\\_failed) by firebreak');
    expect(md).toContain('RTO breached: not recovered within 30 min of detection');
    expect(md).toContain('Retries \\<b\\>amplified\\</b\\> a slow database');
    expect(md).toContain('Rollback was automatic');
    expect(md).toContain(`| ${capRetries.id} | Cap client retries with jitter | bob | p1 | 2026-03-05 | open | https://tracker.example/RET-1 |`);
    expect(md).toContain(`| ${alertOnPool.id} | Alert on pool saturation | alice | p2 | 2026-03-03 | open |  |`);

    const html = await api<string>('GET', `/api/v1/incidents/${id}/postmortem/export?format=html`);
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(html.body).toContain('Retries &lt;b&gt;amplified&lt;/b&gt; a slow database');
    expect(html.body).not.toContain('<b>amplified');
    expect(html.body).not.toMatch(/<(script|link|img)\b|src=|href=/);

    // ---- overdue action items: noticed by the worker, listed across incidents ----------------
    const overdueEvents: { item: { id: number } }[] = [];
    server.firebreak.ctx.events.on('action_item.overdue', (e) => overdueEvents.push(e));
    setClock('2026-03-04T00:00:01.000Z');
    await waitFor('the overdue event', async () => (overdueEvents.length > 0 ? true : undefined));
    expect(overdueEvents.map((e) => e.item.id)).toEqual([alertOnPool.id]);
    const overdue = ok<Body[]>(await api('GET', '/api/v1/action-items?overdue=true'));
    expect(overdue.map((i) => i.id)).toEqual([alertOnPool.id]);
    expect(overdue[0].overdue).toBe(true);
    ok(await api('PATCH', `/api/v1/action-items/${capRetries.id}`, { version: 1, status: 'done' }));
    expect(ok<Body[]>(await api('GET', '/api/v1/action-items?status=done&owner=bob')).map((i) => i.id)).toEqual([capRetries.id]);

    // ---- a second incident with the same root cause, worded differently ------------------------
    const repeat = ok<Body>(
      await api('POST', '/api/v1/incidents', { title: 'chat-api slow again', severity: 'medium', services: ['search'], detected_at: at('12:00') }),
      201,
    );
    setClock('2026-03-04T00:10:01.000Z');
    ok(await api('POST', `/api/v1/incidents/${repeat.id}/resolve`, { resolution: 'restarted', root_cause: 'connection pool exhausted by a retry-storm!' }));

    // ---- reliability metrics, every figure from the stored times above -------------------------
    const metrics = ok<Body>(await api('GET', '/api/v1/metrics/reliability?from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z'));
    const mttd2 = (Date.parse('2026-03-04T00:00:01.000Z') - Date.parse(at('12:00'))) / 1000;
    const mttr2 = (Date.parse('2026-03-04T00:10:01.000Z') - Date.parse(at('12:00'))) / 1000;
    expect(metrics.overall.incidents).toBe(2);
    expect(metrics.overall.mttd).toEqual({ count: 2, mean_seconds: (120 + mttd2) / 2, median_seconds: (120 + mttd2) / 2, p90_seconds: 120 + 0.9 * (mttd2 - 120) });
    // Resolving straight from `detected` acknowledges too, at the resolution time.
    expect(metrics.overall.mtta).toMatchObject({ count: 2, median_seconds: (300 + mttr2) / 2 });
    expect(metrics.overall.mttr).toMatchObject({ count: 2, median_seconds: (3720 + mttr2) / 2, p90_seconds: 3720 + 0.9 * (mttr2 - 3720) });
    const first1 = metrics.by_severity.high;
    expect(first1.mttd).toMatchObject({ count: 1, median_seconds: 120, p90_seconds: 120 });
    expect(first1.mtta.median_seconds).toBe(300);
    expect(first1.mttr.median_seconds).toBe(3720);
    // detected 10:00→10:03, investigating →10:05, identified →10:08, containing 10:08→10:09 + 10:22→10:30,
    // recovering 10:09→10:22 + 10:30→11:00; `resolved` is still running, so it is not counted.
    expect(Object.fromEntries(Object.entries(first1.time_in_state).map(([s, v]) => [s, (v as { median_seconds: number }).median_seconds]))).toEqual({
      detected: 180,
      investigating: 120,
      identified: 180,
      containing: 540,
      recovering: 2580,
    });
    expect(first1.rto_attainment).toMatchObject({ met: 0, missed: 1, rate: 0 });
    expect(metrics.overall.rto_attainment).toMatchObject({ met: 0, missed: 1, no_plan: 1, rate: 0 });
    expect(metrics.overall.action_items).toMatchObject({ total: 2, done: 1, open: 1, completion_rate: 0.5 });
    expect(metrics.recurrence.clusters).toEqual([
      { reason: 'shared_root_cause', root_cause: expect.any(String), incidents: [id, repeat.id].sort() },
    ]);
    expect(metrics.overall.recurrence).toEqual({ recurring_incidents: 2, rate: 1 });
    expect(Object.keys(metrics.by_service).sort()).toEqual(['chat-api', 'search']);
    expect(metrics.by_service['chat-api'].incidents).toBe(1);
    expect(metrics.by_service.search.incidents).toBe(2);
    expect(Object.keys(metrics.by_team).sort()).toEqual(['(none)', 'payments']);
    expect(metrics.by_team.payments.mttr.median_seconds).toBe(3720);

    // ---- the CLI, against the same server (once: it does not depend on the database) ------------
    if (kind !== 'sqlite') return;
    const env = { FIREBREAK_SERVER: server.url, FIREBREAK_TOKEN: ADMIN_TOKEN };
    const exported = await runFirebreak(['postmortem', 'export', id, '--format', 'md'], { env });
    expect(exported, exported.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(exported.stdout).toBe(md);
    const listed = await runFirebreak(['--json', 'action-items', 'list', '--overdue'], { env });
    expect(listed.code, listed.stderr).toBe(0);
    const shown = await runFirebreak(['recovery', 'show', id], { env });
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(listed.stdout).map((i: { id: number }) => i.id)).toEqual([alertOnPool.id]);
    expect(shown.stdout).toContain('recovery verified at 2026-03-02T10:53:00.000Z');
    expect(shown.stdout).toContain('RTO 30 min (from chat-api)');
  });
});
