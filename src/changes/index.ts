import type { FirebreakModule } from '../app/context.ts';
import { DEFAULT_PROMPT_VERSION_ATTRIBUTE } from '../llm/otlp.ts';
import { ChangeService } from './service.ts';
import { TelemetryChangeDetector } from './telemetry.ts';
import { changeMigrations } from './schema.ts';
import { changeRoutes } from './routes.ts';

export { ChangeService, DEFAULT_WINDOW_HOURS, type SuspectOptions } from './service.ts';
export { changeMigrations, type ChangeTables } from './schema.ts';
export { TelemetryChangeDetector, type ObservedCall } from './telemetry.ts';
export { registerChangeCommands } from './cli.ts';
export { signGitHubBody, verifyGitHubSignature } from './signature.ts';
export { KIND_WEIGHTS, PROXIMITY_WEIGHTS, HALF_LIFE_MINUTES, SCORE_FORMULA, rankChanges, dependencyDistances, observeValue } from './domain.ts';
export * from './schemas.ts';

declare module '../app/context.ts' {
  interface ModuleServices {
    /** Change events (deploys, model and prompt rollouts) and the suspects ranked for each incident. */
    changes: ChangeService;
    changeDetector: TelemetryChangeDetector;
  }
}

/** The change fields plan templates read as `incident.suspect_change.*`. */
function suspectFact(top: Awaited<ReturnType<ChangeService['topSuspect']>>): Record<string, unknown> | null {
  if (!top) return null;
  const { change } = top;
  return {
    id: change.id,
    service: change.service,
    kind: change.kind,
    summary: change.summary,
    version_from: change.version_from,
    version_to: change.version_to,
    author: change.author,
    at: change.at,
    source: change.source,
    target: change.target,
    score: top.score,
    reason: top.reason,
  };
}

/**
 * Needs ingest (routing keys, rate limits), llm (accepted calls), and registers itself with rca
 * (change evidence), plans (`incident.suspect_change`) and recovery (postmortems cite changes).
 */
export const changesModule: FirebreakModule = {
  name: 'changes',
  migrations: changeMigrations,
  init(ctx) {
    const changes = new ChangeService({
      database: ctx.database,
      catalog: ctx.services.catalog,
      incidents: ctx.services.incidents,
      events: ctx.events,
      secretKey: ctx.config.secretKey,
      clock: ctx.clock,
      log: ctx.log.child({ capability: 'changes' }),
    });
    ctx.services.changes = changes;
    const detector = new TelemetryChangeDetector(
      changes.repository,
      (draft) => changes.record(draft, 'telemetry', null),
      ctx.config.promptVersionAttribute ?? DEFAULT_PROMPT_VERSION_ATTRIBUTE,
      ctx.log.child({ capability: 'changes' }),
    );
    ctx.services.changeDetector = detector;
    ctx.services.llmTelemetry.onAcceptedCalls((calls) => detector.observe(calls));

    ctx.services.rca.registerEvidenceResolver('change', async (evidence) => {
      if (evidence.kind !== 'change') return null;
      const change = await changes.repository.get(evidence.change_id);
      return change ? null : `change ${evidence.change_id} does not exist`;
    });
    ctx.services.plans.registerIncidentFact('suspect_change', async (incident, db) => suspectFact(await changes.topSuspect(incident, db)));
    ctx.services.postmortems.setChangeSource(async (incident, citedIds) => {
      const [cited, suspects] = await Promise.all([changes.repository.getMany(citedIds), changes.suspects(incident, { limit: 3 })]);
      return { cited, suspects: suspects.items.map((s) => ({ change: s.change, rank: s.rank, score: s.score, reason: s.reason })) };
    });
  },
  routes(app, ctx) {
    changeRoutes(app, ctx, ctx.services.changes);
  },
  async stop(ctx) {
    await ctx.services.changeDetector.idle();
  },
};
