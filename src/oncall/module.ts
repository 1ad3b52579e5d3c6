import { defineModule } from '../app/context.ts';
import { onCallMigrations } from './schema.ts';
import { ScheduleService } from './schedules.ts';
import { DISPATCHED_KINDS, EscalationService } from './escalations.ts';
import { NotificationService } from './notify/service.ts';
import { StatusPageService } from './statuspage/service.ts';
import { DISPATCH_TASK, registerOnCallJobs } from './worker.ts';
import { ResponderService } from './responders.ts';
import { responderRoutes } from './responder-routes.ts';
import { onCallRoutes } from './routes.ts';
import { notificationRoutes } from './notify/routes.ts';
import { statusPageRoutes } from './statuspage/routes.ts';

/** The on-call capability's services, for routes, the CLI and tests. */
export interface OnCall {
  schedules: ScheduleService;
  escalations: EscalationService;
  statusPages: StatusPageService;
  responders: ResponderService;
  /** Dispatches timeline entries, fires due escalation timers, delivers due notifications, and waits for the sends. */
  runDueWork(): Promise<void>;
}

declare module '../app/context.ts' {
  interface ModuleServices {
    /** Durable notifications for every capability: `notify({ event, incidentId?, channelIds? | team? | users?, context })`. */
    notifications: NotificationService;
    oncall: OnCall;
  }
}

export const onCallModule = defineModule({
  name: 'oncall',
  migrations: onCallMigrations,
  needs: ['incidents', 'catalog'],
  provides: ['notifications', 'oncall'],
  async init(ctx) {
    const { database, clock, log, events } = ctx;
    const { incidents, catalog } = ctx.services;
    const notifications = new NotificationService({
      database,
      incidents,
      catalog,
      clock,
      log,
      secretKey: ctx.config.secretKey,
      publicUrl: ctx.config.publicUrl,
      jobs: ctx.jobs,
      egress: ctx.egress,
      wakeWorker: () => ctx.worker.poke(),
    });
    const schedules = new ScheduleService(database, catalog, clock);
    const escalations = new EscalationService({ database, incidents, catalog, schedules, notifications, events, clock, log, jobs: ctx.jobs });
    const worker = ctx.worker;
    registerOnCallJobs(worker, escalations, notifications);
    // Incident events only wake the worker: what to do is read from the committed timeline, so nothing
    // depends on this process having seen the event.
    events.on('incident.created', () => worker.poke(DISPATCH_TASK));
    events.on('incident.updated', () => worker.poke(DISPATCH_TASK));
    // Only kinds the dispatcher acts on: an alert storm appends an `alert_attached` entry per new alert,
    // and waking the worker for each cost more CPU than ingesting the alert.
    const dispatched = new Set(DISPATCHED_KINDS);
    events.on('timeline.appended', ({ entry }) => {
      if (dispatched.has(entry.kind)) worker.poke(DISPATCH_TASK);
    });
    const sealed = await notifications.sealLegacyWebhookUrls();
    if (sealed > 0) log.info({ channels: sealed }, 'sealed the URLs of webhook channels made before URLs were secret');
    const oncall: OnCall = {
      schedules,
      escalations,
      statusPages: new StatusPageService(database, incidents, catalog, clock),
      responders: new ResponderService(database, incidents, catalog, schedules, escalations, notifications, events, clock),
      runDueWork: () => worker.runDue(),
    };
    return { notifications, oncall };
  },
  routes(app, ctx) {
    onCallRoutes(app, ctx);
    notificationRoutes(app, ctx);
    statusPageRoutes(app, ctx);
    responderRoutes(app, ctx);
  },
});
