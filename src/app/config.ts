import path from 'node:path';
import { AppError } from '../shared/errors.ts';

export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  logLevel: string;
  bootstrapToken: string | undefined;
  /** Directory holding response plans, routing rules and other YAML configuration. */
  configDir: string;
  /** Key material for secrets encrypted at rest; derived per purpose. */
  secretKey: string | undefined;
  /** Default Prometheus for `prometheus` checks. */
  prometheusUrl: string | undefined;
  /** Run background workers (escalations, plan executor, outbox) in this process. */
  workers: boolean;
  /** How often the background worker looks for due jobs (FIREBREAK_WORKER_POLL_MS, default 200). */
  workerPollMs?: number | undefined;
  /** Base URL people reach this server at, for links in notifications (FIREBREAK_PUBLIC_URL). */
  publicUrl?: string | undefined;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.FIREBREAK_PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new AppError('validation_failed', `FIREBREAK_PORT: ${env.FIREBREAK_PORT} is not a TCP port`, { field: 'FIREBREAK_PORT' });
  }
  return {
    port,
    host: env.FIREBREAK_HOST ?? '127.0.0.1',
    databaseUrl: env.FIREBREAK_DATABASE_URL ?? path.join('data', 'firebreak.db'),
    logLevel: env.FIREBREAK_LOG_LEVEL ?? 'info',
    bootstrapToken: env.FIREBREAK_BOOTSTRAP_TOKEN || undefined,
    configDir: env.FIREBREAK_CONFIG_DIR ?? 'config',
    secretKey: env.FIREBREAK_SECRET_KEY || undefined,
    prometheusUrl: env.FIREBREAK_PROMETHEUS_URL || undefined,
    workers: env.FIREBREAK_WORKERS !== 'false',
    publicUrl: env.FIREBREAK_PUBLIC_URL || undefined,
    workerPollMs: workerPollMsFromEnv(env),
  };
}

/** FIREBREAK_WORKER_POLL_MS (FIREBREAK_PLAN_POLL_MS, its name when only plans had a worker, is still read). */
export function workerPollMsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.FIREBREAK_WORKER_POLL_MS ?? env.FIREBREAK_PLAN_POLL_MS ?? 200);
  return Number.isInteger(value) && value >= 10 ? value : 200;
}
