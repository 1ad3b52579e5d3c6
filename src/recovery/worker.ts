import type { Logger } from 'pino';
import type { JobWorker } from '../storage/index.ts';
import type { RecoveryService } from './service.ts';
import type { PostmortemService } from './postmortem.ts';

/** How often every server looks for passed deadlines; a breach is on the timeline within this long. */
export const DEADLINE_SCAN_MS = 500;

/**
 * Notices deadlines when they pass, whether or not anyone is looking: RTO breaches, soak periods that
 * have ended, overdue action items. What is due lives in the database (`rto_due_at`, `soak_due_at`,
 * `due_date`) and each firing is claimed with a conditional update, so several servers sharing one
 * database record each event once and a restart loses nothing. The scan is a periodic task of the
 * server's one worker.
 */
export function registerRecoveryJobs(worker: JobWorker, recovery: RecoveryService, postmortems: PostmortemService, log: Logger): void {
  worker.every('recovery.deadlines', {
    intervalMs: DEADLINE_SCAN_MS,
    async run() {
      for (const [name, job] of [
        ['rto breaches', () => recovery.recordDueBreaches()],
        ['soak periods', () => recovery.finishDueSoaks()],
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
