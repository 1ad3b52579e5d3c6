import type { Insertable, Selectable } from 'kysely';
import { PreparedQuery, viewAs, type Executor } from '../storage/index.ts';
import type { PeopleTables, TokenTables } from './schema.ts';

type TokenRow = Selectable<TokenTables['api_tokens']>;

const tables = (executor: Executor) => viewAs<TokenTables>(executor);
const people = (executor: Executor) => viewAs<PeopleTables>(executor);

export async function insertToken(executor: Executor, token: Insertable<TokenTables['api_tokens']>): Promise<void> {
  await tables(executor).insertInto('api_tokens').values(token).execute();
}

/** Every token without its hash, oldest first. */
export async function listTokens(executor: Executor): Promise<Omit<TokenRow, 'token_hash'>[]> {
  return tables(executor)
    .selectFrom('api_tokens')
    .select(['id', 'name', 'role', 'created_at', 'created_by', 'revoked_at', 'last_used_at'])
    .orderBy('created_at')
    .execute();
}

export async function setTokenRevokedAt(executor: Executor, id: string, revokedAt: string): Promise<void> {
  await tables(executor).updateTable('api_tokens').set({ revoked_at: revokedAt }).where('id', '=', id).execute();
}

// Every request runs this, so it is compiled once.
const tokenByHash = new PreparedQuery<'hash', Pick<TokenRow, 'id' | 'name' | 'role' | 'token_hash' | 'revoked_at'>>((slot, executor) =>
  tables(executor).selectFrom('api_tokens').select(['id', 'name', 'role', 'token_hash', 'revoked_at']).where('token_hash', '=', slot('hash')),
);

export async function findTokenByHash(executor: Executor, hash: string): Promise<Pick<TokenRow, 'id' | 'name' | 'role' | 'token_hash' | 'revoked_at'> | undefined> {
  const [row] = await tokenByHash.execute(executor, { hash });
  return row;
}

export async function anyTokenExists(executor: Executor): Promise<boolean> {
  return (await tables(executor).selectFrom('api_tokens').select('id').limit(1).executeTakeFirst()) !== undefined;
}

/** Fails with a unique violation when the key is already set. */
export async function insertSetting(executor: Executor, key: string, value: string): Promise<void> {
  await tables(executor).insertInto('settings').values({ key, value }).execute();
}

export type UserRow = PeopleTables['users'];
export type OidcLoginRow = PeopleTables['oidc_logins'];

/** Fails with a unique violation when the e-mail, the handle or the SSO identity is taken. */
export async function insertUser(executor: Executor, row: UserRow): Promise<void> {
  await people(executor).insertInto('users').values(row).execute();
}

/** The account holding this e-mail or this handle, if any (which of the two clashed). */
export async function findUserClash(executor: Executor, email: string, handle: string): Promise<Pick<UserRow, 'email' | 'handle'> | undefined> {
  return people(executor)
    .selectFrom('users')
    .select(['email', 'handle'])
    .where((eb) => eb.or([eb('email', '=', email), eb('handle', '=', handle)]))
    .executeTakeFirst();
}

/** Every account, by handle. */
export async function listUsers(executor: Executor): Promise<UserRow[]> {
  return people(executor).selectFrom('users').selectAll().orderBy('handle').execute();
}

/** The account with this id or handle, or whose e-mail is `email` (already normalised). */
export async function findUserByRef(executor: Executor, ref: string, email: string): Promise<UserRow | undefined> {
  return people(executor)
    .selectFrom('users')
    .selectAll()
    .where((eb) => eb.or([eb('id', '=', ref), eb('handle', '=', ref), eb('email', '=', email)]))
    .executeTakeFirst();
}

export async function findUserByEmail(executor: Executor, email: string): Promise<UserRow | undefined> {
  return people(executor).selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
}

export async function findUserByOidcIdentity(executor: Executor, issuer: string, subject: string): Promise<UserRow | undefined> {
  return people(executor).selectFrom('users').selectAll().where('oidc_issuer', '=', issuer).where('oidc_subject', '=', subject).executeTakeFirst();
}

/** The account with this handle or e-mail: its handle and whether it is disabled. */
export async function findUserByHandleOrEmail(executor: Executor, handle: string, email: string): Promise<Pick<UserRow, 'handle' | 'disabled_at'> | undefined> {
  return people(executor)
    .selectFrom('users')
    .select(['handle', 'disabled_at'])
    .where((eb) => eb.or([eb('handle', '=', handle), eb('email', '=', email)]))
    .executeTakeFirst();
}

/** Writes only when the stored version is `expectedVersion`; false when it was not. */
export async function updateUserIfVersion(executor: Executor, id: string, expectedVersion: number, set: Partial<UserRow>): Promise<boolean> {
  const result = await people(executor).updateTable('users').set(set).where('id', '=', id).where('version', '=', expectedVersion).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function updateUser(executor: Executor, id: string, set: Partial<UserRow>): Promise<void> {
  await people(executor).updateTable('users').set(set).where('id', '=', id).execute();
}

/** Handles that start with `prefix`. */
export async function handlesStartingWith(executor: Executor, prefix: string): Promise<string[]> {
  return (await people(executor).selectFrom('users').select('handle').where('handle', 'like', `${prefix}%`).execute()).map((r) => r.handle);
}

export async function insertSession(executor: Executor, row: PeopleTables['sessions']): Promise<void> {
  await people(executor).insertInto('sessions').values(row).execute();
}

/** Drops sessions and SSO sign-ins under way that expired before `nowIso`. */
export async function deleteExpiredSessions(executor: Executor, nowIso: string): Promise<void> {
  await people(executor).deleteFrom('sessions').where('expires_at', '<', nowIso).execute();
  await people(executor).deleteFrom('oidc_logins').where('expires_at', '<', nowIso).execute();
}

/** The session with this token hash and the person it belongs to. */
export async function findSessionByTokenHash(executor: Executor, tokenHash: string) {
  return people(executor)
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'sessions.id as session_id',
      'sessions.token_hash',
      'sessions.csrf_token',
      'sessions.expires_at',
      'sessions.revoked_at',
      'users.id as user_id',
      'users.handle',
      'users.name',
      'users.role',
      'users.disabled_at',
    ])
    .where('sessions.token_hash', '=', tokenHash)
    .executeTakeFirst();
}

export async function revokeSession(executor: Executor, sessionId: string, revokedAt: string): Promise<void> {
  await people(executor).updateTable('sessions').set({ revoked_at: revokedAt }).where('id', '=', sessionId).where('revoked_at', 'is', null).execute();
}

/** Ends every live session of one person. */
export async function revokeSessionsOfUser(executor: Executor, userId: string, revokedAt: string): Promise<void> {
  await people(executor).updateTable('sessions').set({ revoked_at: revokedAt }).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
}

export async function insertOidcLogin(executor: Executor, row: OidcLoginRow): Promise<void> {
  await people(executor).insertInto('oidc_logins').values(row).execute();
}

/** Reads and deletes the SSO sign-in under way with this state: it is used once. */
export async function takeOidcLogin(executor: Executor, state: string): Promise<OidcLoginRow | undefined> {
  const login = await people(executor).selectFrom('oidc_logins').selectAll().where('state', '=', state).executeTakeFirst();
  await people(executor).deleteFrom('oidc_logins').where('state', '=', state).execute();
  return login;
}
