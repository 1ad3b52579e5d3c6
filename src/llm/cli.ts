import type { Command } from 'commander';
import type { CliContext } from '../cli/main.ts';
import { printTable } from '../cli/output.ts';
import type { DetectorStatus, SloStatus } from './service.ts';
import type { StatsPoint } from './buckets.ts';

type StatsResponse = { series: { service: string; provider: string; model: string; points: (StatsPoint & { start: string })[] }[] };

const percent = (value: number | null) => (value === null ? '–' : `${(value * 100).toFixed(2)}%`);
const number = (value: number | null, digits = 0) => (value === null ? '–' : value.toFixed(digits));

export function registerLlmCommands(program: Command, context: CliContext): void {
  const slo = program.command('slo').description('SLOs over LLM traffic: error budget left and burn rates');
  slo
    .command('list')
    .option('--service <service>')
    .action(async (opts: { service?: string }) => {
      const statuses = await context.client().request<SloStatus[]>('GET', opts.service ? `/api/v1/slos/${encodeURIComponent(opts.service)}` : '/api/v1/slos');
      context.output(statuses, () =>
        printTable(
          statuses.map((s) => ({
            ...s,
            objective: percent(s.objective),
            sli: percent(s.sli),
            budget_left: percent(s.error_budget_remaining),
            burn_1h_5m: `${s.burn_rates[0]!.long.burn_rate.toFixed(1)}× / ${s.burn_rates[0]!.short.burn_rate.toFixed(1)}×`,
            alert: s.alert ?? '',
          })),
          ['service', 'name', 'kind', 'objective', 'window_days', 'sli', 'budget_left', 'burn_1h_5m', 'alert'],
        ),
      );
    });

  const llm = program.command('llm').description('LLM telemetry: statistics and detectors');
  llm
    .command('stats')
    .requiredOption('--from <iso>', 'start of the range (ISO 8601)')
    .option('--to <iso>', 'end of the range (default: now)')
    .option('--service <service>')
    .option('--provider <provider>')
    .option('--model <model>')
    .option('--step <seconds>', 'seconds per row (a multiple of 60)')
    .action(async (opts: { from: string; to?: string; service?: string; provider?: string; model?: string; step?: string }) => {
      const query = new URLSearchParams({ from: opts.from, to: opts.to ?? new Date().toISOString() });
      for (const key of ['service', 'provider', 'model', 'step'] as const) if (opts[key]) query.set(key, opts[key]!);
      const stats = await context.client().request<StatsResponse>('GET', `/api/v1/llm/stats?${query}`);
      context.output(stats, () =>
        printTable(
          stats.series.flatMap((s) =>
            s.points.map((p) => ({
              series: `${s.service} ${s.provider} ${s.model}`,
              start: p.start,
              requests: p.requests,
              errors: percent(p.error_rate),
              '429': percent(p.rate_limit_rate),
              p95_ms: number(p.latency_ms.p95),
              ttft_p95_ms: number(p.ttft_ms.p95),
              tokens_s: number(p.tokens_per_second, 1),
              cost_h: number(p.cost_per_hour, 2),
              safety: percent(p.safety_flag_rate),
            })),
          ),
          ['series', 'start', 'requests', 'errors', '429', 'p95_ms', 'ttft_p95_ms', 'tokens_s', 'cost_h', 'safety'],
        ),
      );
    });
  llm
    .command('detectors')
    .option('--service <service>')
    .action(async (opts: { service?: string }) => {
      const detectors = await context.client().request<DetectorStatus[]>('GET', `/api/v1/llm/detectors${opts.service ? `?service=${encodeURIComponent(opts.service)}` : ''}`);
      context.output(detectors, () =>
        printTable(
          detectors.map((d) => ({ ...d, series: `${d.service} ${d.provider} ${d.model}`, state: d.alert_open ? 'ALERT' : d.firing ? 'firing' : d.learning ? 'learning' : 'watching', last_value: number(d.last_value, 3) })),
          ['series', 'signal', 'points', 'state', 'last_value', 'last_at'],
        ),
      );
    });
}
