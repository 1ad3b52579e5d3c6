import { defineModule } from '../app/context.ts';
import { PlanService } from './service.ts';
import { planMigrations } from './schema.ts';
import { planRoutes } from './routes.ts';
import { TimelineWebhookSender, type MessageSender } from './messaging.ts';
import { NotificationMessageSender } from './notification-sender.ts';
import { registerPlanJobs, workerSettingsFromEnv } from './worker.ts';

export { PlanService, parsePlanYaml, type AssessSource } from './service.ts';
export { planMigrations, type PlanTables } from './schema.ts';
export { planRoutes, PLAN_JSON_SCHEMA } from './routes.ts';
export { TimelineWebhookSender, type MessageSender, type OutgoingMessage, type Delivery } from './messaging.ts';
export { PlanDefinitionSchema, type PlanDefinition, type PlanStep } from './schemas.ts';
export { validatePlan, checkPlan, parsePlanDefinition, type PlanProblem } from './validate.ts';
export { registerPlanCommands } from './cli.ts';
export type { Execution, PlanSummary, PlanDetail, DryRunReport } from './api.ts';

declare module '../app/context.ts' {
  interface ModuleServices {
    plans: PlanService;
    /** How `communicate` steps send messages: the timeline and webhooks, and the notification channels when installed. */
    messageSender: MessageSender;
  }
}

export const plansModule = defineModule({
  name: 'plans',
  migrations: planMigrations,
  needs: ['incidents', 'catalog', 'secrets', 'checks', 'alerts', 'llmTelemetry'],
  uses: ['notifications'],
  provides: ['plans', 'messageSender'],
  async init(ctx) {
    const { notifications } = ctx.services;
    const timelineAndWebhooks = new TimelineWebhookSender(ctx.services.incidents, ctx.egress);
    // Communicate steps reach the real channels through the notification outbox when on-call is installed.
    const messageSender = notifications ? new NotificationMessageSender(notifications, timelineAndWebhooks) : timelineAndWebhooks;
    const plans = new PlanService({
      database: ctx.database,
      incidents: ctx.services.incidents,
      catalog: ctx.services.catalog,
      secrets: ctx.services.secrets,
      checks: ctx.services.checks,
      egress: ctx.egress,
      events: ctx.events,
      clock: ctx.clock,
      log: ctx.log.child({ capability: 'plans' }),
      jobs: ctx.jobs,
      wakeWorker: () => ctx.worker.poke(),
      sender: messageSender,
    });
    registerPlanJobs(ctx.worker, {
      engine: plans.engine,
      effects: plans.effects(),
      secretsFor: (plan) => plans.secretsFor(plan),
      log: ctx.log.child({ capability: 'plans' }),
      settings: workerSettingsFromEnv(),
    });
    const { alerts, llmTelemetry } = ctx.services;
    plans.registerAssessSource('open_alerts', async (incident) => ({
      incident_alerts: await alerts.listByIncident(incident.id),
      open_by_service: await Promise.all(incident.services.map(async (service) => ({ service, ...(await alerts.openForService(service)) }))),
    }));
    plans.registerAssessSource('llm_stats', (incident, minutes) =>
      Promise.all(incident.services.map(async (service) => ({ service, stats: await llmTelemetry.statOverWindow({ service }, minutes) }))),
    );
    // Triggers run in the server that saw the change; the claim table makes them once per (plan, incident).
    const trigger = (incident: Parameters<PlanService['onIncidentChange']>[0], change: 'created' | 'updated') => {
      plans.onIncidentChange(incident, change).catch((error: unknown) => ctx.log.error({ err: error, incident: incident.id }, 'plan trigger failed'));
    };
    ctx.events.on('incident.created', ({ incident }) => trigger(incident, 'created'));
    ctx.events.on('incident.updated', ({ incident }) => trigger(incident, 'updated'));
    return { plans, messageSender };
  },
  async routes(app, ctx) {
    // Loaded once every capability has initialised, so plan files may read incident facts registered later (`incident.suspect_change`).
    await ctx.services.plans.loadDirectory(ctx.config.configDir);
    await planRoutes(app, ctx);
  },
});
