import { fromJson, toJson, viewAs, type Executor } from '../storage/index.ts';
import { emptyErrorCounts, type BucketRecord } from './buckets.ts';
import { ERROR_KINDS } from './records.ts';
import type { LlmTables } from './schema.ts';

const tables = (executor: Executor) => viewAs<LlmTables>(executor);

type BucketRow = LlmTables['llm_buckets'];

export async function insertBuckets(executor: Executor, records: readonly BucketRecord[], nowIso: string): Promise<void> {
  if (records.length === 0) return;
  const rows = records.map((r) => ({
    service: r.service,
    provider: r.provider,
    model: r.model,
    bucket_start: new Date(r.bucketStartMs).toISOString(),
    bucket_seconds: r.bucketSeconds,
    requests: r.requests,
    err_server_error: r.errors.server_error,
    err_rate_limit: r.errors.rate_limit,
    err_timeout: r.errors.timeout,
    err_content_filter: r.errors.content_filter,
    err_client_error: r.errors.client_error,
    err_other: r.errors.other,
    input_tokens: r.inputTokens,
    output_tokens: r.outputTokens,
    cost_usd: r.costUsd,
    cost_count: r.costCount,
    safety_flags: r.safetyFlags,
    latency_sketch: toJson(r.latency),
    ttft_sketch: toJson(r.ttft),
    latency_within: toJson(r.latencyWithin),
    created_at: nowIso,
  }));
  // Keep each statement under both drivers' parameter limits; callers pass a transaction so a failure leaves nothing half-written.
  for (let i = 0; i < rows.length; i += 200) await tables(executor).insertInto('llm_buckets').values(rows.slice(i, i + 200)).execute();
}

function recordOf(row: Omit<BucketRow, 'id'>): BucketRecord {
  const errors = emptyErrorCounts();
  for (const kind of ERROR_KINDS) errors[kind] = Number(row[`err_${kind}`]);
  return {
    service: row.service,
    provider: row.provider,
    model: row.model,
    bucketStartMs: Date.parse(row.bucket_start),
    bucketSeconds: Number(row.bucket_seconds),
    requests: Number(row.requests),
    errors,
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    costUsd: Number(row.cost_usd),
    costCount: Number(row.cost_count),
    safetyFlags: Number(row.safety_flags),
    latency: fromJson(row.latency_sketch, { a: 0.01, z: 0, n: 0, sum: 0, min: 0, max: 0, o: 0, c: [] }),
    ttft: fromJson(row.ttft_sketch, { a: 0.01, z: 0, n: 0, sum: 0, min: 0, max: 0, o: 0, c: [] }),
    latencyWithin: fromJson(row.latency_within, {}),
  };
}

export interface BucketFilter {
  fromIso: string;
  toIso: string;
  service?: string | undefined;
  provider?: string | undefined;
  model?: string | undefined;
}

function filtered(executor: Executor, filter: BucketFilter) {
  let query = tables(executor).selectFrom('llm_buckets').where('bucket_start', '>=', filter.fromIso).where('bucket_start', '<', filter.toIso);
  if (filter.service !== undefined) query = query.where('service', '=', filter.service);
  if (filter.provider !== undefined) query = query.where('provider', '=', filter.provider);
  if (filter.model !== undefined) query = query.where('model', '=', filter.model);
  return query;
}

/** Rows a query would merge; each carries two serialised sketches, so callers cap it. */
export async function countBuckets(executor: Executor, filter: BucketFilter): Promise<number> {
  const row = await filtered(executor, filter).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Buckets starting in [from, to), in time order. */
export async function loadBuckets(executor: Executor, filter: BucketFilter): Promise<BucketRecord[]> {
  const rows = await filtered(executor, filter).selectAll().orderBy('bucket_start').orderBy('id').execute();
  return rows.map(recordOf);
}

/** Per-bucket counts of one service, without the sketches (SLO windows and error budgets). */
export async function loadServiceCounts(
  executor: Executor,
  service: string,
  fromIso: string,
  toIso: string,
): Promise<{ bucketStartMs: number; requests: number; errors: Record<string, number>; latencyWithin: Record<string, number> }[]> {
  const rows = await tables(executor)
    .selectFrom('llm_buckets')
    .select(['bucket_start', 'requests', 'err_server_error', 'err_rate_limit', 'err_timeout', 'err_content_filter', 'err_client_error', 'err_other', 'latency_within'])
    .where('service', '=', service)
    .where('bucket_start', '>=', fromIso)
    .where('bucket_start', '<', toIso)
    .execute();
  return rows.map((row) => ({
    bucketStartMs: Date.parse(row.bucket_start),
    requests: Number(row.requests),
    errors: Object.fromEntries(ERROR_KINDS.map((kind) => [kind, Number(row[`err_${kind}`])])),
    latencyWithin: fromJson<Record<string, number>>(row.latency_within, {}),
  }));
}

export async function saveDetectorStates(executor: Executor, states: readonly { seriesKey: string; signal: string; state: unknown }[], nowIso: string): Promise<void> {
  if (states.length === 0) return;
  for (const s of states) {
    const state = toJson(s.state);
    await tables(executor)
      .insertInto('llm_detector_states')
      .values({ series_key: s.seriesKey, signal: s.signal, state, updated_at: nowIso })
      .onConflict((oc) => oc.columns(['series_key', 'signal']).doUpdateSet({ state, updated_at: nowIso }))
      .execute();
  }
}

/** Detector states updated since `sinceIso` (the live series; others are loaded when their series returns). */
export async function loadDetectorStates(executor: Executor, sinceIso: string): Promise<{ seriesKey: string; signal: string; state: unknown }[]> {
  const rows = await tables(executor).selectFrom('llm_detector_states').selectAll().where('updated_at', '>=', sinceIso).execute();
  return rows.map((row) => ({ seriesKey: row.series_key, signal: row.signal, state: fromJson<unknown>(row.state, null) }));
}

export async function loadDetectorState(executor: Executor, seriesKey: string, signal: string): Promise<unknown> {
  const row = await tables(executor).selectFrom('llm_detector_states').select('state').where('series_key', '=', seriesKey).where('signal', '=', signal).executeTakeFirst();
  return row ? fromJson<unknown>(row.state, null) : undefined;
}

export interface OpenAlertRow {
  dedupKey: string;
  kind: 'slo' | 'detector';
  service: string;
  state: Record<string, unknown>;
  raisedAt: string;
}

export async function loadOpenAlerts(executor: Executor): Promise<OpenAlertRow[]> {
  const rows = await tables(executor).selectFrom('llm_open_alerts').selectAll().execute();
  return rows.map((row) => ({
    dedupKey: row.dedup_key,
    kind: row.kind as 'slo' | 'detector',
    service: row.service,
    state: fromJson<Record<string, unknown>>(row.state, {}),
    raisedAt: row.raised_at,
  }));
}

export async function upsertOpenAlert(executor: Executor, alert: OpenAlertRow, nowIso: string): Promise<void> {
  await tables(executor)
    .insertInto('llm_open_alerts')
    .values({ dedup_key: alert.dedupKey, kind: alert.kind, service: alert.service, state: toJson(alert.state), raised_at: alert.raisedAt, updated_at: nowIso })
    .onConflict((oc) => oc.column('dedup_key').doUpdateSet({ state: toJson(alert.state), updated_at: nowIso }))
    .execute();
}

export async function deleteOpenAlert(executor: Executor, dedupKey: string): Promise<void> {
  await tables(executor).deleteFrom('llm_open_alerts').where('dedup_key', '=', dedupKey).execute();
}
