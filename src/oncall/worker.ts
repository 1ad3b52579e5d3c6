import type { Logger } from 'pino';
import type { EscalationService } from './escalations.ts';
import type { NotificationService } from './notify/service.ts';

export const POLL_INTERVAL_MS = 1000;
/** Shortest time between two ticks started by pokes. */
const MIN_POKE_GAP_MS = 50;

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
  private pokeTimer: NodeJS.Timeout | null = null;
  private lastPokedTickAt = 0;
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
    return this.enqueue(true, true);
  }

  /**
   * Something happened on an incident: dispatch, fire and deliver soon. At once when the worker has
   * been quiet; under a stream of incidents at most one poked tick per MIN_POKE_GAP_MS, so one tick
   * (and one transaction) dispatches many entries instead of a tick per incident.
   */
  poke(): void {
    if (!this.running || this.pokeScheduled) return;
    this.pokeScheduled = true;
    const run = () => {
      this.pokeScheduled = false;
      this.pokeTimer = null;
      if (this.running) void this.enqueue(false, false);
    };
    const wait = this.lastPokedTickAt + MIN_POKE_GAP_MS - Date.now();
    if (wait > 0) this.pokeTimer = setTimeout(run, wait);
    else setImmediate(run);
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
    this.timer = setInterval(() => void this.enqueue(false, true), POLL_INTERVAL_MS);
    this.timer.unref();
    this.poke();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.pokeTimer) clearTimeout(this.pokeTimer);
    this.pokeTimer = null;
    this.pokeScheduled = false;
    await this.chain;
    await this.notifications.settle();
  }

  /** `full`: scan the timeline from the durable cursor (the poll, tests); pokes scan only what is new. */
  private enqueue(settle: boolean, full: boolean): Promise<void> {
    const run = this.chain.then(() => this.tick(settle, full));
    this.chain = run.catch((error: unknown) => this.log.error({ err: error }, 'on-call worker tick failed'));
    return run;
  }

  private async tick(settle: boolean, full: boolean): Promise<void> {
    if (!full) this.lastPokedTickAt = Date.now();
    await this.escalations.dispatchTimeline({ full });
    if ((await this.escalations.fireDue()) > 0) {
      // Firing wrote `escalated` entries: tell the team's channels in the same tick.
      await this.escalations.dispatchTimeline({ full: false });
    }
    await this.notifications.startDueDeliveries();
    if (settle) await this.notifications.settle();
  }
}
