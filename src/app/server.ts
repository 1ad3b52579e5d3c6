import { readFileSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import client from 'prom-client';
import { Type } from 'typebox';
import { openDatabase, migrateToLatest, pendingMigrations, ping, createCluster, JobQueue, JobWorker, type Database, type MigrationSet } from '../storage/index.ts';
import { DomainEvents } from '../shared/events.ts';
import { Authenticator, OidcSignIn, PeopleService, SessionService, SignInService, TokenService, type SignInLimits } from '../auth/index.ts';
import { CheckRunner } from '../checks/index.ts';
import { EgressClient, EgressPolicy } from '../egress/index.ts';
import { ACTIVE_STATUSES, SEVERITIES, incidentRepository } from '../incidents/index.ts';
import { DEFAULT_CONNECTION_LIMITS, createHttpApp, type HttpApp } from '../http/app.ts';
import type { AppContext, FirebreakModule } from './context.ts';
import { assembleServices } from './assembly.ts';
import { DEFAULT_READY_TIMEOUT_MS, workerPollMsFromEnv, type Config } from './config.ts';
import { MODULES, migrationSets } from './modules.ts';

export interface Firebreak {
  app: HttpApp;
  ctx: AppContext;
  /** Listens on config.port/host and starts background workers; resolves to the base URL. */
  listen(): Promise<string>;
  /** Stops accepting requests, lets in-flight ones finish, stops workers, closes the database. */
  close(): Promise<void>;
}

const packageVersion = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface CreateFirebreakOptions {
  config: Config;
  log?: Logger;
  clock?: () => Date;
  database?: Database;
  modules?: readonly FirebreakModule[];
  /** Sign-in rate limits (tests lower them). */
  signInLimits?: SignInLimits;
}

export async function createFirebreak(options: CreateFirebreakOptions): Promise<Firebreak> {
  const { config } = options;
  const log = options.log ?? pino({ level: config.logLevel, base: { service: 'firebreak' } });
  const database = options.database ??
    openDatabase(config.databaseUrl, { onIdleConnectionLost: (error) => log.warn({ err: error }, 'an idle database connection was lost; the next query opens a new one') });
  const modules = options.modules ?? MODULES;
  const sets = migrationSets(modules);
  const applied = await migrateToLatest(database, sets);
  if (applied.length > 0) log.info({ migrations: applied }, 'database migrated');

  const events = new DomainEvents();
  events.onListenerError(({ name, error }) => log.error({ err: error, event: name }, 'event listener failed'));
  const clock = options.clock ?? (() => new Date());
  const cluster = createCluster(database, { clock, onError: (error, what) => log.warn({ err: error }, `cluster: ${what} failed`) });
  // Every committed change also goes to the other replicas' live streams. A repeat of an alert is coalesced per
  // alert within a batch: in a storm only its latest count matters to a console.
  events.onAny((name, payload) => cluster.publish(name, payload, name === 'alert.repeated' ? (payload as { alertId: string }).alertId : undefined));
  const tokens = new TokenService(database, options.clock);
  const people = new PeopleService(database, clock);
  const sessions = new SessionService(database, clock, (config.sessionHours ?? 12) * 3_600_000);
  const authenticator = new Authenticator(tokens, sessions);
  const { app, metrics } = await createHttpApp({ log, authenticator, version: packageVersion, limits: { ...DEFAULT_CONNECTION_LIMITS, ...config.connectionLimits } });
  const signIn = new SignInService(people, sessions, clock, metrics.registry, options.signInLimits);
  const oidc = config.oidc ? new OidcSignIn(config.oidc, database, people, sessions, clock) : undefined;
  const egress = new EgressClient(new EgressPolicy({ allow: config.egressAllow ?? [], deny: config.egressDeny ?? [] }));
  const jobs = new JobQueue(database, clock);
  const worker = new JobWorker(jobs, { pollMs: config.workerPollMs ?? workerPollMsFromEnv(), log: log.child({ component: 'worker' }) });
  const base = { config, database, events, clock, log, metrics: metrics.registry, jobs, worker, cluster, egress };
  const services = await assembleServices(
    modules,
    {
      tokens,
      people,
      sessions,
      signIn,
      authenticator,
      ...(oidc ? { oidc } : {}),
      checks: new CheckRunner({ egress, prometheusUrl: config.prometheusUrl, ...(options.clock ? { clock: options.clock } : {}) }),
    },
    base,
  );
  const ctx: AppContext = { ...base, services };

  registerOperationalRoutes(app, ctx, metrics.registry, sets);
  for (const module of modules) await module.routes?.(app, ctx);
  await app.ready();

  const bootstrap = await tokens.bootstrap(config.bootstrapToken);
  if (bootstrap.token) {
    // Printed once, on the first start of an empty database, so the operator can sign in.
    process.stdout.write(
      `\nFirebreak created an admin API token. It is shown only this once:\n\n    ${bootstrap.token}\n\n` +
        `Use it as "Authorization: Bearer <token>", or export FIREBREAK_TOKEN for the CLI.\n\n` +
        // An empty server has nothing to show: a demo loads example teams, services and a plan, and runs one drill.
        `To see Firebreak work, load a demo (example teams, services, a response plan and one short drill)\n` +
        `from another terminal in this directory, then open the console and sign in with the token:\n\n` +
        `    npx firebreak --server http://${config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host}:${config.port} demo --token ${bootstrap.token}\n\n`,
    );
  } else if (bootstrap.created) {
    log.info('installed FIREBREAK_BOOTSTRAP_TOKEN as the admin token');
  }

  let started = false;
  let clusterStarted = false;
  return {
    app,
    ctx,
    async listen() {
      const address = await app.listen({ port: config.port, host: config.host });
      const bound = app.server.address();
      if (bound && typeof bound === 'object') egress.policy.addOwnAddress(bound.address, bound.port);
      await cluster.start();
      clusterStarted = true;
      for (const module of modules) await module.listen?.(ctx);
      if (config.workers) {
        for (const module of modules) await module.start?.(ctx);
        await worker.start();
        started = true;
      }
      log.info({ address }, 'firebreak listening');
      return address.replace('[::1]', '127.0.0.1');
    },
    async close() {
      await app.close();
      for (const module of [...modules].reverse()) await module.unlisten?.(ctx);
      if (started) {
        await worker.stop();
        for (const module of [...modules].reverse()) await module.stop?.(ctx);
      }
      if (clusterStarted) await cluster.stop();
      await database.close();
      await egress.close();
    },
  };
}

const HealthSchema = Type.Object({ status: Type.String(), database: Type.String() });
const ReadySchema = Type.Object({
  status: Type.String(),
  database: Type.String(),
  detail: Type.Optional(Type.String()),
  pending_migrations: Type.Optional(Type.Array(Type.String())),
});

function registerOperationalRoutes(app: HttpApp, ctx: AppContext, registry: client.Registry, migrationSets: MigrationSet[]): void {
  new client.Gauge({
    name: 'firebreak_open_incidents',
    help: 'Incidents not yet resolved, by severity',
    labelNames: ['severity'] as const,
    registers: [registry],
    async collect() {
      const rows = await incidentRepository.countActiveBySeverity(ctx.database.db, ACTIVE_STATUSES);
      for (const severity of SEVERITIES) this.set({ severity }, rows.find((r) => r.severity === severity)?.count ?? 0);
    },
  });

  app.get(
    '/healthz',
    {
      config: { public: true },
      schema: { tags: ['operations'], summary: 'Liveness: the process serves requests (answers at once, without the database)', response: { '2xx': HealthSchema } },
    },
    async () => ({ status: 'ok', database: ctx.database.dialect }),
  );
  let migrationsDone = false;
  app.get(
    '/readyz',
    {
      config: { public: true },
      schema: {
        tags: ['operations'],
        summary: 'Readiness: the database answers within FIREBREAK_READY_TIMEOUT_MS (default 10 s) and no migration is pending (503 otherwise)',
        response: { '2xx': ReadySchema, 503: ReadySchema },
      },
    },
    async (_request, reply) => {
      const check = async () => {
        await ping(ctx.database.db);
        if (migrationsDone) return [];
        const pending = await pendingMigrations(ctx.database, migrationSets);
        migrationsDone = pending.length === 0;
        return pending;
      };
      // A load balancer's probe must get an answer even when the database hangs.
      const timeoutMs = ctx.config.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the database did not answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        const pending = await Promise.race([check(), timeout]);
        if (pending.length > 0) {
          void reply.status(503);
          return { status: 'unavailable', database: ctx.database.dialect, detail: 'migrations are pending', pending_migrations: pending };
        }
        return { status: 'ok', database: ctx.database.dialect };
      } catch (error) {
        void reply.status(503);
        return { status: 'unavailable', database: ctx.database.dialect, detail: (error as Error).message };
      } finally {
        clearTimeout(timer);
      }
    },
  );
  app.get('/metrics', { schema: { tags: ['operations'], summary: 'Prometheus text exposition' } }, async (_request, reply) => {
    void reply.type(registry.contentType);
    return registry.metrics();
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
