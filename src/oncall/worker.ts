import type { Logger } from 'pino';
import type { EscalationService } from './escalations.ts';
import type { NotificationService } from './notify/service.ts';

export const POLL_INTERVAL_MS = 1000;

/**
 * Drives the stored work: timeline entries to dispatch, escalation timers that are due, notifications
 * to deliver. All state is in the database, so any number of processes may run this; within one
 * process ticks are serialised. Events and enqueues "poke" it for low latency; the poll interval
 * catches timers coming due and work left by other processes.
 */
export class OnCallWorker {
  private chain: Promise<void> = Promise.resolve();
  private pokeScheduled = false;
  private deliveryPokeScheduled = false;
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(
    private readonly escalations: EscalationService,
    private readonly notifications: NotificationService,
    private readonly log: Logger,
  ) {}

  /**
   * Does everything due now and waits until the deliveries it started have finished. Tests call this
   * after moving their clock, instead of waiting for the poll.
   */
  runDueWork(): Promise<void> {
    return this.enqueue(true);
  }

  /** Something happened on an incident: dispatch, fire and deliver soon. */
  poke(): void {
    if (!this.running || this.pokeScheduled) return;
    this.pokeScheduled = true;
    setImmediate(() => {
      this.pokeScheduled = false;
      void this.enqueue(false);
    });
  }

  /** Notifications were enqueued: only the delivery step needs to run (cheaper at high rates). */
  pokeDeliveries(): void {
    if (!this.running || this.deliveryPokeScheduled || this.pokeScheduled) return;
    this.deliveryPokeScheduled = true;
    setImmediate(() => {
      this.deliveryPokeScheduled = false;
      const run = this.chain.then(() => this.notifications.startDueDeliveries().then(() => undefined));
      this.chain = run.catch((error: unknown) => this.log.error({ err: error }, 'on-call delivery tick failed'));
    });
  }

  start(): void {
    this.running = true;
    this.timer = setInterval(() => void this.enqueue(false), POLL_INTERVAL_MS);
    this.timer.unref();
    this.poke();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.chain;
    await this.notifications.settle();
  }

  private enqueue(settle: boolean): Promise<void> {
    const run = this.chain.then(() => this.tick(settle));
    this.chain = run.catch((error: unknown) => this.log.error({ err: error }, 'on-call worker tick failed'));
    return run;
  }

  private async tick(settle: boolean): Promise<void> {
    await this.escalations.dispatchTimeline();
    if ((await this.escalations.fireDue()) > 0) {
      // Firing wrote `escalated` entries: tell the team's channels in the same tick.
      await this.escalations.dispatchTimeline();
    }
    await this.notifications.startDueDeliveries();
    if (settle) await this.notifications.settle();
  }
}
