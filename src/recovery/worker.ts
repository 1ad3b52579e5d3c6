import type { Logger } from 'pino';
import type { RecoveryService } from './service.ts';
import type { PostmortemService } from './postmortem.ts';

/**
 * Notices deadlines when they pass, whether or not anyone is looking: RTO breaches, soak periods that
 * have ended, overdue action items. What is due lives in the database (`rto_due_at`, `soak_due_at`,
 * `due_date`) and each firing is claimed with a conditional update, so several servers sharing one
 * database record each event once and a restart loses nothing.
 */
export class RecoveryWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly recovery: RecoveryService,
    private readonly postmortems: PostmortemService,
    private readonly log: Logger,
    private readonly pollMs: number,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.pollMs);
    this.timer.unref();
  }

  /** One pass over everything that may be due; overlapping ticks are skipped, not queued. */
  async tick(): Promise<void> {
    if (this.running) return;
    this.running = (async () => {
      for (const [name, job] of [
        ['rto breaches', () => this.recovery.recordDueBreaches()],
        ['soak periods', () => this.recovery.finishDueSoaks()],
        ['overdue action items', () => this.postmortems.notifyOverdue()],
      ] as const) {
        try {
          await job();
        } catch (error) {
          this.log.error({ err: error, job: name }, 'recovery worker job failed');
        }
      }
    })();
    try {
      await this.running;
    } finally {
      this.running = null;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
