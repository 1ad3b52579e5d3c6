import type { Kysely } from 'kysely';
import type { Database } from '../storage/index.ts';

/**
 * Data owned by capabilities that may not be installed (response plans, root-cause analyses,
 * correlation links). The postmortem and the reliability metrics use it when its table exists at
 * runtime and say "not available" otherwise, so this capability never depends on their code.
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

  /** Rows of `table` for one incident, when the table exists and has an `incident_id` column; null when not available. */
  async rowsForIncident(table: string, incidentId: string): Promise<Record<string, unknown>[] | null> {
    const columns = (await this.schema()).get(table);
    if (!columns || !columns.includes('incident_id')) return null;
    return (await this.db.selectFrom(table).selectAll().where('incident_id', '=', incidentId).execute()) as Record<string, unknown>[];
  }

  /** The first existing table among `candidates` whose rows name an incident, with its rows for that incident. */
  async firstAvailable(candidates: readonly string[], incidentId: string): Promise<{ table: string; rows: Record<string, unknown>[] } | null> {
    for (const table of candidates) {
      const rows = await this.rowsForIncident(table, incidentId);
      if (rows) return { table, rows };
    }
    return null;
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
