import path from 'node:path';
import { AppError } from '../shared/errors.ts';
// Narrow imports: every CLI call reads the configuration, and the capabilities' index files load their libraries.
import { ROLES, type Role } from '../auth/roles.ts';
import { parseRoleMap, type OidcSettings } from '../auth/settings.ts';
import { parseEgressList } from '../egress/policy.ts';
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
  /** How often the background worker looks for due jobs (FIREBREAK_WORKER_POLL_MS, default 200). */
  workerPollMs?: number | undefined;
  /** Base URL people reach this server at, for links in notifications (FIREBREAK_PUBLIC_URL). */
  publicUrl?: string | undefined;
  /** The OTLP span attribute read as the prompt version (FIREBREAK_PROMPT_VERSION_ATTRIBUTE, default gen_ai.prompt.version). */
  promptVersionAttribute?: string | undefined;
  /** How long a browser session lasts from sign-in (FIREBREAK_SESSION_HOURS, default 12). */
  sessionHours?: number;
  /** Single sign-on; absent unless FIREBREAK_OIDC_ISSUER is set. */
  oidc?: OidcSettings | undefined;
  /** FIREBREAK_EGRESS_ALLOW: when set, outbound requests may reach only these CIDRs and host patterns. */
  egressAllow?: string[];
  /** FIREBREAK_EGRESS_DENY: CIDRs and host patterns outbound requests may never reach. */
  egressDeny?: string[];
  /** FIREBREAK_HEADERS_TIMEOUT_MS, FIREBREAK_REQUEST_TIMEOUT_MS, FIREBREAK_MAX_CONNECTIONS (see ConnectionLimits). */
  connectionLimits?: Partial<ConnectionLimits>;
  /**
   * OTLP/gRPC port (FIREBREAK_OTLP_GRPC_PORT, default 4317; 0 there turns it off). Here null or absent is
   * off, and 0 binds an ephemeral port (tests).
   */
  otlpGrpcPort?: number | null | undefined;
  /** Body limit of the Alertmanager webhook (FIREBREAK_ALERTMANAGER_BODY_LIMIT_MB, default 16 MiB): a whole group arrives in one request. */
  alertmanagerBodyLimitBytes?: number | undefined;
  /** How long an LLM telemetry minute waits for late calls, in event time (FIREBREAK_LLM_ALLOWED_LATENESS_SECONDS, default 300). */
  llmAllowedLatenessMs?: number | undefined;
  /** How long `/readyz` waits for the database before answering 503 (FIREBREAK_READY_TIMEOUT_MS, default 10,000). */
  readyTimeoutMs?: number | undefined;
}

function oidcFromEnv(env: NodeJS.ProcessEnv): OidcSettings | undefined {
  const issuer = env.FIREBREAK_OIDC_ISSUER;
  if (!issuer) return undefined;
  for (const [name, value] of [['FIREBREAK_OIDC_ISSUER', issuer], ['FIREBREAK_OIDC_REDIRECT_URL', env.FIREBREAK_OIDC_REDIRECT_URL]] as const) {
    if (value === undefined || value === '') continue;
    if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
      throw new AppError('validation_failed', `${name}: ${value} is not an http(s) URL`, { field: name });
    }
  }
  if (!env.FIREBREAK_OIDC_CLIENT_ID) {
    throw new AppError('validation_failed', 'FIREBREAK_OIDC_CLIENT_ID: needed with FIREBREAK_OIDC_ISSUER', { field: 'FIREBREAK_OIDC_CLIENT_ID' });
  }
  const defaultRole = env.FIREBREAK_OIDC_DEFAULT_ROLE || undefined;
  if (defaultRole !== undefined && !(ROLES as readonly string[]).includes(defaultRole)) {
    throw new AppError('validation_failed', `FIREBREAK_OIDC_DEFAULT_ROLE: ${defaultRole} is not viewer, responder or admin`, { field: 'FIREBREAK_OIDC_DEFAULT_ROLE' });
  }
  const publicUrl = env.FIREBREAK_PUBLIC_URL?.replace(/\/+$/, '');
  return {
    issuer,
    clientId: env.FIREBREAK_OIDC_CLIENT_ID,
    clientSecret: env.FIREBREAK_OIDC_CLIENT_SECRET || undefined,
    redirectUrl: env.FIREBREAK_OIDC_REDIRECT_URL || (publicUrl ? `${publicUrl}/api/v1/sessions/oidc/callback` : undefined),
    scopes: env.FIREBREAK_OIDC_SCOPES || 'openid email profile',
    roleClaim: env.FIREBREAK_OIDC_ROLE_CLAIM || 'groups',
    roleMap: parseRoleMap(env.FIREBREAK_OIDC_ROLE_MAP),
    defaultRole: defaultRole as Role | undefined,
    createUsers: env.FIREBREAK_OIDC_CREATE_USERS !== 'false',
    displayName: env.FIREBREAK_OIDC_NAME || 'single sign-on',
  };
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new AppError('validation_failed', `${name}: ${text} is not a positive integer`, { field: name });
  return value;
}

function numberFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, check: (n: number) => boolean, meaning: string): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || !check(value)) throw new AppError('validation_failed', `${name}: ${raw} is not ${meaning}`, { field: name });
  return value;
}

/**
 * `/readyz` gives the database this long. A healthy database on a machine whose cores are all busy answered a ping
 * in over 2 s; a probe's own timeout (often shorter) still takes the replica out of rotation sooner, this one only
 * bounds how long the answer waits and gives it its reason.
 */
export const DEFAULT_READY_TIMEOUT_MS = 10_000;

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.FIREBREAK_PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new AppError('validation_failed', `FIREBREAK_PORT: ${env.FIREBREAK_PORT} is not a TCP port`, { field: 'FIREBREAK_PORT' });
  }
  const sessionHours = Number(env.FIREBREAK_SESSION_HOURS ?? 12);
  if (!Number.isFinite(sessionHours) || sessionHours <= 0 || sessionHours > 24 * 30) {
    throw new AppError('validation_failed', `FIREBREAK_SESSION_HOURS: ${env.FIREBREAK_SESSION_HOURS} must be a number of hours between 0 and 720`, { field: 'FIREBREAK_SESSION_HOURS' });
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
    promptVersionAttribute: env.FIREBREAK_PROMPT_VERSION_ATTRIBUTE || undefined,
    sessionHours,
    oidc: oidcFromEnv(env),
    workerPollMs: workerPollMsFromEnv(env),
    egressAllow: parseEgressList(env.FIREBREAK_EGRESS_ALLOW, 'FIREBREAK_EGRESS_ALLOW'),
    egressDeny: parseEgressList(env.FIREBREAK_EGRESS_DENY, 'FIREBREAK_EGRESS_DENY'),
    connectionLimits: Object.fromEntries(
      Object.entries({
        headersTimeoutMs: positiveInteger(env, 'FIREBREAK_HEADERS_TIMEOUT_MS'),
        requestTimeoutMs: positiveInteger(env, 'FIREBREAK_REQUEST_TIMEOUT_MS'),
        maxConnections: positiveInteger(env, 'FIREBREAK_MAX_CONNECTIONS'),
      }).filter(([, v]) => v !== undefined),
    ) as Partial<ConnectionLimits>,
    otlpGrpcPort: numberFromEnv(env, 'FIREBREAK_OTLP_GRPC_PORT', 4317, (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'a TCP port (0 turns OTLP/gRPC off)') || null,
    alertmanagerBodyLimitBytes: Math.round(numberFromEnv(env, 'FIREBREAK_ALERTMANAGER_BODY_LIMIT_MB', 16, (n) => n >= 1 && n <= 1024, 'a size in MiB between 1 and 1024') * 1024 * 1024),
    llmAllowedLatenessMs: numberFromEnv(env, 'FIREBREAK_LLM_ALLOWED_LATENESS_SECONDS', 300, (n) => n >= 0 && n <= 86_400, 'a number of seconds between 0 and 86400') * 1000,
    readyTimeoutMs: numberFromEnv(env, 'FIREBREAK_READY_TIMEOUT_MS', DEFAULT_READY_TIMEOUT_MS, (n) => Number.isInteger(n) && n >= 1 && n <= 600_000, 'a whole number of milliseconds between 1 and 600000'),
  };
}

/** FIREBREAK_WORKER_POLL_MS (FIREBREAK_PLAN_POLL_MS, its name when only plans had a worker, is still read). */
export function workerPollMsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.FIREBREAK_WORKER_POLL_MS ?? env.FIREBREAK_PLAN_POLL_MS ?? 200);
  return Number.isInteger(value) && value >= 10 ? value : 200;
}
