import { defineModule, type FirebreakModule } from './context.ts';
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

const core = defineModule({
  name: 'core',
  migrations: { ...catalogMigrations, ...incidentMigrations, ...tokenMigrations, ...peopleMigrations },
  provides: ['catalog', 'incidents'],
  init(ctx) {
    const catalog = new CatalogService(ctx.database, ctx.clock);
    return { catalog, incidents: new IncidentService(ctx.database, catalog, ctx.events, ctx.clock) };
  },
  routes(app, ctx) {
    catalogRoutes(app, ctx);
    incidentRoutes(app, ctx);
    tokenRoutes(app, ctx);
    peopleRoutes(app, ctx);
  },
});

/**
 * Every capability, in dependency order: a module gets only the services it declares (`needs`, `uses`), each
 * provided by the server or a module before it; the server checks this at start.
 */
export const MODULES: readonly FirebreakModule[] = [
  core,
  ingestModule,
  llmModule,
  secretsModule,
  onCallModule,
  plansModule,
  changesModule,
  recoveryModule,
  rcaModule,
  consoleModule,
  drillsModule,
];

/** Every migration a database of these modules needs: the storage layer's own (jobs, cluster) and each module's. */
export function migrationSets(modules: readonly FirebreakModule[] = MODULES): MigrationSet[] {
  return [jobMigrations, clusterMigrations, ...modules.flatMap((m) => (m.migrations ? [m.migrations] : []))];
}
