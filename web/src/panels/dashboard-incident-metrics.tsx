import { useEffect, useRef } from 'preact/hooks';
import { api, query } from '../api.ts';
import { useAsync } from '../hooks.ts';
import type { DashboardRange } from '../registry.ts';
import { ProblemDisplay } from '../components/forms.tsx';
import { formatDuration } from '../format.ts';
import type { IncidentMetrics } from '../types.ts';

const DAY_MS = 86_400_000;
/** Same hues as the severity badges, which also carry a shape and a word; the legend names each series. */
const SEVERITY_COLOURS: Record<string, string> = { critical: '#b3261e', high: '#c2410c', medium: '#a16207', low: '#1d4ed8' };
const MAX_PARALLEL = 6;

interface Bucket {
  label: string;
  metrics: IncidentMetrics;
}

function buckets(range: DashboardRange): { from: Date; to: Date; label: string }[] {
  const step = range.bucket === 'week' ? 7 * DAY_MS : DAY_MS;
  const out: { from: Date; to: Date; label: string }[] = [];
  for (let t = range.from.getTime(); t < range.to.getTime(); t += step) {
    const from = new Date(t);
    const to = new Date(Math.min(t + step, range.to.getTime()));
    out.push({ from, to, label: from.toISOString().slice(5, 10) });
  }
  return out;
}

const fetchMetrics = (from: Date, to: Date, signal: AbortSignal) =>
  api.get<IncidentMetrics>(`/api/v1/metrics/incidents${query({ from: from.toISOString(), to: to.toISOString() })}`, { signal });

async function loadSeries(range: DashboardRange, signal: AbortSignal): Promise<{ total: IncidentMetrics; series: Bucket[] }> {
  const slots = buckets(range);
  const series: Bucket[] = new Array(slots.length);
  let next = 0;
  const worker = async () => {
    while (next < slots.length) {
      const index = next++;
      const slot = slots[index]!;
      series[index] = { label: slot.label, metrics: await fetchMetrics(slot.from, slot.to, signal) };
    }
  };
  const [total] = await Promise.all([fetchMetrics(range.from, range.to, signal), ...Array.from({ length: MAX_PARALLEL }, worker)]);
  return { total, series };
}

const minutes = (seconds: number | null) => (seconds === null ? null : Math.round((seconds / 60) * 10) / 10);

/** MTTA / MTTR and incident counts over time, from `GET /api/v1/metrics/incidents` per bucket. */
export function IncidentMetricsPanel({ range }: { range: DashboardRange }) {
  const data = useAsync((signal) => loadSeries(range, signal), [range.from.getTime(), range.to.getTime(), range.bucket]);
  const countsRef = useRef<HTMLCanvasElement>(null);
  const timesRef = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    if (data.state !== 'ready') return;
    let disposed = false;
    const charts: { destroy(): void }[] = [];
    void import('../charts.ts').then(({ Chart }) => {
      if (disposed || !countsRef.current || !timesRef.current) return;
      const labels = data.data.series.map((b) => b.label);
      charts.push(
        new Chart(countsRef.current, {
          type: 'bar',
          data: {
            labels,
            datasets: ['critical', 'high', 'medium', 'low'].map((severity) => ({
              label: severity,
              data: data.data.series.map((b) => b.metrics.counts_by_severity[severity as 'low'] ?? 0),
              backgroundColor: SEVERITY_COLOURS[severity],
            })),
          },
          options: {
            responsive: true,
            maintainAspectRatio: false,
            scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'incidents' } } },
          },
        }),
      );
      charts.push(
        new Chart(timesRef.current, {
          type: 'line',
          data: {
            labels,
            datasets: [
              { label: 'MTTA median (min)', data: data.data.series.map((b) => minutes(b.metrics.overall.mtta.median_seconds)), borderColor: '#1d4ed8', backgroundColor: '#1d4ed8', spanGaps: true },
              {
                label: 'MTTR median (min)',
                data: data.data.series.map((b) => minutes(b.metrics.overall.mttr.median_seconds)),
                borderColor: '#b3261e',
                backgroundColor: '#b3261e',
                borderDash: [6, 4],
                pointStyle: 'rectRot',
                spanGaps: true,
              },
            ],
          },
          options: {
            responsive: true,
            maintainAspectRatio: false,
            scales: { y: { beginAtZero: true, title: { display: true, text: 'minutes' } } },
          },
        }),
      );
    });
    return () => {
      disposed = true;
      for (const chart of charts) chart.destroy();
    };
  }, [data.state, data.data]);

  if (data.state === 'error') return <ProblemDisplay problem={data.error.problem} />;
  if (!data.data) return <p class="muted">Loading metrics…</p>;
  const { total, series } = data.data;
  const overall = total.overall;
  return (
    <div class="metrics">
      <dl class="tiles" data-testid="metric-tiles">
        <div>
          <dt>Incidents</dt>
          <dd>{overall.total}</dd>
        </div>
        <div>
          <dt>Resolved</dt>
          <dd>
            {overall.resolved}
            {overall.resolution_rate !== null ? <small> ({Math.round(overall.resolution_rate * 100)}%)</small> : null}
          </dd>
        </div>
        <div>
          <dt>MTTA (median)</dt>
          <dd>{formatDuration(overall.mtta.median_seconds)}</dd>
        </div>
        <div>
          <dt>MTTR (median)</dt>
          <dd>{formatDuration(overall.mttr.median_seconds)}</dd>
        </div>
        <div>
          <dt>MTTR (p90)</dt>
          <dd>{formatDuration(overall.mttr.p90_seconds)}</dd>
        </div>
      </dl>
      <div class="chart-grid">
        <figure>
          <figcaption>Incidents detected per {range.bucket}, by severity</figcaption>
          <div class="chart-box">
            <canvas ref={countsRef} role="img" aria-label={`Bar chart of incidents per ${range.bucket} by severity; ${overall.total} in total. The table below has the figures.`} />
          </div>
        </figure>
        <figure>
          <figcaption>Median time to acknowledge and to resolve, per {range.bucket}</figcaption>
          <div class="chart-box">
            <canvas ref={timesRef} role="img" aria-label="Line chart of median MTTA and MTTR in minutes. The table below has the figures." />
          </div>
        </figure>
      </div>
      <details>
        <summary>Figures as a table</summary>
        <div class="table-scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">{range.bucket} from</th>
                <th scope="col">incidents</th>
                <th scope="col">critical</th>
                <th scope="col">high</th>
                <th scope="col">medium</th>
                <th scope="col">low</th>
                <th scope="col">MTTA median</th>
                <th scope="col">MTTR median</th>
              </tr>
            </thead>
            <tbody>
              {series.map((b) => (
                <tr key={b.label}>
                  <th scope="row">{b.label}</th>
                  <td>{b.metrics.overall.total}</td>
                  <td>{b.metrics.counts_by_severity.critical}</td>
                  <td>{b.metrics.counts_by_severity.high}</td>
                  <td>{b.metrics.counts_by_severity.medium}</td>
                  <td>{b.metrics.counts_by_severity.low}</td>
                  <td>{formatDuration(b.metrics.overall.mtta.median_seconds)}</td>
                  <td>{formatDuration(b.metrics.overall.mttr.median_seconds)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </div>
  );
}
