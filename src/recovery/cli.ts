import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import type { CliContext } from '../cli/main.ts';
import { printTable } from '../cli/output.ts';
import type { PlanView } from './service.ts';
import type { ActionItem } from './schemas.ts';
import { ACTION_ITEM_STATUSES } from './schemas.ts';
import { formatSeconds } from './postmortem.ts';

const incidentPath = (id: string, suffix: string) => `/api/v1/incidents/${encodeURIComponent(id)}${suffix}`;

/** `firebreak recovery show`, `firebreak postmortem export`, `firebreak action-items list`. */
export function registerRecoveryCommands(program: Command, context: CliContext): void {
  const recovery = program.command('recovery').description('recovery plans of incidents');
  recovery
    .command('show <incident>')
    .description('objectives, elapsed time against the RTO, steps, critical path and projected completion')
    .action(async (incident: string) => {
      const plan = await context.client().request<PlanView>('GET', incidentPath(incident, '/recovery'));
      context.output(plan, () => {
        const rto = plan.rto.tracked
          ? `RTO ${plan.rto.objective_minutes} min (from ${plan.rto.source_service}), due ${plan.rto.due_at}, ` +
            `elapsed ${formatSeconds(plan.rto.elapsed_seconds)}${plan.rto.breached ? ' — BREACHED' : `, ${formatSeconds(plan.rto.remaining_seconds ?? 0)} left`}`
          : `no RTO tracking: ${plan.rto.note}`;
        process.stdout.write(
          `${plan.incident_id}: recovery ${plan.status}${plan.verification.verified_at ? ` at ${plan.verification.verified_at}` : ''}\n${rto}\n` +
            `projected completion ${plan.projected_completion_at ?? '-'}; critical path ${plan.critical_path.join(' → ') || '-'}\n\n`,
        );
        printTable(plan.steps, ['id', 'status', 'owner', 'estimate_minutes', 'started_at', 'completed_at', 'projected_finish_at', 'title']);
      });
    });

  const postmortem = program.command('postmortem').description('postmortems of incidents');
  postmortem
    .command('export <incident>')
    .description('print the postmortem as Markdown or a standalone HTML page')
    .addOption(new Option('--format <format>', 'md or html').choices(['md', 'html']).default('md'))
    .option('--output <file>', 'write to a file instead of stdout')
    .action(async (incident: string, opts: { format: 'md' | 'html'; output?: string }) => {
      const text = await context.client().request<string>('GET', incidentPath(incident, `/postmortem/export?format=${opts.format}`));
      if (opts.output) writeFileSync(opts.output, text);
      else process.stdout.write(text);
    });

  const items = program.command('action-items').description('action items across incidents');
  items
    .command('list')
    .option('--overdue', 'only open items past their due date')
    .option('--owner <owner>')
    .addOption(new Option('--status <status...>').choices(ACTION_ITEM_STATUSES))
    .action(async (opts: { overdue?: boolean; owner?: string; status?: string[] }) => {
      const query = new URLSearchParams();
      if (opts.overdue) query.set('overdue', 'true');
      if (opts.owner) query.set('owner', opts.owner);
      for (const s of opts.status ?? []) query.append('status', s);
      const list = await context.client().request<ActionItem[]>('GET', `/api/v1/action-items?${query}`);
      context.output(list, () => printTable(list, ['id', 'incident_id', 'priority', 'owner', 'due_date', 'status', 'overdue', 'title']));
    });
}
