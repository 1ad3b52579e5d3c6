import { notFound } from '../shared/errors.ts';
import { fromJson, toJson, type Database } from '../storage/index.ts';
import type { DrillRun, DrillRunSummary, Scorecard } from './schemas.ts';
import type { DrillDb, DrillTables } from './store.ts';

type Row = DrillTables['drill_runs'] & { id: number };

/** Stored drill scorecards, so the console and the API can list past drills and a team can see its trend. */
export class DrillRunService {
  private readonly db: DrillDb;

  constructor(
    database: Database,
    private readonly clock: () => Date,
  ) {
    this.db = database.db.withTables<DrillTables>();
  }

  async record(scorecard: Scorecard, actor: string): Promise<DrillRun> {
    const row = await this.db
      .insertInto('drill_runs')
      .values({
        scenario: scorecard.scenario,
        passed: scorecard.passed ? 1 : 0,
        started_at: scorecard.started_at,
        finished_at: scorecard.finished_at,
        created_by: actor,
        created_at: this.clock().toISOString(),
        scorecard: toJson(scorecard),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return runOf(row as Row);
  }

  async get(id: number): Promise<DrillRun> {
    const row = await this.db.selectFrom('drill_runs').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('drill run', String(id));
    return runOf(row as Row);
  }

  /** Newest first. */
  async list(filter: { scenario?: string | undefined; limit: number }): Promise<DrillRunSummary[]> {
    let query = this.db.selectFrom('drill_runs').selectAll().orderBy('id', 'desc').limit(filter.limit);
    if (filter.scenario !== undefined) query = query.where('scenario', '=', filter.scenario);
    return (await query.execute()).map((row) => {
      const run = runOf(row as Row);
      const card = run.scorecard;
      return {
        id: run.id,
        scenario: run.scenario,
        title: card.title,
        passed: run.passed,
        expectations_held: card.expectations.filter((e) => e.held).length,
        expectations_total: card.expectations.length,
        time_to_detect_minutes: card.time_to_detect_minutes,
        time_to_recovery_minutes: card.time_to_recovery_minutes,
        started_at: run.started_at,
        finished_at: run.finished_at,
        created_by: run.created_by,
      };
    });
  }
}

function runOf(row: Row): DrillRun {
  return {
    id: Number(row.id),
    scenario: row.scenario,
    passed: row.passed === 1,
    started_at: row.started_at,
    finished_at: row.finished_at,
    created_by: row.created_by,
    created_at: row.created_at,
    scorecard: fromJson<Scorecard>(row.scorecard, {} as Scorecard),
  };
}
