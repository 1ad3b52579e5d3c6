import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliTimeout, runFirebreak as cli } from '../support/cli.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

// (a AND b) OR c with P = 0.1, 0.2, 0.3: cut sets {c} and {a,b}; P(top) = 1 - (1 - 0.02)(1 - 0.3) = 0.314.
const smallModel = {
  format: 'firebreak.fault-tree/v1',
  name: 'small',
  faultTrees: [{ name: 'ft', top: 'top', gates: [{ name: 'top', type: 'or', inputs: ['g1', 'c'] }, { name: 'g1', type: 'and', inputs: ['a', 'b'] }] }],
  basicEvents: [
    { name: 'a', probability: 0.1 },
    { name: 'b', probability: 0.2 },
    { name: 'c', probability: 0.3 },
  ],
};

const MEF = `<?xml version="1.0"?>
<opsa-mef><define-fault-tree name="pump"><define-gate name="top"><atleast min="2"><basic-event name="p1"/><basic-event name="p2"/><basic-event name="p3"/></atleast></define-gate></define-fault-tree>
<model-data><define-basic-event name="p1"><float value="0.1"/></define-basic-event><define-basic-event name="p2"><float value="0.1"/></define-basic-event><define-basic-event name="p3"><float value="0.1"/></define-basic-event></model-data></opsa-mef>`;

describeEachDatabase('fault tree analysis over HTTP', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
  });
  afterAll(async () => server.close());

  it('analyses a JSON model: cut sets, exact and approximate probabilities, importance', async () => {
    const { status, body } = await server.api('POST', '/api/v1/fta/analyze', { model: smallModel });
    expect(status).toBe(200);
    const analysis = body.analysis;
    expect(analysis.minimalCutSetCount).toBe('2');
    expect(analysis.cutSets.map((c: { events: string[] }) => c.events)).toEqual([['c'], ['a', 'b']]);
    expect(analysis.probability.exact).toBeCloseTo(0.314, 12);
    expect(analysis.probability.rareEvent).toBeCloseTo(0.32, 12);
    expect(analysis.probability.mcub).toBeCloseTo(0.314, 12);
    const c = analysis.importance.find((m: { event: string }) => m.event === 'c');
    // Birnbaum of c: P(top | c) - P(top | not c) = 1 - 0.02.
    expect(c.birnbaum).toBeCloseTo(0.98, 12);
  });

  it('analyses MEF XML (2-out-of-3) with an order limit', async () => {
    const { body } = await server.api('POST', '/api/v1/fta/analyze', { mef_xml: MEF });
    expect(body.analysis.minimalCutSetCount).toBe('3');
    // P(at least 2 of 3) = 3 p^2 (1 - p) + p^3.
    expect(body.analysis.probability.exact).toBeCloseTo(3 * 0.01 * 0.9 + 0.001, 12);
    const limited = await server.api('POST', '/api/v1/fta/analyze', { mef_xml: MEF, max_order: 1 });
    expect(limited.body.analysis.minimalCutSetCount).toBe('0');
  });

  it('rejects bad models with the element named', async () => {
    const cyclic = structuredClone(smallModel);
    cyclic.faultTrees[0]!.gates[1]!.inputs = ['a', 'top'];
    const cycle = await server.api('POST', '/api/v1/fta/analyze', { model: cyclic });
    expect(cycle.status).toBeGreaterThanOrEqual(400);
    expect(cycle.body.detail).toMatch(/cycle/i);
    const bad = await server.api('POST', '/api/v1/fta/analyze', { mef_xml: '<opsa-mef><define-gate' });
    expect(bad.status).toBe(400);
    const two = await server.api('POST', '/api/v1/fta/analyze', { mef_xml: MEF, example: 'model-serving-down' });
    expect(two.status).toBe(400);
    const probability = structuredClone(smallModel);
    probability.basicEvents[0]!.probability = 1.5;
    const p = await server.api('POST', '/api/v1/fta/analyze', { model: probability });
    expect(p.status).toBe(400);
    expect(p.body.detail).toContain('a');
  });

  it('copies an example into an incident, fills in probabilities and analyses it', async () => {
    const examples = await server.api('GET', '/api/v1/fta/examples');
    expect(examples.body.length).toBeGreaterThanOrEqual(3);
    const incident = await server.api('POST', '/api/v1/incidents', { title: 'model serving down', severity: 'critical' });
    const tree = await server.api('POST', `/api/v1/incidents/${incident.body.id}/fault-trees`, { example: examples.body[0].name });
    expect(tree.status).toBe(201);
    const model = tree.body.model;
    model.basicEvents = model.basicEvents.map((e: { name: string }) => ({ name: e.name, probability: 0.05 }));
    const updated = await server.api('PUT', `/api/v1/fault-trees/${tree.body.id}`, { version: 1, model });
    expect(updated.status).toBe(200);
    const analysis = await server.api('POST', `/api/v1/fault-trees/${tree.body.id}/analyze`, { max_cut_sets: 5 });
    expect(analysis.body.cutSets.length).toBeLessThanOrEqual(5);
    expect(analysis.body.probability.exact).toBeGreaterThan(0);
    expect((await server.api('PUT', `/api/v1/fault-trees/${tree.body.id}`, { version: 1, model })).status).toBe(409);
    const svg = await server.api<string>('POST', '/api/v1/fta/diagram.svg', { model: smallModel, highlight: ['a', 'b'] });
    expect(svg.body).toContain('data-event="a"');
  });
});

describe('firebreak fta (local CLI)', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fta-cli-'));
    fs.writeFileSync(path.join(dir, 'pump.xml'), MEF);
    fs.writeFileSync(path.join(dir, 'broken.xml'), '<opsa-mef><define-fault-tree name="b"><define-gate name="x"><and><gate name="nope"/><basic-event name="e"/></and></define-gate></define-fault-tree></opsa-mef>');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('analyses a MEF file and prints JSON or tables', async () => {
    const json = await cli(['--json', 'fta', 'analyze', path.join(dir, 'pump.xml')]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).minimalCutSetCount).toBe('3');
    const table = await cli(['fta', 'analyze', path.join(dir, 'pump.xml'), '--order', '2', '--cutoff', '0.001']);
    expect(table.stdout).toContain('minimal cut sets: 3');
    expect(table.stdout).toMatch(/FUSSELL_VESELY/);
  }, cliTimeout(2));

  it('fails with one line naming the problem', async () => {
    const broken = await cli(['fta', 'analyze', path.join(dir, 'broken.xml')]);
    expect(broken.code).not.toBe(0);
    expect(broken.stderr.trim().split('\n')).toHaveLength(1);
    expect(broken.stderr).toContain('nope');
    const badCutoff = await cli(['fta', 'analyze', path.join(dir, 'pump.xml'), '--cutoff', '2']);
    expect(badCutoff.code).not.toBe(0);
    expect(badCutoff.stderr).toContain('--cutoff');
  }, cliTimeout(2));
});
