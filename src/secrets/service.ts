import { SecretBox } from '../shared/crypto.ts';
import { AppError, notFound } from '../shared/errors.ts';
import type { Database } from '../storage/index.ts';
import type { SecretInfo } from './schemas.ts';
import { deleteSecret, findSecretCreatedAt, insertSecret, listSecrets, sealedSecrets, secretNames, updateSecret } from './repository.ts';

const PURPOSE = 'named-secret';

/**
 * Named secrets (gateway tokens, webhook keys) that plans reference as `{{secrets.NAME}}`. Values are
 * sealed with FIREBREAK_SECRET_KEY; only the names and timestamps are ever listed.
 */
export class SecretService {
  private readonly db: Database['db'];
  private box: SecretBox | undefined;

  constructor(
    database: Database,
    private readonly secretKey: string | undefined,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.db = database.db;
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
      const existing = await findSecretCreatedAt(trx, name);
      if (existing) {
        await updateSecret(trx, name, { sealed, updated_at: now, updated_by: actor });
        return { secret: { name, created_at: existing.created_at, updated_at: now, updated_by: actor }, created: false };
      }
      await insertSecret(trx, { name, sealed, created_at: now, updated_at: now, updated_by: actor });
      return { secret: { name, created_at: now, updated_at: now, updated_by: actor }, created: true };
    });
  }

  async list(): Promise<SecretInfo[]> {
    return listSecrets(this.db);
  }

  async names(): Promise<Set<string>> {
    return new Set(await secretNames(this.db));
  }

  async delete(name: string): Promise<void> {
    if (!(await deleteSecret(this.db, name))) throw notFound('secret', name);
  }

  /** Decrypts the named secrets; a missing one is an error naming it, never an empty string sent to a target. */
  async reveal(names: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (names.length === 0) return out;
    const rows = await sealedSecrets(this.db, names);
    for (const name of names) {
      const row = rows.find((r) => r.name === name);
      if (!row) throw new AppError('unprocessable', `secret ${name} does not exist; create it with PUT /api/v1/secrets/${name}`, { secret: name });
      out.set(name, this.secretBox().open(row.sealed, PURPOSE));
    }
    return out;
  }
}
