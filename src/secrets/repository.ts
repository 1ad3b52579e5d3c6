import type { Insertable, Selectable, Updateable } from 'kysely';
import { viewAs, type Executor } from '../storage/index.ts';
import type { SecretTables } from './schema.ts';

type SecretRow = Selectable<SecretTables['named_secrets']>;

const tables = (executor: Executor) => viewAs<SecretTables>(executor);

export async function findSecretCreatedAt(executor: Executor, name: string): Promise<Pick<SecretRow, 'created_at'> | undefined> {
  return tables(executor).selectFrom('named_secrets').select('created_at').where('name', '=', name).executeTakeFirst();
}

export async function insertSecret(executor: Executor, secret: Insertable<SecretTables['named_secrets']>): Promise<void> {
  await tables(executor).insertInto('named_secrets').values(secret).execute();
}

export async function updateSecret(executor: Executor, name: string, changes: Updateable<SecretTables['named_secrets']>): Promise<void> {
  await tables(executor).updateTable('named_secrets').set(changes).where('name', '=', name).execute();
}

/** Names and timestamps only, by name. */
export async function listSecrets(executor: Executor): Promise<Omit<SecretRow, 'sealed'>[]> {
  return tables(executor).selectFrom('named_secrets').select(['name', 'created_at', 'updated_at', 'updated_by']).orderBy('name').execute();
}

export async function secretNames(executor: Executor): Promise<string[]> {
  return (await tables(executor).selectFrom('named_secrets').select('name').execute()).map((r) => r.name);
}

/** True when a secret was deleted. */
export async function deleteSecret(executor: Executor, name: string): Promise<boolean> {
  const result = await tables(executor).deleteFrom('named_secrets').where('name', '=', name).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function sealedSecrets(executor: Executor, names: readonly string[]): Promise<Pick<SecretRow, 'name' | 'sealed'>[]> {
  return tables(executor).selectFrom('named_secrets').select(['name', 'sealed']).where('name', 'in', [...names]).execute();
}
