import type { Insertable, Selectable } from 'kysely';
import { viewAs, type Executor } from '../storage/index.ts';
import type { DrillTables } from './schema.ts';

export type DrillRunRow = Selectable<DrillTables['drill_runs']>;

const tables = (executor: Executor) => viewAs<DrillTables>(executor);

export async function insertDrillRun(executor: Executor, run: Insertable<DrillTables['drill_runs']>): Promise<DrillRunRow> {
  return tables(executor).insertInto('drill_runs').values(run).returningAll().executeTakeFirstOrThrow();
}

export async function findDrillRun(executor: Executor, id: number): Promise<DrillRunRow | undefined> {
  return tables(executor).selectFrom('drill_runs').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Newest first. */
export async function listDrillRuns(executor: Executor, filter: { scenario?: string | undefined; limit: number }): Promise<DrillRunRow[]> {
  let query = tables(executor).selectFrom('drill_runs').selectAll().orderBy('id', 'desc').limit(filter.limit);
  if (filter.scenario !== undefined) query = query.where('scenario', '=', filter.scenario);
  return query.execute();
}
