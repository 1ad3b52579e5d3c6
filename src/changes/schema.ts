import type { DialectMigration, MigrationSet } from '../storage/index.ts';

export type ChangeTables = {
  changes: {
    id: string;
    service: string;
    kind: string;
    summary: string;
    version_from: string | null;
    version_to: string | null;
    author: string | null;
    /** JSON array of {href, text?}. */
    links: string;
    at: string;
    source: string;
    target: string | null;
    integration_id: string | null;
    dedup_key: string | null;
    /** JSON object. */
    details: string;
    created_at: string;
  };
  /** The values a telemetry attribute took per series, so a transition is noticed once, across restarts. */
  change_series_values: {
    series_key: string;
    attribute: string;
    value: string;
    last_seen_at: string;
  };
  /** Per-integration secrets for signed webhooks (GitHub), sealed with FIREBREAK_SECRET_KEY. */
  change_webhook_secrets: {
    integration_id: string;
    sealed: string;
    created_at: string;
    created_by: string;
  };
};

const createChangeTables: DialectMigration = () => ({
  async up(db) {
    await db.schema
      .createTable('changes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('service', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('summary', 'text', (c) => c.notNull())
      .addColumn('version_from', 'text')
      .addColumn('version_to', 'text')
      .addColumn('author', 'text')
      .addColumn('links', 'text', (c) => c.notNull())
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('target', 'text')
      .addColumn('integration_id', 'text')
      .addColumn('dedup_key', 'text')
      .addColumn('details', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    // Suspects and per-service listings read one service's changes in a time range.
    await db.schema.createIndex('changes_by_service_at').on('changes').columns(['service', 'at', 'id']).execute();
    // Listings across services, newest first.
    await db.schema.createIndex('changes_by_at').on('changes').columns(['at', 'id']).execute();
    // The version a target was at before a deploy that does not say (GitHub, Argo CD).
    await db.schema.createIndex('changes_by_target_at').on('changes').columns(['target', 'at']).execute();
    await db.schema.createIndex('changes_dedup').unique().on('changes').columns(['source', 'dedup_key']).execute();

    await db.schema
      .createTable('change_series_values')
      .addColumn('series_key', 'text', (c) => c.notNull())
      .addColumn('attribute', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('last_seen_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('change_series_values_pk', ['series_key', 'attribute', 'value'])
      .execute();

    await db.schema
      .createTable('change_webhook_secrets')
      .addColumn('integration_id', 'text', (c) => c.primaryKey())
      .addColumn('sealed', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .execute();
  },
});

export const changeMigrations: MigrationSet = { '080_changes_events': createChangeTables };
