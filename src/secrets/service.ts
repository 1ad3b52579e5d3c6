import type { Kysely } from 'kysely';
import { SecretBox } from '../shared/crypto.ts';
import { AppError, notFound } from '../shared/errors.ts';
import type { Database } from '../storage/index.ts';
import type { SecretInfo } from './schemas.ts';
import type { SecretTables } from './store.ts';

const PURPOSE = 'named-secret';

/**
 * Named secrets (gateway tokens, webhook keys) that plans reference as `{{secrets.NAME}}`. Values are
 * sealed with FIREBREAK_SECRET_KEY; only the names and timestamps are ever listed.
 */
export class SecretService {
  private readonly db: Kysely<SecretTables>;
  private box: SecretBox | undefined;

  constructor(
    database: Database,
    private readonly secretKey: string | undefined,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.db = database.db.withTables<SecretTables>();
  }

  /** Built on first use, so a server without FIREBREAK_SECRET_KEY still starts and only secret operations fail. */
  private secretBox(): SecretBox {
    this.box ??= new SecretBox(this.secretKey);
    return this.box;
  }

  async put(name: string, value: string, actor: string): Promise<{ secret: SecretInfo; created: boolean }> {
    const sealed = this.secretBox().seal(value, PURPOSE);
    const now = this.clock().toISOString();
    return this.db.transaction().execute(async (trx) => {
      const existing = await trx.selectFrom('named_secrets').select('created_at').where('name', '=', name).executeTakeFirst();
      if (existing) {
        await trx.updateTable('named_secrets').set({ sealed, updated_at: now, updated_by: actor }).where('name', '=', name).execute();
        return { secret: { name, created_at: existing.created_at, updated_at: now, updated_by: actor }, created: false };
      }
      await trx.insertInto('named_secrets').values({ name, sealed, created_at: now, updated_at: now, updated_by: actor }).execute();
      return { secret: { name, created_at: now, updated_at: now, updated_by: actor }, created: true };
    });
  }

  async list(): Promise<SecretInfo[]> {
    return this.db.selectFrom('named_secrets').select(['name', 'created_at', 'updated_at', 'updated_by']).orderBy('name').execute();
  }

  async names(): Promise<Set<string>> {
    const rows = await this.db.selectFrom('named_secrets').select('name').execute();
    return new Set(rows.map((r) => r.name));
  }

  async delete(name: string): Promise<void> {
    const result = await this.db.deleteFrom('named_secrets').where('name', '=', name).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw notFound('secret', name);
  }

  /** Decrypts the named secrets; a missing one is an error naming it, never an empty string sent to a target. */
  async reveal(names: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (names.length === 0) return out;
    const rows = await this.db.selectFrom('named_secrets').select(['name', 'sealed']).where('name', 'in', [...names]).execute();
    for (const name of names) {
      const row = rows.find((r) => r.name === name);
      if (!row) throw new AppError('unprocessable', `secret ${name} does not exist; create it with PUT /api/v1/secrets/${name}`, { secret: name });
      out.set(name, this.secretBox().open(row.sealed, PURPOSE));
    }
    return out;
  }
}
