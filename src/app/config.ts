import path from 'node:path';
import { AppError } from '../shared/errors.ts';
import { parseEgressList } from '../egress/index.ts';
import type { ConnectionLimits } from '../http/app.ts';

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
  /** Base URL people reach this server at, for links in notifications (FIREBREAK_PUBLIC_URL). */
  publicUrl?: string | undefined;
  /** FIREBREAK_EGRESS_ALLOW: when set, outbound requests may reach only these CIDRs and host patterns. */
  egressAllow?: string[];
  /** FIREBREAK_EGRESS_DENY: CIDRs and host patterns outbound requests may never reach. */
  egressDeny?: string[];
  /** FIREBREAK_HEADERS_TIMEOUT_MS, FIREBREAK_REQUEST_TIMEOUT_MS, FIREBREAK_MAX_CONNECTIONS (see ConnectionLimits). */
  connectionLimits?: Partial<ConnectionLimits>;
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new AppError('validation_failed', `${name}: ${text} is not a positive integer`, { field: name });
  return value;
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
    egressAllow: parseEgressList(env.FIREBREAK_EGRESS_ALLOW, 'FIREBREAK_EGRESS_ALLOW'),
    egressDeny: parseEgressList(env.FIREBREAK_EGRESS_DENY, 'FIREBREAK_EGRESS_DENY'),
    connectionLimits: Object.fromEntries(
      Object.entries({
        headersTimeoutMs: positiveInteger(env, 'FIREBREAK_HEADERS_TIMEOUT_MS'),
        requestTimeoutMs: positiveInteger(env, 'FIREBREAK_REQUEST_TIMEOUT_MS'),
        maxConnections: positiveInteger(env, 'FIREBREAK_MAX_CONNECTIONS'),
      }).filter(([, v]) => v !== undefined),
    ) as Partial<ConnectionLimits>,
  };
}
