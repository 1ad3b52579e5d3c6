import { describe, expect, it } from 'vitest';
import { computeScorecard, parseScenario, parseSpeed, shippedScenarios, SimClock, type Observations } from '../../src/drills/index.ts';
import { TrafficGenerator } from '../../src/drills/traffic.ts';
import { isAppError } from '../../src/shared/errors.ts';

const MINUTE = 60_000;

describe('simulated time against a server whose clock the drill cannot control', () => {
  const plannedAtMs = Date.parse('2026-11-24T12:00:00Z');
  const clock = SimClock.lagging({ plannedAtMs, durationMs: 40 * MINUTE, speed: 60 }).startingAt(plannedAtMs + 30_000);

  it('ends the timeline, in simulated time, when the run was planned: every timestamp sent is in the past', () => {
    expect(clock.simAtMinute(0)).toBe(plannedAtMs - 40 * MINUTE);
    expect(clock.simAtMinute(40)).toBe(plannedAtMs);
    // Each simulated minute is sent when it has passed in real time, which is always later than its timestamps.
    for (let minute = 0; minute <= 40; minute++) expect(clock.realAt(clock.simAtMinute(minute))).toBeGreaterThan(clock.simAtMinute(minute));
  });

  it('maps real = R0 + (sim − S0) / speed, and back', () => {
    expect(clock.realAt(clock.simAtMinute(0))).toBe(plannedAtMs + 30_000);
    expect(clock.realAt(clock.simAtMinute(1))).toBe(plannedAtMs + 31_000);
    expect(clock.realAt(clock.simAtMinute(40))).toBe(plannedAtMs + 70_000);
    for (const sim of [clock.simAtMinute(0), clock.simAtMinute(7.5), clock.simAtMinute(40)]) expect(clock.simAt(clock.realAt(sim))).toBeCloseTo(sim, 6);
    // Something the server did 2.5 real seconds into the timeline happened at simulated minute 2.5.
    expect(clock.minuteOfReal(plannedAtMs + 32_500)).toBeCloseTo(2.5, 9);
  });

  it('does not count a stalled drill as simulated time: it re-anchors instead of rushing, never sending earlier than planned', () => {
    const stalled = SimClock.lagging({ plannedAtMs, durationMs: 10 * MINUTE, speed: 60 }).startingAt(plannedAtMs);
    stalled.anchor(plannedAtMs + 1000, stalled.simAtMinute(1)); // on time
    stalled.anchor(plannedAtMs + 5000, stalled.simAtMinute(2)); // 3 s late: the machine was busy
    // The next minute is due a minute's share after the late one, not at the original schedule.
    expect(stalled.realAt(stalled.simAtMinute(3))).toBe(plannedAtMs + 6000);
    // Something the server did during the stall happened, in simulated time, no later than minute 2.
    expect(stalled.minuteOfReal(plannedAtMs + 1500)).toBeCloseTo(1.5, 9);
    expect(stalled.minuteOfReal(plannedAtMs + 4000)).toBe(2);
    expect(stalled.minuteOfReal(plannedAtMs + 5500)).toBeCloseTo(2.5, 9);
    // An anchor earlier than the schedule is moved to it, so a timestamp is never sent before it has passed.
    stalled.anchor(plannedAtMs + 5100, stalled.simAtMinute(3));
    expect(stalled.realAt(stalled.simAtMinute(3))).toBe(plannedAtMs + 6000);
    expect(() => stalled.anchor(plannedAtMs + 9000, stalled.simAtMinute(3))).toThrow(/forward/);
  });

  it('reads speeds as people write them, and refuses nonsense', () => {
    expect(parseSpeed('60x')).toBe(60);
    expect(parseSpeed('1')).toBe(1);
    expect(parseSpeed('0.5x')).toBe(0.5);
    for (const bad of ['0x', 'fast', '-3x', '1e9']) expect(() => parseSpeed(bad)).toThrow(/speed/);
  });
});

describe('scenario files', () => {
  const valid = `
id: tiny
title: Tiny
duration: 5m
services: [{ id: chat-api }]
traffic: [{ service: chat-api, provider: openai, model: gpt-4o, calls_per_minute: 5 }]
faults: [{ name: errors, service: chat-api, at: 1, server_error_rate: 0.5 }]
expectations: [{ detect: { service: chat-api, within: 2m } }]
`;
  const problem = (text: string) => {
    try {
      parseScenario(text, 'tiny.yaml');
    } catch (error) {
      if (isAppError(error)) return { code: error.code, field: error.details.field, message: error.message };
      throw error;
    }
    throw new Error('accepted');
  };

  it('accepts a valid scenario and every shipped one', () => {
    expect(parseScenario(valid, 'tiny.yaml').id).toBe('tiny');
    expect(shippedScenarios().length).toBeGreaterThanOrEqual(7);
  });

  it('names the offending field of a bad scenario, prefixed with the file', () => {
    expect(problem('id: [unclosed')).toMatchObject({ code: 'malformed_input', message: expect.stringMatching(/^tiny\.yaml: not valid YAML/) });
    expect(problem(valid.replace('calls_per_minute: 5', 'calls_per_minute: 5, colour: red'))).toMatchObject({ code: 'validation_failed', field: 'traffic[0].colour' });
    expect(problem(valid.replace('at: 1', 'at: 9'))).toMatchObject({ field: 'faults[0].at', message: expect.stringContaining('after the drill ends') });
    expect(problem(valid.replace('detect: { service: chat-api', 'detect: { service: rag-api'))).toMatchObject({ field: 'expectations[0].detect.service' });
    expect(problem(valid.replace('duration: 5m', 'duration: soon'))).toMatchObject({ field: 'duration' });
    expect(problem(valid.replace('within: 2m }', 'within: 2m, from_fault: nope }'))).toMatchObject({ field: 'expectations[0].detect.from_fault' });
  });
});

describe('traffic and scorecards', () => {
  const scenario = parseScenario(
    `
id: tiny
title: Tiny
duration: 10m
services: [{ id: chat-api }]
traffic: [{ service: chat-api, provider: openai, backup_provider: anthropic, model: gpt-4o, calls_per_minute: 50 }]
faults: [{ name: errors, service: chat-api, provider: openai, at: 2, server_error_rate: 0.5 }]
expectations:
  - detect: { service: chat-api, within: 2m }
  - incident: { service: chat-api, severity_at_least: high, within: 3m }
  - no_plan: { service: chat-api }
`,
    'tiny.yaml',
  );

  it('replays exactly from the seed, and a fault on one provider spares the backup', () => {
    const generate = (seed: number, provider: string) =>
      new TrafficGenerator(scenario.traffic[0]!, seed, 'gpt-4o', 'chat-api').minute(Date.parse('2026-11-24T12:00:00Z'), { provider, faults: scenario.faults }, 14);
    expect(generate(7, 'openai')).toEqual(generate(7, 'openai'));
    expect(generate(7, 'openai')).not.toEqual(generate(8, 'openai'));
    const failing = generate(7, 'openai').stats;
    expect(failing.server_errors / failing.calls).toBeGreaterThan(0.3);
    expect(generate(7, 'anthropic').stats.server_errors).toBe(0);
  });

  it('fails an expectation that did not happen, with what was observed instead', () => {
    const facts = { seed: 1, speed: 60, prefix: 'drill-', runTag: 'abc', responders: true, startedAt: '2026-11-24T12:00:00.000Z', finishedAt: '2026-11-24T12:10:00.000Z', simStart: '2026-11-24T11:50:00.000Z', baselineMinutes: 0, durationMinutes: 10 };
    const seen: Observations = {
      alerts: [
        { id: 'a0', service: 'chat-api', source: 'firebreak.detector', summary: 'false alarm', minute: 0.5 },
        { id: 'a1', service: 'chat-api', source: 'alertmanager', summary: 'errors', minute: 5.5 },
      ],
      incidents: [{ id: 'INC-1', service: 'chat-api', title: 'errors', severity: 'medium', status: 'detected', opened_minute: 5.5, acknowledged_minute: null, resolved_minute: null }],
      plans: [],
      correlation: [],
      recoveries: [],
      failovers: [],
    };
    const card = computeScorecard(scenario, facts, seen);
    expect(card.passed).toBe(false);
    expect(card.alerts_before_fault).toBe(1);
    expect(card.time_to_detect_minutes).toBe(3.5);
    expect(card.expectations.map((e) => [e.kind, e.held, e.observed])).toEqual([
      ['detect', false, '+3.5 min: alertmanager: errors'],
      ['incident', false, 'INC-1 (medium) opened at +3.5 min'],
      ['no_plan', true, 'no plan ran'],
    ]);
  });
});
