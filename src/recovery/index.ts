import { defineModule } from '../app/context.ts';
import { KnownUsers } from './owners.ts';
import { RecoveryService } from './service.ts';
import { PostmortemService } from './postmortem.ts';
import { ReliabilityService } from './reliability-service.ts';
import { registerRecoveryJobs } from './worker.ts';
import { recoveryMigrations } from './schema.ts';
import { recoveryRoutes } from './routes.ts';
import { incidentAnalyses, chosenBranch, collectEvidence, type ActionItemCreator } from '../rca/index.ts';

export { RecoveryService, type PlanView } from './service.ts';
export { PostmortemService, type Postmortem, type PostmortemDocument } from './postmortem.ts';
export { ReliabilityService } from './reliability-service.ts';
export { computeReliability, normaliseRootCause, timeInStates, type ReliabilityMetrics, type ReliabilityRecord } from './reliability.ts';
export { assertStepGraph, findCycle, projectCompletion } from './graph.ts';
export { objectivesFromServices, type RecoveryObjectives } from './objectives.ts';
export { buildRecoveryReport, type RecoveryReport } from './report.ts';
export { renderMarkdown, renderHtml } from './render.ts';
export { recoveryMigrations, type RecoveryTables } from './schema.ts';
export type { ActionItem } from './schemas.ts';
export { registerRecoveryCommands } from './cli.ts';

declare module '../app/context.ts' {
  interface ModuleServices {
    recovery: RecoveryService;
    postmortems: PostmortemService;
    reliability: ReliabilityService;
    /** Turns a recommendation in a root-cause analysis into a tracked action item. */
    actionItems: ActionItemCreator;
  }
}


/**
 * Comes before rca, which turns recommendations into this module's action items; postmortems read the incident's
 * analyses through rca's `incidentAnalyses`, and cite changes when change tracking is installed.
 */
export const recoveryModule = defineModule({
  name: 'recovery',
  migrations: recoveryMigrations,
  needs: ['incidents', 'catalog', 'checks', 'tokens', 'correlation', 'plans'],
  uses: ['changes'],
  provides: ['recovery', 'postmortems', 'reliability', 'actionItems'],
  init(ctx) {
    const { correlation, plans, changes } = ctx.services;
    const users = new KnownUsers(ctx.services.catalog, ctx.services.tokens);
    const recovery = new RecoveryService({
      database: ctx.database,
      incidents: ctx.services.incidents,
      catalog: ctx.services.catalog,
      checks: ctx.services.checks,
      users,
      events: ctx.events,
      clock: ctx.clock,
      jobs: ctx.jobs,
    });
    const postmortems = new PostmortemService({
      executions: async (incidentId) =>
        (await plans.engine.executionsForIncident(incidentId)).map((e) => ({
          plan_id: e.plan_id,
          plan_version: e.plan_version,
          status: e.status,
          trigger: e.trigger,
          started_at: e.started_at,
          finished_at: e.finished_at,
          steps: e.steps.map((s) => ({ step_id: s.step_id, phase: s.phase, status: s.status, error: s.error })),
        })),
      analyses: async (incidentId) =>
        (await incidentAnalyses(ctx.database, incidentId)).map((a) => ({
          title: a.title,
          kind: a.kind,
          status: a.status,
          accepted: a.accepted,
          author: a.author,
          root_cause: a.root_cause,
          chain: 'whys' in a.body ? chosenBranch(a.body).map((w) => ({ question: w.question, answer: w.answer })) : [],
          cited_changes: collectEvidence(a.body).flatMap(({ evidence }) => (evidence.kind === 'change' ? [evidence.change_id] : [])),
        })),
      ...(changes
        ? {
            changes: async (incident, citedIds) => {
              const [cited, suspects] = await Promise.all([changes.findMany(citedIds), changes.suspects(incident, { limit: 3 })]);
              return { cited, suspects: suspects.items.map((s) => ({ change: s.change, rank: s.rank, score: s.score, reason: s.reason })) };
            },
          }
        : {}),
      database: ctx.database,
      incidents: ctx.services.incidents,
      recovery,
      users,
      events: ctx.events,
      clock: ctx.clock,
      jobs: ctx.jobs,
    });
    // Recommendations written in a root-cause analysis become tracked action items here.
    const actionItems: ActionItemCreator = async (item) => {
      const created = await postmortems.createActionItem(
        item.incidentId,
        { title: item.title, owner: item.owner, priority: item.priority as 'p1' | 'p2' | 'p3' | 'p4', due_date: item.dueDate },
        item.actor,
      );
      return { id: String(created.id) };
    };
    registerRecoveryJobs(ctx.worker, recovery, postmortems);
    return { recovery, postmortems, actionItems, reliability: new ReliabilityService(ctx.database, () => correlation.linkedPairs(), ctx.clock) };
  },
  routes: recoveryRoutes,
});
