import type { Generated } from 'kysely';
import { withAutoIncrementId, type DialectMigration, type MigrationSet } from '../storage/index.ts';
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

