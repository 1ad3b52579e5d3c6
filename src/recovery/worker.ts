import type { Logger } from 'pino';
import type { JobWorker } from '../storage/index.ts';
import { SOAK_END_JOB, type RecoveryService } from './service.ts';
import type { PostmortemService } from './postmortem.ts';

/** How often every server looks for passed deadlines; a breach is on the timeline within this long. */
export const DEADLINE_SCAN_MS = 500;

/**
 * Notices deadlines when they pass, whether or not anyone is looking. The end of a soak period is a
 * storage job (`recovery.soak_end`, scheduled with the soak), so the queue's lease decides which server
 * re-evaluates it. RTO breaches and overdue action items are found by a periodic scan of `rto_due_at`
 * and `due_date`, each firing claimed with a conditional update, so several servers sharing one
 * database record each event once and a restart loses nothing.
 */
export function registerRecoveryJobs(worker: JobWorker, recovery: RecoveryService, postmortems: PostmortemService, log: Logger): void {
  worker.handle(SOAK_END_JOB, {
    // Re-evaluating runs the plan's checks (HTTP, Prometheus); the worker renews the lease while they run.
    leaseMs: 60_000,
    concurrency: 4,
    adopt: () => recovery.adoptStoredSoaks(),
    run: async (job) => {
      await recovery.finishSoak(job);
    },
  });
  worker.every('recovery.deadlines', {
    intervalMs: DEADLINE_SCAN_MS,
    async run() {
      for (const [name, job] of [
        ['rto breaches', () => recovery.recordDueBreaches()],
        ['overdue action items', () => postmortems.notifyOverdue()],
      ] as const) {
        try {
          await job();
        } catch (error) {
          log.error({ err: error, job: name }, 'recovery deadline scan failed');
        }
      }
    },
  });
}
