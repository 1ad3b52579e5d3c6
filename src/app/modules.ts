import type { FirebreakModule } from './context.ts';
import { clusterMigrations, jobMigrations, type MigrationSet } from '../storage/index.ts';
import { CatalogService, catalogMigrations, catalogRoutes } from '../catalog/index.ts';
import { IncidentService, incidentMigrations, incidentRoutes } from '../incidents/index.ts';
import { peopleMigrations, peopleRoutes, tokenMigrations, tokenRoutes } from '../auth/index.ts';
import { rcaModule } from '../rca/index.ts';
import { recoveryModule } from '../recovery/index.ts';
import { consoleModule } from '../console/index.ts';
import { ingestModule } from '../ingest/index.ts';
import { llmModule } from '../llm/index.ts';
import { secretsModule } from '../secrets/index.ts';
import { plansModule } from '../plans/index.ts';
import { onCallModule } from '../oncall/index.ts';
import { drillsModule } from '../drills/index.ts';
import { changesModule } from '../changes/index.ts';

const core: FirebreakModule = {
  name: 'core',
  migrations: { ...catalogMigrations, ...incidentMigrations, ...tokenMigrations, ...peopleMigrations },
  init(ctx) {
    ctx.services.catalog = new CatalogService(ctx.database, ctx.clock);
    ctx.services.incidents = new IncidentService(ctx.database, ctx.services.catalog, ctx.events, ctx.clock);
  },
  routes(app, ctx) {
    catalogRoutes(app, ctx);
    incidentRoutes(app, ctx);
    tokenRoutes(app, ctx);
    peopleRoutes(app, ctx);
  },
};

/** Every capability, in dependency order: a module may use the services of those before it. */
export const MODULES: readonly FirebreakModule[] = [core, ingestModule, llmModule, secretsModule, plansModule, rcaModule, recoveryModule, changesModule, consoleModule, onCallModule, drillsModule];

/** Every migration a database of these modules needs: the storage layer's own (jobs, cluster) and each module's. */
export function migrationSets(modules: readonly FirebreakModule[] = MODULES): MigrationSet[] {
  return [jobMigrations, clusterMigrations, ...modules.flatMap((m) => (m.migrations ? [m.migrations] : []))];
}
