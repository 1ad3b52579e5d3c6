import { describe, expect, it } from 'vitest';
import { advance, failedCondition, matchingTrigger, retryDelayMs, versionLabel } from '../../src/plans/domain.ts';
import type { PlanDefinition, PlanStep } from '../../src/plans/schemas.ts';
import type { Incident } from '../../src/incidents/index.ts';

const http = (id: string, extra: Partial<PlanStep> = {}) => ({ id, type: 'http', ...extra, with: { method: 'POST', url: 'http://x.test/' } }) as PlanStep;

describe('plan scheduling rules', () => {
  const plan = {
    id: 'p',
    name: 'p',
    steps: [http('a'), http('b'), http('c', { needs: ['a', 'b'] }), http('d', { needs: ['c'], on_failure: 'rollback' })],
    rollback: [{ ...http('undo-a'), undoes: ['a'] }, { ...http('undo-x'), undoes: ['d'] }],
  } as unknown as PlanDefinition;
  const states = (pairs: Record<string, string>) =>
    Object.entries(pairs).map(([step_id, status]) => ({ step_id, phase: step_id.startsWith('undo') ? ('rollback' as const) : ('main' as const), status: status as never }));

  it('makes roots ready, then dependents once every need is done', () => {
    expect(advance(plan, 'running', states({ a: 'pending', b: 'pending', c: 'pending', d: 'pending', 'undo-a': 'pending', 'undo-x': 'pending' }), () => null).steps).toEqual([
      { step_id: 'a', status: 'ready' },
      { step_id: 'b', status: 'ready' },
    ]);
    expect(advance(plan, 'running', states({ a: 'succeeded', b: 'running', c: 'pending', d: 'pending' }), () => null).steps).toEqual([]);
    expect(advance(plan, 'running', states({ a: 'succeeded', b: 'skipped', c: 'pending', d: 'pending' }), () => null).steps).toEqual([{ step_id: 'c', status: 'ready' }]);
  });

  it('rolls back in order after a rollback failure, undoing only what succeeded', () => {
    const first = advance(plan, 'running', states({ a: 'succeeded', b: 'succeeded', c: 'succeeded', d: 'failed', 'undo-a': 'pending', 'undo-x': 'pending' }), () => null);
    expect(first.execution?.status).toBe('rolling_back');
    expect(first.steps).toEqual([{ step_id: 'undo-a', status: 'ready' }]);
    const second = advance(plan, 'rolling_back', states({ a: 'succeeded', b: 'succeeded', c: 'succeeded', d: 'failed', 'undo-a': 'succeeded', 'undo-x': 'pending' }), () => null);
    expect(second.steps).toEqual([{ step_id: 'undo-x', status: 'skipped', reason: 'nothing to undo: d did not succeed' }]);
    expect(second.execution).toEqual({ status: 'rolled_back', reason: 'rollback finished' });
  });

  it('stops on failure only once no step is still running', () => {
    const running = advance(plan, 'running', states({ a: 'failed', b: 'running', c: 'pending', d: 'pending' }), () => null);
    expect(running.execution).toBeUndefined();
    expect(running.steps.map((s) => [s.step_id, s.status])).toEqual([['c', 'cancelled'], ['d', 'cancelled']]);
    expect(advance(plan, 'running', states({ a: 'failed', b: 'succeeded', c: 'cancelled', d: 'cancelled' }), () => null).execution?.status).toBe('failed');
  });

  it('evaluates conditions, triggers and backoff', () => {
    const incident = { severity: 'high', services: ['chat-api'], labels: { alertname: 'X' } } as unknown as Incident;
    expect(failedCondition([{ field: 'incident.severity', severity_at_least: 'critical' }], { incident })).toBe('incident.severity is "high", below critical');
    expect(failedCondition([{ field: 'incident.services', contains: 'chat-api' }], { incident })).toBeNull();
    const triggered = { ...plan, scope: { severities: ['high'] }, triggers: [{ on: ['updated'] }, { labels: { alertname: 'X' }, services: ['chat-api'] }] } as unknown as PlanDefinition;
    expect(matchingTrigger(triggered, incident, 'created')).toBe(1);
    expect(matchingTrigger({ ...triggered, enabled: false }, incident, 'created')).toBe(-1);
    expect(matchingTrigger({ ...triggered, scope: { severities: ['critical'] } } as PlanDefinition, incident, 'created')).toBe(-1);
    expect([1, 2, 3].map((n) => retryDelayMs(http('r', { backoff: '2s' }), n))).toEqual([2000, 4000, 8000]);
    expect([1, 2, 11].map(versionLabel)).toEqual(['1.0', '1.1', '1.10']);
  });
});
