import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { Type, type Static } from 'typebox';
import { AppError, notFound } from '../shared/errors.ts';
import { isUniqueViolation, type Database } from '../storage/index.ts';
import { ROLES, type Principal, type Role } from './roles.ts';
import { anyTokenExists, findTokenByHash, insertSetting, insertToken, listTokens, setTokenRevokedAt } from './repository.ts';

export const RoleSchema = Type.Enum(ROLES, { description: 'viewer (read), responder (write incidents), admin (everything)' });
export const CreateTokenSchema = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 200 }), role: RoleSchema },
  { additionalProperties: false },
);
export const TokenSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: RoleSchema,
  created_at: Type.String({ format: 'date-time' }),
  created_by: Type.String(),
  revoked_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
export type TokenInfo = Static<typeof TokenSchema>;
export const CreatedTokenSchema = Type.Object({ ...TokenSchema.properties, token: Type.String({ description: 'shown once' }) });

const TOKEN_PREFIX = 'fbk_';

/** Only a SHA-256 of each token is stored: tokens are 256-bit random, so no slow hash is needed. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export class TokenService {
  private readonly db: Database['db'];
  constructor(
    database: Database,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.db = database.db;
  }

  async create(name: string, role: Role, createdBy: string, secret: string = generateToken()): Promise<TokenInfo & { token: string }> {
    if (secret.length < 16) throw new AppError('validation_failed', 'token: must be at least 16 characters', { field: 'token' });
    const row = {
      id: randomUUID(),
      name,
      role,
      token_hash: hashToken(secret),
      created_at: this.clock().toISOString(),
      created_by: createdBy,
      revoked_at: null,
      last_used_at: null,
    };
    await insertToken(this.db, row);
    const { token_hash: _hash, ...info } = row;
    return { ...info, token: secret };
  }

  async list(): Promise<TokenInfo[]> {
    return listTokens(this.db);
  }

  async revoke(idOrName: string): Promise<TokenInfo> {
    const tokens = (await this.list()).filter((t) => t.id === idOrName || t.name === idOrName);
    const active = tokens.filter((t) => t.revoked_at === null);
    if (tokens.length === 0) throw notFound('token', idOrName);
    if (active.length > 1) throw new AppError('conflict', `several active tokens are named ${idOrName}; revoke by id`);
    const target = active[0];
    if (!target) throw new AppError('conflict', `token ${idOrName} is already revoked`);
    const revokedAt = this.clock().toISOString();
    await setTokenRevokedAt(this.db, target.id, revokedAt);
    return { ...target, revoked_at: revokedAt };
  }

  /** Resolves a bearer token to its principal, or throws `unauthorized` without saying which part was wrong. */
  async authenticate(secret: string | undefined): Promise<Principal> {
    if (!secret) throw new AppError('unauthorized', 'missing bearer token: send Authorization: Bearer <token>');
    const hash = hashToken(secret);
    // Every request runs this (no cache: a revocation must take effect at once, in every process).
    const row = await findTokenByHash(this.db, hash);
    if (!row || !timingSafeEqual(Buffer.from(row.token_hash), Buffer.from(hash)) || row.revoked_at !== null) {
      throw new AppError('unauthorized', 'invalid or revoked token');
    }
    return { kind: 'token', tokenId: row.id, name: row.name, role: row.role };
  }

  /**
   * On an empty token table, installs the operator-supplied bootstrap token or generates one. A settings
   * row claimed with a unique key makes this happen once even when several servers start together.
   */
  async bootstrap(bootstrapSecret: string | undefined): Promise<{ created: boolean; token?: string }> {
    if (await anyTokenExists(this.db)) return { created: false };
    try {
      await insertSetting(this.db, 'bootstrap_token_issued', this.clock().toISOString());
    } catch (error) {
      if (isUniqueViolation(error)) return { created: false };
      throw error;
    }
    const created = await this.create('bootstrap-admin', 'admin', 'firebreak', bootstrapSecret ?? generateToken());
    return { created: true, ...(bootstrapSecret ? {} : { token: created.token }) };
  }
}
