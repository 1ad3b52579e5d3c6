import type { FirebreakModule } from '../app/context.ts';
import { RcaService } from './service.ts';
import { faultTreeMigrations, rcaMigrations } from './schema.ts';
import { rcaRoutes } from './routes.ts';
import { FaultTreeService } from './fault-trees.ts';
import { faultTreeRoutes } from './fta-routes.ts';

declare module '../app/context.ts' {
  interface ModuleServices {
    rca: RcaService;
    faultTrees: FaultTreeService;
  }
}

export { RcaService, type EvidenceResolver, type ActionItemCreator } from './service.ts';
export { rootCauseOf, chosenBranch, collectEvidence, validateFiveWhys, validateFishbone } from './analysis.ts';
export { renderFishboneSvg } from './fishbone-svg.ts';
export { FIVE_WHYS_TEMPLATES } from './templates.ts';
export { FaultTreeService } from './fault-trees.ts';
export * from './schemas.ts';

export const rcaModule: FirebreakModule = {
  name: 'rca',
  migrations: { ...rcaMigrations, ...faultTreeMigrations },
  init(ctx) {
    ctx.services.rca = new RcaService(ctx.database, ctx.services.incidents, ctx.services.catalog, ctx.clock);
    ctx.services.faultTrees = new FaultTreeService(ctx.database, ctx.services.incidents, ctx.clock);
    const plans = ctx.services.plans;
    ctx.services.rca.registerEvidenceResolver('plan_step', async (evidence, incidentId) => {
      if (evidence.kind !== 'plan_step') return null;
      const execution = await plans.engine.execution(evidence.execution_id).catch(() => null);
      if (!execution) return `plan execution ${evidence.execution_id} does not exist`;
      if (execution.incident_id !== incidentId) return `plan execution ${evidence.execution_id} ran for ${execution.incident_id}, not ${incidentId}`;
      return execution.steps.some((s) => s.step_id === evidence.step_id) ? null : `plan execution ${evidence.execution_id} has no step ${evidence.step_id}`;
    });
    const alerts = ctx.services.alerts;
    ctx.services.rca.registerEvidenceResolver('alert', async (evidence, incidentId) => {
      if (evidence.kind !== 'alert') return null;
      const alert = await alerts.get(evidence.alert_id).catch(() => null);
      if (!alert) return `alert ${evidence.alert_id} does not exist`;
      return alert.incident_id === incidentId ? null : `alert ${evidence.alert_id} belongs to ${alert.incident_id ?? 'no incident'}, not ${incidentId}`;
    });
  },
  routes(app, ctx) {
    rcaRoutes(app, ctx);
    faultTreeRoutes(app, ctx);
  },
};
