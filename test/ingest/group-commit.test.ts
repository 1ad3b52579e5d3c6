import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GroupCommit, isUniqueViolation, openDatabase, type Database } from '../../src/storage/index.ts';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../support/databases.ts';

type Tables = { gc_items: { id: string; n: number } };

// The group commit under the alert pipeline, exercised directly: a server test cannot decide which
// events share a transaction, nor make one of them fail inside it.
describeEachDatabase('group commit', (kind) => {
  let testDatabase: TestDatabase;
  let writer: Database;
  let reader: Database;
  beforeAll(async () => {
    testDatabase = await createTestDatabase(kind);
    writer = openDatabase(testDatabase.url);
    reader = openDatabase(testDatabase.url);
    await sql`CREATE TABLE gc_items (id text PRIMARY KEY, n integer NOT NULL)`.execute(writer.db);
  });
  afterAll(async () => {
    await writer.close();
    await reader.close();
    await testDatabase.drop();
  });

  const count = async (prefix: string) =>
    Number((await sql<{ c: number }>`SELECT count(*) AS c FROM gc_items WHERE id LIKE ${`${prefix}%`}`.execute(reader.db)).rows[0]!.c);

  it('work submitted together shares one transaction; each caller is answered after the commit, and a failing piece fails alone', async () => {
    const commits = new GroupCommit(writer.db.withTables<Tables>());
    await sql`INSERT INTO gc_items (id, n) VALUES ('a-taken', 0)`.execute(writer.db);
    const seenAtAnswer: number[] = [];
    const insert = (id: string) =>
      commits
        .run(async (trx) => {
          await trx.insertInto('gc_items').values({ id, n: 1 }).execute();
          await trx.updateTable('gc_items').set((eb) => ({ n: eb('n', '+', 1) })).where('id', '=', id).execute();
          return id;
        })
        .then(async (value) => {
          // Another connection sees the row as soon as the caller hears back: it was committed.
          seenAtAnswer.push(Number((await sql<{ c: number }>`SELECT count(*) AS c FROM gc_items WHERE id = ${id}`.execute(reader.db)).rows[0]!.c));
          return value;
        });
    const results = await Promise.allSettled([
      insert('a-1'),
      insert('a-2'),
      // A database error (a duplicate key) after its first write: on PostgreSQL it aborts the transaction
      // unless its savepoint is rolled back.
      commits.run(async (trx) => {
        await trx.updateTable('gc_items').set({ n: 99 }).where('id', '=', 'a-1').execute();
        await trx.insertInto('gc_items').values({ id: 'a-taken', n: 1 }).execute();
      }),
      // An application error after a write.
      commits.run(async (trx) => {
        await trx.insertInto('gc_items').values({ id: 'a-bad', n: 1 }).execute();
        throw new Error('this event is bad');
      }),
      insert('a-3'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect(isUniqueViolation((results[2] as PromiseRejectedResult).reason)).toBe(true);
    expect((results[3] as PromiseRejectedResult).reason).toMatchObject({ message: 'this event is bad' });
    expect(seenAtAnswer).toEqual([1, 1, 1]);
    // The failed pieces left nothing behind, the others everything.
    const rows = await reader.db.withTables<Tables>().selectFrom('gc_items').selectAll().where('id', 'like', 'a-%').orderBy('id').execute();
    expect(rows.map((r) => [r.id, Number(r.n)])).toEqual([['a-1', 2], ['a-2', 2], ['a-3', 2], ['a-taken', 0]]);
  });

  it('more callers than one group takes are all answered, in the order they came, and every change is kept', async () => {
    const commits = new GroupCommit(writer.db.withTables<Tables>(), { maxBatch: 7 });
    await sql`INSERT INTO gc_items (id, n) VALUES ('b-counter', 0)`.execute(writer.db);
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        commits.run(async (trx) => {
          await trx.insertInto('gc_items').values({ id: `b-${i}`, n: i }).execute();
          const [row] = await trx.updateTable('gc_items').set((eb) => ({ n: eb('n', '+', 1) })).where('id', '=', 'b-counter').returning('n').execute();
          return Number(row!.n);
        }),
      ),
    );
    // Run one after another in submission order: each saw the counter its predecessor left.
    expect(results).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(await count('b-')).toBe(101);
  });

  it('a single first statement needs no savepoint; when it fails, only its own caller sees the error', async () => {
    const commits = new GroupCommit(writer.db.withTables<Tables>());
    await sql`INSERT INTO gc_items (id, n) VALUES ('c-open', 0)`.execute(writer.db);
    const workRan: string[] = [];
    // Counts c-open when it exists (the "repeat"); otherwise work inserts the row (the "new" case).
    const countOrCreate = (id: string) =>
      commits.run(
        async (trx) => {
          workRan.push(id);
          await trx.insertInto('gc_items').values({ id, n: 1 }).execute();
          return 'created';
        },
        async (trx) => ((await trx.updateTable('gc_items').set((eb) => ({ n: eb('n', '+', 1) })).where('id', '=', id).returning('n').execute()).length ? 'counted' : null),
      );
    const results = await Promise.allSettled([
      countOrCreate('c-open'),
      countOrCreate('c-new'),
      // A failing first statement (a duplicate key) abandons the shared transaction on PostgreSQL.
      commits.run(
        async () => 'never',
        async (trx) => {
          await trx.insertInto('gc_items').values({ id: 'c-open', n: 5 }).execute();
          return 'inserted';
        },
      ),
      countOrCreate('c-open'),
    ]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'rejected'))).toEqual(['counted', 'created', 'rejected', 'counted']);
    expect(isUniqueViolation((results[2] as PromiseRejectedResult).reason)).toBe(true);
    // Work ran only where first found nothing (once more when the group was rerun piece by piece).
    expect(new Set(workRan)).toEqual(new Set(['c-new']));
    const rows = await reader.db.withTables<Tables>().selectFrom('gc_items').selectAll().where('id', 'like', 'c-%').orderBy('id').execute();
    expect(rows.map((r) => [r.id, Number(r.n)])).toEqual([['c-new', 1], ['c-open', 2]]);
  });
});
