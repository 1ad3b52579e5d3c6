import { text } from 'node:stream/consumers';
import { Option, type Command } from 'commander';
import type { CliContext } from '../cli/main.ts';
import { printTable } from '../cli/output.ts';
import { configFromEnv } from '../app/config.ts';
import { parseWithSchema } from '../shared/validation.ts';
import { AppError } from '../shared/errors.ts';
import { ROLES } from './roles.ts';
import { CreateUserSchema, type CreateUserInput, type PeopleService, type User } from './people.ts';

/** Runs against FIREBREAK_DATABASE_URL directly (how the first admin account is made), or the API with --remote. */
async function withPeople<T>(remote: boolean | undefined, context: CliContext, local: (people: PeopleService) => Promise<T>, viaApi: (client: ReturnType<CliContext['client']>) => Promise<T>): Promise<T> {
  if (remote) return viaApi(context.client());
  const [{ openDatabase, migrateToLatest }, { migrationSets }, { PeopleService }] = await Promise.all([
    import('../storage/index.ts'),
    import('../app/modules.ts'),
    import('./people.ts'),
  ]);
  const database = openDatabase(configFromEnv().databaseUrl);
  try {
    // The same migrations the server runs (storage's own included), or a database it made looks corrupted.
    await migrateToLatest(database, migrationSets());
    return await local(new PeopleService(database));
  } finally {
    await database.close();
  }
}

/** `firebreak user create|list`. Passwords come from standard input, never the command line (it shows in `ps`). */
export function registerUserCommands(program: Command, context: CliContext): void {
  const user = program.command('user').description('manage the accounts people sign in with: directly on FIREBREAK_DATABASE_URL, or through --server with --remote');
  user
    .command('create')
    .requiredOption('--email <email>', 'what they sign in with')
    .requiredOption('--name <name>', 'their full name')
    .addOption(new Option('--role <role>', 'viewer, responder or admin').choices(ROLES).makeOptionMandatory())
    .option('--handle <handle>', 'the name teams, schedules and assignees use (default: from the e-mail)')
    .option('--password-stdin', 'read a password (12+ characters) from standard input; without it they sign in with SSO or an admin sets one later')
    .option('--remote', 'create it through the server API (needs an admin --token)')
    .action(async (opts: { email: string; name: string; role: string; handle?: string; passwordStdin?: boolean; remote?: boolean }) => {
      const password = opts.passwordStdin ? (await text(process.stdin)).replace(/\r?\n$/, '') : undefined;
      if (opts.passwordStdin && !password) throw new AppError('validation_failed', 'password: standard input was empty', { field: 'password' });
      const input: CreateUserInput = parseWithSchema(CreateUserSchema, {
        email: opts.email,
        name: opts.name,
        role: opts.role,
        ...(opts.handle ? { handle: opts.handle } : {}),
        ...(password ? { password } : {}),
      });
      const created = await withPeople(
        opts.remote,
        context,
        (people) => people.create(input, 'cli'),
        (client) => client.request<User>('POST', '/api/v1/users', input),
      );
      context.output(created, () => process.stdout.write(`created ${created.handle} <${created.email}> (${created.role})\n`));
    });
  user
    .command('list')
    .option('--remote', 'list through the server API')
    .action(async (opts: { remote?: boolean }) => {
      const list = await withPeople(
        opts.remote,
        context,
        (people) => people.list(),
        (client) => client.request<User[]>('GET', '/api/v1/users'),
      );
      context.output(list, () => printTable(list.map((u) => ({ ...u, sign_in: u.sign_in.join(',') || '-', teams: u.teams.join(',') })), ['handle', 'email', 'name', 'role', 'sign_in', 'teams', 'disabled_at']));
    });
}
