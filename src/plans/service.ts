import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import YAML from 'yaml';
import { AppError, notFound } from '../shared/errors.ts';
import { MAX_BODY_DEPTH, assertObjectBody, tooDeep, valueDepth } from '../shared/bodies.ts';
import type { DomainEvents } from '../shared/events.ts';
import { fromJson, isUniqueViolation, toJson, type Database, type Executor, type JobQueue } from '../storage/index.ts';
import type { CatalogService } from '../catalog/index.ts';
import type { CheckRunner } from '../checks/index.ts';
import type { EgressClient } from '../egress/index.ts';
import type { Incident, IncidentService, IncidentStatus } from '../incidents/index.ts';
import type { SecretService } from '../secrets/index.ts';
import { matchingTrigger, versionLabel, type IncidentChange } from './domain.ts';
import { ExecutionEngine, planActor } from './engine.ts';
import type { MessageSender } from './messaging.ts';
import type { PlanDefinition } from './schemas.ts';
import { sendHttp, type StepEffects } from './steps.ts';
import * as repository from './repository.ts';
import type { PlanRow } from './schema.ts';
import { checkPlan, parsePlanDefinition, referencedSecrets, validatePlan, type PlanProblem, type ValidationEnvironment } from './validate.ts';
import type { Execution, PlanDetail, PlanSummary, PlanVersion } from './api.ts';

/** A read-only source of context for `assess` steps, registered by the capability that owns the data. */
export type AssessSource = (incident: Incident, windowMinutes: number) => Promise<unknown>;

/**
 * A fact about an incident that templates read as `incident.<name>` (`incident.suspect_change`), computed
 * by the capability that owns it; `db` is the transaction the engine holds, when it holds one.
 */
export type IncidentFact = (incident: Incident, db?: object) => Promise<unknown>;

export interface PlanServiceDeps {
  database: Database;
  incidents: IncidentService;
  catalog: CatalogService;
  secrets: SecretService;
  checks: CheckRunner;
  egress: EgressClient;
  events: DomainEvents;
  clock: () => Date;
  log: Logger;
  jobs: JobQueue;
  /** Wakes this server's job worker (steps and pauses are its jobs). */
  wakeWorker(): void;
  sender: MessageSender;
}

export class PlanService {
  /** The plain handle; a transaction the service or engine opened is passed instead where one is open. */
  private readonly db: Database['db'];
  readonly engine: ExecutionEngine;
  private readonly definitions = new Map<string, PlanDefinition>();
  private readonly assessSources = new Map<string, AssessSource>();
  private readonly incidentFacts = new Map<string, IncidentFact>();

  constructor(private readonly deps: PlanServiceDeps) {
    this.db = deps.database.db;
    this.engine = new ExecutionEngine({
      database: deps.database,
      incidents: deps.incidents,
      events: deps.events,
      clock: deps.clock,
      log: deps.log,
      jobs: deps.jobs,
      wakeWorker: deps.wakeWorker,
      definition: (planId, seq, db) => this.definition(planId, seq, db),
      facts: (incident, db) => this.factsOf(incident, db),
    });
  }

  registerIncidentFact(name: string, fact: IncidentFact): void {
    this.incidentFacts.set(name, fact);
  }

  /** The registered facts of an incident; one that fails is null, so a template renders it empty rather than the plan failing. */
  async factsOf(incident: Incident, db?: object): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const [name, fact] of this.incidentFacts) {
      try {
        out[name] = await fact(incident, db);
      } catch (error) {
        this.deps.log.warn({ err: error, fact: name, incident: incident.id }, 'incident fact failed');
        out[name] = null;
      }
    }
    return out;
  }

  /**
   * Context for `assess` snapshots from the capabilities that own the data (`open_alerts` from alerts,
   * `llm_stats` from LLM telemetry); a source that is not registered is reported as absent.
   */
  registerAssessSource(name: string, source: AssessSource): void {
    this.assessSources.set(name, source);
  }

  // ---- definitions -----------------------------------------------------------------------------

  async definition(planId: string, seq: number, db: Executor = this.db): Promise<PlanDefinition> {
    const key = `${planId}@${seq}`;
    const cached = this.definitions.get(key);
    if (cached) return cached;
    const definition = await repository.versionDefinition(db, planId, seq);
    if (definition === undefined) throw notFound('plan version', `${planId} ${versionLabel(seq)}`);
    const plan = JSON.parse(definition) as PlanDefinition;
    this.definitions.set(key, plan);
    return plan;
  }

  async validationEnvironment(options: { secrets: boolean } = { secrets: true }): Promise<ValidationEnvironment> {
    return {
      channelNames: new Set(this.deps.sender.channelNames()),
      incidentFacts: new Set(this.incidentFacts.keys()),
      egress: this.deps.egress.policy,
      ...(options.secrets ? { secretNames: await this.deps.secrets.names() } : {}),
    };
  }

  /** Validation that reports every problem instead of throwing the first (for `validate` and dry runs). */
  async report(raw: unknown): Promise<{ valid: boolean; problems: { field: string; message: string; code?: string }[] }> {
    let plan: PlanDefinition;
    try {
      plan = parsePlanDefinition(raw);
    } catch (error) {
      if (error instanceof AppError) return { valid: false, problems: [{ field: error.details.field ?? '(root)', message: error.message.replace(`${error.details.field}: `, '') }] };
      throw error;
    }
    const problems = checkPlan(plan, await this.validationEnvironment());
    return {
      valid: problems.length === 0,
      problems: problems.map(({ field, message, kind }) => (kind === 'egress' ? { field, message, code: 'egress_denied' } : { field, message })),
    };
  }

  async create(raw: unknown, actor: string): Promise<PlanDetail> {
    const plan = validatePlan(raw, await this.validationEnvironment());
    await this.saveVersion(plan, actor, 'api', 'create');
    return this.get(plan.id);
  }

  async update(id: string, raw: unknown, actor: string): Promise<PlanDetail> {
    const plan = validatePlan(raw, await this.validationEnvironment());
    if (plan.id !== id) throw new AppError('validation_failed', `id: the body is plan ${plan.id}, the URL names ${id}`, { field: 'id' });
    await this.saveVersion(plan, actor, 'api', 'update');
    return this.get(id);
  }

  /**
   * Stores a new immutable version unless the definition is unchanged. Concurrent writers (two servers
   * loading the same file) collide on the (plan, seq) key; the loser finds the winner's version.
   */
  private async saveVersion(plan: PlanDefinition, actor: string, source: string, mode: 'create' | 'update' | 'upsert'): Promise<{ changed: boolean; version: string }> {
    const now = this.deps.clock().toISOString();
    try {
      return await this.db.transaction().execute(async (trx) => {
        const existing = await repository.findPlan(trx, plan.id);
        if (existing && mode === 'create') throw new AppError('conflict', `plan ${plan.id} already exists; PUT /api/v1/plans/${plan.id} makes a new version`, { field: 'id' });
        if (!existing && mode === 'update') throw notFound('plan', plan.id);
        if (existing) {
          const current = await this.definition(plan.id, Number(existing.current_seq), trx);
          if (toJson(current) === toJson(plan)) return { changed: false, version: versionLabel(Number(existing.current_seq)) };
        }
        const seq = existing ? Number(existing.current_seq) + 1 : 1;
        const version = versionLabel(seq);
        await (existing
          ? repository.advancePlan(trx, plan.id, existing.current_seq, { name: plan.name, current_seq: seq, enabled: plan.enabled === false ? 0 : 1, source, updated_at: now })
          : repository.insertPlan(trx, { id: plan.id, name: plan.name, current_seq: seq, enabled: plan.enabled === false ? 0 : 1, source, created_at: now, updated_at: now, last_tested_at: null, last_test: null }));
        await repository.insertPlanVersion(trx, { plan_id: plan.id, seq, version, definition: toJson(plan), created_at: now, created_by: actor });
        return { changed: true, version };
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        if (mode === 'create') throw new AppError('conflict', `plan ${plan.id} already exists`, { field: 'id' });
        if (mode === 'upsert') return { changed: false, version: '' };
        throw new AppError('version_conflict', `plan ${plan.id} was changed concurrently; retry`);
      }
      throw error;
    }
  }

  /** Loads `<configDir>/plans/*.yaml`. A bad file is logged and skipped: one typo must not stop the server. */
  async loadDirectory(configDir: string): Promise<{ file: string; plan?: string; version?: string; changed?: boolean; error?: string }[]> {
    const dir = path.join(configDir, 'plans');
    if (!fs.existsSync(dir)) return [];
    const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
    const results: { file: string; plan?: string; version?: string; changed?: boolean; error?: string }[] = [];
    // Secrets are created through the API after the server starts, so a missing one is reported on the plan, not fatal here.
    const env = await this.validationEnvironment({ secrets: false });
    for (const file of files) {
      const relative = path.join('plans', file);
      try {
        const plan = validatePlan(parsePlanYaml(fs.readFileSync(path.join(dir, file), 'utf8')), env);
        const saved = await this.saveVersion(plan, 'config', `file:${relative}`, 'upsert');
        results.push({ file: relative, plan: plan.id, version: saved.version, changed: saved.changed });
        if (saved.changed) this.deps.log.info({ plan: plan.id, version: saved.version, file: relative }, 'plan loaded');
      } catch (error) {
        results.push({ file: relative, error: (error as Error).message });
        this.deps.log.error({ file: relative, err: (error as Error).message }, 'plan file rejected');
      }
    }
    return results;
  }

  async list(): Promise<PlanSummary[]> {
    const rows = await repository.listPlans(this.db);
    const env = await this.validationEnvironment();
    return Promise.all(rows.map(async (row) => this.summary(row, await this.definition(row.id, Number(row.current_seq)), env)));
  }

  async get(id: string): Promise<PlanDetail> {
    const row = await repository.findPlan(this.db, id);
    if (!row) throw notFound('plan', id);
    const definition = await this.definition(id, Number(row.current_seq));
    return { ...this.summary(row, definition, await this.validationEnvironment()), definition: definition as unknown as Record<string, unknown> };
  }

  async versions(id: string): Promise<PlanVersion[]> {
    await this.get(id);
    const rows = await repository.versionsOfPlan(this.db, id);
    return rows.map((r) => ({ plan_id: r.plan_id, version: r.version, created_at: r.created_at, created_by: r.created_by, definition: JSON.parse(r.definition) as Record<string, unknown> }));
  }

  async version(id: string, version: string | undefined): Promise<{ seq: number; version: string; plan: PlanDefinition }> {
    const current = await repository.currentSeqOfPlan(this.db, id);
    if (current === undefined) throw notFound('plan', id);
    if (version === undefined) return { seq: current, version: versionLabel(current), plan: await this.definition(id, current) };
    const seq = await repository.seqOfVersion(this.db, id, version);
    if (seq === undefined) throw new AppError('not_found', `plan ${id} has no version ${version}`, { field: 'version' });
    return { seq, version, plan: await this.definition(id, seq) };
  }

  async recordTest(id: string, testedAt: string, summary: { version: string; problem_count: number; recommendations: string[] }): Promise<void> {
    await repository.recordPlanTest(this.db, id, testedAt, toJson(summary));
  }

  private summary(row: PlanRow, definition: PlanDefinition, env: ValidationEnvironment): PlanSummary {
    const environmentProblems = checkPlan(definition, env).filter((p) => p.kind === 'secret' || p.kind === 'channel' || p.kind === 'egress');
    return {
      id: row.id,
      name: row.name,
      description: definition.description ?? '',
      version: versionLabel(Number(row.current_seq)),
      version_count: Number(row.current_seq),
      enabled: Number(row.enabled) === 1,
      source: row.source,
      step_count: definition.steps.length,
      trigger_count: definition.triggers?.length ?? 0,
      created_at: row.created_at,
      updated_at: row.updated_at,
      last_tested_at: row.last_tested_at,
      last_test: fromJson<PlanSummary['last_test']>(row.last_test, null),
      problems: environmentProblems.map(({ field, message }) => ({ field, message })),
    };
  }

  // ---- executions ------------------------------------------------------------------------------

  private async missingSecrets(plan: PlanDefinition): Promise<string[]> {
    const names = await this.deps.secrets.names();
    return referencedSecrets(plan).filter((n) => !names.has(n));
  }

  async run(planId: string, incidentId: string, actor: string, version?: string): Promise<Execution> {
    const chosen = await this.version(planId, version);
    await this.deps.incidents.get(incidentId);
    const missing = await this.missingSecrets(chosen.plan);
    if (missing.length) {
      throw new AppError('unprocessable', `plan ${planId} uses secrets that do not exist: ${missing.join(', ')}; create them with PUT /api/v1/secrets/{name}`, {
        field: 'plan',
        missing_secrets: missing,
      });
    }
    const { execution, entries } = await this.db.transaction().execute(async (trx) => {
      const created = await this.engine.create(trx, { planId, seq: chosen.seq, version: chosen.version, plan: chosen.plan, incidentId, trigger: 'manual', actor });
      const written = await this.deps.incidents.appendTimeline(incidentId, created.drafts, planActor(planId), trx);
      return { execution: created.execution, entries: written };
    });
    this.engine.announce(entries);
    this.engine.onRunnable();
    return this.engine.execution(execution.id);
  }

  /** Starts every enabled plan whose trigger matches, at most once per (plan, incident), across all servers. */
  async onIncidentChange(incident: Incident, change: IncidentChange): Promise<string[]> {
    const rows = await repository.enabledPlans(this.db);
    const started: string[] = [];
    for (const row of rows) {
      const seq = Number(row.current_seq);
      const plan = await this.definition(row.id, seq);
      const trigger = matchingTrigger(plan, incident, change);
      if (trigger < 0) continue;
      if (await repository.triggerClaimExists(this.db, row.id, incident.id)) continue;
      const missing = await this.missingSecrets(plan);
      if (missing.length) {
        this.deps.log.warn({ plan: row.id, incident: incident.id, missing }, 'plan matched but not started: secrets missing');
        await this.deps.incidents.appendTimeline(
          incident.id,
          [{ kind: 'plan_not_started', summary: `plan ${row.id} matched but was not started: secrets ${missing.join(', ')} do not exist`, data: { plan_id: row.id, missing_secrets: missing } }],
          planActor(row.id),
        );
        continue;
      }
      try {
        const entries = await this.db.transaction().execute(async (trx) => {
          const created = await this.engine.create(trx, {
            planId: row.id,
            seq,
            version: versionLabel(seq),
            plan,
            incidentId: incident.id,
            trigger: `incident.${change}`,
            actor: planActor(row.id),
          });
          await repository.insertTriggerClaim(trx, { plan_id: row.id, incident_id: incident.id, execution_id: created.execution.id, claimed_at: this.deps.clock().toISOString() });
          created.drafts[0]!.summary += ` — trigger ${trigger + 1} matched`;
          return this.deps.incidents.appendTimeline(incident.id, created.drafts, planActor(row.id), trx);
        });
        this.engine.announce(entries);
        started.push(row.id);
      } catch (error) {
        if (isUniqueViolation(error)) continue; // another server started it first
        throw error;
      }
    }
    if (started.length) this.engine.onRunnable();
    return started;
  }

  // ---- effects -------------------------------------------------------------------------------------

  /** The real side effects of steps. */
  effects(): StepEffects {
    return {
      http: (request, timeoutMs) => sendHttp(this.deps.egress, request, timeoutMs),
      send: (message) => this.deps.sender.send(message),
      transition: async (incident, to, note, actor) => {
        const current = await this.deps.incidents.get(incident.id);
        if (current.status === to) return { from: current.status, to, changed: false };
        await this.deps.incidents.transition(incident.id, to as IncidentStatus, actor, note ? { note } : {});
        return { from: current.status, to, changed: true };
      },
      checks: (specs) => this.deps.checks.evaluateAll(specs),
      assess: (incident, windowMinutes) => this.assess(incident, windowMinutes),
    };
  }

  /** Reads only: the incident, its services and what depends on them, and whatever sources are installed. */
  async assess(incident: Incident, windowMinutes: number): Promise<Record<string, unknown>> {
    const services = await this.deps.catalog.listServices();
    const affected = services.filter((s) => incident.services.includes(s.id));
    const dependents = services.filter((s) => s.depends_on.some((d) => incident.services.includes(d))).map((s) => s.id);
    const extra: Record<string, unknown> = {};
    for (const name of ['open_alerts', 'llm_stats', 'suspect_changes']) {
      const source = this.assessSources.get(name);
      if (!source) {
        extra[name] = { available: false, reason: `no ${name.replace('_', ' ')} source is installed in this server` };
        continue;
      }
      try {
        extra[name] = { available: true, window_minutes: windowMinutes, data: await source(incident, windowMinutes) };
      } catch (error) {
        extra[name] = { available: false, reason: `source failed: ${(error as Error).message}` };
      }
    }
    const now = this.deps.clock();
    return {
      at: now.toISOString(),
      incident: { id: incident.id, title: incident.title, severity: incident.severity, status: incident.status, impact: incident.impact, labels: incident.labels },
      minutes_since_detected: Math.round((now.getTime() - Date.parse(incident.detected_at)) / 60_000),
      affected_services: affected.map((s) => ({ id: s.id, name: s.name, tier: s.tier, owner_team: s.owner_team, rto_minutes: s.rto_minutes, slo_target: s.slo_target, depends_on: s.depends_on })),
      unknown_services: incident.services.filter((id) => !affected.some((s) => s.id === id)),
      dependent_services: dependents,
      ...extra,
    };
  }

  async secretsFor(plan: PlanDefinition): Promise<Map<string, string>> {
    return this.deps.secrets.reveal(referencedSecrets(plan));
  }

  /** The plan's secrets that exist, decrypted (for dry-run previews, which redact them again). */
  async existingSecretsFor(plan: PlanDefinition): Promise<Map<string, string>> {
    const names = await this.deps.secrets.names();
    try {
      return await this.deps.secrets.reveal(referencedSecrets(plan).filter((n) => names.has(n)));
    } catch {
      return new Map();
    }
  }

  problemsOf(plan: PlanDefinition, env: ValidationEnvironment): PlanProblem[] {
    return checkPlan(plan, env);
  }
}

/** YAML text to a plain value; syntax errors name the line. */
export function parsePlanYaml(text: string): unknown {
  const document = YAML.parseDocument(text, { prettyErrors: true });
  const error = document.errors[0];
  if (error) {
    const line = error.linePos?.[0];
    throw new AppError('malformed_input', `invalid YAML${line ? ` at line ${line.line}, column ${line.col}` : ''}: ${error.message.split('\n')[0]}`, {
      field: line ? `line ${line.line}` : '(root)',
    });
  }
  const value = document.toJS({ maxAliasCount: 100 }) as unknown;
  if (valueDepth(value, MAX_BODY_DEPTH) > MAX_BODY_DEPTH) throw tooDeep();
  return assertObjectBody(value);
}
