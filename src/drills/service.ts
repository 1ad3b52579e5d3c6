import { notFound } from '../shared/errors.ts';
import { fromJson, toJson, type Database, type Executor } from '../storage/index.ts';
import type { DrillRun, DrillRunSummary, Scorecard } from './schemas.ts';
import { findDrillRun, insertDrillRun, listDrillRuns, type DrillRunRow } from './repository.ts';

/** Stored drill scorecards, so the console and the API can list past drills and a team can see its trend. */
export class DrillRunService {
  private readonly db: Executor;

  constructor(
    database: Database,
    private readonly clock: () => Date,
  ) {
    this.db = database.db;
  }

  async record(scorecard: Scorecard, actor: string): Promise<DrillRun> {
    const row = await insertDrillRun(this.db, {
      scenario: scorecard.scenario,
      passed: scorecard.passed ? 1 : 0,
      started_at: scorecard.started_at,
      finished_at: scorecard.finished_at,
      created_by: actor,
      created_at: this.clock().toISOString(),
      scorecard: toJson(scorecard),
    });
    return runOf(row);
  }

  async get(id: number): Promise<DrillRun> {
    const row = await findDrillRun(this.db, id);
    if (!row) throw notFound('drill run', String(id));
    return runOf(row);
  }

  /** Newest first. */
  async list(filter: { scenario?: string | undefined; limit: number }): Promise<DrillRunSummary[]> {
    return (await listDrillRuns(this.db, filter)).map((row) => {
      const run = runOf(row);
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

function runOf(row: DrillRunRow): DrillRun {
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
