import { Option, type Command } from 'commander';
import type { CliContext } from '../cli/main.ts';
import { printTable } from '../cli/output.ts';
import { AppError } from '../shared/errors.ts';
import type { OnCallAnswer } from './schemas.ts';
import type { Channel } from './notify/schemas.ts';

/** `firebreak oncall` and `firebreak channel …`, through the HTTP API like every other command. */
export function onCallCommands(program: Command, context: CliContext): void {
  program
    .command('oncall')
    .description('who is on call, per team and schedule')
    .option('--at <iso>', 'instant to ask about (ISO-8601, default now)')
    .option('--team <team>', 'only this team')
    .action(async (opts: { at?: string; team?: string }) => {
      const query = new URLSearchParams();
      if (opts.at) {
        const at = new Date(opts.at);
        if (Number.isNaN(at.getTime())) throw new AppError('validation_failed', `--at: ${opts.at} is not an ISO-8601 time`, { field: 'at' });
        query.set('at', at.toISOString());
      }
      if (opts.team) query.set('team', opts.team);
      const answer = await context.client().request<OnCallAnswer>('GET', `/api/v1/oncall${query.size ? `?${query}` : ''}`);
      context.output(answer, () => {
        const rows = answer.teams.flatMap((t) =>
          t.schedules.map((s) => ({
            team: t.team,
            schedule: s.schedule,
            on_call: s.on_call?.user ?? '(nobody)',
            via: s.on_call?.via ?? '-',
            until: s.on_call?.until ?? '-',
            time_zone: s.time_zone,
          })),
        );
        process.stdout.write(`on call at ${answer.at}\n`);
        printTable(rows, ['team', 'schedule', 'on_call', 'via', 'until', 'time_zone']);
      });
    });

  const channel = program.command('channel').description('notification channels (webhook, Slack, Teams, e-mail)');
  channel.command('list').action(async () => {
    const channels = await context.client().request<Channel[]>('GET', '/api/v1/notification-channels');
    context.output(channels, () => printTable(channels, ['id', 'kind', 'name', 'team', 'min_severity', 'enabled']));
  });
  channel
    .command('test <id>')
    .description('send a real test message through the channel now')
    .addOption(new Option('--quiet', 'print nothing on success'))
    .action(async (id: string, opts: { quiet?: boolean }) => {
      const result = await context
        .client()
        .request<{ ok: boolean; detail: string; duration_ms: number }>('POST', `/api/v1/notification-channels/${encodeURIComponent(id)}/test`);
      context.output(result, () => {
        if (!result.ok || !opts.quiet) process.stdout.write(`${result.ok ? 'delivered' : 'FAILED'}: ${result.detail} (${result.duration_ms} ms)\n`);
      });
      if (!result.ok) throw new AppError('upstream_failed', `channel ${id} test failed: ${result.detail}`);
    });
}
