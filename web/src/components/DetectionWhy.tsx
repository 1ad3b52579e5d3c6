/**
 * Why a Firebreak detector fired, from the alert's own details: the rule, the recent values drawn
 * against the baseline band, and the detector's sentence. Renders nothing for alerts without a rule.
 */
import { humanise } from '../format.ts';

interface Band {
  lower: number;
  upper: number;
}

interface Point {
  at: string;
  value: number | null;
}

function readDetails(details: Record<string, unknown>): { rule: string; why: string | null; band: Band | null; baseline: number | null; values: Point[] } | null {
  if (typeof details.rule !== 'string') return null;
  const band = details.band as Partial<Band> | undefined;
  const values = Array.isArray(details.values) ? (details.values as Partial<Point>[]) : [];
  return {
    rule: details.rule,
    why: typeof details.why === 'string' ? details.why : null,
    band: band && typeof band.lower === 'number' && typeof band.upper === 'number' ? { lower: band.lower, upper: band.upper } : null,
    baseline: typeof details.baseline === 'number' ? details.baseline : null,
    values: values.filter((p): p is Point => typeof p.at === 'string' && (typeof p.value === 'number' || p.value === null)),
  };
}

function formatValue(x: number): string {
  return Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3);
}

const WIDTH = 240;
const HEIGHT = 48;

export function DetectionWhy({ details }: { details: Record<string, unknown> }) {
  const d = readDetails(details);
  if (!d) return null;
  const numbers = d.values.map((p) => p.value).filter((v): v is number => v !== null);
  const all = [...numbers, ...(d.band ? [d.band.lower, d.band.upper] : []), ...(d.baseline !== null ? [d.baseline] : [])];
  const lo = all.length ? Math.min(...all) : 0;
  const hi = all.length ? Math.max(...all) : 1;
  const y = (v: number) => HEIGHT - 2 - ((v - lo) / (hi - lo || 1)) * (HEIGHT - 4);
  const x = (i: number) => (d.values.length > 1 ? (i / (d.values.length - 1)) * WIDTH : WIDTH / 2);
  const path = d.values
    .map((p, i) => (p.value === null ? null : `${x(i).toFixed(1)},${y(p.value).toFixed(1)}`))
    .filter((s): s is string => s !== null)
    .join(' ');
  const last = numbers.length ? numbers[numbers.length - 1]! : null;
  return (
    <div class="detection-why" data-rule={d.rule}>
      <span class="badge status">rule: {humanise(d.rule)}</span>
      {d.why ? <span class="why"> {d.why}</span> : null}
      {numbers.length ? (
        <svg class="why-chart" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} width={WIDTH} height={HEIGHT} role="img" aria-label={`Recent values${d.band ? ` against the band ${formatValue(d.band.lower)} to ${formatValue(d.band.upper)}` : ''}${last !== null ? `, latest ${formatValue(last)}` : ''}`}>
          {d.band ? <rect class="why-band" x={0} width={WIDTH} y={y(d.band.upper)} height={Math.max(1, y(d.band.lower) - y(d.band.upper))} /> : null}
          {d.baseline !== null ? <line class="why-baseline" x1={0} x2={WIDTH} y1={y(d.baseline)} y2={y(d.baseline)} /> : null}
          <polyline class="why-values" points={path} />
        </svg>
      ) : null}
      {d.band ? (
        <span class="muted why-band-text">
          {' '}
          normal band {formatValue(d.band.lower)} – {formatValue(d.band.upper)}
          {last !== null ? `, latest ${formatValue(last)}` : ''}
        </span>
      ) : null}
    </div>
  );
}
