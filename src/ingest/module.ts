import { defineModule } from '../app/context.ts';
import type { AlertSink } from '../shared/alert-sink.ts';
import { AlertService } from './alerts.ts';
import { CorrelationService } from './correlation-service.ts';
import { IntegrationService } from './integrations.ts';
import { RoutingRulesService } from './rules-service.ts';
import { ingestRoutes } from './routes.ts';
import { ingestMigrations } from './schema.ts';

declare module '../app/context.ts' {
  interface ModuleServices {
    integrations: IntegrationService;
    /** Alerts: ingestion, listing by incident / service / status. */
    alerts: AlertService;
    /** For Firebreak's own detectors: raised alerts go through the same dedup, routing and grouping. */
    alertSink: AlertSink;
    routingRules: RoutingRulesService;
    correlation: CorrelationService;
  }
}

export const ingestModule = defineModule({
  name: 'ingest',
  migrations: ingestMigrations,
  needs: ['catalog', 'incidents', 'checks'],
  provides: ['integrations', 'routingRules', 'correlation', 'alerts', 'alertSink'],
  async init(ctx) {
    const { catalog, incidents } = ctx.services;
    const log = ctx.log.child({ module: 'ingest' });
    const routingRules = new RoutingRulesService(ctx.database, catalog, ctx.clock, log);
    await routingRules.loadFile(ctx.config.configDir);
    const correlation = new CorrelationService(ctx.database, incidents, catalog, ctx.events, ctx.clock, log);
    correlation.listen();
    const alerts = new AlertService(ctx.database, incidents, catalog, routingRules, correlation, ctx.events, ctx.clock, log);
    alerts.listen();
    const cluster = ctx.cluster;
    const integrations = new IntegrationService(ctx.database, catalog, ctx.clock, () => 1 / cluster.liveReplicas());
    ctx.services.checks.register('no_firing_alerts', async (spec) => {
      const { count, alerts: open } = await alerts.openForService(spec.service, 20);
      return {
        passed: count === 0,
        observed: { open_alerts: count, alert_ids: open.map((a) => a.id), summaries: open.slice(0, 5).map((a) => a.summary) },
        expected: `no firing alerts for service ${spec.service}`,
        detail: count === 0 ? `no alert is firing for ${spec.service}` : `${count} alert${count > 1 ? 's are' : ' is'} still firing for ${spec.service}`,
      };
    });
    return { integrations, routingRules, correlation, alerts, alertSink: alerts };
  },
  routes: ingestRoutes,
});
