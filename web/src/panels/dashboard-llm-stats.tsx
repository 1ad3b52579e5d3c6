import { useEffect, useRef, useState } from 'preact/hooks';
import { api, query } from '../api.ts';
import { useAsync } from '../hooks.ts';
import type { DashboardRange } from '../registry.ts';
import { ProblemDisplay } from '../components/forms.tsx';
import { formatDuration, formatTime } from '../format.ts';
import type { Alert } from '../types.ts';

interface Quantiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}
interface StatsPoint {
  start: string;
  end: string;
  requests: number;
  error_rate: number | null;
  latency_ms: Quantiles;
  ttft_ms: Quantiles;
  cost_usd: number;
  cost_per_hour: number | null;
}
interface StatsSeries {
  service: string;
  provider: string;
  model: string;
  points: StatsPoint[];
}
interface StatsResponse {
  step_seconds: number;
  series: StatsSeries[];
}

/** About this many points per chart, in whole minutes as the API requires. */
const TARGET_POINTS = 60;
/** Detections are alerts raised by the LLM anomaly detectors under this source. */
const DETECTOR_SOURCE = 'firebreak.detector';

const seriesKey = (s: StatsSeries) => `${s.service}/${s.provider}/${s.model}`;

/** A step (whole minutes, as the API requires) giving about TARGET_POINTS points over the span. */
export function stepFor(fromMs: number, toMs: number): number {
  const seconds = (toMs - fromMs) / 1000;
  return Math.min(90 * 86_400, Math.max(60, Math.round(seconds / TARGET_POINTS / 60) * 60));
}

/**
 * The stats over the range at a step that follows it; when the traffic fills only a small part of the
 * range (a service live for a day, charted over 30 days), asked again over the part with traffic at a
 * step that follows that part, so a day of traffic is a day of points rather than one or two.
 */
async function loadStats(range: DashboardRange, signal: AbortSignal, services?: readonly string[]): Promise<StatsResponse & { zoomed: { from: string; to: string } | null }> {
  const ask = (from: number, to: number) =>
    api.get<StatsResponse>(`/api/v1/llm/stats${query({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), step: stepFor(from, to) })}`, { signal });
  const from = range.from.getTime();
  const to = range.to.getTime();
  const wide = await ask(from, to);
  const busy = wide.series.filter((s) => !services || services.includes(s.service)).flatMap((s) => s.points.filter((p) => p.requests > 0));
  if (!busy.length) return { ...wide, zoomed: null };
  const first = Math.min(...busy.map((p) => Date.parse(p.start)));
  const last = Math.max(...busy.map((p) => Date.parse(p.end)));
  if ((last - first) * 4 >= to - from || wide.step_seconds <= 60) return { ...wide, zoomed: null };
  const narrow = await ask(first, Math.min(to, last));
  return { ...narrow, zoomed: { from: new Date(first).toISOString(), to: new Date(Math.min(to, last)).toISOString() } };
}

async function load(range: DashboardRange, signal: AbortSignal, services?: readonly string[]): Promise<{ stats: StatsResponse & { zoomed: { from: string; to: string } | null }; detections: Alert[] }> {
  const [stats, detections] = await Promise.all([
    loadStats(range, signal, services),
    api
      .get<{ items: Alert[] }>(`/api/v1/alerts${query({ source: DETECTOR_SOURCE, limit: 500 })}`, { signal })
      .then((page) => page.items.filter((a) => a.first_seen_at >= range.from.toISOString() && a.first_seen_at < range.to.toISOString()))
      // Without alert ingestion there are no detections to mark; the stats still stand.
      .catch(() => [] as Alert[]),
  ]);
  return { stats, detections };
}

/** LLM service stats: error rate, latency and TTFT percentiles and cost, with detections marked. */
export function LlmStatsPanel({ range, services, hideWhenQuiet }: { range: DashboardRange; services?: readonly string[]; hideWhenQuiet?: boolean }) {
  const data = useAsync((signal) => load(range, signal, services), [range.from.getTime(), range.to.getTime(), services?.join() ?? '']);
  const [chosen, setChosen] = useState('');
  if (data.state === 'error' && data.error.status === 404) return null;
  if (data.state === 'error') return <ProblemDisplay problem={data.error.problem} />;
  if (!data.data) return <p class="muted">Loading…</p>;
  const { stats, detections } = data.data;
  const withTraffic = stats.series.filter((s) => (!services || services.includes(s.service)) && s.points.some((p) => p.requests > 0));
  if (!withTraffic.length) return hideWhenQuiet ? null : <p class="muted">No LLM requests recorded in this range.</p>;
  const series = withTraffic.find((s) => seriesKey(s) === chosen) ?? withTraffic[0]!;
  const marks = detections.filter((d) => d.service === series.service);
  return (
    <div class="llm-stats" data-testid="llm-stats">
      <div class="field">
        <label for="llm-series">Service, provider and model</label>
        <select id="llm-series" value={seriesKey(series)} onChange={(e) => setChosen(e.currentTarget.value)}>
          {withTraffic.map((s) => (
            <option key={seriesKey(s)} value={seriesKey(s)}>
              {s.service} · {s.provider} · {s.model}
            </option>
          ))}
        </select>
      </div>
      <p class="muted" data-testid="llm-step">
        {stats.zoomed ? `Traffic only from ${formatTime(stats.zoomed.from)} to ${formatTime(stats.zoomed.to)}: charted there, ` : ''}
        one point per {formatDuration(stats.step_seconds)}.
      </p>
      <LlmCharts series={series} detections={marks} stepSeconds={stats.step_seconds} />
      {marks.length ? (
        <>
          <h3>Detections</h3>
          <ul class="detections">
            {marks.map((d) => (
              <li key={d.id}>
                <span aria-hidden="true">▲</span> {formatTime(d.first_seen_at)} — {d.summary}
              </li>
            ))}
          </ul>
        </>
      ) : (
        <p class="muted">No detections for {series.service} in this range.</p>
      )}
    </div>
  );
}

function LlmCharts({ series, detections, stepSeconds }: { series: StatsSeries; detections: Alert[]; stepSeconds: number }) {
  const refs = [useRef<HTMLCanvasElement>(null), useRef<HTMLCanvasElement>(null), useRef<HTMLCanvasElement>(null), useRef<HTMLCanvasElement>(null)];
  const key = `${seriesKey(series)}:${series.points.length}:${series.points[0]?.start}:${detections.length}`;
  useEffect(() => {
    let disposed = false;
    const charts: { destroy(): void }[] = [];
    void import('../charts.ts').then(({ Chart }) => {
      if (disposed) return;
      // Labels carry the date once points span more than a day, and only the date at daily steps.
      const spanMs = series.points.length ? Date.parse(series.points[series.points.length - 1]!.end) - Date.parse(series.points[0]!.start) : 0;
      const labels = series.points.map((p) =>
        stepSeconds >= 86_400 ? p.start.slice(5, 10) : spanMs > 86_400_000 ? `${p.start.slice(5, 10)} ${p.start.slice(11, 16)}` : p.start.slice(11, 16),
      );
      // The bucket each detection falls in: a triangle is drawn there on every chart.
      const marked = new Set(
        detections.map((d) => series.points.findIndex((p) => d.first_seen_at >= p.start && d.first_seen_at < p.end)).filter((i) => i >= 0),
      );
      const markers = (values: (number | null)[]) => ({
        type: 'line' as const,
        label: 'Detection',
        data: values.map((v, i) => (marked.has(i) ? (v ?? 0) : null)),
        showLine: false,
        pointStyle: 'triangle' as const,
        pointRadius: 8,
        borderColor: '#b3261e',
        backgroundColor: '#b3261e',
      });
      const line = (label: string, values: (number | null)[], colour: string, dash: number[] = []) => ({
        type: 'line' as const,
        label,
        data: values,
        borderColor: colour,
        backgroundColor: colour,
        borderDash: dash,
        // Visible even when the range holds a single bucket.
        pointRadius: 3,
        spanGaps: true,
      });
      const build = (canvas: HTMLCanvasElement | null, datasets: ReturnType<typeof line>[], unit: string, main: (number | null)[]) => {
        if (!canvas) return;
        charts.push(
          new Chart(canvas, {
            type: 'line',
            data: { labels, datasets: marked.size ? [...datasets, markers(main)] : datasets },
            options: { maintainAspectRatio: false, interaction: { mode: 'index', intersect: false }, scales: { y: { beginAtZero: true, title: { display: true, text: unit } } } },
          }),
        );
      };
      const pts = series.points;
      const errorRate = pts.map((p) => (p.error_rate === null ? null : p.error_rate * 100));
      build(refs[0]!.current, [line('Error rate', errorRate, '#b3261e')], '%', errorRate);
      const p95 = pts.map((p) => p.latency_ms.p95);
      build(
        refs[1]!.current,
        [line('p50', pts.map((p) => p.latency_ms.p50), '#1d4ed8'), line('p95', p95, '#c2410c', [6, 3]), line('p99', pts.map((p) => p.latency_ms.p99), '#52606d', [2, 2])],
        'ms',
        p95,
      );
      const ttft95 = pts.map((p) => p.ttft_ms.p95);
      build(
        refs[2]!.current,
        [line('p50', pts.map((p) => p.ttft_ms.p50), '#1d4ed8'), line('p95', ttft95, '#c2410c', [6, 3]), line('p99', pts.map((p) => p.ttft_ms.p99), '#52606d', [2, 2])],
        'ms',
        ttft95,
      );
      const cost = pts.map((p) => p.cost_per_hour);
      build(refs[3]!.current, [line('Cost per hour', cost, '#15803d')], 'USD/h', cost);
    });
    return () => {
      disposed = true;
      for (const chart of charts) chart.destroy();
    };
  }, [key]);
  const totalCost = series.points.reduce((sum, p) => sum + p.cost_usd, 0);
  const requests = series.points.reduce((sum, p) => sum + p.requests, 0);
  return (
    <>
      <p>
        {requests.toLocaleString()} requests, cost ${totalCost.toFixed(2)} in this range.
      </p>
      <div class="chart-grid">
        {['Error rate', 'Latency percentiles', 'Time to first token percentiles', 'Cost per hour'].map((title, i) => (
          <figure key={title}>
            <figcaption>{title}</figcaption>
            <div class="chart-box">
              <canvas ref={refs[i]} role="img" aria-label={`${title} of ${series.service} over time; triangles mark detections`} />
            </div>
          </figure>
        ))}
      </div>
    </>
  );
}
