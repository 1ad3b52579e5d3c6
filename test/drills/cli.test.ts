import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_LIMIT_MS, cliTimeout, runFirebreak as cli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { REPO_ROOT, spawnServer, type ServerProcess } from '../support/server.ts';

/** The demo runs a 34-minute drill at 240x: over 8 s of real time on any machine, more on a busy one. */
const DEMO_LIMIT_MS = 4 * CLI_LIMIT_MS;

/**
 * A newcomer's path: `npm start` on an empty database prints the admin token and the exact demo
 * command; that command loads example teams, services and a plan and runs one drill. Then the CLI's
 * contract for CI: a bad scenario file is one line naming the field, a failed expectation exits non-zero.
 */
describe('firebreak drill and demo from the command line', () => {
  let database: TestDatabase;
  let server: ServerProcess;
  let token: string;
  let dir: string;

  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-drill-cli-'));
    // No bootstrap token: the server makes one and prints it, as `npm start` does on first start.
    server = await spawnServer({ FIREBREAK_DATABASE_URL: database.url, FIREBREAK_BOOTSTRAP_TOKEN: '' });
    token = /shown only this once:\s+(\S+)/.exec(server.output())![1]!;
  });
  afterAll(async () => {
    await server?.stop();
    await database?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the first-start message gives the exact demo command, and it works', async () => {
    const command = /npx firebreak (--server \S+ demo --token \S+)/.exec(server.output());
    expect(command, server.output()).not.toBeNull();
    const args = command![1]!.split(' ');
    expect(args).toEqual(['--server', server.url, 'demo', '--token', token]);
    const demo = await cli([...args, '--speed', '240x'], { limitMs: DEMO_LIMIT_MS });
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stdout).toContain('Drill provider-outage-failover');
    expect(demo.stdout).toContain('Open http://');

    const headers = { authorization: `Bearer ${token}` };
    const services = (await (await fetch(`${server.url}/api/v1/services`, { headers })).json()) as { id: string }[];
    expect(services.map((s) => s.id)).toEqual(expect.arrayContaining(['demo-chat-api', 'demo-rag-api', 'demo-embeddings', 'demo-summarizer']));
    const incidents = (await (await fetch(`${server.url}/api/v1/incidents?service=demo-chat-api`, { headers })).json()) as { items: { id: string }[] };
    expect(incidents.items.length).toBeGreaterThan(0);
    const executions = (await (await fetch(`${server.url}/api/v1/incidents/${incidents.items[0]!.id}/executions`, { headers })).json()) as { plan_id: string }[];
    expect(executions.map((e) => e.plan_id)).toEqual(['demo-failover']);
    const runs = await cli(['--server', server.url, '--token', token, 'drill', 'runs']);
    expect(runs.stdout).toMatch(/provider-outage-failover/);
  }, cliTimeout(1, DEMO_LIMIT_MS));

  it('lists the shipped scenarios', async () => {
    const list = await cli(['--json', 'drill', 'list']);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { id: string }[]).map((s) => s.id)).toContain('cascading-dependencies');
  }, cliTimeout(1));

  it('refuses a bad scenario file in one line naming the field, with a non-zero exit', async () => {
    const file = path.join(dir, 'bad.yaml');
    fs.writeFileSync(file, fs.readFileSync(path.join(REPO_ROOT, 'src/drills/scenarios/jailbreak-wave.yaml'), 'utf8').replace('calls_per_minute: 50', 'calls_per_minute: lots'));
    const result = await cli(['--server', server.url, '--token', token, 'drill', 'run', file]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual(['firebreak: bad.yaml: traffic[0].calls_per_minute: must be number']);
  }, cliTimeout(1));

  it('exits non-zero when an expectation fails, after printing the scorecard', async () => {
    const file = path.join(dir, 'too-strict.yaml');
    fs.writeFileSync(
      file,
      `
id: too-strict
title: Nobody watches this service
duration: 4m
services: [{ id: quiet-api }]
traffic: [{ service: quiet-api, provider: openai, model: gpt-4o, calls_per_minute: 5 }]
faults: [{ name: errors, service: quiet-api, at: 1, server_error_rate: 0.5 }]
expectations: [{ detect: { service: quiet-api, within: 2m } }]
`,
    );
    const result = await cli(['--server', server.url, '--token', token, 'drill', 'run', file, '--speed', '600x']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('FAILED: 0 of 1 expectations held');
    expect(result.stdout).toMatch(/NO\s+an alert for quiet-api within 2m of the fault\s+no alert/);
    expect(result.stderr.trim().split('\n').at(-1)).toBe('firebreak: drill too-strict: 1 of 1 expectations failed: an alert for quiet-api within 2m of the fault');
  }, cliTimeout(1));
});
