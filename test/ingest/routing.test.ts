import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { createIntegration, createService, post, trigger } from './helpers.ts';
import { compileRoutingRules, parseRoutingRulesYaml, routeAlert } from '../../src/ingest/routing.ts';
import { parseMatcher, matches } from '../../src/ingest/matchers.ts';

describe('matchers and rules (pure)', () => {
  it('matches like Alertmanager: equality, negation, anchored regexes, missing labels read as empty', () => {
    const labels = { alertname: 'HighLatency', team: 'llm' };
    expect(matches(parseMatcher('alertname="HighLatency"', 'm'), labels)).toBe(true);
    expect(matches(parseMatcher('alertname!="HighLatency"', 'm'), labels)).toBe(false);
    expect(matches(parseMatcher('alertname=~"High.*"', 'm'), labels)).toBe(true);
    expect(matches(parseMatcher('alertname=~"High"', 'm'), labels)).toBe(false);
    expect(matches(parseMatcher('alertname!~"Low.*"', 'm'), labels)).toBe(true);
    expect(matches(parseMatcher('zone!="eu"', 'm'), labels)).toBe(true);
    expect(matches(parseMatcher('zone=""', 'm'), labels)).toBe(true);
    expect(matches(parseMatcher('team=llm', 'm'), labels)).toBe(true);
    expect(() => parseMatcher('alertname==x', 'rules[0].match[0]')).toThrow(/rules\[0\]\.match\[0\]/);
    expect(() => parseMatcher('a=~"("', 'rules[1].match[0]')).toThrow(/regular expression/);
  });

  it('modifying rules continue, the first deciding rule decides, suppressions hold only inside their window', () => {
    const rules = compileRoutingRules({
      defaults: { open_incident_at: 'error' },
      rules: [
        { name: 'warn-is-error-for-gpu', match: ['component="gpu"'], map_severity: { warning: 'error' } },
        { name: 'nightly-maintenance', match: ['service="batch"'], suppress: { starts_at: '2026-01-01T00:00:00Z', ends_at: '2026-01-01T02:00:00Z' } },
        { name: 'drop-tests', match: ['env="test"'], drop: true },
      ],
    });
    const at = new Date('2026-01-01T01:00:00Z');
    expect(routeAlert(rules, { service: 'chat', severity: 'warning', labels: { component: 'gpu' } }, at)).toMatchObject({
      action: 'open', severity: 'error', rule: 'default', modifiedBy: ['warn-is-error-for-gpu'],
    });
    expect(routeAlert(rules, { service: 'chat', severity: 'warning', labels: {} }, at)).toMatchObject({ action: 'record', rule: 'default' });
    expect(routeAlert(rules, { service: 'batch', severity: 'critical', labels: {} }, at)).toMatchObject({ action: 'suppress', rule: 'nightly-maintenance', suppressedUntil: '2026-01-01T02:00:00Z' });
    expect(routeAlert(rules, { service: 'batch', severity: 'critical', labels: {} }, new Date('2026-01-01T03:00:00Z'))).toMatchObject({ action: 'open', rule: 'default' });
    expect(routeAlert(rules, { service: 'batch', severity: 'critical', labels: { env: 'test' } }, new Date('2026-01-01T03:00:00Z'))).toMatchObject({ action: 'drop', rule: 'drop-tests' });
  });

  it('the shipped example rule set is valid', () => {
    const example = parseRoutingRulesYaml(fs.readFileSync(path.join(import.meta.dirname, '../../config/routing-rules.example.yaml'), 'utf8'));
    expect(example.rules.length).toBeGreaterThan(3);
    expect(example.groupBy).toEqual(['alertname', 'cluster']);
  });

  it('names the offending field of a bad rule set', () => {
    expect(() => parseRoutingRulesYaml('rules: [')).toThrow(/YAML/);
    const cases: [string, string][] = [
      ['rules:\n  - name: a\n    drop: true\n    open_incident_at: error\n', 'rules[0].open_incident_at'],
      ['rules:\n  - name: a\n    match: ["nope"]\n    drop: true\n', 'rules[0].match[0]'],
      ['rules:\n  - name: a\n    drop: true\n  - name: a\n    drop: true\n', 'rules[1].name'],
      ['rules:\n  - name: a\n    set_severity: huge\n', 'rules[0].set_severity'],
      ['rules:\n  - name: a\n    suppress: {starts_at: "2026-01-02T00:00:00Z", ends_at: "2026-01-01T00:00:00Z"}\n', 'rules[0].suppress.ends_at'],
      ['rules:\n  - name: a\n    colour: red\n', 'rules[0].colour'],
    ];
    for (const [yaml, field] of cases) {
      try {
        parseRoutingRulesYaml(yaml);
        throw new Error(`accepted ${yaml}`);
      } catch (error) {
        expect((error as { details?: { field?: string } }).details?.field).toBe(field);
      }
    }
  });
});

describeEachDatabase('routing rules', (kind) => {
  let server: TestServer;
  // The server's clock is real time plus an offset that a test moves forward instead of waiting.
  let offsetMs = 0;
  const now = () => new Date(Date.now() + offsetMs);
  let configDir: string;
  let key: string;
  beforeAll(async () => {
    configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-rules-'));
    fs.writeFileSync(path.join(configDir, 'routing-rules.yaml'), 'defaults:\n  open_incident_at: error\nrules:\n  - name: from-file\n    match: [\'env="staging"\']\n    drop: true\n');
    server = await startTestServer(kind, { config: { configDir }, clock: now });
    for (const s of ['inference', 'billing', 'vector-db']) await createService(server, s);
    ({ routing_key: key } = await createIntegration(server, 'inference'));
  });
  afterAll(async () => {
    await server.close();
    fs.rmSync(configDir, { recursive: true, force: true });
  });

  const alertOf = async (dedupKey: string) =>
    (await server.api('GET', '/api/v1/alerts?limit=500')).body.items.find((a: { dedup_key: string }) => a.dedup_key === dedupKey);

  it('loads routing-rules.yaml at start as a version of the rule set', async () => {
    const current = await server.api('GET', '/api/v1/routing-rules');
    expect(current.body).toMatchObject({ version: 1, source: 'file', created_by: 'file' });
    expect(current.body.document.rules[0].name).toBe('from-file');
    await post(server, '/v2/enqueue', trigger(key, 'staging noise', { dedup_key: 'stg' }, { custom_details: { env: 'staging' } }));
    expect(await alertOf('stg')).toMatchObject({ decision: 'dropped', rule: 'from-file', incident_id: null });
  });

  it('applies rules edited through the API, records which rule decided, and keeps versions', async () => {
    const yaml = `
defaults:
  open_incident_at: error
rules:
  - name: vector-db-alerts
    match: ['component=~"qdrant|milvus"']
    set_service: vector-db
  - name: gpu-warnings-page
    match: ['component="gpu"']
    map_severity: { warning: error }
  - name: billing-maintenance
    match: ['service="billing"']
    suppress: { starts_at: "${new Date(now().getTime() - 3_600_000).toISOString()}", ends_at: "${new Date(now().getTime() + 3_600_000).toISOString()}", comment: "ledger migration" }
  - name: info-only
    match: ['severity="info"']
    open_incident_at: critical
`;
    const viewer = await server.tokenFor('responder');
    expect((await server.api('PUT', '/api/v1/routing-rules', { yaml }, { token: viewer })).status).toBe(403);
    const stale = await server.api('PUT', '/api/v1/routing-rules', { yaml, version: 0 });
    expect(stale.status).toBe(409);
    const saved = await server.api('PUT', '/api/v1/routing-rules', { yaml }, { headers: { 'if-match': '"1"' } });
    expect(saved.status).toBe(200);
    expect(saved.body.version).toBe(2);

    await post(server, '/v2/enqueue', trigger(key, 'qdrant latency', { dedup_key: 'q1' }, { component: 'qdrant', severity: 'error' }));
    const q1 = await alertOf('q1');
    expect(q1).toMatchObject({ service: 'vector-db', decision: 'opened_incident', rule: 'default' });
    expect((await server.api('GET', `/api/v1/incidents/${q1.incident_id}`)).body.services).toEqual(['vector-db']);

    await post(server, '/v2/enqueue', trigger(key, 'GPU temperature high', { dedup_key: 'g1' }, { component: 'gpu', severity: 'warning' }));
    expect(await alertOf('g1')).toMatchObject({ severity: 'error', decision: 'opened_incident' });
    await post(server, '/v2/enqueue', trigger(key, 'disk 80%', { dedup_key: 'w1' }, { severity: 'warning' }));
    expect(await alertOf('w1')).toMatchObject({ decision: 'recorded', rule: 'default', incident_id: null });
    await post(server, '/v2/enqueue', trigger(key, 'fyi', { dedup_key: 'i1' }, { severity: 'info' }));
    expect(await alertOf('i1')).toMatchObject({ decision: 'recorded', rule: 'info-only' });

    const billing = await createIntegration(server, 'billing');
    await post(server, '/v2/enqueue', trigger(billing.routing_key, 'ledger lag', { dedup_key: 'b1' }));
    const b1 = await alertOf('b1');
    expect(b1).toMatchObject({ decision: 'suppressed', rule: 'billing-maintenance', incident_id: null });
    expect(b1.reason).toContain('ledger migration');

    const bad = await server.api('PUT', '/api/v1/routing-rules', { yaml: 'rules:\n  - name: x\n    set_service: nowhere\n' });
    expect(bad.status).toBe(422);
    expect(bad.body.field).toBe('rules[0].set_service');
    const badYaml = await server.api('PUT', '/api/v1/routing-rules', { yaml: 'rules: [' });
    expect(badYaml.status).toBe(400);
    expect(badYaml.body.field).toBe('yaml');
    const versions = await server.api('GET', '/api/v1/routing-rules/versions');
    expect(versions.body.map((v: { version: number }) => v.version)).toEqual([2, 1]);

    const dryRun = await server.api('POST', '/api/v1/routing-rules/test', { service: 'inference', severity: 'warning', labels: { component: 'gpu' } }, { token: await server.tokenFor('viewer') });
    expect(dryRun.body).toMatchObject({ action: 'open', severity: 'error', modified_by: ['gpu-warnings-page'] });
  });

  it('a silence that has ended lets the next repeat through', async () => {
    const billing = await createIntegration(server, 'billing');
    const current = (await server.api('GET', '/api/v1/routing-rules')).body;
    const endsAt = new Date(now().getTime() + 60_000).toISOString();
    const yaml = `rules:\n  - name: short-silence\n    match: ['service="billing"']\n    suppress: { starts_at: "${new Date(now().getTime() - 60_000).toISOString()}", ends_at: "${endsAt}" }\n`;
    expect((await server.api('PUT', '/api/v1/routing-rules', { yaml, version: current.version })).status).toBe(200);
    await post(server, '/v2/enqueue', trigger(billing.routing_key, 'ledger lag again', { dedup_key: 'b2' }));
    expect(await alertOf('b2')).toMatchObject({ decision: 'suppressed', suppressed_until: endsAt, incident_id: null });
    offsetMs += 61_000; // the silence has ended
    const repeat = await post(server, '/v2/enqueue', trigger(billing.routing_key, 'ledger lag again', { dedup_key: 'b2' }));
    expect(repeat.status).toBe(202);
    const b2 = await alertOf('b2');
    expect(b2).toMatchObject({ decision: 'opened_incident', occurrences: 2, suppressed_until: null });
    expect(b2.incident_id).toBeTruthy();
  });

  it('attaches to a named incident, and a rule with auto_resolve resolves the incident it opened', async () => {
    const target = (await server.api('POST', '/api/v1/incidents', { title: 'known provider outage', severity: 'high', services: ['inference'] })).body;
    const current = (await server.api('GET', '/api/v1/routing-rules')).body;
    const yaml = `
rules:
  - name: provider-outage
    match: ['class="provider"']
    attach_to_incident: ${target.id}
  - name: canary-self-heals
    match: ['component="canary"']
    open_incident_at: warning
    auto_resolve: true
    group_window_minutes: 0
`;
    expect((await server.api('PUT', '/api/v1/routing-rules', { yaml, version: current.version })).status).toBe(200);
    await post(server, '/v2/enqueue', trigger(key, 'OpenAI 503s', { dedup_key: 'p1' }, { class: 'provider', severity: 'warning' }));
    expect(await alertOf('p1')).toMatchObject({ decision: 'attached', rule: 'provider-outage', incident_id: target.id });

    await post(server, '/v2/enqueue', trigger(key, 'canary failing', { dedup_key: 'c1' }, { component: 'canary', severity: 'warning' }));
    const c1 = await alertOf('c1');
    expect(c1.decision).toBe('opened_incident');
    await post(server, '/v2/enqueue', { routing_key: key, event_action: 'resolve', dedup_key: 'c1' });
    const incident = (await server.api('GET', `/api/v1/incidents/${c1.incident_id}`)).body;
    expect(incident.status).toBe('resolved');
    expect(incident.resolution).toContain('canary-self-heals');
  });
});
