import type { Generated } from 'kysely';
import { withAutoIncrementId, type DialectMigration, type MigrationSet } from '../storage/index.ts';

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
