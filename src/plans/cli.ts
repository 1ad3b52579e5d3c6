import fs from 'node:fs';
import type { Command } from 'commander';
import type { CliContext } from '../cli/main.ts';
import { printTable } from '../cli/output.ts';
import { AppError } from '../shared/errors.ts';
import { checkPlan, parsePlanDefinition } from './validate.ts';
import { parsePlanYaml } from './service.ts';
import type { DryRunReport, Execution, PlanDetail, PlanSummary } from './api.ts';

function readPlanFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new AppError('not_found', `cannot read ${file}: ${(error as Error).message}`);
  }
  return parsePlanYaml(text);
}

function printExecution(execution: Execution): void {
  printTable([execution as unknown as Record<string, unknown>], ['id', 'plan_id', 'plan_version', 'incident_id', 'status', 'trigger', 'started_at']);
  process.stdout.write('\n');
  printTable(execution.steps as unknown as Record<string, unknown>[], ['step_id', 'phase', 'type', 'status', 'attempt', 'error']);
  for (const waiting of execution.waiting_for) process.stdout.write(`waiting for ${waiting.kind} on ${waiting.step_id}: ${waiting.detail}\n`);
}

/** `firebreak plan …`: list, show, validate, apply, run, approve, decide, cancel, test. */
export function registerPlanCommands(program: Command, context: CliContext): void {
  const plan = program.command('plan').description('response plans: versioned runbooks executed durably');
  const planPath = (id: string, suffix = '') => `/api/v1/plans/${encodeURIComponent(id)}${suffix}`;

  plan.command('list').action(async () => {
    const plans = await context.client().request<PlanSummary[]>('GET', '/api/v1/plans');
    context.output(plans, () => printTable(plans as unknown as Record<string, unknown>[], ['id', 'version', 'enabled', 'step_count', 'trigger_count', 'source', 'last_tested_at']));
  });

  plan.command('show <id>').action(async (id: string) => {
    const shown = await context.client().request<PlanDetail>('GET', planPath(id));
    context.output(shown, () => {
      printTable([shown as unknown as Record<string, unknown>], ['id', 'name', 'version', 'enabled', 'source', 'last_tested_at']);
      process.stdout.write('\n');
      const steps = (shown.definition.steps as { id: string; type: string; needs?: string[]; on_failure?: string }[]).map((s) => ({ ...s, needs: s.needs ?? [] }));
      printTable(steps, ['id', 'type', 'needs', 'on_failure']);
      for (const p of shown.problems) process.stdout.write(`problem: ${p.field}: ${p.message}\n`);
    });
  });

  plan
    .command('validate <file>')
    .description('check a plan file: schema, dependencies, templates; with --remote also secrets and channels on the server')
    .option('--remote', 'also validate against the server (its secrets and channels)')
    .action(async (file: string, opts: { remote?: boolean }) => {
      const raw = readPlanFile(file);
      let problems: { field: string; message: string }[];
      if (opts.remote) {
        problems = (await context.client().request<{ problems: { field: string; message: string }[] }>('POST', '/api/v1/plans/validate', raw)).problems;
      } else {
        problems = checkPlan(parsePlanDefinition(raw)).map(({ field, message }) => ({ field, message }));
      }
      context.output({ valid: problems.length === 0, problems }, () => {
        for (const p of problems) process.stdout.write(`${file}: ${p.field}: ${p.message}\n`);
        if (problems.length === 0) process.stdout.write(`${file}: valid\n`);
      });
      if (problems.length) throw new AppError('unprocessable', `${file}: ${problems.length} problem${problems.length > 1 ? 's' : ''}`, { field: problems[0]!.field });
    });

  plan
    .command('apply <file>')
    .description('create the plan, or make a new version of it')
    .action(async (file: string) => {
      const raw = readPlanFile(file) as { id?: string };
      const client = context.client();
      let saved: PlanDetail;
      try {
        saved = await client.request<PlanDetail>('PUT', planPath(String(raw.id ?? '')), raw);
      } catch (error) {
        if (!(error instanceof AppError) || error.code !== 'not_found') throw error;
        saved = await client.request<PlanDetail>('POST', '/api/v1/plans', raw);
      }
      context.output(saved, () => process.stdout.write(`${saved.id} is at version ${saved.version}\n`));
    });

  plan
    .command('run <plan>')
    .requiredOption('--incident <id>', 'the incident to run it on')
    .option('--version <version>', 'a specific version, e.g. 1.2')
    .action(async (planId: string, opts: { incident: string; version?: string }) => {
      const execution = await context.client().request<Execution>('POST', planPath(planId, '/run'), { incident_id: opts.incident, ...(opts.version ? { version: opts.version } : {}) });
      context.output(execution, () => printExecution(execution));
    });

  plan.command('execution <id>').description('show an execution and its steps').action(async (id: string) => {
    const execution = await context.client().request<Execution>('GET', `/api/v1/executions/${encodeURIComponent(id)}`);
    context.output(execution, () => printExecution(execution));
  });

  plan
    .command('approve <execution> <step>')
    .option('--reject', 'reject instead of approving')
    .option('--comment <text>')
    .action(async (executionId: string, step: string, opts: { reject?: boolean; comment?: string }) => {
      const execution = await context
        .client()
        .request<Execution>('POST', `/api/v1/executions/${encodeURIComponent(executionId)}/steps/${encodeURIComponent(step)}/${opts.reject ? 'reject' : 'approve'}`, opts.comment ? { comment: opts.comment } : {});
      context.output(execution, () => printExecution(execution));
    });

  plan
    .command('decide <execution> <step> <action>')
    .description('for a step interrupted mid-flight: retry, skip or fail')
    .option('--comment <text>')
    .action(async (executionId: string, step: string, action: string, opts: { comment?: string }) => {
      if (!['retry', 'skip', 'fail'].includes(action)) throw new AppError('validation_failed', 'action: must be retry, skip or fail', { field: 'action' });
      const execution = await context
        .client()
        .request<Execution>('POST', `/api/v1/executions/${encodeURIComponent(executionId)}/steps/${encodeURIComponent(step)}/decide`, { action, ...(opts.comment ? { comment: opts.comment } : {}) });
      context.output(execution, () => printExecution(execution));
    });

  plan.command('cancel <execution>').action(async (executionId: string) => {
    const execution = await context.client().request<Execution>('POST', `/api/v1/executions/${encodeURIComponent(executionId)}/cancel`, {});
    context.output(execution, () => printExecution(execution));
  });

  plan
    .command('test <plan>')
    .description('dry run against a synthetic incident: nothing is sent')
    .option('--version <version>')
    .action(async (planId: string, opts: { version?: string }) => {
      const report = await context.client().request<DryRunReport>('POST', planPath(planId, '/test'), opts.version ? { version: opts.version } : {});
      context.output(report, () => {
        printTable(report.steps.map((s) => ({ ...s, preview: s.preview === null ? '-' : JSON.stringify(s.preview).slice(0, 100) })), ['step_id', 'phase', 'type', 'outcome', 'detail']);
        for (const p of report.problems) process.stdout.write(`problem: ${p.field}: ${p.message}\n`);
        for (const r of report.recommendations) process.stdout.write(`recommendation: ${r}\n`);
      });
    });
}
