import type { JobWorker } from '../storage/index.ts';
import { RTO_BREACH_JOB, SOAK_END_JOB, type RecoveryService } from './service.ts';
import { ITEM_OVERDUE_JOB, type PostmortemService } from './postmortem.ts';

/**
 * Recovery deadlines are storage jobs, scheduled in the transaction that sets them and cancelled or
 * moved when they stop applying: the end of a soak period (`recovery.soak_end`, at `soak_due_at`), the
 * RTO deadline (`recovery.rto_breach`, at `rto_due_at`) and an action item's due date
 * (`recovery.item_overdue`, from the next UTC day). The queue's lease decides which server fires each,
 * and each handler records its event in one transaction with the job's completion, so several servers
 * sharing a database record it once and a restart loses nothing. Deadlines stored by earlier versions
 * (without jobs) are adopted at start.
 */
export function registerRecoveryJobs(worker: JobWorker, recovery: RecoveryService, postmortems: PostmortemService): void {
  worker.handle(SOAK_END_JOB, {
    // Re-evaluating runs the plan's checks (HTTP, Prometheus); the worker renews the lease while they run.
    leaseMs: 60_000,
    concurrency: 4,
    adopt: () => recovery.adoptStoredSoaks(),
    run: async (job) => {
      await recovery.finishSoak(job);
    },
  });
  worker.handle(RTO_BREACH_JOB, {
    leaseMs: 30_000,
    concurrency: 4,
    adopt: () => recovery.adoptStoredRtoDeadlines(),
    run: async (job) => {
      await recovery.recordBreach(job);
    },
  });
  worker.handle(ITEM_OVERDUE_JOB, {
    leaseMs: 30_000,
    concurrency: 4,
    adopt: () => postmortems.adoptStoredOverdueNotices(),
    run: async (job) => {
      await postmortems.notifyOverdue(job);
    },
  });
}
