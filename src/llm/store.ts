import { sql, type Generated, type Kysely, type Transaction } from 'kysely';
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
  /**
   * Open minutes, as each writer (a server process since its start) has aggregated them so far: one row per
   * (series, minute, writer), cumulative, merged by whoever reads the minute. The series' job moves a minute
   * into `llm_buckets` once the series' watermark is the allowed lateness past it, in one transaction with the
   * rows locked, so a minute is counted once whichever servers took its calls and whichever of them died.
   */
  llm_partials: Omit<BucketColumns, 'id' | 'created_at'> & { series_key: string; writer: string; updated_at: string };
  /**
   * A series across servers: its event-time watermark (the newest call time and when it arrived), the
   * integration its telemetry came through, the last minute closed into the rollups, and the state its
   * detectors keep between minutes (the point being gathered, detections awaiting confirmation, rule runs).
   * Written by the holder of the series' job lease, `version` guarding each write (compare and set).
   */
  llm_series: {
    series_key: string;
    service: string;
    provider: string;
    model: string;
    watermark_at: string;
    arrived_at: string;
    via: string | null;
    closed_through: string | null;
    state: string;
    version: number;
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
type BucketColumns = LlmTables['llm_buckets'];

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

const createReplicaTables: DialectMigration = () => ({
  async up(db) {
    let partials = db.schema
      .createTable('llm_partials')
      .addColumn('series_key', 'text', (c) => c.notNull())
      .addColumn('bucket_start', 'text', (c) => c.notNull())
      .addColumn('writer', 'text', (c) => c.notNull())
      .addColumn('service', 'text', (c) => c.notNull())
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('bucket_seconds', 'integer', (c) => c.notNull())
      .addColumn('requests', 'integer', (c) => c.notNull());
    for (const kind of ERROR_KINDS) partials = partials.addColumn(`err_${kind}`, 'integer', (c) => c.notNull());
    await partials
      .addColumn('input_tokens', 'double precision', (c) => c.notNull())
      .addColumn('output_tokens', 'double precision', (c) => c.notNull())
      .addColumn('cost_usd', 'double precision', (c) => c.notNull())
      .addColumn('cost_count', 'integer', (c) => c.notNull())
      .addColumn('safety_flags', 'integer', (c) => c.notNull())
      .addColumn('latency_sketch', 'text', (c) => c.notNull())
      .addColumn('ttft_sketch', 'text', (c) => c.notNull())
      .addColumn('latency_within', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('llm_partials_pk', ['series_key', 'bucket_start', 'writer'])
      .execute();
    await db.schema.createIndex('llm_partials_service_idx').on('llm_partials').columns(['service', 'bucket_start']).execute();
    await db.schema
      .createTable('llm_series')
      .addColumn('series_key', 'text', (c) => c.primaryKey())
      .addColumn('service', 'text', (c) => c.notNull())
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('watermark_at', 'text', (c) => c.notNull())
      .addColumn('arrived_at', 'text', (c) => c.notNull())
      .addColumn('via', 'text')
      .addColumn('closed_through', 'text')
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('llm_series_service_idx').on('llm_series').columns(['service']).execute();
  },
  async down(db) {
    await db.schema.dropTable('llm_series').execute();
    await db.schema.dropTable('llm_partials').execute();
  },
});

export const llmMigrations: MigrationSet = { '020_llm_telemetry': createLlmTables, '021_llm_replicas': createReplicaTables };

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

export async function insertBuckets(db: LlmDb | Transaction<LlmTables>, records: readonly BucketRecord[], nowIso: string): Promise<void> {
  if (records.length === 0) return;
  const rows = records.map((r) => ({ ...columnsOf(r), created_at: nowIso }));
  const write = async (trx: LlmDb | Transaction<LlmTables>) => {
    for (let i = 0; i < rows.length; i += 200) await trx.insertInto('llm_buckets').values(rows.slice(i, i + 200)).execute();
  };
  // Keep each statement under both drivers' parameter limits; one transaction, so a failure leaves nothing half-written.
  if (db.isTransaction) await write(db);
  else await db.transaction().execute(write);
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
  db: LlmDb,
  postgres: boolean,
  writer: string,
  deltas: readonly BucketRecord[],
  arrivals: readonly SeriesArrival[],
  nowIso: string,
  within: (trx: Transaction<LlmTables>, moved: readonly SeriesArrival[]) => Promise<void>,
  merge: (stored: BucketRecord, delta: BucketRecord) => BucketRecord,
): Promise<Map<string, string | null>> {
  return db.transaction().execute(async (trx) => {
    // Series whose stored watermark this write moves into a later minute (read from the database, so it
    // does not matter which server took the calls).
    const before = new Map<string, string>();
    for (let i = 0; i < arrivals.length; i += 500) {
      const keys = arrivals.slice(i, i + 500).map((a) => a.seriesKey);
      for (const row of await trx.selectFrom('llm_series').select(['series_key', 'watermark_at']).where('series_key', 'in', keys).execute()) before.set(row.series_key, row.watermark_at);
    }
    const minuteOf = (iso: string) => Math.floor(Date.parse(iso) / 60_000);
    const moved = arrivals.filter((a) => {
      const stored = before.get(a.seriesKey);
      return stored === undefined || minuteOf(a.watermarkIso) > minuteOf(stored);
    });
    // Rows are locked in one order everywhere (the series' jobs, then partial rows, then series), and keys
    // sorted, so writers and the series' jobs never wait on each other in a cycle.
    await within(trx, moved);
    for (let i = 0; i < deltas.length; i += 100) {
      const chunk = deltas.slice(i, i + 100);
      const keys = [...new Set(chunk.map((d) => seriesKeyOf(d)))];
      const starts = [...new Set(chunk.map((d) => new Date(d.bucketStartMs).toISOString()))];
      let query = trx.selectFrom('llm_partials').selectAll().where('writer', '=', writer).where('series_key', 'in', keys).where('bucket_start', 'in', starts);
      if (postgres) query = query.forUpdate();
      const stored = new Map<string, BucketRecord>();
      for (const row of await query.execute()) stored.set(`${row.series_key}\u0001${row.bucket_start}`, recordOf(row));
      const rows = chunk.map((delta) => {
        const key = seriesKeyOf(delta);
        const start = new Date(delta.bucketStartMs).toISOString();
        const before = stored.get(`${key}\u0001${start}`);
        return { ...columnsOf(before ? merge(before, delta) : delta), series_key: key, writer, updated_at: nowIso };
      });
      await trx
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
      await trx
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
      for (const row of await trx.selectFrom('llm_series').select(['series_key', 'closed_through']).where('series_key', 'in', keys.slice(i, i + 500)).execute()) {
        closed.set(row.series_key, row.closed_through);
      }
    }
    return closed;
  });
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
export async function lockPartials(trx: Transaction<LlmTables>, postgres: boolean, seriesKey: string, throughIso: string): Promise<{ writer: string; record: BucketRecord }[]> {
  let query = trx.selectFrom('llm_partials').selectAll().where('series_key', '=', seriesKey).where('bucket_start', '<=', throughIso).orderBy('bucket_start').orderBy('writer');
  if (postgres) query = query.forUpdate();
  return (await query.execute()).map((row) => ({ writer: row.writer, record: recordOf(row) }));
}

/** Removes exactly the partial rows that were merged (a row a writer added since stays for the next merge). */
export async function deletePartials(trx: Transaction<LlmTables>, seriesKey: string, rows: readonly { writer: string; bucketStartIso: string }[]): Promise<void> {
  for (const row of rows) {
    await trx.deleteFrom('llm_partials').where('series_key', '=', seriesKey).where('bucket_start', '=', row.bucketStartIso).where('writer', '=', row.writer).execute();
  }
}

/** Partial rows of one series after `afterIso` (its open minutes), unlocked. */
export async function loadOpenPartials(db: LlmDb, seriesKey: string, afterIso: string | null): Promise<BucketRecord[]> {
  let query = db.selectFrom('llm_partials').selectAll().where('series_key', '=', seriesKey);
  if (afterIso !== null) query = query.where('bucket_start', '>', afterIso);
  return (await query.orderBy('bucket_start').orderBy('writer').execute()).map(recordOf);
}

/** Partial rows held now: open minutes times the servers writing them. */
export async function countPartials(db: LlmDb): Promise<number> {
  const row = await db.selectFrom('llm_partials').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Series with partial rows for minutes starting before `beforeIso`: minutes some series job must still merge. */
export async function seriesWithPartialsBefore(db: LlmDb, beforeIso: string, limit: number): Promise<string[]> {
  const rows = await db.selectFrom('llm_partials').select('series_key').distinct().where('bucket_start', '<', beforeIso).limit(limit).execute();
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

export async function loadSeries(db: LlmDb | Transaction<LlmTables>, seriesKey: string): Promise<SeriesRow | undefined> {
  const row = await db.selectFrom('llm_series').selectAll().where('series_key', '=', seriesKey).executeTakeFirst();
  return row ? seriesRowOf(row) : undefined;
}

/** Every series of a service (its watermark is the newest of theirs). */
export async function loadServiceSeries(db: LlmDb, service: string): Promise<SeriesRow[]> {
  return (await db.selectFrom('llm_series').selectAll().where('service', '=', service).execute()).map(seriesRowOf);
}

/** Compare and set: writes the series' closed minute and detector state only if nobody wrote since `version` was read. */
export async function updateSeries(trx: Transaction<LlmTables>, seriesKey: string, version: number, change: { closedThroughMs: number | null; state: Record<string, unknown> }, nowIso: string): Promise<boolean> {
  const result = await trx
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

function filtered<T extends 'llm_buckets' | 'llm_partials'>(db: LlmDb, filter: BucketFilter, table: T) {
  let query = db.selectFrom(table as 'llm_buckets').where('bucket_start', '>=', filter.fromIso).where('bucket_start', '<', filter.toIso);
  if (filter.service !== undefined) query = query.where('service', '=', filter.service);
  if (filter.provider !== undefined) query = query.where('provider', '=', filter.provider);
  if (filter.model !== undefined) query = query.where('model', '=', filter.model);
  return query;
}

/** Rows a query would merge; each carries two serialised sketches, so callers cap it. */
export async function countBuckets(db: LlmDb, filter: BucketFilter): Promise<number> {
  let total = 0;
  for (const table of ['llm_buckets', 'llm_partials'] as const) {
    const row = await filtered(db, filter, table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    total += Number(row?.n ?? 0);
  }
  return total;
}

/** Buckets starting in [from, to), closed and still open (every writer's partial rows), in time order. */
export async function loadBuckets(db: LlmDb, filter: BucketFilter): Promise<BucketRecord[]> {
  const closed = await filtered(db, filter, 'llm_buckets').selectAll().orderBy('bucket_start').orderBy('id').execute();
  const open = await (filtered(db, filter, 'llm_partials') as unknown as ReturnType<LlmDb['selectFrom']>).selectAll().execute();
  return [...closed.map(recordOf), ...(open as unknown as BucketRow[]).map(recordOf)].sort((a, b) => a.bucketStartMs - b.bucketStartMs);
}

/** Per-bucket counts of one service, without the sketches (SLO windows and error budgets). */
export async function loadServiceCounts(
  db: LlmDb,
  service: string,
  fromIso: string,
  toIso: string,
): Promise<{ bucketStartMs: number; requests: number; errors: Record<string, number>; latencyWithin: Record<string, number> }[]> {
  // Closed minutes and the open ones (every writer's partial rows): burn rates do not wait for the allowed lateness.
  const rows = [];
  for (const table of ['llm_buckets', 'llm_partials'] as const) {
    rows.push(
      ...(await db
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

export async function saveDetectorStates(db: LlmDb | Transaction<LlmTables>, states: readonly { seriesKey: string; signal: string; state: unknown }[], nowIso: string): Promise<void> {
  if (states.length === 0) return;
  const write = async (trx: LlmDb | Transaction<LlmTables>) => {
    for (const s of states) {
      const state = toJson(s.state);
      await trx
        .insertInto('llm_detector_states')
        .values({ series_key: s.seriesKey, signal: s.signal, state, updated_at: nowIso })
        .onConflict((oc) => oc.columns(['series_key', 'signal']).doUpdateSet({ state, updated_at: nowIso }))
        .execute();
    }
  };
  if (db.isTransaction) await write(db);
  else await db.transaction().execute(write);
}

/** The stored detector states of one series, by signal. */
export async function loadSeriesDetectorStates(db: LlmDb, seriesKey: string): Promise<Map<string, unknown>> {
  const rows = await db.selectFrom('llm_detector_states').select(['signal', 'state']).where('series_key', '=', seriesKey).execute();
  return new Map(rows.map((row) => [row.signal, fromJson<unknown>(row.state, null)]));
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
