import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../support/databases.ts';
import { openDatabase, type Database } from '../../src/storage/index.ts';

describeEachDatabase('queries on the plain handle inside a transaction', (kind) => {
  let testDatabase: TestDatabase;
  let database: Database;
  beforeAll(async () => {
    testDatabase = await createTestDatabase(kind);
    database = openDatabase(testDatabase.url);
    await sql`create table guard_probe (n integer)`.execute(database.db);
  });
  afterAll(async () => {
    await database.close();
    await testDatabase.drop();
  });

  it('fail at once, naming the mistake, and the transaction rolls back', async () => {
    const attempt = database.db.transaction().execute(async (trx) => {
      await sql`insert into guard_probe (n) values (1)`.execute(trx);
      await sql`select count(*) from guard_probe`.execute(database.db);
    });
    await expect(attempt).rejects.toThrow(/plain database handle ran inside a transaction/);
    const rows = await sql<{ n: number }>`select count(*) as n from guard_probe`.execute(database.db);
    expect(Number(rows.rows[0]!.n)).toBe(0);
  });

  it('refuses a nested transaction on the plain handle too', async () => {
    const attempt = database.db.transaction().execute(async () => database.db.transaction().execute(async () => 1));
    await expect(attempt).rejects.toThrow(/plain database handle/);
  });

  it('lets work started inside a transaction use the plain handle once the transaction has ended', async () => {
    let later: Promise<unknown> | undefined;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await database.db.transaction().execute(async (trx) => {
      await sql`insert into guard_probe (n) values (2)`.execute(trx);
      // Started here, runs after the commit (an event handler, a poke to a worker).
      later = gate.then(() => sql`select n from guard_probe`.execute(database.db));
    });
    release();
    await expect(later).resolves.toMatchObject({ rows: [{ n: 2 }] });
  });

  it('leaves concurrent transactions and plain queries outside transactions alone', async () => {
    const results = await Promise.all([
      database.db.transaction().execute(async (trx) => sql`select 1 as one`.execute(trx)),
      sql`select 2 as two`.execute(database.db),
      database.db.transaction().execute(async (trx) => sql`select 3 as three`.execute(trx)),
    ]);
    expect(results.map((r) => Object.values(r.rows[0] as object)[0])).toEqual([1, 2, 3]);
  });
});
