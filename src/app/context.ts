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

/**
 * Services other capabilities may use: the server's own (below) and those capabilities declare by declaration merging.
 * A service that may be absent from a working server is optional here, so its users must handle its absence.
 */
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
  oidc?: OidcSignIn;
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
  /** Built once at start from what each module's `init` returned, then frozen: nothing is replaced afterwards. */
  services: Readonly<ModuleServices>;
  /** Every outbound request (webhooks, checks, Prometheus, plan http steps, SMTP) goes through this. */
  egress: EgressClient;
}

export type ServiceName = keyof ModuleServices;

/** What a module's `init` sees: the services it needs, and those it uses when installed (possibly `undefined`). */
export type ServicesFor<Needs extends ServiceName, Uses extends ServiceName> = Readonly<Pick<ModuleServices, Needs> & Partial<Pick<ModuleServices, Uses>>>;

export interface ModuleContext<Needs extends ServiceName, Uses extends ServiceName> extends Omit<AppContext, 'services'> {
  services: ServicesFor<Needs, Uses>;
}

/**
 * A capability plugs into the server through this shape only: its tables, the services it needs, uses and provides,
 * its routes and its background work. `src/app/modules.ts` lists them in dependency order; the server checks at
 * start that every need is provided by the server or an earlier module (`src/app/assembly.ts`).
 */
export interface ModuleDefinition<Needs extends ServiceName, Uses extends ServiceName, Provides extends ServiceName> {
  name: string;
  migrations?: MigrationSet;
  /** Services it cannot work without. */
  needs?: readonly Needs[];
  /** Services it uses when they are installed; its `init` gets `undefined` for those that are not. */
  uses?: readonly Uses[];
  /** Services its `init` returns, for later modules, routes and workers. */
  provides?: readonly Provides[];
  /** Builds its services from those it declared; registers job kinds, listeners and hooks on earlier services. */
  init?(ctx: ModuleContext<Needs, Uses>): NoInfer<Pick<ModuleServices, Provides>> | Promise<NoInfer<Pick<ModuleServices, Provides>>>;
  routes?(app: HttpApp, ctx: AppContext): void | Promise<void>;
  /** Start background workers; called after the HTTP server listens, only when workers are enabled. */
  start?(ctx: AppContext): void | Promise<void>;
  /** Open listeners of its own besides the HTTP server (always, workers or not); closed by `unlisten`. */
  listen?(ctx: AppContext): void | Promise<void>;
  unlisten?(ctx: AppContext): void | Promise<void>;
  stop?(ctx: AppContext): void | Promise<void>;
}

/** A module as the assembly runs it, whatever it declared. */
export interface FirebreakModule extends Omit<ModuleDefinition<ServiceName, ServiceName, ServiceName>, 'init'> {
  init?(ctx: ModuleContext<ServiceName, ServiceName>): Partial<ModuleServices> | Promise<Partial<ModuleServices>>;
}

/** Declares a module; the type parameters come from its `needs`, `uses` and `provides` lists. */
export function defineModule<const Needs extends ServiceName = never, const Uses extends ServiceName = never, const Provides extends ServiceName = never>(
  module: ModuleDefinition<Needs, Uses, Provides>,
): FirebreakModule {
  return module;
}
