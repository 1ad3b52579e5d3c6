import { randomUUID } from 'node:crypto';
import { Type, type Static } from 'typebox';
import { AppError, notFound } from '../shared/errors.ts';
import { checkVersion } from '../shared/concurrency.ts';
import { isUniqueViolation, type Database, type Executor } from '../storage/index.ts';
import { catalogRepository } from '../catalog/index.ts';
import type { PeopleTables } from './schema.ts';
import * as repository from './repository.ts';
import { ROLES, type Role } from './roles.ts';
import { checkPasswordStrength, hashPassword } from './passwords.ts';


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
  private readonly db: Executor;
  constructor(
    database: Database,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.db = database.db;
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
      await repository.insertUser(this.db, row);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const clash = await repository.findUserClash(this.db, email, handle);
      if (clash?.email === email) throw new AppError('conflict', `email: ${email} already has an account`, { field: 'email' });
      throw new AppError('conflict', `handle: ${handle} is already taken; choose another handle`, { field: 'handle' });
    }
    return (await this.present([row]))[0]!;
  }

  async list(): Promise<User[]> {
    return this.present(await repository.listUsers(this.db));
  }

  /** By id, handle or e-mail. */
  async get(ref: string): Promise<User> {
    return (await this.present([await this.row(ref)]))[0]!;
  }

  async row(ref: string): Promise<UserRow> {
    const email = normaliseEmail(ref);
    const row = await repository.findUserByRef(this.db, ref, email);
    if (!row) throw notFound('user', ref);
    return row;
  }

  async byEmail(email: string): Promise<UserRow | undefined> {
    return repository.findUserByEmail(this.db, normaliseEmail(email));
  }

  async byOidcIdentity(issuer: string, subject: string): Promise<UserRow | undefined> {
    return repository.findUserByOidcIdentity(this.db, issuer, subject);
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
    if (!(await repository.updateUserIfVersion(this.db, current.id, current.version, set))) throw new AppError('version_conflict', `user ${current.handle} changed meanwhile; read it again`, { field: 'version' });
    // A new password, a lost role or a disabled account ends the sessions started before.
    if (input.password !== undefined || input.disabled || (input.role !== undefined && input.role !== current.role)) {
      await repository.revokeSessionsOfUser(this.db, current.id, set.updated_at!);
    }
    return this.get(current.id);
  }

  /** SSO sign-in keeps the account in step with the identity provider: its identity, name and mapped role. */
  async syncFromIdentityProvider(id: string, fields: { name: string; role: Role; issuer: string; subject: string }): Promise<void> {
    const now = this.clock().toISOString();
    const current = await this.row(id);
    await repository.updateUser(this.db, id, {
      name: fields.name,
      role: fields.role,
      oidc_issuer: fields.issuer,
      oidc_subject: fields.subject,
      updated_at: now,
      version: current.version + 1,
    });
  }

  async markSignedIn(id: string): Promise<void> {
    await repository.updateUser(this.db, id, { last_sign_in_at: this.clock().toISOString() });
  }

  /** A free handle for a person created at their first SSO sign-in: `ana`, else `ana-2`, `ana-3`… */
  async freeHandle(wanted: string): Promise<string> {
    const taken = new Set(await repository.handlesStartingWith(this.db, wanted));
    if (!taken.has(wanted)) return wanted;
    for (let n = 2; ; n++) if (!taken.has(`${wanted}-${n}`)) return `${wanted}-${n}`;
  }

  /**
   * Everyone an incident can be assigned to or a schedule can name: accounts, and team members who have
   * none yet (a team member listed by e-mail is the account with that e-mail).
   */
  async people(): Promise<Person[]> {
    const users = await this.list();
    const members = await catalogRepository.teamMemberships(this.db);
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
    const user = await repository.findUserByHandleOrEmail(this.db, value, email);
    if (user && user.disabled_at === null) return user.handle;
    if (user) throw new AppError('unprocessable', `${field}: ${user.handle}'s account is disabled`, { field });
    if ((await catalogRepository.usersInAnyTeam(this.db, [value])).has(value)) return value;
    throw new AppError('unprocessable', `${field}: ${value} is not a person Firebreak knows; create their account (POST /api/v1/users) or add them to a team`, { field });
  }

  private async present(rows: UserRow[]): Promise<User[]> {
    if (rows.length === 0) return [];
    const keys = rows.flatMap((r) => [r.handle, r.email]);
    const members = await catalogRepository.membershipsOf(this.db, keys);
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
