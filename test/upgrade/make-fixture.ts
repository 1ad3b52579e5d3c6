/**
 * Makes the upgrade fixtures: a SQLite file and a PostgreSQL dump of a database written by the code of the
 * commit this runs at, filled through the real API with something of every capability. Kept so that every later
 * schema change is tested against a database an earlier release really made (test/upgrade/upgrade.test.ts).
 *
 *   FIREBREAK_TEST_PG_URL=postgres://… npx tsx test/upgrade/make-fixture.ts <name>
 *
 * writes test/upgrade/fixtures/<name>.sqlite and <name>.pg.sql, and <name>.json (what the test expects to find).
 * Run it once at the commit before a schema change; never regenerate an existing fixture with newer code.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import SQLite from 'better-sqlite3';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../support/server.ts';
import type { DatabaseKind } from '../support/database-factory.ts';
import { runDrill } from '../../src/drills/runner.ts';
import { resolveScenario } from '../../src/drills/scenario.ts';

const name = process.argv[2];
if (!name || !/^[a-z0-9-]+$/.test(name)) throw new Error('usage: make-fixture.ts <fixture-name>');
const dir = path.join(import.meta.dirname, 'fixtures');
fs.mkdirSync(dir, { recursive: true });

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API answers are checked by the upgrade test, not typed here
async function ok<T = any>(server: TestServer, method: string, url: string, body?: unknown): Promise<T> {
  const response = await server.api(method, url, body);
  if (response.status >= 300) throw new Error(`${method} ${url}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body as T;
}

/** Fills a database through the API; returns what a reader should find again after an upgrade. */
async function fill(server: TestServer) {
  // A drill writes teams, services, integrations, a plan, LLM telemetry, alerts, an incident, a plan run,
  // a recovery and a stored scorecard, as a real team's server would have them.
  const scorecard = await runDrill(resolveScenario('provider-outage-failover'), {
    server: server.url,
    token: ADMIN_TOKEN,
    speed: 3000,
    seed: 1,
    prefix: 'fx-',
    responders: true,
    keepOpen: true,
    store: true,
  });
  const drillIncident = scorecard.incidents[0]?.id;
  if (!drillIncident) throw new Error('the drill opened no incident');

  await ok(server, 'POST', '/api/v1/teams', { id: 'core', name: 'Core', members: [{ user: 'alice' }, { user: 'bob' }] });
  await ok(server, 'POST', '/api/v1/services', { id: 'chat-api', name: 'Chat API', owner_team: 'core', tier: 1, rto_minutes: 30, depends_on: [] });
  await ok(server, 'POST', '/api/v1/tokens', { name: 'ci-bot', role: 'responder' });
  await ok(server, 'PUT', '/api/v1/secrets/provider_key', { value: 'sk-fixture-0123456789' });
  const integration = await ok(server, 'POST', '/api/v1/integrations', { name: 'chat-api prometheus', service: 'chat-api' });
  const alertResponse = await server.api(
    'POST',
    '/v2/enqueue',
    { routing_key: integration.routing_key, event_action: 'trigger', dedup_key: 'fx-429', payload: { summary: '429 storm on chat-api', source: 'prometheus', severity: 'critical' } },
    { token: null },
  );
  if (alertResponse.status !== 202) throw new Error(`enqueue: ${alertResponse.status}`);

  // Change tracking exists from round 14 on: the fixtures made since then carry a change (older ones have none).
  const change = await ok<{ id: string }>(server, 'POST', '/api/v1/changes', { service: 'chat-api', kind: 'model', summary: 'gpt-4o-mini to gpt-4.1-mini', version_from: 'gpt-4o-mini', version_to: 'gpt-4.1-mini' });
  const incident = await ok(server, 'POST', '/api/v1/incidents', { title: 'Latency spike on chat-api', severity: 'high', services: ['chat-api'] });
  await ok(server, 'POST', `/api/v1/incidents/${incident.id}/acknowledge`, {});
  await ok(server, 'POST', `/api/v1/incidents/${incident.id}/notes`, { text: 'looking at the provider dashboard' });
  await ok(server, 'POST', `/api/v1/incidents/${incident.id}/links`, { to: drillIncident, kind: 'related' });
  const analysis = await ok(server, 'POST', `/api/v1/incidents/${incident.id}/analyses`, { kind: 'five_whys', template: 'rate_limiting' });
  await ok(server, 'PUT', `/api/v1/analyses/${analysis.id}`, {
    version: analysis.version,
    body: { problem: 'latency spike', whys: [{ id: 'w1', parent_id: null, question: 'Why slow?', answer: 'provider queueing', evidence: [{ kind: 'link', url: 'https://grafana.example/d/latency' }] }] },
  });
  const examples = await ok<{ name: string }[]>(server, 'GET', '/api/v1/fta/examples');
  await ok(server, 'POST', `/api/v1/incidents/${incident.id}/fault-trees`, { example: examples[0]!.name });
  await ok(server, 'POST', `/api/v1/incidents/${incident.id}/resolve`, { resolution: 'provider recovered', root_cause: 'provider queueing' });
  await ok(server, 'POST', `/api/v1/incidents/${incident.id}/postmortem`, { summary: 'A provider queue made chat slow' });
  await ok(server, 'POST', `/api/v1/incidents/${incident.id}/action-items`, { title: 'Alert on provider queue time', owner: 'alice', priority: 'p2', due_date: '2027-01-15' });

  await ok(server, 'POST', '/api/v1/schedules', {
    id: 'core-weekly',
    team: 'core',
    time_zone: 'UTC',
    layers: [{ name: 'primary', rotation: 'weekly', handoff_time: '09:00', start: '2026-01-05', users: ['alice', 'bob'] }],
  });
  await ok(server, 'POST', '/api/v1/escalation-policies', { id: 'core-policy', team: 'core', levels: [{ timeout_minutes: 5, targets: [{ schedule: 'core-weekly' }] }] });
  await ok(server, 'POST', '/api/v1/status-pages', { id: 'acme', title: 'Acme AI', description: 'Status of the Acme AI APIs', services: ['chat-api'] });

  const incidents = await ok<{ items?: { id: string }[] } | { id: string }[]>(server, 'GET', '/api/v1/incidents?limit=200');
  const list = Array.isArray(incidents) ? incidents : (incidents.items ?? []);
  const timeline = await ok<unknown[] | { items: unknown[] }>(server, 'GET', `/api/v1/incidents/${incident.id}/timeline`);
  return {
    incidents: list.map((i) => i.id).sort(),
    incident: incident.id,
    drill_incident: drillIncident,
    timeline_entries: Array.isArray(timeline) ? timeline.length : timeline.items.length,
    services: (await ok<{ id: string }[]>(server, 'GET', '/api/v1/services')).map((s) => s.id).sort(),
    analyses: 1,
    fault_trees: 1,
    drill_runs: 1,
    changes: [change.id],
  };
}

async function make(kind: DatabaseKind) {
  const server = await startTestServer(kind);
  const expected = await fill(server);
  const url = server.database.url;
  // Keep the database: close the server only.
  await server.firebreak.close();
  if (kind === 'sqlite') {
    const file = url.replace(/^sqlite:/, '');
    const connection = new SQLite(file);
    connection.exec(`VACUUM INTO '${path.join(dir, `${name}.sqlite`)}'`);
    connection.close();
  } else {
    const dump = execFileSync('pg_dump', ['--no-owner', '--no-privileges', '--inserts', url], { maxBuffer: 256 * 1024 * 1024 }).toString();
    fs.writeFileSync(path.join(dir, `${name}.pg.sql`), dump);
  }
  await server.database.drop();
  return expected;
}

const sqliteExpected = await make('sqlite');
const pgExpected = process.env.FIREBREAK_TEST_PG_URL ? await make('postgres') : null;
fs.writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify({ made_at_commit: execFileSync('git', ['rev-parse', 'HEAD']).toString().trim(), sqlite: sqliteExpected, postgres: pgExpected }, null, 2)}\n`);
console.log(`wrote ${name} fixtures`);
process.exit(0);
