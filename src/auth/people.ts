import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { Type, type Static } from 'typebox';
import { AppError, notFound } from '../shared/errors.ts';
import { checkVersion } from '../shared/concurrency.ts';
import { isUniqueViolation, viewAs, type Database, type DialectMigration } from '../storage/index.ts';
import { ROLES, type Role } from './roles.ts';
import { checkPasswordStrength, hashPassword } from './passwords.ts';

/**
 * People who sign in. A person is known everywhere by a handle (`alice`): team membership, on-call
 * schedules, assignees and the timeline name the same handle, so an account is the sign-in identity of
 * the handle the catalogue already uses. E-mail and an optional password or SSO identity say how they sign in.
 */
export type PeopleTables = {
  users: {
    id: string;
    handle: string;
    email: string;
    name: string;
    role: Role;
    password_hash: string | null;
    oidc_issuer: string | null;
    oidc_subject: string | null;
    created_at: string;
    created_by: string;
    updated_at: string;
    disabled_at: string | null;
    last_sign_in_at: string | null;
    version: number;
  };
  sessions: {
    id: string;
    token_hash: string;
    user_id: string;
    csrf_token: string;
    method: string;
    created_at: string;
    expires_at: string;
    last_seen_at: string;
    revoked_at: string | null;
  };
  /** One row per SSO sign-in under way: state, nonce and PKCE verifier, used once at the callback. */
  oidc_logins: { state: string; code_verifier: string; nonce: string; return_to: string; expires_at: string };
};

const createPeopleTables: DialectMigration = () => ({
  async up(db) {
    await db.schema
      .createTable('users')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('handle', 'text', (c) => c.notNull().unique())
      .addColumn('email', 'text', (c) => c.notNull().unique())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('password_hash', 'text')
      .addColumn('oidc_issuer', 'text')
      .addColumn('oidc_subject', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('disabled_at', 'text')
      .addColumn('last_sign_in_at', 'text')
      .addColumn('version', 'integer', (c) => c.notNull())
      .addUniqueConstraint('users_oidc_identity', ['oidc_issuer', 'oidc_subject'])
      .execute();
    await db.schema
      .createTable('sessions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('csrf_token', 'text', (c) => c.notNull())
      .addColumn('method', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('last_seen_at', 'text', (c) => c.notNull())
      .addColumn('revoked_at', 'text')
      .execute();
    await db.schema.createIndex('sessions_by_user').on('sessions').column('user_id').execute();
    await db.schema
      .createTable('oidc_logins')
      .addColumn('state', 'text', (c) => c.primaryKey())
      .addColumn('code_verifier', 'text', (c) => c.notNull())
      .addColumn('nonce', 'text', (c) => c.notNull())
      .addColumn('return_to', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();
  },
});

export const peopleMigrations = { '004_auth_people': createPeopleTables };

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
export const HandleSchema = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,62}$', description: 'the name teams, schedules and assignees use' });
const RoleEnum = Type.Enum(ROLES);
const Email = Type.String({ format: 'email', maxLength: 320 });
const Password = Type.String({ minLength: 1, maxLength: 1024, description: 'at least 12 characters' });

export const CreateUserSchema = Type.Object(
  {
    email: Email,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    role: RoleEnum,
    password: Type.Optional(Password),
    handle: Type.Optional(HandleSchema),
  },
  { additionalProperties: false },
);
export type CreateUserInput = Static<typeof CreateUserSchema>;

export const UpdateUserSchema = Type.Object(
  {
    version: Type.Integer({ minimum: 1 }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    role: Type.Optional(RoleEnum),
    password: Type.Optional(Nullable(Password)),
    disabled: Type.Optional(Type.Boolean({ description: 'a disabled person cannot sign in; their sessions end at once' })),
  },
  { additionalProperties: false },
);
export type UpdateUserInput = Static<typeof UpdateUserSchema>;

export const UserSchema = Type.Object({
  id: Type.String(),
  handle: Type.String(),
  email: Type.String(),
  name: Type.String(),
  role: RoleEnum,
  sign_in: Type.Array(Type.Union([Type.Literal('password'), Type.Literal('sso')]), { description: 'how this person can sign in' }),
  teams: Type.Array(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
  created_by: Type.String(),
  updated_at: Type.String({ format: 'date-time' }),
  disabled_at: Nullable(Type.String({ format: 'date-time' })),
  last_sign_in_at: Nullable(Type.String({ format: 'date-time' })),
  version: Type.Integer(),
});
export type User = Static<typeof UserSchema>;

export const PersonSchema = Type.Object({
  handle: Type.String(),
  name: Type.String(),
  email: Nullable(Type.String()),
  role: Nullable(RoleEnum),
  teams: Type.Array(Type.String()),
  account: Type.Boolean({ description: 'false for team members who have no account yet (they cannot sign in)' }),
});
export type Person = Static<typeof PersonSchema>;

type UserRow = PeopleTables['users'];
type TeamMembers = { team_members: { team_id: string; user_name: string } };

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** `Ana.Silva+ops@example.com` → `ana.silva-ops`. */
export function handleFromEmail(email: string): string {
  const local = normaliseEmail(email).split('@')[0] ?? '';
  const cleaned = local.replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 63);
  return cleaned || 'person';
}

export class PeopleService {
  private readonly db: Kysely<PeopleTables>;
  constructor(
    database: Database,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.db = database.db.withTables<PeopleTables>();
  }

  async create(input: CreateUserInput & { oidc?: { issuer: string; subject: string } }, createdBy: string): Promise<User> {
    if (input.password !== undefined) checkPasswordStrength(input.password);
    const email = normaliseEmail(input.email);
    const handle = input.handle ?? handleFromEmail(email);
    const now = this.clock().toISOString();
    const row: UserRow = {
      id: randomUUID(),
      handle,
      email,
      name: input.name,
      role: input.role,
      password_hash: input.password === undefined ? null : await hashPassword(input.password),
      oidc_issuer: input.oidc?.issuer ?? null,
      oidc_subject: input.oidc?.subject ?? null,
      created_at: now,
      created_by: createdBy,
      updated_at: now,
      disabled_at: null,
      last_sign_in_at: null,
      version: 1,
    };
    try {
      await this.db.insertInto('users').values(row).execute();
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const clash = await this.db.selectFrom('users').select(['email', 'handle']).where((eb) => eb.or([eb('email', '=', email), eb('handle', '=', handle)])).executeTakeFirst();
      if (clash?.email === email) throw new AppError('conflict', `email: ${email} already has an account`, { field: 'email' });
      throw new AppError('conflict', `handle: ${handle} is already taken; choose another handle`, { field: 'handle' });
    }
    return (await this.present([row]))[0]!;
  }

  async list(): Promise<User[]> {
    return this.present(await this.db.selectFrom('users').selectAll().orderBy('handle').execute());
  }

  /** By id, handle or e-mail. */
  async get(ref: string): Promise<User> {
    return (await this.present([await this.row(ref)]))[0]!;
  }

  async row(ref: string): Promise<UserRow> {
    const email = normaliseEmail(ref);
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', ref), eb('handle', '=', ref), eb('email', '=', email)]))
      .executeTakeFirst();
    if (!row) throw notFound('user', ref);
    return row;
  }

  async byEmail(email: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('email', '=', normaliseEmail(email)).executeTakeFirst();
  }

  async byOidcIdentity(issuer: string, subject: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('oidc_issuer', '=', issuer).where('oidc_subject', '=', subject).executeTakeFirst();
  }

  async update(ref: string, input: UpdateUserInput): Promise<User> {
    if (input.password) checkPasswordStrength(input.password);
    const current = await this.row(ref);
    checkVersion('user', current.handle, current.version, input.version, true);
    const set: Partial<UserRow> = { updated_at: this.clock().toISOString(), version: current.version + 1 };
    if (input.name !== undefined) set.name = input.name;
    if (input.role !== undefined) set.role = input.role;
    if (input.password !== undefined) set.password_hash = input.password === null ? null : await hashPassword(input.password);
    if (input.disabled !== undefined) set.disabled_at = input.disabled ? (current.disabled_at ?? set.updated_at!) : null;
    const result = await this.db.updateTable('users').set(set).where('id', '=', current.id).where('version', '=', current.version).executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw new AppError('version_conflict', `user ${current.handle} changed meanwhile; read it again`, { field: 'version' });
    // A new password, a lost role or a disabled account ends the sessions started before.
    if (input.password !== undefined || input.disabled || (input.role !== undefined && input.role !== current.role)) {
      await this.db.updateTable('sessions').set({ revoked_at: set.updated_at! }).where('user_id', '=', current.id).where('revoked_at', 'is', null).execute();
    }
    return this.get(current.id);
  }

  /** SSO sign-in keeps the account in step with the identity provider: its identity, name and mapped role. */
  async syncFromIdentityProvider(id: string, fields: { name: string; role: Role; issuer: string; subject: string }): Promise<void> {
    const now = this.clock().toISOString();
    const current = await this.row(id);
    await this.db
      .updateTable('users')
      .set({ name: fields.name, role: fields.role, oidc_issuer: fields.issuer, oidc_subject: fields.subject, updated_at: now, version: current.version + 1 })
      .where('id', '=', id)
      .execute();
  }

  async markSignedIn(id: string): Promise<void> {
    await this.db.updateTable('users').set({ last_sign_in_at: this.clock().toISOString() }).where('id', '=', id).execute();
  }

  /** A free handle for a person created at their first SSO sign-in: `ana`, else `ana-2`, `ana-3`… */
  async freeHandle(wanted: string): Promise<string> {
    const taken = new Set((await this.db.selectFrom('users').select('handle').where('handle', 'like', `${wanted}%`).execute()).map((r) => r.handle));
    if (!taken.has(wanted)) return wanted;
    for (let n = 2; ; n++) if (!taken.has(`${wanted}-${n}`)) return `${wanted}-${n}`;
  }

  /**
   * Everyone an incident can be assigned to or a schedule can name: accounts, and team members who have
   * none yet (a team member listed by e-mail is the account with that e-mail).
   */
  async people(): Promise<Person[]> {
    const users = await this.list();
    const members = await viewAs<TeamMembers>(this.db).selectFrom('team_members').select(['team_id', 'user_name']).orderBy('user_name').execute();
    const byKey = new Map<string, User>();
    for (const user of users) {
      byKey.set(user.handle, user);
      byKey.set(user.email, user);
    }
    const people: Person[] = users
      .filter((u) => u.disabled_at === null)
      .map((u) => ({ handle: u.handle, name: u.name, email: u.email, role: u.role, teams: u.teams, account: true }));
    const withoutAccount = new Map<string, string[]>();
    for (const member of members) {
      if (byKey.has(member.user_name) || byKey.has(normaliseEmail(member.user_name))) continue;
      withoutAccount.set(member.user_name, [...(withoutAccount.get(member.user_name) ?? []), member.team_id]);
    }
    for (const [handle, teams] of withoutAccount) people.push({ handle, name: handle, email: null, role: null, teams, account: false });
    return people.sort((a, b) => a.handle.localeCompare(b.handle));
  }

  /**
   * The handle an assignee is stored as: an active account's handle (given by handle or e-mail) or a team
   * member's name. Anyone else is refused, naming the field.
   */
  async resolveAssignee(value: string, field = 'assignee'): Promise<string> {
    const email = normaliseEmail(value);
    const user = await this.db
      .selectFrom('users')
      .select(['handle', 'disabled_at'])
      .where((eb) => eb.or([eb('handle', '=', value), eb('email', '=', email)]))
      .executeTakeFirst();
    if (user && user.disabled_at === null) return user.handle;
    if (user) throw new AppError('unprocessable', `${field}: ${user.handle}'s account is disabled`, { field });
    const member = await viewAs<TeamMembers>(this.db).selectFrom('team_members').select('user_name').where('user_name', '=', value).limit(1).executeTakeFirst();
    if (member) return member.user_name;
    throw new AppError('unprocessable', `${field}: ${value} is not a person Firebreak knows; create their account (POST /api/v1/users) or add them to a team`, { field });
  }

  private async present(rows: UserRow[]): Promise<User[]> {
    if (rows.length === 0) return [];
    const keys = rows.flatMap((r) => [r.handle, r.email]);
    const members = await viewAs<TeamMembers>(this.db).selectFrom('team_members').select(['team_id', 'user_name']).where('user_name', 'in', keys).execute();
    return rows.map((r) => ({
      id: r.id,
      handle: r.handle,
      email: r.email,
      name: r.name,
      role: r.role,
      sign_in: [...(r.password_hash ? (['password'] as const) : []), ...(r.oidc_subject ? (['sso'] as const) : [])],
      teams: [...new Set(members.filter((m) => m.user_name === r.handle || m.user_name === r.email).map((m) => m.team_id))].sort(),
      created_at: r.created_at,
      created_by: r.created_by,
      updated_at: r.updated_at,
      disabled_at: r.disabled_at,
      last_sign_in_at: r.last_sign_in_at,
      version: r.version,
    }));
  }
}
