import { sql, type Kysely } from 'kysely';

/**
 * Makes the database itself reject inserts into `table` whose `column` is `value`, as a constraint or disk
 * error would, so a test can check that one failing write fails alone. Resolves with the undo.
 */
export async function rejectInserts(db: Kysely<object>, kind: 'sqlite' | 'postgres', table: string, column: string, value: string): Promise<() => Promise<void>> {
  const trigger = sql.id(`test_reject_${table}`);
  const target = sql.id(table);
  const field = sql.id(column);
  if (kind === 'sqlite') {
    await sql`CREATE TRIGGER ${trigger} BEFORE INSERT ON ${target} WHEN NEW.${field} = ${sql.lit(value)} BEGIN SELECT RAISE(ABORT, 'rejected by the test'); END`.execute(db);
    return async () => {
      await sql`DROP TRIGGER ${trigger}`.execute(db);
    };
  }
  const fn = sql.id(`test_reject_${table}_fn`);
  await sql`CREATE FUNCTION ${fn}() RETURNS trigger AS $$ BEGIN IF NEW.${field} = ${sql.lit(value)} THEN RAISE EXCEPTION 'rejected by the test'; END IF; RETURN NEW; END; $$ LANGUAGE plpgsql`.execute(db);
  await sql`CREATE TRIGGER ${trigger} BEFORE INSERT ON ${target} FOR EACH ROW EXECUTE FUNCTION ${fn}()`.execute(db);
  return async () => {
    await sql`DROP TRIGGER ${trigger} ON ${target}`.execute(db);
    await sql`DROP FUNCTION ${fn}()`.execute(db);
  };
}
