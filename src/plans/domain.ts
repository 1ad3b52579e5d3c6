import { severityRank, type Incident, type Severity } from '../incidents/index.ts';
import type { Condition, PlanDefinition, PlanStep, PlanTrigger, RollbackStep } from './schemas.ts';

/** Pure rules of plan execution: no I/O, so they are the same in the executor, the dry run and tests. */

export function parseDuration(text: string): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (!match) throw new Error(`not a duration: ${text}`);
  const value = Number(match[1]);
  const unit = match[2] as 'ms' | 's' | 'm' | 'h';
  return value * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit];
}

/** Immutable versions are numbered 1.0, 1.1, 1.2, … in the order they were made. */
export function versionLabel(seq: number): string {
  return `1.${seq - 1}`;
}

export const DEFAULT_STEP_TIMEOUT_MS = 30_000;
const MAX_BACKOFF_MS = 10 * 60_000;

export function stepTimeoutMs(step: PlanStep): number {
  return step.timeout ? parseDuration(step.timeout) : DEFAULT_STEP_TIMEOUT_MS;
}

/** Reads and checks can be repeated safely; anything that changes something elsewhere cannot, unless declared. */
export function isIdempotent(step: PlanStep): boolean {
  if (step.idempotent !== undefined) return step.idempotent;
  if (step.type === 'http') return step.with.method === 'GET';
  return step.type !== 'communicate';
}

/** Delay before attempt `attempt + 1`, after `attempt` failed attempts: backoff, 2×backoff, 4×backoff, … */
export function retryDelayMs(step: PlanStep, failedAttempts: number): number {
  const base = step.backoff ? parseDuration(step.backoff) : 1000;
  return Math.min(MAX_BACKOFF_MS, base * 2 ** Math.max(0, failedAttempts - 1));
}

export function failurePolicy(step: PlanStep): 'stop' | 'continue' | 'rollback' {
  return step.on_failure ?? 'stop';
}

/** Reads a dotted path (`steps.assess.output.services`) out of a view. */
export function lookupPath(view: unknown, dotted: string): unknown {
  let current: unknown = view;
  for (const part of dotted.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** Evaluates `when` conditions; returns the first one that does not hold, described, or null when all hold. */
export function failedCondition(conditions: readonly Condition[] | undefined, view: unknown): string | null {
  for (const c of conditions ?? []) {
    const value = lookupPath(view, c.field);
    const shown = JSON.stringify(value) ?? 'undefined';
    if (c.exists !== undefined && (value !== undefined && value !== null) !== c.exists) return `${c.field} ${c.exists ? 'does not exist' : 'exists'}`;
    if (c.equals !== undefined && value !== c.equals) return `${c.field} is ${shown}, not ${JSON.stringify(c.equals)}`;
    if (c.not_equals !== undefined && value === c.not_equals) return `${c.field} is ${shown}`;
    if (c.in !== undefined && !c.in.includes(value as string | number)) return `${c.field} is ${shown}, not one of ${JSON.stringify(c.in)}`;
    if (c.contains !== undefined) {
      const holds = Array.isArray(value) ? value.includes(c.contains) : typeof value === 'string' && value.includes(c.contains);
      if (!holds) return `${c.field} (${shown}) does not contain ${JSON.stringify(c.contains)}`;
    }
    if (c.severity_at_least !== undefined) {
      const rank = typeof value === 'string' ? severityRank(value as Severity) : -1;
      if (rank < severityRank(c.severity_at_least)) return `${c.field} is ${shown}, below ${c.severity_at_least}`;
    }
    if (c.gt !== undefined && !(typeof value === 'number' && value > c.gt)) return `${c.field} is ${shown}, not above ${c.gt}`;
    if (c.lt !== undefined && !(typeof value === 'number' && value < c.lt)) return `${c.field} is ${shown}, not below ${c.lt}`;
  }
  return null;
}

export type IncidentChange = 'created' | 'updated';

/** Why a plan's scope excludes an incident, or null when it applies. */
export function outOfScope(plan: PlanDefinition, incident: Incident): string | null {
  const scope = plan.scope;
  if (scope?.services && !incident.services.some((s) => scope.services!.includes(s))) return `no affected service is in scope (${scope.services.join(', ')})`;
  if (scope?.severities && !scope.severities.includes(incident.severity)) return `severity ${incident.severity} is not in scope`;
  return null;
}

export function triggerMatches(trigger: PlanTrigger, incident: Incident, change: IncidentChange): boolean {
  if (!(trigger.on ?? ['created']).includes(change)) return false;
  if (trigger.severity_at_least && severityRank(incident.severity) < severityRank(trigger.severity_at_least)) return false;
  if (trigger.services && !incident.services.some((s) => trigger.services!.includes(s))) return false;
  for (const [key, value] of Object.entries(trigger.labels ?? {})) if (incident.labels[key] !== value) return false;
  return true;
}

/** The index of the first trigger that starts this plan for the incident, or -1. */
export function matchingTrigger(plan: PlanDefinition, incident: Incident, change: IncidentChange): number {
  if (plan.enabled === false || outOfScope(plan, incident)) return -1;
  return (plan.triggers ?? []).findIndex((t) => triggerMatches(t, incident, change));
}

// ---- scheduling ------------------------------------------------------------------------------

export const STEP_STATUSES = ['pending', 'ready', 'running', 'waiting', 'needs_decision', 'succeeded', 'failed', 'skipped', 'cancelled'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];
export const EXECUTION_STATUSES = ['running', 'rolling_back', 'succeeded', 'failed', 'rolled_back', 'rollback_failed', 'cancelled'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export const TERMINAL_STEP: ReadonlySet<StepStatus> = new Set(['succeeded', 'failed', 'skipped', 'cancelled']);
export const ACTIVE_EXECUTION: ReadonlySet<ExecutionStatus> = new Set(['running', 'rolling_back']);

export interface StepState {
  step_id: string;
  phase: 'main' | 'rollback';
  status: StepStatus;
}

export interface Advance {
  /** New statuses, with the reason a step was skipped or cancelled. */
  steps: { step_id: string; status: 'ready' | 'skipped' | 'cancelled'; reason?: string }[];
  execution?: { status: ExecutionStatus; reason: string };
}

/**
 * Given the stored state of every step, decides what happens next: which steps became runnable, which
 * are skipped (`when` false) or cancelled, and whether the execution finished. Called after every change,
 * inside the transaction that made it, so two servers never decide differently.
 */
export function advance(
  plan: PlanDefinition,
  executionStatus: ExecutionStatus,
  states: readonly StepState[],
  conditionFailure: (step: PlanStep) => string | null,
): Advance {
  const out: Advance = { steps: [] };
  if (!ACTIVE_EXECUTION.has(executionStatus)) return out;
  const status = new Map(states.map((s) => [s.step_id, s.status]));
  const set = (step_id: string, next: 'ready' | 'skipped' | 'cancelled', reason?: string) => {
    status.set(step_id, next);
    out.steps.push({ step_id, status: next, ...(reason ? { reason } : {}) });
  };
  const main = plan.steps as PlanStep[];
  const rollback = (plan.rollback ?? []) as RollbackStep[];
  const isRunning = (id: string) => status.get(id) === 'running';

  if (executionStatus === 'running') {
    const failed = main.filter((s) => status.get(s.id) === 'failed');
    const rollbackFailure = failed.find((s) => failurePolicy(s) === 'rollback');
    const stopFailure = failed.find((s) => failurePolicy(s) === 'stop');
    if (rollbackFailure || stopFailure) {
      for (const s of main) {
        const st = status.get(s.id);
        if (st === 'pending' || st === 'ready' || st === 'waiting' || st === 'needs_decision') set(s.id, 'cancelled', `step ${(rollbackFailure ?? stopFailure)!.id} failed`);
      }
      if (rollbackFailure) {
        out.execution = { status: 'rolling_back', reason: `step ${rollbackFailure.id} failed; rolling back` };
        return mergeAdvance(out, advance(plan, 'rolling_back', [...status].map(([step_id, st]) => ({ step_id, phase: main.some((m) => m.id === step_id) ? 'main' : 'rollback', status: st })), conditionFailure));
      }
      if (!main.some((s) => isRunning(s.id))) out.execution = { status: 'failed', reason: `step ${stopFailure!.id} failed` };
      return out;
    }
    const doneForDependents = (id: string) => {
      const st = status.get(id);
      if (st === 'succeeded' || st === 'skipped') return true;
      const step = main.find((s) => s.id === id);
      return st === 'failed' && step !== undefined && failurePolicy(step) === 'continue';
    };
    // Skipping a step can unblock others, so repeat until nothing changes.
    for (let changed = true; changed; ) {
      changed = false;
      for (const s of main) {
        if (status.get(s.id) !== 'pending') continue;
        const needs = s.needs ?? [];
        if (needs.some((n) => status.get(n) === 'cancelled')) {
          set(s.id, 'cancelled', 'a step it needs was cancelled');
          changed = true;
        } else if (needs.every(doneForDependents)) {
          const why = conditionFailure(s);
          set(s.id, why ? 'skipped' : 'ready', why ? `condition not met: ${why}` : undefined);
          changed = true;
        }
      }
    }
    if (main.every((s) => TERMINAL_STEP.has(status.get(s.id) ?? 'pending'))) {
      const failures = main.filter((s) => status.get(s.id) === 'failed').map((s) => s.id);
      out.execution = {
        status: 'succeeded',
        reason: failures.length ? `finished; failed steps tolerated (on_failure: continue): ${failures.join(', ')}` : 'every step finished',
      };
    }
    return out;
  }

  // rolling_back: compensating steps run one at a time, in the order written, once no main step is running.
  for (const s of main) {
    const st = status.get(s.id);
    if (st === 'pending' || st === 'ready' || st === 'waiting' || st === 'needs_decision') set(s.id, 'cancelled', 'rolling back');
  }
  if (main.some((s) => isRunning(s.id))) return out;
  for (const s of rollback) {
    const st = status.get(s.id) ?? 'pending';
    if (!TERMINAL_STEP.has(st) && st !== 'pending') return out; // one in progress
    if (st !== 'pending') continue;
    if (s.undoes && !s.undoes.some((id) => status.get(id) === 'succeeded')) {
      set(s.id, 'skipped', `nothing to undo: ${s.undoes.join(', ')} did not succeed`);
      continue;
    }
    const why = conditionFailure(s);
    if (why) {
      set(s.id, 'skipped', `condition not met: ${why}`);
      continue;
    }
    set(s.id, 'ready');
    return out;
  }
  const failedRollback = rollback.filter((s) => status.get(s.id) === 'failed').map((s) => s.id);
  out.execution = failedRollback.length
    ? { status: 'rollback_failed', reason: `rollback steps failed: ${failedRollback.join(', ')}` }
    : { status: 'rolled_back', reason: 'rollback finished' };
  return out;
}

function mergeAdvance(first: Advance, second: Advance): Advance {
  return { steps: [...first.steps, ...second.steps], execution: second.execution ?? first.execution };
}
