import { describe, expect, it } from 'vitest';
import { assertStepGraph, findCycle, projectCompletion } from '../../src/recovery/graph.ts';
import { objectivesFromServices } from '../../src/recovery/objectives.ts';
import { computeReliability, normaliseRootCause, timeInStates } from '../../src/recovery/reliability.ts';
import { escapeHtml } from '../../src/recovery/render.ts';
import type { Service } from '../../src/catalog/index.ts';

const service = (id: string, fields: Partial<Service>): Service => ({
  id,
  name: id,
  description: '',
  owner_team: null,
  tier: 3,
  rto_minutes: null,
  rpo_minutes: null,
  slo_target: null,
  data_integrity_required: false,
  depends_on: [],
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
  version: 1,
  ...fields,
});

describe('recovery step graph', () => {
  it('finds cycles and rejects them naming the steps', () => {
    expect(findCycle([{ id: 'a', depends_on: ['b'] }, { id: 'b', depends_on: ['a'] }])).toEqual(['a', 'b', 'a']);
    expect(findCycle([{ id: 'a', depends_on: [] }, { id: 'b', depends_on: ['a'] }])).toBeNull();
    expect(() => assertStepGraph([{ id: 'a', depends_on: [] }, { id: 'a', depends_on: [] }], 'steps')).toThrow('steps[1].id: step a is listed twice');
  });

  it('handles a long chain without recursion limits', () => {
    const steps = Array.from({ length: 20_000 }, (_, i) => ({ id: `s${i}`, depends_on: i === 0 ? [] : [`s${i - 1}`] }));
    expect(findCycle(steps)).toBeNull();
  });

  it('projects from real times and estimates, and overrunning steps end no earlier than now', () => {
    const now = new Date('2026-01-01T10:30:00.000Z');
    const projection = projectCompletion(
      [
        { id: 'a', depends_on: [], estimate_minutes: 10, status: 'done', started_at: '2026-01-01T10:00:00.000Z', completed_at: '2026-01-01T10:05:00.000Z' },
        { id: 'b', depends_on: ['a'], estimate_minutes: 10, status: 'in_progress', started_at: '2026-01-01T10:05:00.000Z', completed_at: null },
        { id: 'c', depends_on: ['a'], estimate_minutes: 60, status: 'pending', started_at: null, completed_at: null },
        { id: 'd', depends_on: ['b', 'c'], estimate_minutes: 5, status: 'pending', started_at: null, completed_at: null },
      ],
      now,
    );
    const finish = Object.fromEntries(projection.steps.map((s) => [s.id, s.projected_finish_at]));
    expect(finish).toEqual({
      a: '2026-01-01T10:05:00.000Z',
      b: '2026-01-01T10:30:00.000Z', // estimate said 10:15; it is still running at 10:30
      c: '2026-01-01T11:30:00.000Z',
      d: '2026-01-01T11:35:00.000Z',
    });
    expect(projection.projected_completion_at).toBe('2026-01-01T11:35:00.000Z');
    expect(projection.critical_path).toEqual(['c', 'd']);
  });
});

describe('recovery objectives', () => {
  it('takes the strictest objective and names the service it came from', () => {
    const objectives = objectivesFromServices([
      service('a', { rto_minutes: 60, rpo_minutes: 1, slo_target: 0.99, tier: 2 }),
      service('b', { rto_minutes: 15, rpo_minutes: 10, slo_target: 0.9995, tier: 1, data_integrity_required: true }),
      service('c', {}),
    ]);
    expect(objectives.rto_minutes).toMatchObject({ value: 15, source_service: 'b' });
    expect(objectives.rto_minutes.note).toContain('strictest of b: 15, a: 60');
    expect(objectives.rpo_minutes).toMatchObject({ value: 1, source_service: 'a' });
    expect(objectives.slo_target).toMatchObject({ value: 0.9995, source_service: 'b' });
    expect(objectives.tier).toMatchObject({ value: 1, source_service: 'b' });
    expect(objectives.data_integrity_required).toMatchObject({ value: true, services: ['b'] });
  });
});

describe('reliability', () => {
  it('normalises root causes and measures time per state from status changes', () => {
    expect(normaliseRootCause('  Connection-pool EXHAUSTED!! ')).toBe(normaliseRootCause('connection pool exhausted'));
    expect(
      timeInStates({
        created_at: '2026-01-01T00:00:00.000Z',
        status_changes: [
          { at: '2026-01-01T00:01:00.000Z', from: 'detected', to: 'investigating' },
          { at: '2026-01-01T00:03:00.000Z', from: 'investigating', to: 'containing' },
          { at: '2026-01-01T00:04:00.000Z', from: 'containing', to: 'investigating' },
          { at: '2026-01-01T00:10:00.000Z', from: 'investigating', to: 'resolved' },
        ],
      }),
    ).toEqual({ detected: 60, investigating: 480, containing: 60 });
  });

  it('groups linked incidents transitively when links exist', () => {
    const base = {
      severity: 'high',
      team: null,
      services: [],
      detected_at: '2026-01-01T00:00:00.000Z',
      created_at: '2026-01-01T00:00:00.000Z',
      acknowledged_at: null,
      resolved_at: null,
      root_cause: null,
      status_changes: [],
      rto: 'no_plan' as const,
      action_items: [],
    };
    const metrics = computeReliability(
      [{ ...base, id: 'A' }, { ...base, id: 'B' }, { ...base, id: 'C' }, { ...base, id: 'D' }],
      [['A', 'B'], ['B', 'C'], ['C', 'OUTSIDE']],
      '2026-01-01T00:00:00.000Z',
      '2026-01-02T00:00:00.000Z',
    );
    expect(metrics.recurrence).toEqual({ links_available: true, clusters: [{ reason: 'linked', root_cause: null, incidents: ['A', 'B', 'C'] }] });
    expect(metrics.overall.recurrence).toEqual({ recurring_incidents: 3, rate: 0.75 });
  });
});

describe('html export', () => {
  it('escapes every special character', () => {
    expect(escapeHtml(`<img src=x onerror="a">&'`)).toBe('&lt;img src=x onerror=&quot;a&quot;&gt;&amp;&#39;');
  });
});
