import type { EgressPolicy } from '../egress/index.ts';
import { Type, type TSchema } from 'typebox';
import { AppError, isAppError } from '../shared/errors.ts';
import { parseWithSchema } from '../shared/validation.ts';
import { parseTemplate } from '../shared/templates.ts';
import { HttpCheckSchema, LlmStatCheckSchema, NoFiringAlertsCheckSchema, PrometheusCheckSchema } from '../checks/index.ts';
import { IncidentSchema } from '../incidents/index.ts';
import {
  PlanEnvelopeSchema,
  ROLLBACK_STEP_SCHEMAS,
  STEP_SCHEMAS,
  StepEnvelopeSchema,
  VerifyEnvelopeWithSchema,
  type PlanDefinition,
  type PlanStep,
  type RollbackStep,
  type StepType,
} from './schemas.ts';

/** One problem in a plan, with the path people read (`steps[3].with.body`). */
export interface PlanProblem {
  field: string;
  message: string;
  /** What kind of problem, so dry runs can recommend a fix for each kind. */
  kind: 'schema' | 'reference' | 'secret' | 'channel' | 'cycle' | 'template' | 'egress';
  /** The missing secret, step or channel, when there is one. */
  name?: string;
}

export interface ValidationEnvironment {
  /** Names of stored secrets; undefined skips the check (offline validation of a file). */
  secretNames?: ReadonlySet<string>;
  /** Channels the notification sender knows; undefined skips the check. */
  channelNames?: ReadonlySet<string>;
  /** Incident facts other capabilities add (`suspect_change`), readable as `incident.<name>`. */
  incidentFacts?: ReadonlySet<string>;
  /** The server's egress policy; undefined skips the check (offline validation of a file). */
  egress?: EgressPolicy;
}

const CHECK_SCHEMAS: Record<string, TSchema> = {
  http: HttpCheckSchema,
  prometheus: PrometheusCheckSchema,
  no_firing_alerts: NoFiringAlertsCheckSchema,
  llm_stat: LlmStatCheckSchema,
};

/** Verify steps are checked with each check kind's own schema, so a bad check names its own field. */
const STEP_VALIDATION_SCHEMAS: Record<StepType, TSchema> = {
  ...STEP_SCHEMAS,
  verify: Type.Object({ ...STEP_SCHEMAS.verify.properties, with: VerifyEnvelopeWithSchema }, { additionalProperties: false }),
};
const ROLLBACK_VALIDATION_SCHEMAS: Record<StepType, TSchema> = {
  ...ROLLBACK_STEP_SCHEMAS,
  verify: Type.Object({ ...(ROLLBACK_STEP_SCHEMAS.verify as unknown as { properties: Record<string, TSchema> }).properties, with: VerifyEnvelopeWithSchema }, {
    additionalProperties: false,
  }),
};

/**
 * Structural validation: the plan against its JSON Schema, one step at a time so the first error names
 * the exact step field. Validates a copy (schema defaults are not written into what gets stored).
 */
export function parsePlanDefinition(raw: unknown): PlanDefinition {
  const copy: unknown = structuredClone(raw);
  parseWithSchema(PlanEnvelopeSchema, copy);
  const plan = copy as { steps: unknown[]; rollback?: unknown[] };
  const checkSteps = (list: unknown[], prefix: string, schemas: Record<StepType, TSchema>) =>
    list.forEach((item, i) => {
      const field = `${prefix}[${i}]`;
      const envelope = parseWithSchema(Type.Object({ type: StepEnvelopeSchema.properties.type }), item, field);
      parseWithSchema(schemas[envelope.type], item, field);
      if (envelope.type === 'verify') {
        const checks = (item as { with: { checks: { kind: string }[] } }).with.checks;
        checks.forEach((check, j) => parseWithSchema(CHECK_SCHEMAS[check.kind]!, check, `${field}.with.checks[${j}]`));
      }
    });
  checkSteps(plan.steps, 'steps', STEP_VALIDATION_SCHEMAS);
  checkSteps(plan.rollback ?? [], 'rollback', ROLLBACK_VALIDATION_SCHEMAS);
  return raw as PlanDefinition;
}

const INCIDENT_FIELDS = new Set(Object.keys(IncidentSchema.properties));
const STEP_RESULT_FIELDS = new Set(['output', 'status', 'error']);
const PLAN_FIELDS = new Set(['id', 'name', 'version']);
const EXECUTION_FIELDS = new Set(['id', 'started_at', 'dry_run']);

/** Every template of a step with its path, and whether secrets may appear in it. */
export function stepTemplates(step: PlanStep, field: string): { field: string; template: string; secretsAllowed: boolean }[] {
  const out: { field: string; template: string; secretsAllowed: boolean }[] = [];
  const add = (path: string, template: string | undefined, secretsAllowed = false) => {
    if (template !== undefined) out.push({ field: `${field}.with.${path}`, template, secretsAllowed });
  };
  switch (step.type) {
    case 'communicate':
      add('message', step.with.message);
      add('subject', step.with.subject);
      break;
    case 'http':
      add('url', step.with.url, true);
      for (const [name, value] of Object.entries(step.with.headers ?? {})) add(`headers.${name}`, value, true);
      add('body', step.with.body, true);
      break;
    case 'approval':
      add('prompt', step.with.prompt);
      break;
    case 'set_status':
      add('note', step.with.note);
      break;
    default:
      break;
  }
  return out;
}

/** Steps each step may read outputs of: everything it needs, directly or transitively. */
export function ancestorsOf(steps: readonly PlanStep[]): Map<string, Set<string>> {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const memo = new Map<string, Set<string>>();
  const visit = (id: string, path: Set<string>): Set<string> => {
    const cached = memo.get(id);
    if (cached) return cached;
    const result = new Set<string>();
    if (path.has(id)) return result;
    path.add(id);
    for (const need of byId.get(id)?.needs ?? []) {
      if (!byId.has(need)) continue;
      result.add(need);
      for (const a of visit(need, path)) result.add(a);
    }
    path.delete(id);
    memo.set(id, result);
    return result;
  };
  for (const s of steps) visit(s.id, new Set());
  return memo;
}

/** The cycle through `steps`, if there is one, as a list of ids. */
function findCycle(steps: readonly PlanStep[]): string[] | null {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | null => {
    if (state.get(id) === 'done') return null;
    if (state.get(id) === 'visiting') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'visiting');
    stack.push(id);
    for (const need of byId.get(id)?.needs ?? []) {
      if (!byId.has(need)) continue;
      const cycle = visit(need);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(id, 'done');
    return null;
  };
  for (const s of steps) {
    const cycle = visit(s.id);
    if (cycle) return cycle;
  }
  return null;
}

/** Checks one dotted reference used by a template or a `when` condition. */
function checkReference(
  name: string,
  field: string,
  readable: ReadonlySet<string>,
  allStepIds: ReadonlySet<string>,
  secretsAllowed: boolean,
  env: ValidationEnvironment,
): PlanProblem | null {
  if (name === '.') return null;
  const [root, first, second] = name.split('.');
  switch (root) {
    case 'incident':
      if (first === undefined) return { field, kind: 'reference', message: `${name}: name an incident field, e.g. incident.title` };
      return INCIDENT_FIELDS.has(first) || env.incidentFacts?.has(first) ? null : { field, kind: 'reference', message: `${name}: incidents have no field ${first}` };
    case 'plan':
      return first !== undefined && PLAN_FIELDS.has(first) ? null : { field, kind: 'reference', message: `${name}: plan has id, name and version` };
    case 'execution':
      return first !== undefined && EXECUTION_FIELDS.has(first) ? null : { field, kind: 'reference', message: `${name}: execution has id, started_at and dry_run` };
    case 'steps': {
      if (first === undefined) return { field, kind: 'reference', message: `${name}: name a step, e.g. steps.<id>.output` };
      if (!allStepIds.has(first)) return { field, kind: 'reference', name: first, message: `${name}: step ${first} does not exist` };
      if (!readable.has(first)) {
        return { field, kind: 'reference', name: first, message: `${name}: step ${first} is not among the steps this one needs, so its output may not exist yet` };
      }
      if (second !== undefined && !STEP_RESULT_FIELDS.has(second)) {
        return { field, kind: 'reference', message: `${name}: a step has output, status and error` };
      }
      return null;
    }
    case 'secrets': {
      if (!secretsAllowed) {
        return { field, kind: 'secret', message: `${name}: secrets may only appear in the url, headers and body of http steps` };
      }
      if (first === undefined || second !== undefined) return { field, kind: 'secret', message: `${name}: reference a secret as secrets.NAME` };
      if (env.secretNames && !env.secretNames.has(first)) {
        return { field, kind: 'secret', name: first, message: `${name}: secret ${first} does not exist; create it with PUT /api/v1/secrets/${first}` };
      }
      return null;
    }
    default:
      return { field, kind: 'reference', message: `${name}: unknown reference; templates may read incident.*, steps.<id>.*, plan.*, execution.* (and secrets.* in http steps)` };
  }
}

/** Names of secrets a plan references, for decrypting them once per execution and redacting them. */
export function referencedSecrets(plan: PlanDefinition): string[] {
  const names = new Set<string>();
  for (const step of [...plan.steps, ...(plan.rollback ?? [])] as PlanStep[]) {
    for (const t of stepTemplates(step, '')) {
      if (!t.secretsAllowed) continue;
      try {
        for (const name of parseTemplate(t.template, t.field)) if (name.startsWith('secrets.')) names.add(name.split('.')[1]!);
      } catch {
        // unparseable templates are reported by checkPlan
      }
    }
  }
  return [...names];
}

/** Semantic validation: ids, dependencies, cycles, templates, references, secrets and channels. */
export function checkPlan(plan: PlanDefinition, env: ValidationEnvironment = {}): PlanProblem[] {
  const problems: PlanProblem[] = [];
  const steps = plan.steps as PlanStep[];
  const rollback = (plan.rollback ?? []) as RollbackStep[];
  const mainIds = new Set<string>();
  const allIds = new Set<string>();
  const seen = new Map<string, string>();
  const located: { step: PlanStep; field: string; rollback: boolean }[] = [
    ...steps.map((step, i) => ({ step, field: `steps[${i}]`, rollback: false })),
    ...rollback.map((step, i) => ({ step, field: `rollback[${i}]`, rollback: true })),
  ];
  for (const { step, field, rollback: isRollback } of located) {
    const previous = seen.get(step.id);
    if (previous) problems.push({ field: `${field}.id`, kind: 'reference', message: `step id ${step.id} is already used by ${previous}` });
    seen.set(step.id, field);
    allIds.add(step.id);
    if (!isRollback) mainIds.add(step.id);
  }

  steps.forEach((step, i) =>
    (step.needs ?? []).forEach((need, j) => {
      const field = `steps[${i}].needs[${j}]`;
      if (need === step.id) problems.push({ field, kind: 'cycle', message: `step ${step.id} cannot need itself` });
      else if (!mainIds.has(need)) {
        problems.push({ field, kind: 'reference', name: need, message: `step ${need} does not exist${allIds.has(need) ? ' among the main steps (it is a rollback step)' : ''}` });
      }
    }),
  );
  const cycle = findCycle(steps);
  if (cycle) {
    const index = steps.findIndex((s) => s.id === cycle[0]);
    problems.push({ field: `steps[${index}].needs`, kind: 'cycle', message: `dependency cycle: ${cycle.join(' → ')}` });
  }
  rollback.forEach((step, i) => {
    if (step.needs?.length) problems.push({ field: `rollback[${i}].needs`, kind: 'reference', message: 'rollback steps run one after another in the order written; needs is not allowed' });
    (step.undoes ?? []).forEach((undone, j) => {
      if (!mainIds.has(undone)) problems.push({ field: `rollback[${i}].undoes[${j}]`, kind: 'reference', name: undone, message: `step ${undone} does not exist` });
    });
  });
  steps.forEach((step, i) => {
    if (step.on_failure === 'rollback' && rollback.length === 0) {
      problems.push({ field: `steps[${i}].on_failure`, kind: 'reference', message: 'on_failure is rollback but the plan declares no rollback steps' });
    }
  });

  const ancestors = ancestorsOf(steps);
  for (const { step, field, rollback: isRollback } of located) {
    // Rollback steps run after the main steps stopped, so they may read any main step's output.
    const readable = isRollback ? mainIds : (ancestors.get(step.id) ?? new Set<string>());
    for (const t of stepTemplates(step, field)) {
      let names: string[];
      try {
        names = parseTemplate(t.template, t.field);
      } catch (error) {
        problems.push({ field: t.field, kind: 'template', message: isAppError(error) ? error.message.replace(`${t.field}: `, '') : String(error) });
        continue;
      }
      for (const name of names) {
        const problem = checkReference(name, t.field, readable, allIds, t.secretsAllowed, env);
        if (problem) problems.push(problem);
      }
    }
    (step.when ?? []).forEach((condition, j) => {
      const cfield = `${field}.when[${j}]`;
      const problem = checkReference(condition.field, `${cfield}.field`, readable, allIds, false, env);
      if (problem) problems.push(problem);
      const operators = Object.keys(condition).filter((k) => k !== 'field');
      if (operators.length === 0) problems.push({ field: cfield, kind: 'schema', message: 'give at least one operator (equals, in, exists, severity_at_least, …)' });
    });
    if (step.type === 'communicate' && env.channelNames) {
      (step.with.channels ?? []).forEach((channel, j) => {
        if (!env.channelNames!.has(channel)) {
          problems.push({
            field: `${field}.with.channels[${j}]`,
            kind: 'channel',
            name: channel,
            message: `channel ${channel} does not exist; known channels: ${[...env.channelNames!].join(', ')}`,
          });
        }
      });
      if (step.with.channels?.includes('webhook') && !step.with.webhook_url) {
        problems.push({ field: `${field}.with.webhook_url`, kind: 'channel', message: 'the webhook channel needs webhook_url' });
      }
    }
    if (env.egress) problems.push(...egressProblems(step, field, env.egress));
    if (step.type === 'approval' && step.with.default && !step.with.timeout) {
      problems.push({ field: `${field}.with.default`, kind: 'schema', message: 'a default outcome needs a timeout after which it applies' });
    }
  }
  return problems;
}

/**
 * Outbound URLs the egress policy refuses. A templated URL is judged as written only when its host is
 * literal; whatever it renders to is judged again when the request connects.
 */
function egressProblems(step: PlanStep, field: string, egress: EgressPolicy): PlanProblem[] {
  const urls: { field: string; url: string }[] = [];
  if (step.type === 'http' && !/\{\{/.test(hostPart(step.with.url))) urls.push({ field: `${field}.with.url`, url: step.with.url });
  if (step.type === 'communicate' && step.with.webhook_url) urls.push({ field: `${field}.with.webhook_url`, url: step.with.webhook_url });
  if (step.type === 'verify') {
    step.with.checks.forEach((check, i) => {
      if ((check.kind === 'http' || check.kind === 'prometheus') && check.url) urls.push({ field: `${field}.with.checks[${i}].url`, url: check.url });
    });
  }
  return urls.flatMap(({ field: f, url }) => {
    const reason = egress.urlRefusal(url);
    return reason ? [{ field: f, kind: 'egress' as const, message: reason }] : [];
  });
}

function hostPart(url: string): string {
  return url.replace(/^[a-z]+:\/\//i, '').split(/[/?#]/)[0] ?? '';
}

/** Parses and checks; throws the first problem as an AppError with its field and every problem in `problems`. */
export function validatePlan(raw: unknown, env: ValidationEnvironment = {}): PlanDefinition {
  const plan = parsePlanDefinition(raw);
  const problems = checkPlan(plan, env);
  // A refused destination is a policy decision, not a mistake in the plan: it has its own code.
  const first = problems.find((p) => p.kind === 'egress') ?? problems[0];
  if (first) {
    throw new AppError(first.kind === 'egress' ? 'egress_denied' : 'unprocessable', `${first.field}: ${first.message}${problems.length > 1 ? ` (and ${problems.length - 1} more problems)` : ''}`, {
      field: first.field,
      problems: problems.map(({ field, message }) => ({ field, message })),
    });
  }
  return plan;
}

