import { viewAs, type Executor } from '../storage/index.ts';
import type { IncidentTables } from './store.ts';

const tables = (executor: Executor) => viewAs<IncidentTables>(executor);

/** The incident a timeline entry belongs to, or undefined when there is no such entry. */
export async function incidentOfTimelineEntry(executor: Executor, entryId: number): Promise<string | undefined> {
  const entry = await tables(executor).selectFrom('timeline_entries').select('incident_id').where('id', '=', entryId).executeTakeFirst();
  return entry?.incident_id;
}
