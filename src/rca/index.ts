import type { FirebreakModule } from '../app/context.ts';
import { RcaService } from './service.ts';
import { rcaMigrations } from './store.ts';
import { rcaRoutes } from './routes.ts';
import { FaultTreeService, faultTreeMigrations } from './fault-trees.ts';
import { faultTreeRoutes } from './fta-routes.ts';

declare module '../app/context.ts' {
  interface ModuleServices {
    rca: RcaService;
    faultTrees: FaultTreeService;
  }
}

export { RcaService, type EvidenceResolver, type ActionItemCreator } from './service.ts';
export { rootCauseOf, chosenBranch, validateFiveWhys, validateFishbone } from './analysis.ts';
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
  },
  routes(app, ctx) {
    rcaRoutes(app, ctx);
    faultTreeRoutes(app, ctx);
  },
};
