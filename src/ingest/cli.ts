import fs from 'node:fs';
import { Option, type Command } from 'commander';
import type { CliContext } from '../cli/main.ts';
import { printTable } from '../cli/output.ts';
import { AppError } from '../shared/errors.ts';
import { ALERT_SEVERITIES, ALERT_STATUSES, LINK_KINDS, type Alert, type CreatedIntegration, type Integration, type IncidentLink, type RelatedCandidate, type RoutingRuleSet } from './schemas.ts';

/** `integration`, `alert` and `routing-rules` groups, plus `incident related` and `incident link`. */
export function registerIngestCommands(program: Command, context: CliContext): void {
  const integration = program.command('integration').description('alert integrations and their routing keys (admin)');
  integration
    .command('create')
    .requiredOption('--name <name>')
    .requiredOption('--service <service>', 'the catalogue service its alerts belong to')
    .option('--rate <perSecond>', 'sustained events per second')
    .option('--burst <events>', 'events accepted at once')
    .action(async (opts: { name: string; service: string; rate?: string; burst?: string }) => {
      const rateLimit =
        opts.rate || opts.burst ? { per_second: Number(opts.rate ?? 200), burst: Number(opts.burst ?? Math.max(1, Math.ceil(Number(opts.rate ?? 200) * 10))) } : undefined;
      const created = await context.client().request<CreatedIntegration>('POST', '/api/v1/integrations', {
        name: opts.name,
        service: opts.service,
        ...(rateLimit ? { rate_limit: rateLimit } : {}),
      });
      context.output(created, () => {
        printTable([created], ['id', 'name', 'service']);
        process.stdout.write(`\nrouting key (shown only once): ${created.routing_key}\n`);
      });
    });
  integration
    .command('list')
    .option('--service <service>')
    .action(async (opts: { service?: string }) => {
      const list = await context.client().request<Integration[]>('GET', `/api/v1/integrations${opts.service ? `?service=${encodeURIComponent(opts.service)}` : ''}`);
      context.output(list, () =>
        printTable(
          list.map((i) => ({ ...i, key: `${i.key_hint}…`, rate: `${i.rate_limit.per_second}/s burst ${i.rate_limit.burst}` })),
          ['id', 'name', 'service', 'key', 'rate', 'created_at'],
        ),
      );
    });

  const alert = program.command('alert').description('alerts received from monitoring and from Firebreak’s detectors');
  alert
    .command('list')
    .addOption(new Option('--status <status...>').choices(ALERT_STATUSES))
    .addOption(new Option('--severity <severity...>').choices(ALERT_SEVERITIES))
    .option('--service <service>')
    .option('--incident <id>')
    .option('--limit <n>', 'page size', '50')
    .action(async (opts: { status?: string[]; severity?: string[]; service?: string; incident?: string; limit: string }) => {
      const query = new URLSearchParams();
      for (const s of opts.status ?? []) query.append('status', s);
      for (const s of opts.severity ?? []) query.append('severity', s);
      if (opts.service) query.set('service', opts.service);
      if (opts.incident) query.set('incident_id', opts.incident);
      query.set('limit', opts.limit);
      const page = await context.client().request<{ items: Alert[] }>('GET', `/api/v1/alerts?${query}`);
      context.output(page, () =>
        printTable(page.items, ['id', 'status', 'severity', 'service', 'summary', 'occurrences', 'incident_id', 'decision', 'rule', 'last_seen_at']),
      );
    });

  const rules = program.command('routing-rules').description('the routing rule set (YAML)');
  rules.command('show').action(async () => {
    const current = await context.client().request<RoutingRuleSet>('GET', '/api/v1/routing-rules');
    context.output(current, () => process.stdout.write(`# version ${current.version} (${current.source}, ${current.created_by})\n${current.yaml}\n`));
  });
  rules
    .command('apply <file>')
    .description('replace the rule set with a YAML file (admin)')
    .option('--version <n>', 'the version your edit is based on')
    .action(async (file: string, opts: { version?: string }) => {
      let yaml: string;
      try {
        yaml = fs.readFileSync(file, 'utf8');
      } catch (error) {
        throw new AppError('validation_failed', `${file}: ${(error as Error).message}`, { field: 'file' });
      }
      const saved = await context.client().request<RoutingRuleSet>('PUT', '/api/v1/routing-rules', { yaml, ...(opts.version ? { version: Number(opts.version) } : {}) });
      context.output(saved, () => process.stdout.write(`routing rules are now version ${saved.version} (${saved.document.rules?.length ?? 0} rules)\n`));
    });

  const incident = program.commands.find((c) => c.name() === 'incident') ?? program.command('incident');
  incident
    .command('related <id>')
    .description('incidents that likely belong with this one, and its links')
    .option('--limit <n>', 'candidates', '20')
    .action(async (id: string, opts: { limit: string }) => {
      const related = await context
        .client()
        .request<{ candidates: RelatedCandidate[]; links: IncidentLink[] }>('GET', `/api/v1/incidents/${encodeURIComponent(id)}/related?limit=${encodeURIComponent(opts.limit)}`);
      context.output(related, () => {
        printTable(related.candidates, ['incident_id', 'score', 'status', 'title', 'evidence', 'reason']);
        if (related.links.length) {
          process.stdout.write('\nlinks:\n');
          printTable(related.links, ['id', 'from_incident', 'kind', 'to_incident', 'created_by', 'note']);
        }
      });
    });
  incident
    .command('link <id> <to>')
    .description('record that <id> is related to / a duplicate of / caused by <to>')
    .addOption(new Option('--kind <kind>').choices(LINK_KINDS).default('related'))
    .option('--note <text>')
    .action(async (id: string, to: string, opts: { kind: string; note?: string }) => {
      const link = await context
        .client()
        .request<IncidentLink>('POST', `/api/v1/incidents/${encodeURIComponent(id)}/links`, { to, kind: opts.kind, ...(opts.note ? { note: opts.note } : {}) });
      context.output(link, () => process.stdout.write(`linked ${link.from_incident} ${link.kind} ${link.to_incident} (link ${link.id})\n`));
    });
}
