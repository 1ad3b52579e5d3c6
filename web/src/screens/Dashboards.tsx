import { getDashboardPanels, type DashboardRange, type ScreenProps } from '../registry.ts';
import { navigate } from '../router.tsx';

const RANGES = [
  { days: 7, label: 'Last 7 days', bucket: 'day' },
  { days: 30, label: 'Last 30 days', bucket: 'day' },
  { days: 90, label: 'Last 90 days', bucket: 'week' },
] as const;

const DAY_MS = 86_400_000;

/** Whole UTC days ending with today, so buckets line up with the dates people read. */
export function rangeFor(days: number, bucket: 'day' | 'week', now = new Date()): DashboardRange {
  const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) + DAY_MS);
  return { from: new Date(to.getTime() - days * DAY_MS), to, bucket };
}

export function Dashboards({ search }: ScreenProps) {
  const days = Number(search.get('days') ?? 30);
  const chosen = RANGES.find((r) => r.days === days) ?? RANGES[1];
  const range = rangeFor(chosen.days, chosen.bucket);
  return (
    <div class="dashboards">
      <div class="screen-head">
        <h1>Dashboards</h1>
        <div class="field inline">
          <label for="range">Period</label>
          <select id="range" value={String(chosen.days)} onChange={(e) => navigate(`/dashboards?days=${e.currentTarget.value}`, { replace: true })}>
            {RANGES.map((r) => (
              <option key={r.days} value={String(r.days)}>
                {r.label}
              </option>
            ))}
          </select>
        </div>
      </div>
      {getDashboardPanels().map((panel) => (
        <section key={`${panel.id}-${chosen.days}`} class="panel dashboard-panel" aria-labelledby={`dash-${panel.id}`}>
          <h2 id={`dash-${panel.id}`}>{panel.title}</h2>
          <panel.component range={range} />
        </section>
      ))}
    </div>
  );
}
