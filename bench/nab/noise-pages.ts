/**
 * Development aid: pages a detector configuration raises on traffic with no anomaly in it, per series,
 * averaged over seeds: Gaussian and log-normal noise (ten days of five-minute points), a daily sine with
 * noise, and a week of per-minute TTFT p95 and cost per hour simulated the way the replay test's traffic
 * makes them (test/llm/traffic.ts). Every page here is a false one. The service runs the detector's one
 * configuration and raises rises only; `--confirm` adds its confirmation: a detection pages only when
 * the next `confirmAfterPoints` - 1 points stay above its normal band.
 *   npx tsx bench/nab/noise-pages.ts '[{"recordTolerance":0},{}]' [seeds=20] [--confirm]
 */
import { createAnomalyDetector } from '../../src/llm/detect/index.ts';
import { DEFAULT_LLM_OPTIONS } from '../../src/llm/service.ts';
import { seededRandom } from '../../test/support/random.ts';

const START = Date.parse('2026-01-05T00:00:00Z');
const FIVE_MINUTES = 300_000;
const MINUTE = 60_000;

function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(2 * Math.PI * r());
}

/** Calls in the minute at `t`, with the replay traffic's diurnal rate (25 a minute on average). */
function callsAt(r: () => number, t: number): number {
  const hour = new Date(t).getUTCHours() + new Date(t).getUTCMinutes() / 60;
  const rate = 25 * (1 + 0.6 * Math.sin((2 * Math.PI * (hour - 9)) / 24));
  return Math.max(0, Math.round(rate + Math.sqrt(rate) * gauss(r)));
}

const series: Record<string, { step: number; points: number; value: (r: () => number, t: number) => number }> = {
  gaussian_5m_10d: { step: FIVE_MINUTES, points: 2880, value: (r) => 100 + 5 * gauss(r) },
  lognormal_5m_10d: { step: FIVE_MINUTES, points: 2880, value: (r) => 100 * Math.exp(0.3 * gauss(r)) },
  daily_sine_1m_7d: { step: MINUTE, points: 10_080, value: (r, t) => 100 + 30 * Math.sin((2 * Math.PI * t) / 86_400_000) + 5 * gauss(r) },
  ttft_p95_1m_7d: {
    step: MINUTE,
    points: 10_080,
    value: (r, t) => {
      // The service feeds a point once it holds 20 calls or more.
      const n = Math.max(20, callsAt(r, t));
      const ttfts = Array.from({ length: n }, () => 300 * Math.exp(0.15 * gauss(r))).sort((a, b) => a - b);
      return ttfts[Math.ceil(0.95 * n) - 1]!;
    },
  },
  cost_per_hour_1m_7d: {
    step: MINUTE,
    points: 10_080,
    value: (r, t) => {
      let cost = 0;
      for (let k = callsAt(r, t); k > 0; k--) cost += (400 + 200 * r()) * 2.5e-6 + (150 + 100 * r()) * 1e-5;
      return cost * 60;
    },
  },
};

const variants = JSON.parse(process.argv[2] ?? '[{}]') as Record<string, number>[];
const seeds = Number(process.argv[3] ?? 20);
const confirmAfterPoints = process.argv.includes('--confirm') ? DEFAULT_LLM_OPTIONS.confirmAfterPoints : 1;
for (const overrides of variants) {
  const out: string[] = [];
  for (const [name, s] of Object.entries(series)) {
    let pages = 0;
    for (let seed = 1; seed <= seeds; seed++) {
      const r = seededRandom(seed * 7919);
      const d = createAnomalyDetector({ ...DEFAULT_LLM_OPTIONS.detector, ...overrides });
      // The service's normal band (LlmTelemetryService.onDetection) and the points above it so far.
      let unconfirmed: { normalUpper: number; above: number } | null = null;
      for (let i = 0; i < s.points; i++) {
        const t = START + i * s.step;
        const detection = d.update(t, s.value(r, t));
        if (unconfirmed) {
          if (!(detection.value > unconfirmed.normalUpper)) unconfirmed = null;
          else if (++unconfirmed.above >= confirmAfterPoints) {
            pages++;
            unconfirmed = null;
          }
        } else if (detection.anomalous && detection.value > detection.baseline) {
          if (confirmAfterPoints <= 1) pages++;
          else unconfirmed = { normalUpper: detection.baseline + Math.max(3 * detection.scale, 0.1 * Math.abs(detection.baseline)), above: 1 };
        }
      }
    }
    out.push(`${name}=${(pages / seeds).toFixed(2)}`);
  }
  console.log(JSON.stringify(overrides), 'pages per series:', out.join(' '));
}
