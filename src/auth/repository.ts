import type { Insertable, Selectable } from 'kysely';
import { PreparedQuery, viewAs, type Executor } from '../storage/index.ts';
import type { TokenTables } from './schema.ts';

type TokenRow = Selectable<TokenTables['api_tokens']>;

const tables = (executor: Executor) => viewAs<TokenTables>(executor);

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
