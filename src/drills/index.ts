import type { FirebreakModule } from '../app/context.ts';
import { drillMigrations } from './schema.ts';
import { DrillRunService } from './service.ts';
import { drillRoutes } from './routes.ts';

export { drillMigrations } from './schema.ts';
export { DrillRunService } from './service.ts';
export { ScorecardSchema, DrillRunSchema, DrillRunSummarySchema, type Scorecard, type DrillRun, type DrillRunSummary } from './schemas.ts';
export { parseScenario, resolveScenario, shippedScenarios, loadScenarioFile, durationMs, SHIPPED_SCENARIO_DIR, type Scenario } from './scenario.ts';
export { SimClock, parseSpeed } from './simclock.ts';
export { computeScorecard, evaluateExpectation, type Observations } from './scorecard.ts';
export { registerDrillCommands } from './cli.ts';

declare module '../app/context.ts' {
  interface ModuleServices {
    /** Stored drill scorecards. */
    drillRuns: DrillRunService;
  }
}

export const drillsModule: FirebreakModule = {
  name: 'drills',
  migrations: drillMigrations,
  init(ctx) {
    ctx.services.drillRuns = new DrillRunService(ctx.database, ctx.clock);
  },
  routes(app, ctx) {
    drillRoutes(app, ctx);
  },
};
