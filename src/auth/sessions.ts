import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { AppError } from '../shared/errors.ts';
import type { Database, Executor } from '../storage/index.ts';
import { hashToken } from './tokens.ts';
import * as repository from './repository.ts';
import type { Principal } from './roles.ts';

export const SESSION_COOKIE = 'firebreak_session';
export const CSRF_HEADER = 'x-csrf-token';

export interface StartedSession {
  /** The cookie value; only its SHA-256 is stored. */
  secret: string;
  csrfToken: string;
  expiresAt: Date;
}

/**
 * Browser sessions. The cookie holds a 256-bit random secret (stored hashed, like API tokens); each
 * session also has a CSRF token that writes must echo in `X-CSRF-Token`, which a page on another
 * origin cannot read. Sessions end at sign-out, at expiry (an absolute lifetime, so a stolen cookie
 * is not valid forever) and when the person is disabled, changes password or changes role.
 */
export class SessionService {
  private readonly db: Executor;
  constructor(
    database: Database,
    private readonly clock: () => Date,
    private readonly lifetimeMs: number,
  ) {
    this.db = database.db;
  }

  async start(userId: string, method: 'password' | 'oidc'): Promise<StartedSession> {
    const now = this.clock();
    const secret = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(24).toString('base64url');
    const expiresAt = new Date(now.getTime() + this.lifetimeMs);
    await repository.insertSession(this.db, {
      id: randomUUID(),
      token_hash: hashToken(secret),
      user_id: userId,
      csrf_token: csrfToken,
      method,
      created_at: now.toISOString(),
      expires_at: expiresAt.toISOString(),
      last_seen_at: now.toISOString(),
      revoked_at: null,
    });
    // Expired rows are of no use; each sign-in sweeps them so the table stays as small as the live sessions.
    await repository.deleteExpiredSessions(this.db, now.toISOString());
    return { secret, csrfToken, expiresAt };
  }

  /** Resolves a session cookie to the person; on writes the CSRF token must match. */
  async authenticate(secret: string, csrf: { required: boolean; presented: string | undefined }): Promise<Principal> {
    const hash = hashToken(secret);
    const row = await repository.findSessionByTokenHash(this.db, hash);
    const now = this.clock().toISOString();
    if (!row || !timingSafeEqual(Buffer.from(row.token_hash), Buffer.from(hash))) throw new AppError('unauthorized', 'not signed in: the session is unknown');
    if (row.revoked_at !== null) throw new AppError('unauthorized', 'the session has ended; sign in again');
    if (row.expires_at <= now) throw new AppError('unauthorized', 'the session expired; sign in again');
    if (row.disabled_at !== null) throw new AppError('unauthorized', 'this account is disabled');
    if (csrf.required) {
      const presented = csrf.presented ?? '';
      if (presented.length !== row.csrf_token.length || !timingSafeEqual(Buffer.from(presented), Buffer.from(row.csrf_token))) {
        throw new AppError('forbidden', `writes made with a session cookie need the session's CSRF token in the ${CSRF_HEADER} header`, { field: CSRF_HEADER });
      }
    }
    return {
      kind: 'person',
      name: row.handle,
      displayName: row.name,
      role: row.role,
      userId: row.user_id,
      sessionId: row.session_id,
      csrfToken: row.csrf_token,
      expiresAt: row.expires_at,
    };
  }

  async end(sessionId: string): Promise<void> {
    await repository.revokeSession(this.db, sessionId, this.clock().toISOString());
  }
}
