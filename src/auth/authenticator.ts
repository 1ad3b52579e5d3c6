import type { Principal } from './roles.ts';
import type { TokenService } from './tokens.ts';
import type { SessionService } from './sessions.ts';

/** What a request presented: a bearer token (automation, the CLI) or a browser session cookie. */
export type Credential = { kind: 'token'; secret: string | undefined } | { kind: 'session'; secret: string };

/**
 * Turns a credential into a principal. A bearer header wins over a cookie, so a script that happens to
 * carry a cookie still acts as its token. Bearer requests need no CSRF token: a browser never adds
 * that header on its own, only cookies.
 */
export class Authenticator {
  constructor(
    private readonly tokens: TokenService,
    private readonly sessions: SessionService,
  ) {}

  credentialOf(authorization: string | undefined, sessionCookie: string | undefined): Credential {
    if (authorization !== undefined || !sessionCookie) {
      return { kind: 'token', secret: authorization?.startsWith('Bearer ') ? authorization.slice('Bearer '.length).trim() : undefined };
    }
    return { kind: 'session', secret: sessionCookie };
  }

  async authenticate(credential: Credential, csrf: { required: boolean; presented: string | undefined } = { required: false, presented: undefined }): Promise<Principal> {
    if (credential.kind === 'token') return this.tokens.authenticate(credential.secret);
    return this.sessions.authenticate(credential.secret, csrf);
  }
}
