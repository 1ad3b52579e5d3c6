import type { Insertable, Selectable, Updateable } from 'kysely';
import { viewAs, type Executor } from '../storage/index.ts';
import type { FaultTreeTables, RcaTables } from './schema.ts';

export type AnalysisRow = Selectable<RcaTables['rca_analyses']>;
export type FaultTreeRow = Selectable<FaultTreeTables['rca_fault_trees']>;

const tables = (executor: Executor) => viewAs<RcaTables & FaultTreeTables>(executor);

export async function insertAnalysis(executor: Executor, analysis: Insertable<RcaTables['rca_analyses']>): Promise<void> {
  await tables(executor).insertInto('rca_analyses').values(analysis).execute();
}

/** Oldest first. */
export async function analysesOfIncident(executor: Executor, incidentId: string): Promise<AnalysisRow[]> {
  return tables(executor).selectFrom('rca_analyses').selectAll().where('incident_id', '=', incidentId).orderBy('created_at').execute();
}

export async function findAnalysis(executor: Executor, id: string): Promise<AnalysisRow | undefined> {
  return tables(executor).selectFrom('rca_analyses').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Marks one analysis of an incident accepted and every other one not. */
export async function setAcceptedAnalysis(executor: Executor, incidentId: string, id: string, changes: { updated_at: string; version: number }): Promise<void> {
  await tables(executor).updateTable('rca_analyses').set({ accepted: 0 }).where('incident_id', '=', incidentId).where('id', '!=', id).execute();
  await tables(executor).updateTable('rca_analyses').set({ accepted: 1, ...changes }).where('id', '=', id).execute();
}

/** Writes only when the stored version is `expectedVersion`; false when it was not. */
export async function updateAnalysis(executor: Executor, id: string, expectedVersion: number, changes: Updateable<RcaTables['rca_analyses']>): Promise<boolean> {
  const result = await tables(executor).updateTable('rca_analyses').set(changes).where('id', '=', id).where('version', '=', expectedVersion).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function insertAnalysisHistory(executor: Executor, entry: Insertable<RcaTables['rca_analysis_history']>): Promise<void> {
  await tables(executor).insertInto('rca_analysis_history').values(entry).execute();
}

/** Oldest first. */
export async function analysisHistory(executor: Executor, analysisId: string): Promise<Selectable<RcaTables['rca_analysis_history']>[]> {
  return tables(executor).selectFrom('rca_analysis_history').selectAll().where('analysis_id', '=', analysisId).orderBy('id').execute();
}

export async function insertFaultTree(executor: Executor, tree: Insertable<FaultTreeTables['rca_fault_trees']>): Promise<void> {
  await tables(executor).insertInto('rca_fault_trees').values(tree).execute();
}

/** Oldest first. */
export async function faultTreesOfIncident(executor: Executor, incidentId: string): Promise<FaultTreeRow[]> {
  return tables(executor).selectFrom('rca_fault_trees').selectAll().where('incident_id', '=', incidentId).orderBy('created_at').execute();
}

export async function findFaultTree(executor: Executor, id: string): Promise<FaultTreeRow | undefined> {
  return tables(executor).selectFrom('rca_fault_trees').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Writes only when the stored version is `expectedVersion`; false when it was not. */
export async function updateFaultTree(executor: Executor, id: string, expectedVersion: number, changes: Updateable<FaultTreeTables['rca_fault_trees']>): Promise<boolean> {
  const result = await tables(executor).updateTable('rca_fault_trees').set(changes).where('id', '=', id).where('version', '=', expectedVersion).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
