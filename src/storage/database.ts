import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, type CreateTableBuilder, type SqliteDatabase, type SqliteStatement, PostgresDialect, SqliteDialect, sql, type Migration, type MigrationProvider } from 'kysely';
import { AppError } from '../shared/errors.ts';
import { guardTransactions } from './transaction-guard.ts';

export type DialectName = 'sqlite' | 'postgres';

/**
 * The handle every store uses. Table types are declared by each capability and brought in with
 * `db.withTables<MyTables>()`, so capabilities never edit one shared schema type.
 */
export interface Database {
  readonly db: Kysely<object>;
  readonly dialect: DialectName;
  readonly url: string;
  close(): Promise<void>;
}

// pg returns int8/numeric as strings to avoid precision loss; our counters and sums fit in doubles.
pg.types.setTypeParser(20, (value) => Number(value));
pg.types.setTypeParser(1700, (value) => Number(value));

export const DEFAULT_SQLITE_PATH = path.join('data', 'firebreak.db');

/**
 * Opens SQLite for `sqlite:<path>`, `sqlite::memory:` or a bare file path (default `./data/firebreak.db`),
 * and PostgreSQL for `postgres://` / `postgresql://` URLs.
 */
export interface OpenDatabaseOptions {
  poolSize?: number;
  onIdleConnectionLost?: (error: Error) => void;
  /** How long a request waits for a new PostgreSQL connection before it is answered 503 (default 5 s). */
  connectTimeoutMs?: number;
  /** How long one PostgreSQL query may wait for its answer before failing (default 30 s), so a stuck database never hangs a request. */
  queryTimeoutMs?: number;
}

export function openDatabase(url: string = DEFAULT_SQLITE_PATH, options: OpenDatabaseOptions = {}): Database {
  if (/^postgres(ql)?:\/\//.test(url)) {
    // A lost or stuck database must fail requests fast (503, retried by the caller) rather than queue them forever;
    // pg opens a new connection for the next query, so service resumes by itself when the database is back.
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      query_timeout: options.queryTimeoutMs ?? 30_000,
    });
    // An idle pooled connection can be dropped by the server (restart, failover, an administrator's
    // termination). pg already discards that client and the next query opens a new one; without a
    // listener the pool's 'error' event would crash the whole process instead.
    pool.on('error', (error) => options.onIdleConnectionLost?.(error));
    // A connection that dies while checked out for a query (a database restart mid-request) emits 'error' on its
    // client besides failing the query; with no listener there that would crash the whole process. The query's
    // own rejection is what the request reports.
    pool.on('connect', (client) => client.on('error', () => {}));
    const db = new Kysely<object>({ dialect: guardTransactions(new PostgresDialect({ pool })) });
    return { db, dialect: 'postgres', url, close: () => db.destroy() };
  }
  const file = url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : url;
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  let connection: SQLite.Database;
  try {
    connection = new SQLite(file);
  } catch (error) {
    throw new AppError('internal', `cannot open SQLite database at ${file}: ${(error as Error).message}`);
  }
  // WAL lets readers proceed during writes; NORMAL sync is durable across process crashes (not power loss).
  connection.pragma('journal_mode = WAL');
  connection.pragma('synchronous = NORMAL');
  connection.pragma('foreign_keys = ON');
  // Several processes (server + CLI) may share the file; wait rather than fail on a held lock.
  connection.pragma('busy_timeout = 5000');
  const db = new Kysely<object>({ dialect: guardTransactions(new SqliteDialect({ database: withStatementCache(connection) })) });
  return { db, dialect: 'sqlite', url: file, close: () => db.destroy() };
}

const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query anew; preparing costs about as much as running a small statement, and the
 * same few statements run on every request. Prepared statements are reused (least recently used first out).
 */
function withStatementCache(connection: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => connection.close(),
    prepare(sqlText: string) {
      let statement = cache.get(sqlText);
      if (statement) {
        cache.delete(sqlText);
      } else {
        statement = connection.prepare(sqlText);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      }
      cache.set(sqlText, statement);
      return statement as unknown as SqliteStatement;
    },
  };
}

/** A migration that may need to know the dialect (auto-increment ids, triggers). */
export type DialectMigration = (dialect: DialectName) => Migration;

/** Migrations are named `NNN_<capability>_<what>`; each capability owns a range of NNN (see docs/ARCHITECTURE.md). */
export type MigrationSet = Record<string, DialectMigration>;

const MIGRATION_LOCK_ID = 7_311_942_001;

export async function migrateToLatest(database: Database, sets: MigrationSet[]): Promise<string[]> {
  const all: Record<string, Migration> = {};
  for (const set of sets) {
    for (const [name, make] of Object.entries(set)) {
      if (all[name]) throw new AppError('internal', `two migrations are named ${name}`);
      all[name] = make(database.dialect);
    }
  }
  const provider: MigrationProvider = { getMigrations: async () => all };
  const run = async (db: Kysely<object>) => {
    // Capabilities are developed in parallel, so a later-numbered migration may land before an earlier one.
    const migrator = new Migrator({ db, provider, allowUnorderedMigrations: true });
    const { error, results } = await migrator.migrateToLatest();
    if (error) throw error;
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  };
  if (database.dialect === 'sqlite') return run(database.db);
  // Several servers may start at once on a fresh PostgreSQL database; even creating Kysely's own
  // migration tables can race there, so the whole run is serialised by an advisory lock.
  return database.db.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_ID})`.execute(connection);
    try {
      return await run(connection);
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`.execute(connection);
    }
  });
}

/** Names of known migrations the database has not run (a replica of a newer release started, or a migration failed). */
export async function pendingMigrations(database: Database, sets: MigrationSet[]): Promise<string[]> {
  const all: Record<string, Migration> = {};
  for (const set of sets) for (const [name, make] of Object.entries(set)) all[name] = make(database.dialect);
  const migrator = new Migrator({ db: database.db, provider: { getMigrations: async () => all }, allowUnorderedMigrations: true });
  return (await migrator.getMigrations()).filter((m) => m.executedAt === undefined).map((m) => m.name);
}

/** Adds an auto-incrementing integer primary key named `id` in the dialect's own way. */
export function withAutoIncrementId<T extends string, C extends string>(
  table: CreateTableBuilder<T, C>,
  dialect: DialectName,
): CreateTableBuilder<T, C | 'id'> {
  return dialect === 'sqlite'
    ? table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    : table.addColumn('id', 'bigserial', (c) => c.primaryKey());
}

/** Makes a table append-only at the database level, so no code path (ours or a future one) can rewrite history. */
export async function makeAppendOnly(db: Kysely<unknown>, dialect: DialectName, table: string): Promise<void> {
  if (dialect === 'sqlite') {
    for (const op of ['UPDATE', 'DELETE']) {
      await sql
        .raw(
          `CREATE TRIGGER ${table}_no_${op.toLowerCase()} BEFORE ${op} ON ${table} BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END`,
        )
        .execute(db);
    }
    return;
  }
  await sql
    .raw(
      `CREATE OR REPLACE FUNCTION firebreak_append_only() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql`,
    )
    .execute(db);
  await sql
    .raw(`CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION firebreak_append_only()`)
    .execute(db);
}

/** True when a driver error is a unique-constraint violation (both dialects). */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/**
 * The database handle or an open transaction, whatever tables its holder typed it with. Services pass one to
 * repository functions: the plain handle outside a transaction, the transaction inside one (on SQLite a query on
 * the plain handle inside a transaction waits for that transaction forever).
 */
export type Executor = Pick<Kysely<object>, 'isTransaction' | 'getExecutor' | 'executeQuery'>;

/**
 * One transaction spans every table, but each repository types its queries with its own capability's tables only.
 * This views a caller's executor (Kysely or Transaction) through those table types.
 */
export function viewAs<T>(executor: Executor | object): Kysely<T> {
  return executor as Kysely<T>;
}

/** Round-trips the cheapest statement: the database answers (readiness probes). */
export async function ping(executor: Executor): Promise<void> {
  await sql`select 1`.execute(viewAs<object>(executor));
}
