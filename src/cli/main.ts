import { Command, CommanderError, Option } from 'commander';
import { configFromEnv } from '../app/config.ts';
import { ROLES, type Role } from '../auth/roles.ts';
import type { TokenService } from '../auth/index.ts';
import { INCIDENT_STATUSES, SEVERITIES } from '../incidents/lifecycle.ts';
import type { Incident, TimelineEntry } from '../incidents/index.ts';
import { ApiClient } from './client.ts';
import { exitCodeFor, oneLineMessage, printJson, printTable } from './output.ts';

interface GlobalOptions {
  server: string;
  token?: string;
  json?: boolean;
}

/** Extra command groups register here (plans, drills, fta, …) so each capability owns its CLI. */
export type CommandRegistrar = (program: Command, context: CliContext) => void;

/** A capability's commands: their names and descriptions (for help), and the module that defines them, loaded on use. */
export interface CommandGroup {
  commands: Readonly<Record<string, string>>;
  /** Core commands this group adds subcommands to. */
  extends?: readonly string[];
  load(): Promise<CommandRegistrar>;
}

/** Global options that take a value, so the command name can be found in argv without parsing it all. */
const GLOBAL_OPTIONS_WITH_VALUE = new Set(['--server', '--token']);

/** The command argv names (`help <command>` names its second word), or undefined for none. */
function invokedCommand(argv: readonly string[]): string | undefined {
  const words: string[] = [];
  for (let i = 0; i < argv.length && words.length < 2; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (GLOBAL_OPTIONS_WITH_VALUE.has(arg)) i++;
    else if (!arg.startsWith('-')) words.push(arg);
  }
  return words[0] === 'help' ? words[1] : words[0];
}

/**
 * Loads the groups the invoked command belongs to; every other group is registered by name and
 * description only, so help lists it and commander's "did you mean" knows it.
 */
export async function loadCommandGroups(argv: readonly string[], groups: readonly CommandGroup[]): Promise<{ registrars: CommandRegistrar[]; stubs: Record<string, string> }> {
  const invoked = invokedCommand(argv);
  const registrars: CommandRegistrar[] = [];
  const stubs: Record<string, string> = {};
  for (const group of groups) {
    const used = invoked !== undefined && (invoked in group.commands || (group.extends ?? []).includes(invoked));
    if (used) registrars.push(await group.load());
    else Object.assign(stubs, group.commands);
  }
  return { registrars, stubs };
}

export interface CliContext {
  client(): ApiClient;
  globals(): GlobalOptions;
  output(value: unknown, render: () => void): void;
}

export function buildCli(registrars: readonly CommandRegistrar[] = [], stubs: Readonly<Record<string, string>> = {}): Command {
  const program = new Command('firebreak')
    .description('Incident response for teams that run LLM services')
    .addOption(new Option('--server <url>', 'Firebreak server').env('FIREBREAK_SERVER').default('http://127.0.0.1:8080'))
    .addOption(new Option('--token <token>', 'API token').env('FIREBREAK_TOKEN'))
    .option('--json', 'print JSON instead of tables')
    .showHelpAfterError()
    .exitOverride();

  const context: CliContext = {
    globals: () => program.opts<GlobalOptions>(),
    client: () => {
      const { server, token } = program.opts<GlobalOptions>();
      return new ApiClient({ server, token });
    },
    output(value, render) {
      if (program.opts<GlobalOptions>().json) printJson(value);
      else render();
    },
  };

  program
    .command('serve')
    .description('run the HTTP server (FIREBREAK_PORT, FIREBREAK_HOST, FIREBREAK_DATABASE_URL)')
    .action(async () => {
      // Loaded on demand: commands that only talk HTTP should not pay for compiling the whole server.
      const { createFirebreak } = await import('../app/server.ts');
      const firebreak = await createFirebreak({ config: configFromEnv() });
      await firebreak.listen();
      let closing = false;
      const shutdown = (signal: string) => {
        if (closing) return;
        closing = true;
        firebreak.ctx.log.info({ signal }, 'shutting down: finishing in-flight requests');
        firebreak.close().then(
          () => process.exit(0),
          (error: unknown) => {
            firebreak.ctx.log.error({ err: error }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      process.on('SIGINT', () => shutdown('SIGINT'));
      await new Promise(() => undefined);
    });

  registerTokenCommands(program, context);
  registerIncidentCommands(program, context);
  for (const register of registrars) register(program, context);
  for (const [name, description] of Object.entries(stubs)) program.command(name).description(description);
  return program;
}

function registerTokenCommands(program: Command, context: CliContext): void {
  const token = program
    .command('token')
    .description('manage API tokens: directly on FIREBREAK_DATABASE_URL, or through --server when --remote is given');
  const withTokens = async <T>(remote: boolean | undefined, local: (tokens: TokenService) => Promise<T>, viaApi: (client: ApiClient) => Promise<T>) => {
    if (remote) return viaApi(context.client());
    const [{ openDatabase, migrateToLatest }, { migrationSets }, { TokenService }] = await Promise.all([
      import('../storage/index.ts'),
      import('../app/modules.ts'),
      import('../auth/index.ts'),
    ]);
    const config = configFromEnv();
    const database = openDatabase(config.databaseUrl);
    try {
      await migrateToLatest(database, migrationSets());
      return await local(new TokenService(database));
    } finally {
      await database.close();
    }
  };
  token
    .command('create')
    .requiredOption('--name <name>', 'who or what uses the token')
    .addOption(new Option('--role <role>', 'viewer, responder or admin').choices(ROLES).makeOptionMandatory())
    .option('--remote', 'create it through the server API (needs an admin --token)')
    .action(async (opts: { name: string; role: Role; remote?: boolean }) => {
      const created = await withTokens(
        opts.remote,
        (tokens) => tokens.create(opts.name, opts.role, 'cli'),
        (client) => client.request<{ token: string }>('POST', '/api/v1/tokens', { name: opts.name, role: opts.role }),
      );
      context.output(created, () => process.stdout.write(`${created.token}\n`));
    });
  token
    .command('list')
    .option('--remote', 'list through the server API')
    .action(async (opts: { remote?: boolean }) => {
      const list = await withTokens(
        opts.remote,
        (tokens) => tokens.list(),
        (client) => client.request<Record<string, unknown>[]>('GET', '/api/v1/tokens'),
      );
      context.output(list, () => printTable(list, ['id', 'name', 'role', 'created_at', 'revoked_at']));
    });
  token
    .command('revoke <idOrName>')
    .option('--remote', 'revoke through the server API')
    .action(async (idOrName: string, opts: { remote?: boolean }) => {
      const revoked = await withTokens(
        opts.remote,
        (tokens) => tokens.revoke(idOrName),
        (client) => client.request<Record<string, unknown>>('DELETE', `/api/v1/tokens/${encodeURIComponent(idOrName)}`),
      );
      context.output(revoked, () => process.stdout.write(`revoked ${String(revoked.name)} (${String(revoked.id)})\n`));
    });
}

const INCIDENT_COLUMNS = ['id', 'severity', 'status', 'title', 'team', 'services', 'detected_at'];

function printIncident(incident: Incident): void {
  printTable([incident], INCIDENT_COLUMNS);
}

function registerIncidentCommands(program: Command, context: CliContext): void {
  const incident = program.command('incident').description('work with incidents on a server');
  const path = (id: string, suffix = '') => `/api/v1/incidents/${encodeURIComponent(id)}${suffix}`;

  incident
    .command('create')
    .requiredOption('--title <title>')
    .addOption(new Option('--severity <severity>').choices(SEVERITIES).makeOptionMandatory())
    .option('--service <service...>', 'affected services, first one decides the owning team')
    .option('--description <text>')
    .option('--team <team>')
    .action(async (opts: { title: string; severity: string; service?: string[]; description?: string; team?: string }) => {
      const created = await context.client().request<Incident>('POST', '/api/v1/incidents', {
        title: opts.title,
        severity: opts.severity,
        ...(opts.service ? { services: opts.service } : {}),
        ...(opts.description ? { description: opts.description } : {}),
        ...(opts.team ? { team: opts.team } : {}),
      });
      context.output(created, () => printIncident(created));
    });

  incident
    .command('list')
    .addOption(new Option('--status <status...>').choices(INCIDENT_STATUSES))
    .addOption(new Option('--severity <severity...>').choices(SEVERITIES))
    .option('--service <service>')
    .option('--team <team>')
    .option('--active', 'only incidents not yet resolved')
    .option('--limit <n>', 'page size', '50')
    .action(async (opts: { status?: string[]; severity?: string[]; service?: string; team?: string; active?: boolean; limit: string }) => {
      const query = new URLSearchParams();
      for (const s of opts.status ?? []) query.append('status', s);
      for (const s of opts.severity ?? []) query.append('severity', s);
      if (opts.service) query.set('service', opts.service);
      if (opts.team) query.set('team', opts.team);
      if (opts.active) query.set('active', 'true');
      query.set('limit', opts.limit);
      const page = await context.client().request<{ items: Incident[] }>('GET', `/api/v1/incidents?${query}`);
      context.output(page, () => printTable(page.items, INCIDENT_COLUMNS));
    });

  incident.command('show <id>').action(async (id: string) => {
    const client = context.client();
    const [shown, timeline] = await Promise.all([
      client.request<Incident>('GET', path(id)),
      client.request<TimelineEntry[]>('GET', path(id, '/timeline')),
    ]);
    context.output({ ...shown, timeline }, () => {
      printIncident(shown);
      process.stdout.write('\n');
      printTable(timeline, ['at', 'actor', 'kind', 'summary']);
    });
  });

  incident.command('ack <id>').action(async (id: string) => {
    const updated = await context.client().request<Incident>('POST', path(id, '/acknowledge'), {});
    context.output(updated, () => printIncident(updated));
  });

  incident
    .command('transition <id> <to>')
    .option('--note <text>')
    .action(async (id: string, to: string, opts: { note?: string }) => {
      const updated = await context.client().request<Incident>('POST', path(id, '/transition'), { to, ...(opts.note ? { note: opts.note } : {}) });
      context.output(updated, () => printIncident(updated));
    });

  incident
    .command('resolve <id>')
    .requiredOption('--resolution <text>')
    .option('--root-cause <text>')
    .action(async (id: string, opts: { resolution: string; rootCause?: string }) => {
      const updated = await context.client().request<Incident>('POST', path(id, '/resolve'), {
        resolution: opts.resolution,
        ...(opts.rootCause ? { root_cause: opts.rootCause } : {}),
      });
      context.output(updated, () => printIncident(updated));
    });

  incident.command('note <id> <text>').action(async (id: string, text: string) => {
    const entry = await context.client().request<TimelineEntry>('POST', path(id, '/notes'), { text });
    context.output(entry, () => process.stdout.write(`noted on ${id} at ${entry.at}\n`));
  });
}

/** Runs the CLI and turns every failure into one line on stderr and a non-zero exit code. */
export async function runCli(argv: readonly string[], groups: readonly CommandGroup[] = []): Promise<number> {
  try {
    const { registrars, stubs } = await loadCommandGroups(argv, groups);
    const program = buildCli(registrars, stubs);
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed its message (and help for usage errors).
      return error.exitCode === 0 ? 0 : 2;
    }
    process.stderr.write(`${oneLineMessage(error)}\n`);
    return exitCodeFor(error);
  }
}
