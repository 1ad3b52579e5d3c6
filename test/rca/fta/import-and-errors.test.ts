import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  analyzeFaultTree,
  FAULT_TREE_FORMAT,
  listExampleFaultTrees,
  parseFaultTreeJson,
  parseOpenPsaMef,
  renderFaultTreeSvg,
} from '../../../src/rca/fta/index.ts';
import { thrown } from './helpers.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
function sharedDir(): string {
  if (process.env.FIREBREAK_SHARED_DIR) return process.env.FIREBREAK_SHARED_DIR;
  const beside = path.resolve(repoRoot, '../shared');
  return existsSync(beside) ? beside : '/work/shared';
}
const datasetDir = path.join(sharedDir(), 'datasets/fault-trees');
const hasDataset = existsSync(datasetDir);
if (!hasDataset) console.warn(`fault-tree dataset not found at ${datasetDir}: dataset tests skipped (set FIREBREAK_SHARED_DIR)`);

const mef = (body: string, data = '<model-data><define-basic-event name="a"><float value="0.1"/></define-basic-event><define-basic-event name="b"><float value="0.2"/></define-basic-event></model-data>'): string =>
  `<?xml version="1.0"?><opsa-mef><define-fault-tree name="ft">${body}</define-fault-tree>${data}</opsa-mef>`;

describe.skipIf(!hasDataset)('Open-PSA MEF: the Aralia dataset', () => {
  const files = hasDataset ? readdirSync(datasetDir).filter((f) => f.endsWith('.xml')).sort() : [];
  it('parses every file', () => {
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const model = parseOpenPsaMef(readFileSync(path.join(datasetDir, file), 'utf8'));
      expect(model.faultTrees[0]!.gates.length, file).toBeGreaterThan(0);
      expect(model.basicEvents.every((e) => e.probability === 0.01), file).toBe(true);
    }
  });

  // Published minimal cut set counts for the small Aralia trees.
  it.each([
    ['chinese.xml', '392'],
    ['baobab2.xml', '4805'],
    ['das9202.xml', '27778'],
    ['isp9605.xml', '5630'],
    ['ftr10.xml', '305'],
  ])('%s has %s minimal cut sets', (file, count) => {
    const model = parseOpenPsaMef(readFileSync(path.join(datasetDir, file), 'utf8'));
    expect(analyzeFaultTree(model, { maxCutSets: 5 }).minimalCutSetCount).toBe(count);
  });
});

describe('Open-PSA MEF import', () => {
  it('reads nested formulas, not, atleast, house events, exponential with parameters, iff and imply', () => {
    const xml = `<?xml version="1.0"?>
<opsa-mef>
  <define-fault-tree name="pumps">
    <define-gate name="top"><label>Cooling &amp; backup lost</label>
      <or><and><event name="a"/><not><basic-event name="b"/></not></and><gate name="vote"/><house-event name="h"/></or>
    </define-gate>
    <define-gate name="vote"><atleast min="2"><basic-event name="a"/><basic-event name="b"/><basic-event name="pump"/></atleast></define-gate>
    <define-gate name="rule"><imply><basic-event name="a"/><basic-event name="b"/></imply></define-gate>
    <define-gate name="same"><iff><basic-event name="a"/><basic-event name="b"/></iff></define-gate>
  </define-fault-tree>
  <model-data>
    <define-parameter name="lambda"><float value="0.001"/></define-parameter>
    <define-basic-event name="a"><float value="0.1"/></define-basic-event>
    <define-basic-event name="b"><float value="0.2"/></define-basic-event>
    <define-basic-event name="pump"><exponential><parameter name="lambda"/><int value="100"/></exponential></define-basic-event>
    <define-house-event name="h"><constant value="false"/></define-house-event>
  </model-data>
</opsa-mef>`;
    const model = parseOpenPsaMef(xml);
    expect(model.format).toBe(FAULT_TREE_FORMAT);
    const gates = model.faultTrees[0]!.gates;
    expect(gates.find((g) => g.name === 'top')).toMatchObject({ type: 'or', label: 'Cooling & backup lost' });
    expect(model.basicEvents.find((e) => e.name === 'pump')).toEqual({ name: 'pump', failureRate: 0.001, missionTime: 100 });
    const r = analyzeFaultTree(model, { top: 'top' });
    const pPump = 1 - Math.exp(-0.1);
    // top = (a and not b) or atleast2(a, b, pump) = a(1-b) + P(atleast2) - P(a, not b, and at least one of b/pump) ...: check by enumeration
    let expected = 0;
    for (let s = 0; s < 8; s++) {
      const [a, b, pump] = [s & 1, (s >> 1) & 1, (s >> 2) & 1];
      const w = (a ? 0.1 : 0.9) * (b ? 0.2 : 0.8) * (pump ? pPump : 1 - pPump);
      if ((a && !b) || a + b + pump >= 2) expected += w;
    }
    expect(r.probability.exact).toBeCloseTo(expected, 15);
    expect(analyzeFaultTree(model, { top: 'rule' }).probability.exact).toBeCloseTo(1 - 0.1 * 0.8, 15);
    expect(analyzeFaultTree(model, { top: 'same' }).probability.exact).toBeCloseTo(0.1 * 0.2 + 0.9 * 0.8, 15);
  });

  it.each([
    ['malformed XML', '<opsa-mef><define-fault-tree name="x"></opsa-mef>', 'malformed_input', /malformed XML at line 1/],
    ['wrong root', '<model/>', 'malformed_input', /expected <opsa-mef>/],
    ['undefined reference', mef('<define-gate name="top"><and><basic-event name="a"/><gate name="ghost"/></and></define-gate>'), 'unprocessable', /gate "top" references undefined event or gate "ghost"/],
    ['cycle', mef('<define-gate name="g1"><or><gate name="g2"/><basic-event name="a"/></or></define-gate><define-gate name="g2"><and><gate name="g1"/><basic-event name="b"/></and></define-gate>'), 'unprocessable', /cycle in gate definitions: g1 -> g2 -> g1/],
    ['atleast k > n', mef('<define-gate name="vote"><atleast min="3"><basic-event name="a"/><basic-event name="b"/></atleast></define-gate>'), 'unprocessable', /atleast gate "vote" has k = 3/],
    ['atleast k < 1', mef('<define-gate name="vote"><atleast min="0"><basic-event name="a"/><basic-event name="b"/></atleast></define-gate>'), 'unprocessable', /atleast gate "vote" has k = 0/],
    ['probability above 1', mef('<define-gate name="top"><or><basic-event name="a"/></or></define-gate>', '<model-data><define-basic-event name="a"><float value="1.5"/></define-basic-event></model-data>'), 'unprocessable', /basic event "a" has probability 1.5/],
    ['unsupported distribution', mef('<define-gate name="top"><or><basic-event name="a"/></or></define-gate>', '<model-data><define-basic-event name="a"><lognormal-deviate><float value="1"/><float value="2"/></lognormal-deviate></define-basic-event></model-data>'), 'unprocessable', /unsupported Open-PSA MEF construct <lognormal-deviate> in basic event or parameter "a"/],
    ['unsupported CCF group', mef('<define-gate name="top"><or><basic-event name="a"/></or></define-gate><define-CCF-group name="pumps" model="beta-factor"/>'), 'unprocessable', /unsupported Open-PSA MEF construct <define-CCF-group> in fault tree "ft"/],
    ['typed reference to the wrong kind', mef('<define-gate name="top"><or><gate name="a"/></or></define-gate>'), 'unprocessable', /refers to <gate name="a">, but "a" is a basic-event/],
    ['not with two inputs', mef('<define-gate name="top"><not><basic-event name="a"/><basic-event name="b"/></not></define-gate>'), 'unprocessable', /not gate "top" needs exactly one input/],
    ['missing probability', mef('<define-gate name="top"><or><basic-event name="a"/></or></define-gate>', '<model-data><define-basic-event name="a"/></model-data>'), 'unprocessable', /basic event "a" needs exactly one probability expression/],
  ])('%s', (_, xml, code, message) => {
    const error = thrown(() => parseOpenPsaMef(xml));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(error.details.field).toBeTruthy();
  });
});

describe('Firebreak JSON validation', () => {
  const base = () => ({
    format: FAULT_TREE_FORMAT,
    name: 'm',
    faultTrees: [{ name: 't', gates: [{ name: 'top', type: 'or', inputs: ['a', 'b'] }] }],
    basicEvents: [
      { name: 'a', probability: 0.1 },
      { name: 'b', probability: 0.2 },
    ],
  });

  it('accepts a valid model', () => {
    expect(parseFaultTreeJson(base()).name).toBe('m');
  });

  it('malformed JSON text', () => {
    expect(thrown(() => parseFaultTreeJson('{"format":')).code).toBe('malformed_input');
  });

  it('schema errors name the field and the element', () => {
    const m = base();
    m.basicEvents[1]!.probability = 1.2;
    const error = thrown(() => parseFaultTreeJson(m));
    expect(error.code).toBe('validation_failed');
    expect(error.details.field).toBe('basicEvents[1].probability');
    expect(error.message).toContain('basic event "b"');
  });

  it('unknown gate type and unknown fields', () => {
    const m = base() as { faultTrees: { gates: Record<string, unknown>[] }[] };
    m.faultTrees[0]!.gates[0]!.type = 'majority';
    expect(thrown(() => parseFaultTreeJson(m)).details.field).toBe('faultTrees[0].gates[0].type');
    const extra = base() as Record<string, unknown>;
    extra.colour = 'red';
    expect(thrown(() => parseFaultTreeJson(extra)).details.field).toBe('colour');
  });

  it('semantic errors: duplicates, undefined references, missing k, both probability forms', () => {
    const dup = base();
    dup.basicEvents.push({ name: 'a', probability: 0.3 });
    expect(thrown(() => parseFaultTreeJson(dup)).message).toMatch(/basic event "a" is defined twice/);
    const ghost = base();
    ghost.faultTrees[0]!.gates[0]!.inputs.push('ghost');
    const error = thrown(() => parseFaultTreeJson(ghost));
    expect(error.code).toBe('unprocessable');
    expect(error.details.field).toBe('faultTrees[0].gates[0].inputs[2]');
    const noK = base();
    noK.faultTrees[0]!.gates[0]!.type = 'atleast';
    expect(thrown(() => parseFaultTreeJson(noK)).message).toMatch(/atleast gate "top" needs an integer k/);
    const both = base() as { basicEvents: Record<string, unknown>[] };
    both.basicEvents[0]!.failureRate = 1e-4;
    expect(thrown(() => parseFaultTreeJson(both)).message).toMatch(/basic event "a" needs either a probability or a failureRate/);
  });
});

describe('examples and SVG', () => {
  it('ships the LLM-service example trees, all analysable', () => {
    const examples = listExampleFaultTrees();
    expect(examples.map((e) => e.name)).toEqual(['model-serving-down', 'llm-api-error-rate-slo-breach', 'bad-rollout-reaches-users']);
    for (const example of examples) {
      const r = analyzeFaultTree(example.model);
      expect(r.probability.exact).toBeGreaterThan(0);
      expect(r.probability.exact).toBeLessThan(1);
      expect(Number(r.minimalCutSetCount)).toBeGreaterThan(3);
    }
  });

  it('draws every event once with data-event, highlights a cut set, escapes text', () => {
    const [example] = listExampleFaultTrees();
    const model = example!.model;
    model.faultTrees[0]!.gates[0]!.label = 'Serving <down> & "out"';
    const cutSet = analyzeFaultTree(model).cutSets[0]!.events;
    const svg = renderFaultTreeSvg(model, { highlightCutSet: cutSet });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Serving &lt;down&gt; &amp; &quot;out&quot;');
    expect(svg).not.toContain('<down>');
    for (const event of model.basicEvents) expect(svg.split(`data-event="${event.name}"`).length - 1).toBe(1);
    // the shared OOM sub-tree is drawn once
    expect(svg.split('data-gate="oom-under-load"').length - 1).toBe(1);
    for (const event of cutSet) expect(svg).toContain(`class="basic-event highlighted" data-event="${event}"`);
    expect(thrown(() => renderFaultTreeSvg(model, { highlightCutSet: ['nope'] })).code).toBe('validation_failed');
  });

  it('collapses big trees below a depth', () => {
    const [example] = listExampleFaultTrees();
    const svg = renderFaultTreeSvg(example!.model, { maxDepth: 1 });
    expect(svg).toContain('data-collapsed="true"');
    expect(svg).not.toContain('data-event=');
  });
});
