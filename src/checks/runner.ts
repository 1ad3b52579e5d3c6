import type { CheckKind, CheckResult, CheckSpec } from './schemas.ts';
import { compare } from './compare.ts';
import { describeOutboundError, type EgressClient } from '../egress/index.ts';

export type CheckEvaluator<S extends CheckSpec = CheckSpec> = (spec: S) => Promise<Omit<CheckResult, 'kind' | 'at' | 'duration_ms'>>;

/**
 * Evaluates check specs. HTTP and Prometheus checks are built in; checks over Firebreak's own data
 * (`no_firing_alerts`, `llm_stat`) are registered by the capabilities that own that data.
 */
export class CheckRunner {
  private readonly evaluators = new Map<CheckKind, CheckEvaluator>();

  constructor(
    private readonly options: { egress: EgressClient; prometheusUrl?: string | undefined; clock?: () => Date },
  ) {
    this.register('http', (spec) => evaluateHttpCheck(options.egress, spec as Extract<CheckSpec, { kind: 'http' }>));
    this.register('prometheus', (spec) => evaluatePrometheusCheck(options.egress, spec as Extract<CheckSpec, { kind: 'prometheus' }>, this.options.prometheusUrl));
  }

  /** Refuses, naming `field`, a check whose URL the egress policy refuses (when a check is saved or validated). */
  assertReachable(spec: CheckSpec, field: string): void {
    if ((spec.kind === 'http' || spec.kind === 'prometheus') && spec.url) this.options.egress.policy.assertUrl(spec.url, `${field}.url`);
  }

  register<K extends CheckKind>(kind: K, evaluator: CheckEvaluator<Extract<CheckSpec, { kind: K }>>): void {
    this.evaluators.set(kind, evaluator as CheckEvaluator);
  }

  /** Never throws: a check that cannot run has failed, and says why. */
  async evaluate(spec: CheckSpec): Promise<CheckResult> {
    const clock = this.options.clock ?? (() => new Date());
    const startedAt = clock();
    const started = performance.now();
    const evaluator = this.evaluators.get(spec.kind);
    let outcome: Omit<CheckResult, 'kind' | 'at' | 'duration_ms'>;
    if (!evaluator) {
      outcome = { passed: false, observed: {}, expected: describeSpec(spec), detail: `no evaluator for ${spec.kind} checks is installed` };
    } else {
      try {
        outcome = await evaluator(spec);
      } catch (error) {
        outcome = { passed: false, observed: {}, expected: describeSpec(spec), detail: `check failed to run: ${(error as Error).message}` };
      }
    }
    return { kind: spec.kind, ...outcome, at: startedAt.toISOString(), duration_ms: Math.round(performance.now() - started) };
  }

  async evaluateAll(specs: readonly CheckSpec[]): Promise<CheckResult[]> {
    return Promise.all(specs.map((spec) => this.evaluate(spec)));
  }
}

export function describeSpec(spec: CheckSpec): string {
  switch (spec.kind) {
    case 'http':
      return `${spec.method ?? 'GET'} ${spec.url} answers ${spec.expect_status ? spec.expect_status.join(' or ') : '2xx'}${spec.body_contains ? ` containing "${spec.body_contains}"` : ''}`;
    case 'prometheus':
      return `${spec.query} ${spec.op} ${spec.threshold} for every series`;
    case 'no_firing_alerts':
      return `no firing alerts for service ${spec.service}`;
    case 'llm_stat':
      return `${spec.stat} of ${spec.service} over ${spec.window_minutes} min ${spec.op} ${spec.threshold}`;
  }
}

async function evaluateHttpCheck(egress: EgressClient, spec: Extract<CheckSpec, { kind: 'http' }>) {
  const expected = describeSpec(spec);
  const started = performance.now();
  let response: Response;
  try {
    response = await egress.fetch(spec.url, { method: spec.method ?? 'GET', signal: AbortSignal.timeout(spec.timeout_ms ?? 5000), redirect: 'manual' });
  } catch (error) {
    const cause = describeOutboundError(error);
    return { passed: false, observed: { error: cause }, expected, detail: `${spec.url} unreachable: ${cause}` };
  }
  const latencyMs = Math.round(performance.now() - started);
  const body = spec.body_contains ? await response.text() : (await response.body?.cancel(), '');
  const statusOk = spec.expect_status ? spec.expect_status.includes(response.status) : response.status >= 200 && response.status < 300;
  const bodyOk = spec.body_contains ? body.includes(spec.body_contains) : true;
  const observed = { status: response.status, latency_ms: latencyMs, ...(spec.body_contains ? { body_excerpt: body.slice(0, 200) } : {}) };
  return {
    passed: statusOk && bodyOk,
    observed,
    expected,
    detail: `${spec.url} answered ${response.status} in ${latencyMs} ms${bodyOk ? '' : `, body lacks "${spec.body_contains}"`}`,
  };
}

interface PrometheusResponse {
  status: string;
  error?: string;
  data?: { resultType: string; result: unknown };
}

async function evaluatePrometheusCheck(egress: EgressClient, spec: Extract<CheckSpec, { kind: 'prometheus' }>, defaultUrl: string | undefined) {
  const expected = describeSpec(spec);
  const base = spec.url ?? defaultUrl;
  if (!base) return { passed: false, observed: {}, expected, detail: 'no Prometheus URL: set FIREBREAK_PROMETHEUS_URL or the check url' };
  const url = new URL('/api/v1/query', base);
  url.searchParams.set('query', spec.query);
  let response: Response;
  try {
    response = await egress.fetch(url, { signal: AbortSignal.timeout(spec.timeout_ms ?? 5000), redirect: 'manual' });
  } catch (error) {
    const cause = describeOutboundError(error);
    return { passed: false, observed: { error: cause }, expected, detail: `Prometheus at ${new URL(base).host} unreachable: ${cause}` };
  }
  const payload = (await response.json()) as PrometheusResponse;
  if (payload.status !== 'success' || !payload.data) {
    return { passed: false, observed: { http_status: response.status }, expected, detail: `Prometheus error: ${payload.error ?? response.status}` };
  }
  const samples = samplesOf(payload.data);
  if (samples.length === 0) return { passed: false, observed: { samples: [] }, expected, detail: 'query returned no data' };
  const failing = samples.filter((s) => !compare(s.value, spec.op, spec.threshold));
  return {
    passed: failing.length === 0,
    observed: { samples },
    expected,
    detail: failing.length === 0 ? `all ${samples.length} series hold` : `${failing.length} of ${samples.length} series do not hold`,
  };
}

function samplesOf(data: { resultType: string; result: unknown }): { labels: Record<string, string>; value: number }[] {
  if (data.resultType === 'scalar') return [{ labels: {}, value: Number((data.result as [number, string])[1]) }];
  if (data.resultType === 'vector') {
    return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
  }
  return [];
}
