import type { Generated, Kysely } from 'kysely';
import { withAutoIncrementId, fromJson, toJson, type DialectMigration, type MigrationSet } from '../storage/index.ts';
import { emptyErrorCounts, type BucketRecord } from './buckets.ts';
import { ERROR_KINDS } from './records.ts';

export type LlmTables = {
  /** Closed aggregation buckets. A (series, bucket) may have several rows (late data, several servers): readers merge them. */
  llm_buckets: {
    id: Generated<number>;
    service: string;
    provider: string;
    model: string;
    bucket_start: string;
    bucket_seconds: number;
    requests: number;
    err_server_error: number;
    err_rate_limit: number;
    err_timeout: number;
    err_content_filter: number;
    err_client_error: number;
    err_other: number;
    input_tokens: number;
    output_tokens: number;
    cost_usd: number;
    cost_count: number;
    safety_flags: number;
    latency_sketch: string;
    ttft_sketch: string;
    latency_within: string;
    created_at: string;
  };
  /** Serialised detector state per (series, signal), so baselines survive restarts. */
  llm_detector_states: {
    series_key: string;
    signal: string;
    state: string;
    updated_at: string;
  };
  /** Alerts Firebreak raised from LLM telemetry and has not yet resolved. */
  llm_open_alerts: {
    dedup_key: string;
    kind: string;
    service: string;
    state: string;
    raised_at: string;
    updated_at: string;
  };
};

export type LlmDb = Kysely<LlmTables>;

const createLlmTables: DialectMigration = (dialect) => ({
  async up(db) {
    await withAutoIncrementId(db.schema.createTable('llm_buckets'), dialect)
      .addColumn('service', 'text', (c) => c.notNull())
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('bucket_start', 'text', (c) => c.notNull())
      .addColumn('bucket_seconds', 'integer', (c) => c.notNull())
      .addColumn('requests', 'integer', (c) => c.notNull())
      .addColumn('err_server_error', 'integer', (c) => c.notNull())
      .addColumn('err_rate_limit', 'integer', (c) => c.notNull())
      .addColumn('err_timeout', 'integer', (c) => c.notNull())
      .addColumn('err_content_filter', 'integer', (c) => c.notNull())
      .addColumn('err_client_error', 'integer', (c) => c.notNull())
      .addColumn('err_other', 'integer', (c) => c.notNull())
      .addColumn('input_tokens', 'double precision', (c) => c.notNull())
      .addColumn('output_tokens', 'double precision', (c) => c.notNull())
      .addColumn('cost_usd', 'double precision', (c) => c.notNull())
      .addColumn('cost_count', 'integer', (c) => c.notNull())
      .addColumn('safety_flags', 'integer', (c) => c.notNull())
      .addColumn('latency_sketch', 'text', (c) => c.notNull())
      .addColumn('ttft_sketch', 'text', (c) => c.notNull())
      .addColumn('latency_within', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('llm_buckets_time_idx').on('llm_buckets').columns(['bucket_start', 'service']).execute();
    await db.schema.createIndex('llm_buckets_service_idx').on('llm_buckets').columns(['service', 'bucket_start']).execute();
    await db.schema
      .createTable('llm_detector_states')
      .addColumn('series_key', 'text', (c) => c.notNull())
      .addColumn('signal', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('llm_detector_states_pk', ['series_key', 'signal'])
      .execute();
    await db.schema
      .createTable('llm_open_alerts')
      .addColumn('dedup_key', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('service', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('raised_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
  },
  async down(db) {
    await db.schema.dropTable('llm_open_alerts').execute();
    await db.schema.dropTable('llm_detector_states').execute();
    await db.schema.dropTable('llm_buckets').execute();
  },
});

export const llmMigrations: MigrationSet = { '020_llm_telemetry': createLlmTables };

type BucketRow = LlmTables['llm_buckets'];

export async function insertBuckets(db: LlmDb, records: readonly BucketRecord[], nowIso: string): Promise<void> {
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
  // Keep each statement under both drivers' parameter limits; one transaction, so a failure leaves nothing half-written.
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < rows.length; i += 200) await trx.insertInto('llm_buckets').values(rows.slice(i, i + 200)).execute();
  });
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

function filtered(db: LlmDb, filter: BucketFilter) {
  let query = db.selectFrom('llm_buckets').where('bucket_start', '>=', filter.fromIso).where('bucket_start', '<', filter.toIso);
  if (filter.service !== undefined) query = query.where('service', '=', filter.service);
  if (filter.provider !== undefined) query = query.where('provider', '=', filter.provider);
  if (filter.model !== undefined) query = query.where('model', '=', filter.model);
  return query;
}

/** Rows a query would merge; each carries two serialised sketches, so callers cap it. */
export async function countBuckets(db: LlmDb, filter: BucketFilter): Promise<number> {
  const row = await filtered(db, filter).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Buckets starting in [from, to), in time order. */
export async function loadBuckets(db: LlmDb, filter: BucketFilter): Promise<BucketRecord[]> {
  const rows = await filtered(db, filter).selectAll().orderBy('bucket_start').orderBy('id').execute();
  return rows.map(recordOf);
}

/** Per-bucket counts of one service, without the sketches (SLO windows and error budgets). */
export async function loadServiceCounts(
  db: LlmDb,
  service: string,
  fromIso: string,
  toIso: string,
): Promise<{ bucketStartMs: number; requests: number; errors: Record<string, number>; latencyWithin: Record<string, number> }[]> {
  const rows = await db
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

export async function saveDetectorStates(db: LlmDb, states: readonly { seriesKey: string; signal: string; state: unknown }[], nowIso: string): Promise<void> {
  if (states.length === 0) return;
  await db.transaction().execute(async (trx) => {
    for (const s of states) {
      const state = toJson(s.state);
      await trx
        .insertInto('llm_detector_states')
        .values({ series_key: s.seriesKey, signal: s.signal, state, updated_at: nowIso })
        .onConflict((oc) => oc.columns(['series_key', 'signal']).doUpdateSet({ state, updated_at: nowIso }))
        .execute();
    }
  });
}

/** Detector states updated since `sinceIso` (the live series; others are loaded when their series returns). */
export async function loadDetectorStates(db: LlmDb, sinceIso: string): Promise<{ seriesKey: string; signal: string; state: unknown }[]> {
  const rows = await db.selectFrom('llm_detector_states').selectAll().where('updated_at', '>=', sinceIso).execute();
  return rows.map((row) => ({ seriesKey: row.series_key, signal: row.signal, state: fromJson<unknown>(row.state, null) }));
}

export async function loadDetectorState(db: LlmDb, seriesKey: string, signal: string): Promise<unknown> {
  const row = await db.selectFrom('llm_detector_states').select('state').where('series_key', '=', seriesKey).where('signal', '=', signal).executeTakeFirst();
  return row ? fromJson<unknown>(row.state, null) : undefined;
}

export interface OpenAlertRow {
  dedupKey: string;
  kind: 'slo' | 'detector';
  service: string;
  state: Record<string, unknown>;
  raisedAt: string;
}

export async function loadOpenAlerts(db: LlmDb): Promise<OpenAlertRow[]> {
  const rows = await db.selectFrom('llm_open_alerts').selectAll().execute();
  return rows.map((row) => ({
    dedupKey: row.dedup_key,
    kind: row.kind as 'slo' | 'detector',
    service: row.service,
    state: fromJson<Record<string, unknown>>(row.state, {}),
    raisedAt: row.raised_at,
  }));
}

export async function upsertOpenAlert(db: LlmDb, alert: OpenAlertRow, nowIso: string): Promise<void> {
  await db
    .insertInto('llm_open_alerts')
    .values({ dedup_key: alert.dedupKey, kind: alert.kind, service: alert.service, state: toJson(alert.state), raised_at: alert.raisedAt, updated_at: nowIso })
    .onConflict((oc) => oc.column('dedup_key').doUpdateSet({ state: toJson(alert.state), updated_at: nowIso }))
    .execute();
}

export async function deleteOpenAlert(db: LlmDb, dedupKey: string): Promise<void> {
  await db.deleteFrom('llm_open_alerts').where('dedup_key', '=', dedupKey).execute();
}
