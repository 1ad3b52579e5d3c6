import type { JobWorker } from '../storage/index.ts';
import { ESCALATION_JOB, type EscalationService } from './escalations.ts';
import { DELIVERY_CONCURRENCY, DELIVERY_JOB, DELIVERY_LEASE_MS, type NotificationService } from './notify/service.ts';

/** How often every server scans the timeline for entries to dispatch (pokes make it sooner). */
export const DISPATCH_INTERVAL_MS = 1000;
export const DISPATCH_TASK = 'oncall.dispatch';
/**
 * Every incident created or changed pokes the dispatcher; pokes within this long of its last run wait and are taken
 * together, so a burst of incidents is dispatched in a few transactions rather than one (and a wake of the loop) each.
 */
export const DISPATCH_POKE_GAP_MS = 50;

/**
 * The on-call work, run by the server's one worker: the timeline dispatcher (a periodic scan from a
 * durable cursor, poked by incident events), escalation timers and notification deliveries (jobs).
 * All state is in the database, so any number of processes may run it.
 */
export function registerOnCallJobs(worker: JobWorker, escalations: EscalationService, notifications: NotificationService): void {
  worker.every(DISPATCH_TASK, {
    intervalMs: DISPATCH_INTERVAL_MS,
    pokeGapMs: DISPATCH_POKE_GAP_MS,
    // The poll scans from the durable cursor (catching entries other processes left); pokes scan only what is new.
    run: (reason) => escalations.dispatchTimeline({ full: reason === 'poll' }),
  });
  worker.handle(ESCALATION_JOB, {
    leaseMs: 60_000,
    concurrency: 8,
    adopt: () => escalations.adoptStoredTimers(),
    run: async (job) => {
      await escalations.fire(job);
    },
  });
  worker.handle(DELIVERY_JOB, {
    leaseMs: DELIVERY_LEASE_MS,
    concurrency: DELIVERY_CONCURRENCY,
    adopt: () => notifications.adoptStoredDeliveries(),
    run: (job) => notifications.deliver(job),
  });
}
