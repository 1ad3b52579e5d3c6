import type { Kysely } from 'kysely';
import type { Database } from '../storage/index.ts';

/**
 * Correlation links for the recurrence metric, read from the ingest capability's `incident_links`
 * table when it exists, so the metric says "not available" on a server without correlation.
 */
export class OptionalData {
  private tables: Promise<Map<string, string[]>> | null = null;
  private readonly db: Kysely<Record<string, Record<string, unknown>>>;

  constructor(private readonly database: Database) {
    this.db = database.db as unknown as Kysely<Record<string, Record<string, unknown>>>;
  }

  /** Table name → column names; read once per process (migrations all run before the server starts). */
  private async schema(): Promise<Map<string, string[]>> {
    this.tables ??= this.database.db.introspection
      .getTables()
      .then((tables) => new Map(tables.map((t) => [t.name, t.columns.map((c) => c.name)])))
      .catch(() => new Map<string, string[]>());
    return this.tables;
  }

  /**
   * Pairs of linked incidents from an `incident_links` table, when one exists with exactly two columns
   * naming incidents (e.g. `incident_id` and `linked_incident_id`); null when links are not available.
   */
  async incidentLinks(): Promise<[string, string][] | null> {
    const columns = (await this.schema()).get('incident_links');
    if (!columns) return null;
    const incidentColumns = columns.filter((c) => /incident_id$/.test(c) || /^(source|target|from|to)_incident$/.test(c));
    if (incidentColumns.length !== 2) return null;
    const [a, b] = incidentColumns as [string, string];
    const rows = (await this.db.selectFrom('incident_links').select([a, b]).execute()) as Record<string, unknown>[];
    return rows.filter((r) => typeof r[a] === 'string' && typeof r[b] === 'string').map((r) => [r[a] as string, r[b] as string]);
  }
}
