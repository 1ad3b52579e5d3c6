import type { Static } from 'typebox';
import { api } from '../api.ts';
import { useAsync } from '../hooks.ts';
import { ProblemDisplay } from '../components/forms.tsx';
import { formatCount, formatDuration, formatNumber, formatPercent } from '../format.ts';
import type { SloStatusSchema } from '../../../src/llm/schemas.ts';

type SloStatus = Static<typeof SloStatusSchema>;

const windowLabel = (minutes: number) => formatDuration(minutes * 60);

/**
 * LLM health at a glance: per service, each SLO's objective, SLI, error budget left, and every
 * burn-rate rule's short and long windows against its threshold, with the alert the SLO raised.
 */
export function SloPanel({ services }: { services?: readonly string[] }) {
  const slos = useAsync((signal) => api.get<SloStatus[]>('/api/v1/slos', { signal }), []);
  if (slos.state === 'error') return <ProblemDisplay problem={slos.error.problem} />;
  if (!slos.data) return <p class="muted">Loading…</p>;
  const shown = slos.data.filter((s) => !services || services.includes(s.service));
  if (!shown.length) return services ? null : <p class="muted">No SLOs are configured.</p>;
  const byService = new Map<string, SloStatus[]>();
  for (const slo of shown) byService.set(slo.service, [...(byService.get(slo.service) ?? []), slo]);
  return (
    <div class="slo-view" data-testid="slo-view">
      {[...byService.entries()].map(([service, list]) => (
        <section key={service} class="slo-service" data-service={service}>
          <h3>{service}</h3>
          {list.map((slo) => (
            <div key={slo.name} class={`slo${slo.alert ? ` slo-alert-${slo.alert}` : ''}`} data-slo={slo.name}>
              <p>
                <strong>{slo.name}</strong> <span class="muted">({slo.kind}{slo.threshold_ms !== null ? ` ≤ ${formatCount(slo.threshold_ms)} ms` : ''})</span>: objective{' '}
                {formatPercent(slo.objective, 3)} over {slo.window_days} days; SLI {slo.sli === null ? 'no traffic' : formatPercent(slo.sli, 3)} ({formatCount(slo.bad)} bad of{' '}
                {formatCount(slo.requests)}).
              </p>
              <div class="budget" role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(Math.max(0, slo.error_budget_remaining) * 100)} aria-label={`Error budget left for ${slo.name}`}>
                <span class="budget-fill" style={{ width: `${Math.max(0, Math.min(1, slo.error_budget_remaining)) * 100}%` }} />
                <span class="budget-text" data-testid="budget-left">
                  {formatPercent(slo.error_budget_remaining, 1)} of the error budget left
                </span>
              </div>
              <table class="burn-rates">
                <thead>
                  <tr>
                    <th scope="col">rule</th>
                    <th scope="col">threshold</th>
                    <th scope="col">short window</th>
                    <th scope="col">long window</th>
                    <th scope="col">state</th>
                  </tr>
                </thead>
                <tbody>
                  {slo.burn_rates.map((rule) => (
                    <tr key={rule.severity} class={rule.firing ? 'firing' : ''}>
                      <th scope="row">{rule.severity}</th>
                      <td>{formatNumber(rule.threshold)}×</td>
                      <td>
                        {formatNumber(rule.short.burn_rate, 2)}× over {windowLabel(rule.short.window_minutes)}
                      </td>
                      <td>
                        {formatNumber(rule.long.burn_rate, 2)}× over {windowLabel(rule.long.window_minutes)}
                      </td>
                      <td>{rule.firing ? <strong class="unacked">firing</strong> : 'ok'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <p class="muted">{slo.alert ? <strong class="unacked">Raised a {slo.alert} alert.</strong> : 'No alert raised.'}</p>
            </div>
          ))}
        </section>
      ))}
    </div>
  );
}

export function SloDashboardPanel() {
  return <SloPanel />;
}
