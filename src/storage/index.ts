export {
  openDatabase,
  migrateToLatest,
  pendingMigrations,
  makeAppendOnly,
  withAutoIncrementId,
  isUniqueViolation,
  viewAs,
  ping,
  type Executor,
  DEFAULT_SQLITE_PATH,
  type Database,
  type DialectName,
  type DialectMigration,
  type MigrationSet,
} from './database.ts';
export { toJson, fromJson, nowIso } from './values.ts';
export { PreparedQuery, preparedPerShape, PreparedInsert, type PreparedValue } from './prepared.ts';
export { CommitBatcher, type BatchOutcome } from './commit-batcher.ts';
export { GroupCommit, type GroupWork, type GroupCommitOptions } from './group-commit.ts';
export { JobQueue, JobLeaseLost, JobWorker, jobMigrations, backoffMs, type JobTables, type JobRow, type ClaimedJob, type JobExecutor, type JobHandler, type PeriodicTask } from './jobs.ts';
export { createCluster, clusterMigrations, type Cluster, type ClusterTables } from './cluster.ts';
export { isDatabaseUnavailable } from './unavailable.ts';
