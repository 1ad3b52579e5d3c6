import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Cluster, Database, JobQueue, JobWorker, MigrationSet } from '../storage/index.ts';
import type { DomainEvents } from '../shared/events.ts';
import type { CatalogService } from '../catalog/index.ts';
import type { IncidentService } from '../incidents/index.ts';
import type { Authenticator, OidcSignIn, PeopleService, SessionService, SignInService, TokenService } from '../auth/index.ts';
import type { CheckRunner } from '../checks/index.ts';
import type { HttpApp } from '../http/app.ts';
import type { Config } from './config.ts';
import type { EgressClient } from '../egress/index.ts';

/** Services other capabilities may use. Capabilities add theirs by declaration merging. */
export interface ModuleServices {
  catalog: CatalogService;
  incidents: IncidentService;
  tokens: TokenService;
  /** Accounts and the people directory (assignees, pickers). */
  people: PeopleService;
  sessions: SessionService;
  signIn: SignInService;
  authenticator: Authenticator;
  /** Present when single sign-on is configured. */
  oidc: OidcSignIn | undefined;
  /** Real checks (HTTP, Prometheus, and kinds registered by capabilities) for plans and recovery. */
  checks: CheckRunner;
}

export interface AppContext {
  config: Config;
  database: Database;
  events: DomainEvents;
  clock: () => Date;
  log: Logger;
  /** The registry served at /metrics; capabilities register their own metrics on it. */
  metrics: Registry;
  /** Durable jobs (storage_jobs): schedule, claim with lease, complete exactly once. */
  jobs: JobQueue;
  /** The server's one background loop; modules register job kinds and periodic tasks on it in `init`. It runs only when workers are enabled. */
  worker: JobWorker;
  /** The other replicas on the same database: relayed changes and the live replica count (in-process on SQLite). */
  cluster: Cluster;
  services: ModuleServices;
  /** Every outbound request (webhooks, checks, Prometheus, plan http steps, SMTP) goes through this. */
  egress: EgressClient;
}

/**
 * A capability plugs into the server through this shape only: its tables, its services, its routes
 * and its background work. `src/app/modules.ts` lists them in dependency order.
 */
export interface FirebreakModule {
  name: string;
  migrations?: MigrationSet;
  /** Construct services and register them on `ctx.services` for later modules. */
  init?(ctx: AppContext): void | Promise<void>;
  routes?(app: HttpApp, ctx: AppContext): void | Promise<void>;
  /** Start background workers; called after the HTTP server listens, only when workers are enabled. */
  start?(ctx: AppContext): void | Promise<void>;
  /** Open listeners of its own besides the HTTP server (always, workers or not); closed by `unlisten`. */
  listen?(ctx: AppContext): void | Promise<void>;
  unlisten?(ctx: AppContext): void | Promise<void>;
  stop?(ctx: AppContext): void | Promise<void>;
}
