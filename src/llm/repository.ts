import { sql } from 'kysely';
import { fromJson, toJson, viewAs, type Executor } from '../storage/index.ts';
import { emptyErrorCounts, type BucketRecord } from './buckets.ts';
import { ERROR_KINDS } from './records.ts';
import type { LlmTables } from './schema.ts';

const tables = (executor: Executor) => viewAs<LlmTables>(executor);

type BucketRow = LlmTables['llm_buckets'];

/** A bucket's columns as both aggregate tables store them. */
function columnsOf(r: BucketRecord) {
  return {
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
  };
}

export async function insertBuckets(executor: Executor, records: readonly BucketRecord[], nowIso: string): Promise<void> {
  if (records.length === 0) return;
  const rows = records.map((r) => ({ ...columnsOf(r), created_at: nowIso }));
  // Keep each statement under both drivers' parameter limits; callers pass a transaction so a failure leaves nothing half-written.
  for (let i = 0; i < rows.length; i += 200) await tables(executor).insertInto('llm_buckets').values(rows.slice(i, i + 200)).execute();
}

export interface SeriesArrival {
  seriesKey: string;
  service: string;
  provider: string;
  model: string;
  /** The newest call time this writer saw, and the wall-clock time it arrived. */
  watermarkIso: string;
  arrivedIso: string;
  via: string | null;
}

/**
 * Adds a writer's new calls (`deltas`, per series and minute) to its partial rows, and moves the series'
 * watermarks forward (never back). The writer's rows are read locked (PostgreSQL), so a merge of the same
 * minute either sees this write whole or runs first and leaves no row to add to (the calls then make a new,
 * late row). `within` runs in the same transaction (the series' jobs are made sure of there).
 */
export async function writePartials(
  trx: Executor,
  postgres: boolean,
  writer: string,
  deltas: readonly BucketRecord[],
  arrivals: readonly SeriesArrival[],
  nowIso: string,
  within: (moved: readonly SeriesArrival[]) => Promise<void>,
  merge: (stored: BucketRecord, delta: BucketRecord) => BucketRecord,
): Promise<Map<string, string | null>> {
  {
    // Series whose stored watermark this write moves into a later minute (read from the database, so it
    // does not matter which server took the calls).
    const before = new Map<string, string>();
    for (let i = 0; i < arrivals.length; i += 500) {
      const keys = arrivals.slice(i, i + 500).map((a) => a.seriesKey);
      for (const row of await tables(trx).selectFrom('llm_series').select(['series_key', 'watermark_at']).where('series_key', 'in', keys).execute()) before.set(row.series_key, row.watermark_at);
    }
    const minuteOf = (iso: string) => Math.floor(Date.parse(iso) / 60_000);
    const moved = arrivals.filter((a) => {
      const stored = before.get(a.seriesKey);
      return stored === undefined || minuteOf(a.watermarkIso) > minuteOf(stored);
    });
    // Rows are locked in one order everywhere (the series' jobs, then partial rows, then series), and keys
    // sorted, so writers and the series' jobs never wait on each other in a cycle.
    await within(moved);
    for (let i = 0; i < deltas.length; i += 100) {
      const chunk = deltas.slice(i, i + 100);
      const keys = [...new Set(chunk.map((d) => seriesKeyOf(d)))];
      const starts = [...new Set(chunk.map((d) => new Date(d.bucketStartMs).toISOString()))];
      let query = tables(trx).selectFrom('llm_partials').selectAll().where('writer', '=', writer).where('series_key', 'in', keys).where('bucket_start', 'in', starts);
      if (postgres) query = query.forUpdate();
      const stored = new Map<string, BucketRecord>();
      for (const row of await query.execute()) stored.set(`${row.series_key}\u0001${row.bucket_start}`, recordOf(row));
      const rows = chunk.map((delta) => {
        const key = seriesKeyOf(delta);
        const start = new Date(delta.bucketStartMs).toISOString();
        const before = stored.get(`${key}\u0001${start}`);
        return { ...columnsOf(before ? merge(before, delta) : delta), series_key: key, writer, updated_at: nowIso };
      });
      await tables(trx)
        .insertInto('llm_partials')
        .values(rows)
        .onConflict((oc) =>
          oc.columns(['series_key', 'bucket_start', 'writer']).doUpdateSet((eb) => {
            const set: Record<string, unknown> = {};
            for (const column of PARTIAL_VALUE_COLUMNS) set[column] = eb.ref(`excluded.${column}` as 'excluded.requests');
            return set as never;
          }),
        )
        .execute();
    }
    for (const a of arrivals) {
      await tables(trx)
        .insertInto('llm_series')
        .values({
          series_key: a.seriesKey,
          service: a.service,
          provider: a.provider,
          model: a.model,
          watermark_at: a.watermarkIso,
          arrived_at: a.arrivedIso,
          via: a.via,
          closed_through: null,
          state: '{}',
          version: 0,
          updated_at: nowIso,
        })
        .onConflict((oc) =>
          oc.column('series_key').doUpdateSet({
            watermark_at: sql`case when excluded.watermark_at > llm_series.watermark_at then excluded.watermark_at else llm_series.watermark_at end`,
            arrived_at: sql`case when excluded.watermark_at > llm_series.watermark_at then excluded.arrived_at else llm_series.arrived_at end`,
            via: sql`coalesce(excluded.via, llm_series.via)`,
          }),
        )
        .execute();
    }
    const closed = new Map<string, string | null>();
    const keys = arrivals.map((a) => a.seriesKey);
    for (let i = 0; i < keys.length; i += 500) {
      for (const row of await tables(trx).selectFrom('llm_series').select(['series_key', 'closed_through']).where('series_key', 'in', keys.slice(i, i + 500)).execute()) {
        closed.set(row.series_key, row.closed_through);
      }
    }
    return closed;
  }
}

const PARTIAL_VALUE_COLUMNS = [
  'requests',
  ...ERROR_KINDS.map((k) => `err_${k}`),
  'input_tokens',
  'output_tokens',
  'cost_usd',
  'cost_count',
  'safety_flags',
  'latency_sketch',
  'ttft_sketch',
  'latency_within',
  'updated_at',
] as const;

function seriesKeyOf(r: { service: string; provider: string; model: string }): string {
  return JSON.stringify([r.service, r.provider, r.model]);
}

/**
 * The partial rows of a series' minutes up to `throughIso`, locked until the transaction ends
 * (PostgreSQL; SQLite has one writer), with the writer that holds each.
 */
export async function lockPartials(trx: Executor, postgres: boolean, seriesKey: string, throughIso: string): Promise<{ writer: string; record: BucketRecord }[]> {
  let query = tables(trx).selectFrom('llm_partials').selectAll().where('series_key', '=', seriesKey).where('bucket_start', '<=', throughIso).orderBy('bucket_start').orderBy('writer');
  if (postgres) query = query.forUpdate();
  return (await query.execute()).map((row) => ({ writer: row.writer, record: recordOf(row) }));
}

/** Removes exactly the partial rows that were merged (a row a writer added since stays for the next merge). */
export async function deletePartials(trx: Executor, seriesKey: string, rows: readonly { writer: string; bucketStartIso: string }[]): Promise<void> {
  for (const row of rows) {
    await tables(trx).deleteFrom('llm_partials').where('series_key', '=', seriesKey).where('bucket_start', '=', row.bucketStartIso).where('writer', '=', row.writer).execute();
  }
}

/** Partial rows of one series after `afterIso` (its open minutes), unlocked. */
export async function loadOpenPartials(db: Executor, seriesKey: string, afterIso: string | null): Promise<BucketRecord[]> {
  let query = tables(db).selectFrom('llm_partials').selectAll().where('series_key', '=', seriesKey);
  if (afterIso !== null) query = query.where('bucket_start', '>', afterIso);
  return (await query.orderBy('bucket_start').orderBy('writer').execute()).map(recordOf);
}

/** Partial rows held now: open minutes times the servers writing them. */
export async function countPartials(db: Executor): Promise<number> {
  const row = await tables(db).selectFrom('llm_partials').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Series with partial rows for minutes starting before `beforeIso`: minutes some series job must still merge. */
export async function seriesWithPartialsBefore(db: Executor, beforeIso: string, limit: number): Promise<string[]> {
  const rows = await tables(db).selectFrom('llm_partials').select('series_key').distinct().where('bucket_start', '<', beforeIso).limit(limit).execute();
  return rows.map((r) => r.series_key);
}

export interface SeriesRow {
  seriesKey: string;
  service: string;
  provider: string;
  model: string;
  watermarkMs: number;
  arrivedMs: number;
  via: string | null;
  closedThroughMs: number | null;
  state: Record<string, unknown>;
  version: number;
}

function seriesRowOf(row: LlmTables['llm_series']): SeriesRow {
  return {
    seriesKey: row.series_key,
    service: row.service,
    provider: row.provider,
    model: row.model,
    watermarkMs: Date.parse(row.watermark_at),
    arrivedMs: Date.parse(row.arrived_at),
    via: row.via,
    closedThroughMs: row.closed_through === null ? null : Date.parse(row.closed_through),
    state: fromJson<Record<string, unknown>>(row.state, {}),
    version: Number(row.version),
  };
}

export async function loadSeries(db: Executor, seriesKey: string): Promise<SeriesRow | undefined> {
  const row = await tables(db).selectFrom('llm_series').selectAll().where('series_key', '=', seriesKey).executeTakeFirst();
  return row ? seriesRowOf(row) : undefined;
}

/** Every series of a service (its watermark is the newest of theirs). */
export async function loadServiceSeries(db: Executor, service: string): Promise<SeriesRow[]> {
  return (await tables(db).selectFrom('llm_series').selectAll().where('service', '=', service).execute()).map(seriesRowOf);
}

/** Compare and set: writes the series' closed minute and detector state only if nobody wrote since `version` was read. */
export async function updateSeries(trx: Executor, seriesKey: string, version: number, change: { closedThroughMs: number | null; state: Record<string, unknown> }, nowIso: string): Promise<boolean> {
  const result = await tables(trx)
    .updateTable('llm_series')
    .set({
      closed_through: change.closedThroughMs === null ? null : new Date(change.closedThroughMs).toISOString(),
      state: toJson(change.state),
      version: version + 1,
      updated_at: nowIso,
    })
    .where('series_key', '=', seriesKey)
    .where('version', '=', version)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

function recordOf(row: Omit<BucketRow, 'id' | 'created_at'>): BucketRecord {
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

function filtered(executor: Executor, filter: BucketFilter, table: 'llm_buckets' | 'llm_partials' = 'llm_buckets') {
  let query = tables(executor).selectFrom(table as 'llm_buckets').where('bucket_start', '>=', filter.fromIso).where('bucket_start', '<', filter.toIso);
  if (filter.service !== undefined) query = query.where('service', '=', filter.service);
  if (filter.provider !== undefined) query = query.where('provider', '=', filter.provider);
  if (filter.model !== undefined) query = query.where('model', '=', filter.model);
  return query;
}

/** Rows a query would merge; each carries two serialised sketches, so callers cap it. */
export async function countBuckets(executor: Executor, filter: BucketFilter): Promise<number> {
  let total = 0;
  for (const table of ['llm_buckets', 'llm_partials'] as const) {
    const row = await filtered(executor, filter, table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    total += Number(row?.n ?? 0);
  }
  return total;
}

/** Buckets starting in [from, to), closed and still open (every writer's partial rows), in time order. */
export async function loadBuckets(executor: Executor, filter: BucketFilter): Promise<BucketRecord[]> {
  const closed = await filtered(executor, filter).selectAll().orderBy('bucket_start').orderBy('id').execute();
  const open = await tables(executor)
    .selectFrom('llm_partials')
    .selectAll()
    .where('bucket_start', '>=', filter.fromIso)
    .where('bucket_start', '<', filter.toIso)
    .$if(filter.service !== undefined, (q) => q.where('service', '=', filter.service!))
    .$if(filter.provider !== undefined, (q) => q.where('provider', '=', filter.provider!))
    .$if(filter.model !== undefined, (q) => q.where('model', '=', filter.model!))
    .orderBy('bucket_start')
    .orderBy('writer')
    .execute();
  return [...closed.map(recordOf), ...open.map(recordOf)].sort((a, b) => a.bucketStartMs - b.bucketStartMs);
}

/** Per-bucket counts of one service, without the sketches (SLO windows and error budgets). */
export async function loadServiceCounts(
  executor: Executor,
  service: string,
  fromIso: string,
  toIso: string,
): Promise<{ bucketStartMs: number; requests: number; errors: Record<string, number>; latencyWithin: Record<string, number> }[]> {
  // Closed minutes and the open ones (every writer's partial rows): burn rates do not wait for the allowed lateness.
  const rows = [];
  for (const table of ['llm_buckets', 'llm_partials'] as const) {
    rows.push(
      ...(await tables(executor)
        .selectFrom(table as 'llm_buckets')
        .select(['bucket_start', 'requests', 'err_server_error', 'err_rate_limit', 'err_timeout', 'err_content_filter', 'err_client_error', 'err_other', 'latency_within'])
        .where('service', '=', service)
        .where('bucket_start', '>=', fromIso)
        .where('bucket_start', '<', toIso)
        .execute()),
    );
  }
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

/** The stored detector states of one series, by signal. */
export async function loadSeriesDetectorStates(executor: Executor, seriesKey: string): Promise<Map<string, unknown>> {
  const rows = await tables(executor).selectFrom('llm_detector_states').select(['signal', 'state']).where('series_key', '=', seriesKey).execute();
  return new Map(rows.map((row) => [row.signal, fromJson<unknown>(row.state, null)]));
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
