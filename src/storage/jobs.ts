import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ExpressionBuilder, Kysely, Transaction } from 'kysely';
import type { Database, MigrationSet } from './database.ts';
import { PreparedQuery, preparedPerShape } from './prepared.ts';

/**
 * Durable background work: a row per job in `storage_jobs`, claimed with a lease. Any number of
 * servers may share the table; each job runs on one of them at a time, a crashed server's job is taken
 * over once its lease expires (the claimer sees who held it, so a non-idempotent step can be set aside
 * for a person instead of repeated), and a result is recorded only by the claim that still holds the
 * lease (`complete` is a conditional write in the caller's transaction, so effect and completion commit
 * together, exactly once).
 *
 * A job is identified by (kind, key): scheduling the same key again replaces its time, so callers
 * keep one row per thing that is due (a plan step, an escalation timer, a notification).
 */
export type JobTables = {
  storage_jobs: {
    id: string;
    kind: string;
    job_key: string;
    /** `scheduled` waits for run_at; `running` is held by lease_owner until lease_expires_at; `failed` gave up. */
    status: string;
    run_at: string;
    attempts: number;
    lease_owner: string | null;
    lease_token: string | null;
    lease_expires_at: string | null;
    /** The owner whose lease expired when this claim took the job over (null for an ordinary claim). */
    interrupted_owner: string | null;
    payload: string | null;
    last_error: string | null;
    updated_at: string;
  };
};

export const jobMigrations: MigrationSet = {
  '090_storage_jobs': () => ({
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('storage_jobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('job_key', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('run_at', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('lease_owner', 'text')
        .addColumn('lease_token', 'text')
        .addColumn('lease_expires_at', 'text')
        .addColumn('interrupted_owner', 'text')
        .addColumn('payload', 'text')
        .addColumn('last_error', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('storage_jobs_due_idx').on('storage_jobs').columns(['kind', 'status', 'run_at']).execute();
      await db.schema.createIndex('storage_jobs_lease_idx').on('storage_jobs').columns(['kind', 'status', 'lease_expires_at']).execute();
    },
  }),
};

export type JobRow = JobTables['storage_jobs'];

/** A job as its claimer holds it. */
export interface ClaimedJob {
  readonly id: string;
  readonly kind: string;
  readonly key: string;
  /** 1 for the first attempt since the job was last scheduled. */
  readonly attempts: number;
  readonly runAt: string;
  readonly payload: unknown;
  /** Set when this claim took the job over from a server whose lease expired mid-attempt. */
  readonly interruptedOwner: string | null;
  readonly leaseToken: string;
}

/** Anything that can run queries on the jobs table: the shared handle or a caller's transaction. */
export type JobExecutor = Kysely<JobTables> | Transaction<JobTables>;

export interface ScheduleOptions {
  payload?: unknown;
}

/** Exponential backoff: base·2^(attempt−1), capped. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

const jobId = (kind: string, key: string) => `${kind}:${key}`;

/** A job is due when its time has come, or when the lease of the server running it expired. */
const dueAt = (nowIso: string) => (eb: ExpressionBuilder<JobTables, 'storage_jobs'>) =>
  eb.or([eb.and([eb('status', '=', 'scheduled'), eb('run_at', '<=', nowIso)]), eb.and([eb('status', '=', 'running'), eb('lease_expires_at', '<', nowIso)])]);

/** Thrown by `completeWithEffect` inside a transaction whose job another claim has taken: it rolls the transaction back. */
export class JobLeaseLost extends Error {}

export class JobQueue {
  readonly db: Kysely<JobTables>;
  private readonly postgres: boolean;
  /** Every tick of every server asks which kinds are due; the set of kinds it asks about rarely changes, so each set is compiled once. */
  private readonly dueKindsQuery = preparedPerShape((kinds: readonly string[]) => {
    const fixedKinds = [...kinds];
    return new PreparedQuery<'now', { kind: string }>((slot, builder) => {
      const db = builder as unknown as Kysely<JobTables>;
      // One LIMIT 1 probe per kind (each an index lookup however long a backlog is), wrapped so SQLite accepts the UNION.
      const probe = (kind: string, i: number) =>
        db.selectFrom((inner) => inner.selectFrom('storage_jobs').select('kind').where('kind', '=', kind).where(dueAt(slot('now'))).limit(1).as(`k${i}`)).select('kind');
      let union = probe(fixedKinds[0]!, 0);
      fixedKinds.slice(1).forEach((kind, i) => {
        union = union.unionAll(probe(kind, i + 1));
      });
      return union;
    });
  });

  constructor(
    database: Database,
    readonly clock: () => Date,
  ) {
    this.db = database.db.withTables<JobTables>();
    this.postgres = database.dialect === 'postgres';
  }

  /** Views another capability's transaction as one on the jobs table (same connection, same commit). */
  static in(trx: object): JobExecutor {
    return trx as JobExecutor;
  }

  /**
   * Makes (kind, key) due at `runAt`, replacing any earlier schedule. A job running elsewhere loses its
   * lease, so that attempt's `complete` reports false and the new schedule stands.
   */
  async schedule(executor: JobExecutor, kind: string, key: string, runAt: Date | string, options: ScheduleOptions = {}): Promise<void> {
    const now = this.clock().toISOString();
    const at = typeof runAt === 'string' ? runAt : runAt.toISOString();
    const values = {
      status: 'scheduled',
      run_at: at,
      attempts: 0,
      lease_owner: null,
      lease_token: null,
      lease_expires_at: null,
      interrupted_owner: null,
      payload: options.payload === undefined ? null : JSON.stringify(options.payload),
      last_error: null,
      updated_at: now,
    };
    await executor
      .insertInto('storage_jobs')
      .values({ id: jobId(kind, key), kind, job_key: key, ...values })
      .onConflict((oc) => oc.column('id').doUpdateSet(values))
      .execute();
  }

  /**
   * Adds jobs that do not exist yet and leaves existing ones alone: for adopting work held elsewhere
   * (rows written before this table existed). `interruptedOwner` marks work that was in flight then,
   * so its claimer applies the same rule as after a crash.
   */
  async adopt(executor: JobExecutor, kind: string, jobs: { key: string; runAt: string; interruptedOwner?: string | null }[]): Promise<void> {
    const now = this.clock().toISOString();
    for (let i = 0; i < jobs.length; i += 200) {
      const chunk = jobs.slice(i, i + 200);
      await executor
        .insertInto('storage_jobs')
        .values(
          chunk.map((job) => ({
            id: jobId(kind, job.key),
            kind,
            job_key: job.key,
            status: job.interruptedOwner ? 'running' : 'scheduled',
            run_at: job.runAt,
            attempts: job.interruptedOwner ? 1 : 0,
            lease_owner: job.interruptedOwner ?? null,
            lease_token: null,
            // Already expired: the next claim takes it over as interrupted.
            lease_expires_at: job.interruptedOwner ? new Date(0).toISOString() : null,
            interrupted_owner: null,
            payload: null,
            last_error: null,
            updated_at: now,
          })),
        )
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    }
  }

  /**
   * Makes scheduled jobs of `kind` due no later than `runAt`, leaving running ones alone (their next
   * schedule stands): for work that became urgent, such as new data for a periodic job.
   */
  async hasten(executor: JobExecutor, kind: string, keys: readonly string[], runAt: Date | string): Promise<void> {
    const at = typeof runAt === 'string' ? runAt : runAt.toISOString();
    for (let i = 0; i < keys.length; i += 500) {
      await executor
        .updateTable('storage_jobs')
        .set({ run_at: at })
        .where('id', 'in', keys.slice(i, i + 500).map((key) => jobId(kind, key)))
        .where('status', '=', 'scheduled')
        .where('run_at', '>', at)
        .execute();
    }
  }

  /** Removes (kind, key) whatever its state: the thing it was for no longer needs doing. */
  async cancel(executor: JobExecutor, kind: string, key: string): Promise<void> {
    await executor.deleteFrom('storage_jobs').where('id', '=', jobId(kind, key)).execute();
  }

  async get(kind: string, key: string, executor: JobExecutor = this.db): Promise<JobRow | undefined> {
    return executor.selectFrom('storage_jobs').selectAll().where('id', '=', jobId(kind, key)).executeTakeFirst();
  }

  /**
   * Which of `kinds` have a job due now (or a lease expired), in one statement: an idle worker's poll costs one
   * read however many kinds it handles, rather than one per kind on every replica.
   */
  async dueKinds(kinds: readonly string[]): Promise<Set<string>> {
    if (kinds.length === 0) return new Set();
    const rows = await this.dueKindsQuery(kinds).execute(this.db, { now: this.clock().toISOString() });
    return new Set(rows.map((r) => r.kind));
  }

  /**
   * Claims up to `limit` jobs of `kind` (only the one of `key`, when given) that are due, or whose lease expired. One conditional UPDATE: a
   * row claimed by another server meanwhile no longer matches (on PostgreSQL, rows locked by another
   * claim are skipped rather than waited for). `knownDue` skips the plain read that finds nothing to do, when
   * the caller's `dueKinds` just found this kind due.
   */
  async claim(kind: string, owner: string, limit: number, leaseMs: number, key?: string, knownDue = false): Promise<ClaimedJob[]> {
    if (limit <= 0) return [];
    const now = this.clock();
    const nowIso = now.toISOString();
    const due = (eb: ExpressionBuilder<JobTables, 'storage_jobs'>) => {
      const timing = dueAt(nowIso)(eb);
      // A request that made one job due now (an escalation a responder asked for) claims that job only.
      return key === undefined ? timing : eb.and([eb('job_key', '=', key), timing]);
    };
    // A plain read first: an idle server polling must not take SQLite's write lock for nothing (the worker's
    // poll did that read already for all its kinds).
    if (!knownDue) {
      const any = await this.db.selectFrom('storage_jobs').select('id').where('kind', '=', kind).where(due).limit(1).executeTakeFirst();
      if (!any) return [];
    }
    const token = randomUUID();
    const claim = (executor: JobExecutor, ids: string[] | null) =>
      executor
        .updateTable('storage_jobs')
        .set((eb) => ({
          status: 'running',
          interrupted_owner: eb.case().when('status', '=', 'running').then(eb.ref('lease_owner')).else(null).end(),
          lease_owner: owner,
          lease_token: token,
          lease_expires_at: new Date(now.getTime() + leaseMs).toISOString(),
          attempts: eb('attempts', '+', 1),
          updated_at: nowIso,
        }))
        .where((eb) => (ids ? eb('id', 'in', ids) : eb('id', 'in', eb.selectFrom('storage_jobs').select('id').where('kind', '=', kind).where(due).orderBy('run_at').limit(limit))))
        .where(due)
        .returningAll()
        .execute();
    // On PostgreSQL a LIMIT … FOR UPDATE SKIP LOCKED subquery inside the UPDATE may be evaluated more than
    // once (claiming more than `limit`), so the rows are picked first, then claimed, in one transaction.
    const rows = this.postgres
      ? await this.db.transaction().execute(async (trx) => {
          const picked = await trx.selectFrom('storage_jobs').select('id').where('kind', '=', kind).where(due).orderBy('run_at').limit(limit).forUpdate().skipLocked().execute();
          return picked.length ? claim(trx, picked.map((p) => p.id)) : [];
        })
      : await claim(this.db, null);
    return rows
      .sort((a, b) => (a.run_at < b.run_at ? -1 : a.run_at > b.run_at ? 1 : 0))
      .map((row) => ({
        id: row.id,
        kind: row.kind,
        key: row.job_key,
        attempts: Number(row.attempts),
        runAt: row.run_at,
        payload: row.payload === null ? null : (JSON.parse(row.payload) as unknown),
        interruptedOwner: row.interrupted_owner,
        leaseToken: token,
      }));
  }

  /** Extends the lease of a job still held by this claim; false when it was lost (expired and taken, or rescheduled). */
  async heartbeat(job: ClaimedJob, leaseMs: number): Promise<boolean> {
    const result = await this.db
      .updateTable('storage_jobs')
      .set({ lease_expires_at: new Date(this.clock().getTime() + leaseMs).toISOString() })
      .where('id', '=', job.id)
      .where('lease_token', '=', job.leaseToken)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** True when this claim still holds the job; inside the caller's transaction it also keeps another claim from taking it until commit. */
  async holds(executor: JobExecutor, job: ClaimedJob): Promise<boolean> {
    const result = await executor
      .updateTable('storage_jobs')
      .set({ updated_at: this.clock().toISOString() })
      .where('id', '=', job.id)
      .where('lease_token', '=', job.leaseToken)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * `complete` for a job whose effect is written in the same transaction: throws `JobLeaseLost` when the claim
   * was lost, which rolls the effect back with the transaction; the caller catches it outside and reports nothing done.
   */
  async completeWithEffect(executor: JobExecutor, job: ClaimedJob, next?: { runAt: Date | string }): Promise<void> {
    if (!(await this.complete(executor, job, next))) throw new JobLeaseLost();
  }

  /**
   * Records the end of an attempt, in the caller's transaction, only if this claim still holds the job.
   * Without `next` the job is done and removed; with it, it is due again at `next.runAt`. Returns false
   * when the lease was lost: the caller must then roll back what it wrote, since another claim owns the job.
   */
  async complete(executor: JobExecutor, job: ClaimedJob, next?: { runAt: Date | string; error?: string; keepAttempts?: boolean }): Promise<boolean> {
    if (!next) {
      const deleted = await executor.deleteFrom('storage_jobs').where('id', '=', job.id).where('lease_token', '=', job.leaseToken).executeTakeFirst();
      return Number(deleted.numDeletedRows) === 1;
    }
    const updated = await executor
      .updateTable('storage_jobs')
      .set({
        status: 'scheduled',
        run_at: typeof next.runAt === 'string' ? next.runAt : next.runAt.toISOString(),
        ...(next.keepAttempts ? {} : { attempts: 0 }),
        lease_owner: null,
        lease_token: null,
        lease_expires_at: null,
        interrupted_owner: null,
        last_error: next.error ?? null,
        updated_at: this.clock().toISOString(),
      })
      .where('id', '=', job.id)
      .where('lease_token', '=', job.leaseToken)
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1;
  }

  /** Gives up on a job after its handler failed too often; the row stays, with its error, for inspection. */
  async fail(executor: JobExecutor, job: ClaimedJob, error: string): Promise<boolean> {
    const result = await executor
      .updateTable('storage_jobs')
      .set({ status: 'failed', lease_owner: null, lease_token: null, lease_expires_at: null, last_error: error, updated_at: this.clock().toISOString() })
      .where('id', '=', job.id)
      .where('lease_token', '=', job.leaseToken)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}

/** What a kind of job does. The handler records its outcome with `queue.complete` in its own transaction. */
export interface JobHandler {
  run(job: ClaimedJob): Promise<void>;
  /** How long a claim is held without renewal; the worker renews it every third of this while the handler runs. */
  leaseMs: number;
  /** Jobs of this kind one server runs at once. */
  concurrency: number;
  /**
   * Retry policy when `run` throws without completing: due again after backoffMs(attempts, …), failed
   * for good after maxAttempts. Defaults: 1 s base, 5 min cap, 10 attempts.
   */
  retry?: { baseMs: number; maxMs: number; maxAttempts: number };
  /** Adds jobs for work stored before this table existed (run once at start, idempotent). */
  adopt?(): Promise<void>;
}

/** Work that is not a stored job: it runs in every server on a cadence (and when poked), e.g. scans of due rows. */
export interface PeriodicTask {
  intervalMs: number;
  /**
   * Pokes within this long of the task's last start wait for its end, and all of them run as one: under a stream
   * of pokes (a burst of incidents, each poking the dispatcher) one run takes the whole burst, instead of a run and
   * a wake of the loop per poke. A poke after a quiet spell runs at once. `runDue` does not wait.
   */
  pokeGapMs?: number;
  run(reason: 'poll' | 'poke'): Promise<unknown>;
}

export interface JobWorkerOptions {
  /** How often the loop looks for due jobs (real time: due-ness itself is judged by the queue's clock). */
  pollMs: number;
  log: { error(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

interface KindState {
  handler: JobHandler;
  inFlight: Set<Promise<void>>;
}

interface TaskState {
  task: PeriodicTask;
  /** When the last poll run started (performance.now()). */
  lastRunMs: number;
  /** When the last run of any reason started. */
  lastStartMs: number;
  poked: boolean;
  /** Wakes the loop when a poke's gap ends. */
  gapTimer: NodeJS.Timeout | undefined;
}

/** `all`: every periodic task runs; `poked`: poked tasks run at once (runDue); `loop`: poked tasks wait out their poke gap. */
type TickMode = 'all' | 'poked' | 'loop';

/**
 * The one background loop of a server: claims due jobs of every registered kind (up to each kind's
 * concurrency), runs them, renews their leases, and runs the periodic tasks. `poke()` wakes it at once
 * (work was just enqueued); `runDue()` runs everything due now and waits for it, for tests that move
 * their clock instead of waiting for the poll.
 */
export class JobWorker {
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 6)}`;
  private readonly kinds = new Map<string, KindState>();
  private readonly tasks = new Map<string, TaskState>();
  private stopped = true;
  private wake: (() => void) | undefined;
  private wakeRequested = false;
  private loop: Promise<void> | undefined;
  private tickChain: Promise<void> = Promise.resolve();
  /** Job attempts finished in this process, so `runDue` sees work that ended between its claims and its settling. */
  private attemptsFinished = 0;

  constructor(
    readonly queue: JobQueue,
    private readonly options: JobWorkerOptions,
  ) {}

  get running(): boolean {
    return !this.stopped;
  }

  handle(kind: string, handler: JobHandler): void {
    if (this.kinds.has(kind)) throw new Error(`job kind ${kind} is handled twice`);
    this.kinds.set(kind, { handler, inFlight: new Set() });
  }

  every(name: string, task: PeriodicTask): void {
    if (this.tasks.has(name)) throw new Error(`periodic task ${name} is registered twice`);
    this.tasks.set(name, { task, lastRunMs: Number.NEGATIVE_INFINITY, lastStartMs: Number.NEGATIVE_INFINITY, poked: false, gapTimer: undefined });
  }

  /**
   * Wakes the loop now; with a task name, that task runs in the next tick (poked ticks of many pokes coalesce),
   * or when its poke gap ends.
   */
  poke(task?: string): void {
    if (task) {
      const state = this.tasks.get(task);
      if (state) {
        state.poked = true;
        if (this.inPokeGap(state)) {
          this.wakeAfterGap(state);
          return;
        }
      }
    }
    if (this.stopped) return;
    this.wakeRequested = true;
    this.wake?.();
  }

  private inPokeGap(state: TaskState): boolean {
    return state.task.pokeGapMs !== undefined && performance.now() - state.lastStartMs < state.task.pokeGapMs;
  }

  private wakeAfterGap(state: TaskState): void {
    if (this.stopped || state.gapTimer) return;
    const wait = Math.max(0, state.lastStartMs + state.task.pokeGapMs! - performance.now());
    state.gapTimer = setTimeout(() => {
      state.gapTimer = undefined;
      this.poke();
    }, wait);
  }

  async start(): Promise<void> {
    if (!this.stopped) return;
    for (const [kind, { handler }] of this.kinds) {
      try {
        await handler.adopt?.();
      } catch (error) {
        this.options.log.error({ err: error, kind }, 'adopting stored work as jobs failed');
      }
    }
    this.stopped = false;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const state of this.tasks.values()) {
      clearTimeout(state.gapTimer);
      state.gapTimer = undefined;
    }
    this.wake?.();
    await this.loop;
    await this.tickChain;
    // Let attempts in progress record their results; their leases would otherwise have to expire.
    await this.settle();
  }

  /** Runs every due periodic task and job now and waits until they (and what they started) finished. */
  async runDue(): Promise<void> {
    let all = true;
    // Rounds until one finds nothing to do: what a round made due (a notification enqueued by an
    // escalation, the dispatch of the entry it wrote) runs in the next; this server's own loop may have
    // claimed some of it meanwhile, which the settling waits for.
    // A job the loop claimed before this round may finish during it, after this round's claims ran: what it
    // enqueued was not there to claim, and settling finds nothing in flight; the count of finished attempts shows it.
    for (let round = 0; round < 20; round++) {
      const finishedBefore = this.attemptsFinished;
      const claimed = await this.serialTick(all ? 'all' : 'poked');
      all = false;
      const waited = await this.settle();
      const poked = [...this.tasks.values()].some((t) => t.poked);
      if (claimed === 0 && !waited && !poked && this.attemptsFinished === finishedBefore) return;
    }
  }

  /** Waits for the jobs in flight; true if there were any. */
  async settle(): Promise<boolean> {
    let waited = false;
    for (;;) {
      const pending = [...this.kinds.values()].flatMap((k) => [...k.inFlight]);
      if (pending.length === 0) return waited;
      waited = true;
      await Promise.allSettled(pending);
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await this.serialTick('loop');
      if (this.stopped) break;
      if (this.wakeRequested) {
        this.wakeRequested = false;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.pollMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
      this.wakeRequested = false;
    }
  }

  /** Ticks never overlap within a process (the loop and runDue share one chain). */
  private serialTick(mode: TickMode): Promise<number> {
    const run = this.tickChain.then(() => this.tick(mode));
    this.tickChain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Runs the periodic tasks that are due (see TickMode) and claims due jobs; returns how many were claimed. */
  private async tick(mode: TickMode): Promise<number> {
    let total = 0;
    const nowMs = performance.now();
    for (const [name, state] of this.tasks) {
      const due = nowMs - state.lastRunMs >= state.task.intervalMs;
      if (!due && mode !== 'all') {
        if (!state.poked) continue;
        if (mode === 'loop' && this.inPokeGap(state)) {
          this.wakeAfterGap(state);
          continue;
        }
      }
      const reason = due ? 'poll' : 'poke';
      state.poked = false;
      state.lastStartMs = nowMs;
      if (due) state.lastRunMs = nowMs;
      try {
        await state.task.run(reason);
      } catch (error) {
        this.options.log.error({ err: error, task: name }, 'periodic task failed');
      }
    }
    const open = [...this.kinds].filter(([, state]) => state.handler.concurrency > state.inFlight.size).map(([kind]) => kind);
    let due: Set<string>;
    try {
      due = await this.queue.dueKinds(open);
    } catch (error) {
      this.options.log.error({ err: error }, 'looking for due jobs failed');
      return total;
    }
    for (const [kind, state] of this.kinds) {
      const free = state.handler.concurrency - state.inFlight.size;
      if (free <= 0 || !due.has(kind)) continue;
      let claimed: ClaimedJob[];
      try {
        claimed = await this.queue.claim(kind, this.owner, free, state.handler.leaseMs, undefined, true);
      } catch (error) {
        this.options.log.error({ err: error, kind }, 'claiming jobs failed');
        continue;
      }
      total += claimed.length;
      for (const job of claimed) {
        const attempt = this.attempt(state.handler, job).finally(() => {
          state.inFlight.delete(attempt);
          this.attemptsFinished++;
          // A slot is free: more may be waiting behind a full batch.
          if (claimed.length === free) this.poke();
        });
        state.inFlight.add(attempt);
      }
    }
    return total;
  }

  private async attempt(handler: JobHandler, job: ClaimedJob): Promise<void> {
    const renew = setInterval(
      () => {
        this.queue.heartbeat(job, handler.leaseMs).catch((error: unknown) => this.options.log.warn({ err: error, job: job.id }, 'job lease renewal failed'));
      },
      Math.max(100, Math.floor(handler.leaseMs / 3)),
    );
    try {
      await handler.run(job);
    } catch (error) {
      const message = (error as Error).message;
      const retry = handler.retry ?? { baseMs: 1000, maxMs: 300_000, maxAttempts: 10 };
      try {
        if (job.attempts >= retry.maxAttempts) {
          await this.queue.fail(this.queue.db, job, message);
          this.options.log.error({ err: error, job: job.id, attempts: job.attempts }, 'job failed for good');
        } else {
          const runAt = new Date(this.queue.clock().getTime() + backoffMs(job.attempts, retry.baseMs, retry.maxMs));
          await this.queue.complete(this.queue.db, job, { runAt, error: message, keepAttempts: true });
          this.options.log.warn({ err: error, job: job.id, attempts: job.attempts, retry_at: runAt.toISOString() }, 'job failed; retrying');
        }
      } catch (recordError) {
        // The database is gone: the lease expires and another claim retries.
        this.options.log.error({ err: recordError, job: job.id }, 'job failure could not be recorded');
      }
    } finally {
      clearInterval(renew);
    }
  }
}
