import { Option, type Command } from 'commander';
import type { CliContext } from '../cli/main.ts';
import { printTable } from '../cli/output.ts';
import { AppError } from '../shared/errors.ts';
import { CHANGE_KINDS, type Change, type SuspectsResponse } from './schemas.ts';

/** `change list|record|suspects|webhook-secret`. */
export function registerChangeCommands(program: Command, context: CliContext): void {
  const change = program.command('change').description('change events: deploys, model and prompt rollouts, and the suspects of an incident');
  change
    .command('list')
    .option('--service <service...>', 'only these services')
    .addOption(new Option('--kind <kind...>').choices(CHANGE_KINDS))
    .option('--from <time>', 'ISO-8601, inclusive')
    .option('--to <time>', 'ISO-8601, inclusive')
    .option('--limit <n>', 'page size', '50')
    .option('--cursor <cursor>', 'next_cursor of the previous page')
    .action(async (opts: { service?: string[]; kind?: string[]; from?: string; to?: string; limit: string; cursor?: string }) => {
      const query = new URLSearchParams();
      for (const s of opts.service ?? []) query.append('service', s);
      for (const k of opts.kind ?? []) query.append('kind', k);
      if (opts.from) query.set('from', opts.from);
      if (opts.to) query.set('to', opts.to);
      if (opts.cursor) query.set('cursor', opts.cursor);
      query.set('limit', opts.limit);
      const page = await context.client().request<{ items: Change[]; next_cursor: string | null }>('GET', `/api/v1/changes?${query}`);
      context.output(page, () => {
        printTable(
          page.items.map((c) => ({ ...c, versions: c.version_to ? `${c.version_from ?? '?'} → ${c.version_to}` : '' })),
          ['id', 'at', 'service', 'kind', 'source', 'versions', 'summary'],
        );
        if (page.next_cursor) process.stdout.write(`\nmore: --cursor ${page.next_cursor}\n`);
      });
    });
  change
    .command('record')
    .description('record a change by hand (needs the responder role)')
    .requiredOption('--service <service>')
    .addOption(new Option('--kind <kind>').choices(CHANGE_KINDS).makeOptionMandatory())
    .requiredOption('--summary <text>')
    .option('--from <version>', 'version before the change')
    .option('--to <version>', 'version after the change')
    .option('--at <time>', 'when it took effect (ISO-8601), default now')
    .option('--link <url...>')
    .action(async (opts: { service: string; kind: string; summary: string; from?: string; to?: string; at?: string; link?: string[] }) => {
      const created = await context.client().request<Change>('POST', '/api/v1/changes', {
        service: opts.service,
        kind: opts.kind,
        summary: opts.summary,
        ...(opts.from ? { version_from: opts.from } : {}),
        ...(opts.to ? { version_to: opts.to } : {}),
        ...(opts.at ? { at: opts.at } : {}),
        ...(opts.link ? { links: opts.link.map((href) => ({ href })) } : {}),
      });
      context.output(created, () => printTable([created], ['id', 'at', 'service', 'kind', 'summary']));
    });
  change
    .command('suspects <incident>')
    .description('changes ranked as likely causes of an incident, with the parts of each score')
    .option('--window-hours <h>', 'how far before detection to look', '24')
    .option('--limit <n>', 'how many', '10')
    .action(async (incident: string, opts: { windowHours: string; limit: string }) => {
      const hours = Number(opts.windowHours);
      if (!(hours > 0)) throw new AppError('validation_failed', '--window-hours: must be a positive number', { field: 'window-hours' });
      const result = await context
        .client()
        .request<SuspectsResponse>('GET', `/api/v1/incidents/${encodeURIComponent(incident)}/changes?window_hours=${hours}&limit=${encodeURIComponent(opts.limit)}`);
      context.output(result, () => {
        printTable(
          result.items.map((s) => ({ rank: s.rank, score: s.score, id: s.change.id, kind: s.change.kind, service: s.change.service, at: s.change.at, followed_by: s.followed_by.count, reason: s.reason })),
          ['rank', 'score', 'id', 'kind', 'service', 'at', 'followed_by', 'reason'],
        );
        process.stdout.write(`\n${result.considered} changes considered in ${result.window.from} → ${result.window.to}; ${result.scoring.formula}\n`);
      });
    });
  change
    .command('webhook-secret <integration>')
    .description('set or generate the secret GitHub signs webhooks with for this integration (admin); shown once')
    .option('--secret <secret>', 'use this secret instead of a generated one (16+ characters)')
    .action(async (integration: string, opts: { secret?: string }) => {
      const result = await context
        .client()
        .request<{ integration_id: string; secret: string }>('PUT', `/api/v1/integrations/${encodeURIComponent(integration)}/webhook-secret`, opts.secret ? { secret: opts.secret } : {});
      context.output(result, () => process.stdout.write(`webhook secret for ${result.integration_id} (shown only once): ${result.secret}\n`));
    });
}
