import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { renderTemplate } from '../shared/templates.ts';
import { redactSecrets } from '../shared/crypto.ts';
import { isIdempotent, parseDuration, stepTimeoutMs } from './domain.ts';
import { findStep, planActor, type ExecutionEngine } from './engine.ts';
import { performStep, redactDeep, withTimeout, type StepEffects, type StepOutcome } from './steps.ts';
import type { PlanDefinition } from './schemas.ts';
import type { StepRunRow } from './store.ts';

export interface WorkerSettings {
  /** How long a claimed step is ours without renewal; another server takes it over after that. */
  leaseMs: number;
  pollMs: number;
  /** Steps this server runs at once. */
  concurrency: number;
}

/** Tunables for tests and operators: FIREBREAK_PLAN_LEASE_MS, FIREBREAK_PLAN_POLL_MS, FIREBREAK_PLAN_CONCURRENCY. */
export function workerSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerSettings {
  const int = (name: string, fallback: number, min: number) => {
    const value = Number(env[name] ?? fallback);
    return Number.isInteger(value) && value >= min ? value : fallback;
  };
  return {
    leaseMs: int('FIREBREAK_PLAN_LEASE_MS', 30_000, 500),
    pollMs: int('FIREBREAK_PLAN_POLL_MS', 200, 10),
    concurrency: int('FIREBREAK_PLAN_CONCURRENCY', 16, 1),
  };
}

export interface WorkerDeps {
  engine: ExecutionEngine;
  effects: StepEffects;
  /** Decrypted values of the secrets a plan references (for http steps), and every value to redact. */
  secretsFor(plan: PlanDefinition): Promise<Map<string, string>>;
  log: Logger;
  settings: WorkerSettings;
}

/**
 * Claims runnable steps with a lease and runs them. Several servers may run one each: claims are
 * conditional updates (SKIP LOCKED on PostgreSQL), results are recorded only by the lease holder, and a
 * crashed server's steps are recovered once its lease expires.
 */
export class PlanWorker {
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = true;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private lastSweep = 0;

  constructor(private readonly deps: WorkerDeps) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.deps.engine.onRunnable = () => this.wake?.();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    // Let attempts in progress record their results; their leases would otherwise have to expire.
    await Promise.allSettled([...this.inFlight]);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.tick();
      } catch (error) {
        this.deps.log.error({ err: error }, 'plan worker tick failed');
      }
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.deps.settings.pollMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  private async tick(): Promise<void> {
    const { engine, settings } = this.deps;
    const now = Date.now();
    if (now - this.lastSweep >= Math.min(1000, settings.leaseMs / 4)) {
      this.lastSweep = now;
      await engine.recoverExpiredLeases((plan, stepId) => isIdempotent(findStep(plan, stepId)));
      await engine.completeDuePauses((plan, stepId) => {
        const step = findStep(plan, stepId);
        return step.type === 'approval' ? (step.with.default ?? 'reject') : 'reject';
      });
    }
    const free = settings.concurrency - this.inFlight.size;
    if (free <= 0) return;
    const claimed = await engine.claim(this.owner, free, settings.leaseMs);
    for (const row of claimed) {
      const attempt = this.attempt(row).finally(() => {
        this.inFlight.delete(attempt);
        this.wake?.();
      });
      this.inFlight.add(attempt);
    }
  }

  private async attempt(row: StepRunRow): Promise<void> {
    const { engine, settings, log } = this.deps;
    const renew = setInterval(() => {
      engine.renewLease(row, this.owner, settings.leaseMs).catch((error: unknown) => log.warn({ err: error }, 'plan step lease renewal failed'));
    }, Math.max(100, Math.floor(settings.leaseMs / 3)));
    let secretValues: string[] = [];
    try {
      const execution = await engine.db.selectFrom('plan_executions').selectAll().where('id', '=', row.execution_id).executeTakeFirstOrThrow();
      const plan = await engine.deps.definition(execution.plan_id, Number(execution.plan_seq));
      const step = findStep(plan, row.step_id);
      const view = await engine.view(execution, plan);
      if (step.type === 'approval') {
        const prompt = renderTemplate(step.with.prompt, view as unknown as Record<string, unknown>);
        const role = step.with.role ?? 'responder';
        const dueAt = step.with.timeout ? new Date(engine.deps.clock().getTime() + parseDuration(step.with.timeout)).toISOString() : null;
        await engine.complete(row, this.owner, {
          kind: 'pause',
          dueAt,
          output: { prompt, role, requested_at: engine.now(), timeout_at: dueAt, default: step.with.default ?? (dueAt ? 'reject' : null) },
          summary: `step ${row.step_id} waits for ${role} approval: ${prompt}${dueAt ? ` (until ${dueAt}, then ${step.with.default ?? 'reject'})` : ''}`,
          entryKind: 'plan_approval_requested',
        });
        return;
      }
      if (step.type === 'wait') {
        const dueAt = new Date(engine.deps.clock().getTime() + parseDuration(step.with.duration)).toISOString();
        await engine.complete(row, this.owner, { kind: 'pause', dueAt, output: { until: dueAt }, summary: `step ${row.step_id} waits ${step.with.duration}`, entryKind: 'plan_step_waiting' });
        return;
      }
      let outcome: StepOutcome;
      try {
        if (step.type === 'http') {
          const secrets = await this.deps.secretsFor(plan);
          secretValues = [...secrets.values()];
          view.secrets = Object.fromEntries(secrets);
        }
        const timeoutMs = stepTimeoutMs(step);
        outcome = await withTimeout(
          performStep(step, view, this.deps.effects, {
            executionId: execution.id,
            planId: execution.plan_id,
            planVersion: execution.plan_version,
            actor: planActor(execution.plan_id),
            timeoutMs,
          }),
          timeoutMs,
          `step ${step.id}`,
        );
      } catch (error) {
        const message = (error as Error).message;
        outcome = { status: 'failed', output: {}, summary: message, error: message };
      }
      await engine.complete(row, this.owner, {
        kind: 'done',
        status: outcome.status,
        output: redactDeep(outcome.output, secretValues),
        summary: redactSecrets(outcome.summary, secretValues),
        ...(outcome.error ? { error: redactSecrets(outcome.error, secretValues) } : {}),
      });
    } catch (error) {
      // Recording failed (database gone?): the lease expires and recovery applies the idempotency rule.
      log.error({ err: redactDeep({ message: (error as Error).message }, secretValues), step: row.step_id, execution: row.execution_id }, 'plan step could not be recorded');
    } finally {
      clearInterval(renew);
    }
  }
}
