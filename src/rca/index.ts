import type { FirebreakModule } from '../app/context.ts';
import { RcaService } from './service.ts';
import { rcaMigrations } from './store.ts';
import { rcaRoutes } from './routes.ts';

declare module '../app/context.ts' {
  interface ModuleServices {
    rca: RcaService;
  }
}

export { RcaService, type EvidenceResolver, type ActionItemCreator } from './service.ts';
export { rootCauseOf, chosenBranch, validateFiveWhys, validateFishbone } from './analysis.ts';
export { renderFishboneSvg } from './fishbone-svg.ts';
export { FIVE_WHYS_TEMPLATES } from './templates.ts';
export * from './schemas.ts';

export const rcaModule: FirebreakModule = {
  name: 'rca',
  migrations: rcaMigrations,
  init(ctx) {
    ctx.services.rca = new RcaService(ctx.database, ctx.services.incidents, ctx.services.catalog, ctx.clock);
  },
  routes: rcaRoutes,
};
