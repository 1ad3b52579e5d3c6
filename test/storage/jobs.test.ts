import { afterEach, beforeEach, expect, it } from 'vitest';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../support/databases.ts';
import { ManualClock } from '../support/clock.ts';
import { JobQueue, JobWorker, jobMigrations, migrateToLatest, openDatabase, type ClaimedJob, type Database } from '../../src/storage/index.ts';

const silent = { error: () => undefined, warn: () => undefined };

describeEachDatabase('storage jobs', (kind) => {
  let testDb: TestDatabase;
  let database: Database;
  let clock: ManualClock;
  let queue: JobQueue;

  beforeEach(async () => {
    testDb = await createTestDatabase(kind);
    database = openDatabase(testDb.url);
    await migrateToLatest(database, [jobMigrations]);
    clock = new ManualClock('2026-05-01T08:00:00.000Z');
    queue = new JobQueue(database, clock.now);
  });
  afterEach(async () => {
    await database.close();
    await testDb.drop();
  });

  it('runs a job only once it is due, and gives it to one claimer at a time', async () => {
    await queue.schedule(queue.db, 'k', 'a', new Date(clock.now().getTime() + 60_000), { payload: { n: 1 } });
    expect(await queue.claim('k', 'w1', 10, 30_000)).toEqual([]);
    clock.advance(60_000);
    const [job] = await queue.claim('k', 'w1', 10, 30_000);
    expect(job).toMatchObject({ key: 'a', attempts: 1, payload: { n: 1 }, interruptedOwner: null });
    expect(await queue.claim('k', 'w2', 10, 30_000)).toEqual([]);
    expect(await queue.claim('other', 'w2', 10, 30_000)).toEqual([]);
  });

  it('finds which kinds have due work (time come or lease expired) in one poll', async () => {
    expect(await queue.dueKinds(['k', 'other', 'late'])).toEqual(new Set());
    await queue.schedule(queue.db, 'k', 'a', clock.now());
    await queue.schedule(queue.db, 'k', 'b', clock.now());
    await queue.schedule(queue.db, 'late', 'a', new Date(clock.now().getTime() + 60_000));
    await queue.schedule(queue.db, 'held', 'a', clock.now());
    await queue.claim('held', 'w1', 1, 10_000);
    expect(await queue.dueKinds(['k', 'other', 'late', 'held'])).toEqual(new Set(['k']));
    clock.advance(60_000);
    expect(await queue.dueKinds(['k', 'other', 'late', 'held'])).toEqual(new Set(['k', 'late', 'held']));
    expect(await queue.dueKinds(['late'])).toEqual(new Set(['late']));
  });

  it('completes exactly once: a claim that lost its lease cannot record, and rescheduling keeps one row', async () => {
    await queue.schedule(queue.db, 'k', 'a', clock.now());
    const [first] = (await queue.claim('k', 'w1', 1, 10_000)) as [ClaimedJob];
    clock.advance(5_000);
    expect(await queue.heartbeat(first, 10_000)).toBe(true);
    clock.advance(9_000);
    // Renewed at +5 s for 10 s: still held at +14 s.
    expect(await queue.claim('k', 'w2', 1, 10_000)).toEqual([]);
    clock.advance(2_000);
    const [second] = (await queue.claim('k', 'w2', 1, 10_000)) as [ClaimedJob];
    expect(second).toMatchObject({ attempts: 2, interruptedOwner: 'w1' });
    expect(await queue.heartbeat(first, 10_000)).toBe(false);
    expect(await queue.complete(queue.db, first)).toBe(false);
    // The takeover reschedules; the row is the same job, due again later.
    expect(await queue.complete(queue.db, second, { runAt: new Date(clock.now().getTime() + 1000) })).toBe(true);
    expect(await queue.complete(queue.db, second)).toBe(false);
    const row = await queue.get('k', 'a');
    expect(row).toMatchObject({ status: 'scheduled', attempts: 0, lease_owner: null });
    clock.advance(1000);
    const [third] = (await queue.claim('k', 'w3', 1, 10_000)) as [ClaimedJob];
    expect(third.interruptedOwner).toBeNull();
    expect(await queue.complete(queue.db, third)).toBe(true);
    expect(await queue.get('k', 'a')).toBeUndefined();
  });

  it('rolls back a completion with the transaction it was part of', async () => {
    await queue.schedule(queue.db, 'k', 'a', clock.now());
    const [job] = (await queue.claim('k', 'w1', 1, 10_000)) as [ClaimedJob];
    await expect(
      queue.db.transaction().execute(async (trx) => {
        expect(await queue.complete(trx, job)).toBe(true);
        throw new Error('effect failed');
      }),
    ).rejects.toThrow('effect failed');
    expect(await queue.get('k', 'a')).toMatchObject({ status: 'running' });
  });

  it('adopts stored work without touching jobs that exist, and an adopted in-flight job is taken over as interrupted', async () => {
    await queue.schedule(queue.db, 'k', 'a', new Date(clock.now().getTime() + 1000));
    await queue.adopt(queue.db, 'k', [
      { key: 'a', runAt: clock.iso() },
      { key: 'b', runAt: clock.iso(), interruptedOwner: 'old-server' },
    ]);
    const claimed = await queue.claim('k', 'w1', 10, 10_000);
    expect(claimed.map((j) => [j.key, j.interruptedOwner])).toEqual([['b', 'old-server']]);
  });

  it('retries a failing handler with exponential backoff by the injected clock, then gives up', async () => {
    const worker = new JobWorker(queue, { pollMs: 60_000, log: silent });
    const attempts: number[] = [];
    worker.handle('flaky', {
      leaseMs: 10_000,
      concurrency: 1,
      retry: { baseMs: 1000, maxMs: 60_000, maxAttempts: 3 },
      async run(job) {
        attempts.push(job.attempts);
        throw new Error(`failure ${job.attempts}`);
      },
    });
    await queue.schedule(queue.db, 'flaky', 'x', clock.now());
    await worker.runDue();
    expect(attempts).toEqual([1]);
    expect(await queue.get('flaky', 'x')).toMatchObject({ status: 'scheduled', run_at: '2026-05-01T08:00:01.000Z', last_error: 'failure 1' });
    clock.advance(1000);
    await worker.runDue();
    expect(await queue.get('flaky', 'x')).toMatchObject({ run_at: '2026-05-01T08:00:03.000Z' });
    clock.advance(1999);
    await worker.runDue();
    expect(attempts).toEqual([1, 2]);
    clock.advance(1);
    await worker.runDue();
    expect(attempts).toEqual([1, 2, 3]);
    expect(await queue.get('flaky', 'x')).toMatchObject({ status: 'failed', last_error: 'failure 3' });
  });

  it('runs handlers up to their concurrency and periodic tasks on demand, in one loop', async () => {
    const worker = new JobWorker(queue, { pollMs: 60_000, log: silent });
    let running = 0;
    let peak = 0;
    const done: string[] = [];
    worker.handle('k', {
      leaseMs: 10_000,
      concurrency: 2,
      async run(job) {
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setImmediate(resolve));
        running--;
        done.push(job.key);
        expect(await queue.complete(queue.db, job)).toBe(true);
      },
    });
    let scans = 0;
    worker.every('scan', { intervalMs: 3_600_000, run: async () => scans++ });
    for (const key of ['a', 'b', 'c', 'd', 'e']) await queue.schedule(queue.db, 'k', key, clock.now());
    await worker.runDue();
    expect(done.sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(peak).toBe(2);
    expect(scans).toBe(1);
    worker.poke('scan');
    await worker.runDue();
    expect(scans).toBe(2);
  });
  it('runDue also runs what a job the loop held enqueued, when that job finished between runDue\u2019s claims and its settling', async () => {
    // The interleaving is forced, not hoped for: the loop's tick claims job a and holds it until runDue's first
    // tick has looked for due work (finding none: a is held, b not yet made), and a finishes before runDue settles.
    let runDueStarted = false;
    let released = false;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let aClaimed!: () => void;
    const aRunning = new Promise<void>((resolve) => (aClaimed = resolve));
    let aFinished!: () => void;
    const aDone = new Promise<void>((resolve) => (aFinished = resolve));
    class GatedQueue extends JobQueue {
      override async dueKinds(kinds: readonly string[]): Promise<Set<string>> {
        const due = await super.dueKinds(kinds);
        if (runDueStarted && !released) {
          released = true;
          release();
          await aDone;
          await new Promise((resolve) => setImmediate(resolve));
        }
        return due;
      }
    }
    const gated = new GatedQueue(database, clock.now);
    const worker = new JobWorker(gated, { pollMs: 60_000, log: silent });
    const ran: string[] = [];
    worker.handle('first', {
      leaseMs: 10_000,
      concurrency: 1,
      async run(job) {
        aClaimed();
        await gate;
        await gated.schedule(gated.db, 'second', 'b', clock.now());
        await gated.complete(gated.db, job);
        ran.push(job.key);
        worker.poke();
        aFinished();
      },
    });
    worker.handle('second', {
      leaseMs: 10_000,
      concurrency: 1,
      async run(job) {
        ran.push(job.key);
        await gated.complete(gated.db, job);
      },
    });
    await gated.schedule(gated.db, 'first', 'a', clock.now());
    await worker.start();
    try {
      await aRunning;
      runDueStarted = true;
      await worker.runDue();
      expect(ran).toEqual(['a', 'b']);
    } finally {
      await worker.stop();
    }
  });

  it('takes pokes within a task’s poke gap together in one later run, while jobs run at once; runDue does not wait for the gap', async () => {
    const worker = new JobWorker(queue, { pollMs: 60_000, log: silent });
    let runs = 0;
    let firstRun!: () => void;
    const firstRan = new Promise<void>((resolve) => (firstRun = resolve));
    worker.every('dispatch', {
      intervalMs: 3_600_000,
      pokeGapMs: 3_600_000,
      run: async () => {
        runs++;
        firstRun();
      },
    });
    let jobRan!: () => void;
    const jobDone = new Promise<void>((resolve) => (jobRan = resolve));
    worker.handle('k', {
      leaseMs: 10_000,
      concurrency: 1,
      async run(job) {
        await queue.complete(queue.db, job);
        jobRan();
      },
    });
    await worker.start();
    try {
      await firstRan;
      worker.poke('dispatch');
      worker.poke('dispatch');
      // A job enqueued meanwhile wakes the loop at once; that tick claims it but leaves the poked task to its gap.
      await queue.schedule(queue.db, 'k', 'a', clock.now());
      worker.poke();
      await jobDone;
      expect(runs).toBe(1);
      await worker.runDue();
      expect(runs).toBe(2);
    } finally {
      await worker.stop();
    }
  });

  it('runs a task poked within its gap once the gap ends, without another poke', async () => {
    const worker = new JobWorker(queue, { pollMs: 60_000, log: silent });
    let runs = 0;
    let wake: (() => void) | undefined;
    const ranTimes = (n: number) => new Promise<void>((resolve) => (wake = () => runs >= n && resolve()));
    worker.every('dispatch', {
      intervalMs: 3_600_000,
      pokeGapMs: 200,
      run: async () => {
        runs++;
        wake?.();
      },
    });
    const first = ranTimes(1);
    await worker.start();
    try {
      await first;
      const second = ranTimes(2);
      worker.poke('dispatch');
      await second;
      expect(runs).toBe(2);
    } finally {
      await worker.stop();
    }
  });
});
