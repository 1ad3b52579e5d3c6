import { describeSpec } from '../checks/index.ts';
import { redactSecrets } from '../shared/crypto.ts';
import { renderTemplate, unresolvedReferences } from '../shared/templates.ts';
import { isTransitionAllowed, type Incident, type IncidentStatus, type Severity } from '../incidents/index.ts';
import { failedCondition, failurePolicy, isIdempotent, lookupPath, versionLabel } from './domain.ts';
import type { MessageSender } from './messaging.ts';
import type { PlanDefinition, PlanStep, RollbackStep } from './schemas.ts';
import { performStep, redactDeep, type StepEffects, type StepView } from './steps.ts';
import { referencedSecrets, stepTemplates, type PlanProblem } from './validate.ts';
import type { DryRunReport, DryRunRequest } from './api.ts';

export interface DryRunDeps {
  sender: MessageSender;
  assess(incident: Incident, windowMinutes: number): Promise<Record<string, unknown>>;
  /** Secret values that exist (missing ones are problems, shown as placeholders). */
  secrets: Map<string, string>;
  /** Problems from validation against the current environment. */
  problems: PlanProblem[];
  clock: () => Date;
  /** Facts the real engine adds to the incident (`suspect_change`), computed for the synthetic one. */
  facts?(incident: Incident): Promise<Record<string, unknown>>;
}

/** The incident a dry run pretends to respond to: the first one the plan's scope and triggers would accept. */
export function syntheticIncident(plan: PlanDefinition, overrides: DryRunRequest['incident'], now: Date): Incident {
  const trigger = plan.triggers?.[0];
  const severity: Severity = overrides?.severity ?? trigger?.severity_at_least ?? plan.scope?.severities?.[0] ?? 'high';
  const services = overrides?.services ?? plan.scope?.services ?? trigger?.services ?? [];
  const iso = now.toISOString();
  return {
    id: 'INC-DRYRUN-0001',
    title: overrides?.title ?? `Dry run of ${plan.name}`,
    description: 'synthetic incident for a dry run; nothing was sent',
    severity,
    status: 'detected',
    impact: { users_affected: null, revenue: null, description: null },
    services,
    team: null,
    assignee: null,
    detected_at: iso,
    acknowledged_at: null,
    acknowledged_by: null,
    resolved_at: null,
    actions_taken: [],
    root_cause: null,
    resolution: null,
    lessons_learned: null,
    labels: overrides?.labels ?? trigger?.labels ?? {},
    created_by: 'dry-run',
    created_at: iso,
    updated_at: iso,
    version: 1,
  };
}

function topologicalOrder(steps: readonly PlanStep[]): PlanStep[] {
  const done = new Set<string>();
  const out: PlanStep[] = [];
  let remaining = [...steps];
  while (remaining.length) {
    const ready = remaining.filter((s) => (s.needs ?? []).every((n) => done.has(n)));
    if (ready.length === 0) return [...out, ...remaining]; // a cycle: validation reports it
    for (const s of ready) {
      done.add(s.id);
      out.push(s);
    }
    remaining = remaining.filter((s) => !done.has(s.id));
  }
  return out;
}

/**
 * Runs the plan against a synthetic incident with every side effect replaced by a preview of exactly
 * what would be sent: HTTP requests rendered (secrets redacted), messages as each channel would get
 * them, status moves checked against the lifecycle. Recommendations are derived from what went wrong.
 */
export async function dryRun(planId: string, seq: number, plan: PlanDefinition, request: DryRunRequest, deps: DryRunDeps): Promise<DryRunReport> {
  const now = deps.clock();
  const incident: Incident = syntheticIncident(plan, request.incident, now);
  if (deps.facts) Object.assign(incident, await deps.facts(incident));
  const problems: PlanProblem[] = [...deps.problems];
  const recommendations = new Set<string>();
  const secretValues = [...deps.secrets.values()];
  const secretView = Object.fromEntries(referencedSecrets(plan).map((name) => [name, deps.secrets.get(name) ?? `[missing secret ${name}]`]));
  const view: StepView = {
    incident,
    plan: { id: planId, name: plan.name, version: versionLabel(seq) },
    execution: { id: 'dry-run', started_at: now.toISOString(), dry_run: true },
    steps: {},
  };
  const previews: { preview: unknown }[] = [];
  const effects: StepEffects = {
    http: async (req) => {
      previews.push({ preview: { method: req.method, url: req.url, headers: req.headers, body: req.body ?? null } });
      return { preview: true };
    },
    send: async (message) => ({ preview: true, deliveries: deps.sender.preview(message) }),
    transition: async (current, to) => {
      const from = current.status as IncidentStatus;
      if (from !== to && !isTransitionAllowed(from, to)) throw new Error(`the incident would be ${from} here and cannot move to ${to}`);
      view.incident = { ...current, status: to };
      return { from, to, changed: from !== to, preview: true };
    },
    checks: async (specs) => ({ preview: true, would_check: specs.map(describeSpec) }),
    assess: (i, minutes) => deps.assess(i, minutes),
  };

  const steps: DryRunReport['steps'] = [];
  const failed = new Set<string>();
  let stopped: string | null = null;
  const simulate = async (step: PlanStep, field: string, phase: 'main' | 'rollback') => {
    const record = (outcome: DryRunReport['steps'][number]['outcome'], detail: string, preview: unknown) => {
      steps.push({ step_id: step.id, phase, type: step.type, outcome, detail: redactSecrets(detail, secretValues), preview: redactDeep(preview ?? null, secretValues) });
      view.steps[step.id] = { status: outcome === 'would_run' || outcome === 'would_wait' ? 'succeeded' : outcome === 'would_skip' ? 'skipped' : 'failed', output: preview ?? null, error: null };
    };
    if (phase === 'main' && stopped) return record('would_skip', `not reached: step ${stopped} would have stopped the plan`, null);
    const blocked = (step.needs ?? []).find((n) => failed.has(n));
    if (blocked) return record('would_skip', `not reached: needed step ${blocked} would fail`, null);
    const why = failedCondition(step.when, view);
    if (why) return record('would_skip', `condition not met: ${why}`, null);

    // References that do not resolve against the synthetic incident and earlier previews.
    for (const t of stepTemplates(step, field)) {
      const unresolved = unresolvedReferences(t.template, { ...view, secrets: secretView } as unknown as Record<string, unknown>, t.field).filter((name) => {
        const [root, stepId] = name.split('.');
        // Outputs of http steps exist only once the real target answered; they are not a problem here.
        if (root === 'steps' && stepId && lookupPath(view.steps, `${stepId}.status`) === 'succeeded' && plan.steps.find((s) => s.id === stepId)?.type === 'http') return false;
        return root !== 'secrets';
      });
      for (const name of unresolved) problems.push({ field: t.field, kind: 'template', message: `${name} does not resolve in this dry run, so it would render empty` });
    }

    if (step.type === 'approval') {
      const prompt = renderTemplate(step.with.prompt, view as unknown as Record<string, unknown>);
      return record('would_wait', `would wait for ${step.with.role ?? 'responder'} approval${step.with.timeout ? ` for up to ${step.with.timeout}, then ${step.with.default ?? 'reject'}` : ' with no timeout'}; assumed approved`, {
        prompt,
        role: step.with.role ?? 'responder',
        timeout: step.with.timeout ?? null,
        default: step.with.default ?? null,
      });
    }
    if (step.type === 'wait') return record('would_wait', `would wait ${step.with.duration}`, { duration: step.with.duration });

    previews.length = 0;
    const stepView = step.type === 'http' ? { ...view, secrets: secretView } : view;
    try {
      const outcome = await performStep(step, stepView, effects, { executionId: 'dry-run', planId, planVersion: versionLabel(seq), actor: `plan:${planId}`, timeoutMs: 0 });
      const preview = step.type === 'http' ? (previews[0]?.preview ?? outcome.output) : outcome.output;
      if (outcome.status === 'failed') throw new Error(outcome.error ?? outcome.summary);
      return record('would_run', outcome.summary, preview);
    } catch (error) {
      const message = (error as Error).message;
      failed.add(step.id);
      problems.push({ field, kind: 'schema', message: `would fail: ${message}` });
      if (phase === 'main' && failurePolicy(step) !== 'continue') stopped = step.id;
      return record('would_fail', message, null);
    }
  };

  const order = topologicalOrder(plan.steps as PlanStep[]);
  for (const step of order) await simulate(step, `steps[${(plan.steps as PlanStep[]).indexOf(step)}]`, 'main');
  const rollback = (plan.rollback ?? []) as RollbackStep[];
  for (const [i, step] of rollback.entries()) await simulate(step, `rollback[${i}]`, 'rollback');

  // Recommendations follow from the problems found and from what the plan would do.
  for (const p of problems) {
    if (p.kind === 'secret' && p.name) recommendations.add(`Create secret ${p.name} (PUT /api/v1/secrets/${p.name}) before this plan runs: ${p.field} uses it.`);
    else if (p.kind === 'channel' && p.name) recommendations.add(`Use one of the channels this server knows at ${p.field}, or install a channel named ${p.name}.`);
    else recommendations.add(`Fix ${p.field}: ${p.message}.`);
  }
  const undone = new Set(rollback.flatMap((s) => s.undoes ?? []));
  for (const step of plan.steps as PlanStep[]) {
    if (step.type === 'http' && !isIdempotent(step) && !undone.has(step.id)) {
      recommendations.add(`Step ${step.id} changes something (${step.with.method} ${step.with.url}) and no rollback step undoes it: declare one with undoes: [${step.id}].`);
    }
    if (step.type === 'approval' && !step.with.timeout) recommendations.add(`Approval ${step.id} has no timeout, so the plan can wait forever at 3 a.m.: set timeout and default.`);
  }
  const changers = (plan.steps as PlanStep[]).filter((s) => s.type === 'http' && s.with.method !== 'GET');
  if (changers.length && !plan.steps.some((s) => s.type === 'verify')) {
    recommendations.add(`Nothing verifies the effect of ${changers.map((s) => s.id).join(', ')}: add a verify step that needs them.`);
  }
  return {
    plan_id: planId,
    version: versionLabel(seq),
    tested_at: now.toISOString(),
    incident: incident as unknown as Record<string, unknown>,
    steps,
    problems: problems.map(({ field, message }) => ({ field, message: redactSecrets(message, secretValues) })),
    recommendations: [...recommendations],
  };
}
