import * as client from 'openid-client';
import { AppError } from '../shared/errors.ts';
import type { Database, Executor } from '../storage/index.ts';
import { ROLES, type Role } from './roles.ts';
import type { OidcSettings } from './settings.ts';
import { handleFromEmail, type PeopleService } from './people.ts';
import * as repository from './repository.ts';
import type { SessionService, StartedSession } from './sessions.ts';

export { parseRoleMap, type OidcSettings } from './settings.ts';

const LOGIN_LIFETIME_MS = 10 * 60_000;


export function roleFromClaims(claims: Record<string, unknown>, settings: Pick<OidcSettings, 'roleClaim' | 'roleMap' | 'defaultRole'>): Role | undefined {
  const raw = settings.roleClaim.split('.').reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), claims);
  const values = (Array.isArray(raw) ? raw : raw === undefined || raw === null ? [] : [raw]).filter((v): v is string => typeof v === 'string');
  const mapped = values.flatMap((v) => {
    if (settings.roleMap.size === 0) return (ROLES as readonly string[]).includes(v) ? [v as Role] : [];
    const role = settings.roleMap.get(v);
    return role ? [role] : [];
  });
  if (mapped.length === 0) return settings.defaultRole;
  return mapped.reduce((best, role) => (ROLES.indexOf(role) > ROLES.indexOf(best) ? role : best));
}

/** Only paths on this server: an absolute URL here would make the sign-in an open redirect. */
export function safeReturnPath(value: string | undefined): string {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return '/';
  return value.slice(0, 2000);
}

/**
 * Single sign-on with an OpenID Connect provider: authorization code flow with PKCE, state and nonce.
 * The state, nonce and verifier of a sign-in under way are a database row used once, so the callback may
 * land on any server process.
 */
export class OidcSignIn {
  private readonly db: Executor;
  private configuration: Promise<client.Configuration> | undefined;

  constructor(
    readonly settings: OidcSettings,
    database: Database,
    private readonly people: PeopleService,
    private readonly sessions: SessionService,
    private readonly clock: () => Date,
  ) {
    this.db = database.db;
  }

  private discover(): Promise<client.Configuration> {
    const issuer = new URL(this.settings.issuer);
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname);
    const attempt = client
      .discovery(
        issuer,
        this.settings.clientId,
        this.settings.clientSecret,
        this.settings.clientSecret ? undefined : client.None(),
        // Plain HTTP only to a provider on this machine (development and tests); anything else needs TLS.
        loopback && issuer.protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : undefined,
      )
      .catch((error: unknown) => {
        this.configuration = undefined;
        throw new AppError('upstream_failed', `the identity provider ${this.settings.issuer} could not be reached: ${(error as Error).message}`);
      });
    this.configuration = attempt;
    return attempt;
  }

  redirectUri(fallbackOrigin: string): string {
    return this.settings.redirectUrl ?? `${fallbackOrigin}/api/v1/sessions/oidc/callback`;
  }

  /** Where to send the browser to sign in. */
  async begin(returnTo: string | undefined, origin: string): Promise<URL> {
    const config = await (this.configuration ?? this.discover());
    const state = client.randomState();
    const nonce = client.randomNonce();
    const verifier = client.randomPKCECodeVerifier();
    await repository.insertOidcLogin(this.db, {
      state,
      nonce,
      code_verifier: verifier,
      return_to: safeReturnPath(returnTo),
      expires_at: new Date(this.clock().getTime() + LOGIN_LIFETIME_MS).toISOString(),
    });
    return client.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri(origin),
      scope: this.settings.scopes,
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
  }

  /** Finishes a sign-in from the provider's answer; refusals are `forbidden`, broken answers `unauthorized`. */
  async complete(query: URLSearchParams, origin: string): Promise<{ session: StartedSession; returnTo: string }> {
    const config = await (this.configuration ?? this.discover());
    const state = query.get('state') ?? '';
    const login = await repository.takeOidcLogin(this.db, state);
    if (!login || login.expires_at <= this.clock().toISOString()) {
      throw new AppError('unauthorized', 'this sign-in is unknown or took longer than 10 minutes; start again');
    }
    const providerError = query.get('error');
    if (providerError) throw new AppError('forbidden', `the identity provider refused the sign-in: ${query.get('error_description') ?? providerError}`);

    const currentUrl = new URL(this.redirectUri(origin));
    for (const [key, value] of query) currentUrl.searchParams.append(key, value);
    let claims: Record<string, unknown>;
    try {
      const tokens = await client.authorizationCodeGrant(config, currentUrl, { pkceCodeVerifier: login.code_verifier, expectedState: login.state, expectedNonce: login.nonce, idTokenExpected: true });
      const idClaims = tokens.claims();
      if (!idClaims) throw new Error('no ID token');
      const sub = idClaims.sub;
      // Providers put some claims only in userinfo (groups, often); the ID token's subject must match.
      const userinfo: Record<string, unknown> = tokens.access_token ? await client.fetchUserInfo(config, tokens.access_token, sub).catch(() => ({})) : {};
      claims = { ...userinfo, ...idClaims };
    } catch (error) {
      throw new AppError('unauthorized', `the identity provider's answer did not check out: ${(error as Error).message}`);
    }
    return { session: await this.signIn(claims, String(config.serverMetadata().issuer)), returnTo: login.return_to };
  }

  private async signIn(claims: Record<string, unknown>, issuer: string): Promise<StartedSession> {
    const subject = String(claims.sub);
    const email = typeof claims.email === 'string' ? claims.email : undefined;
    const name = typeof claims.name === 'string' && claims.name ? claims.name : (email ?? subject);
    const role = roleFromClaims(claims, this.settings);
    if (!role) {
      throw new AppError('forbidden', `no Firebreak role: the ${this.settings.roleClaim} claim has no value that FIREBREAK_OIDC_ROLE_MAP maps to a role`);
    }
    let user = await this.people.byOidcIdentity(issuer, subject);
    if (!user && email) {
      if (claims.email_verified === false) throw new AppError('forbidden', `the identity provider has not verified ${email}`);
      user = await this.people.byEmail(email);
      if (user?.oidc_subject && (user.oidc_issuer !== issuer || user.oidc_subject !== subject)) {
        throw new AppError('forbidden', `${email} is linked to another single sign-on identity`);
      }
    }
    if (!user) {
      if (!email) throw new AppError('forbidden', 'the identity provider did not share an e-mail address (ask for the email scope)');
      if (!this.settings.createUsers) throw new AppError('forbidden', `${email} has no Firebreak account; an admin creates it first`);
      const handle = await this.people.freeHandle(handleFromEmail(email));
      const created = await this.people.create({ email, name, role, handle, oidc: { issuer, subject } }, 'sso');
      user = await this.people.row(created.id);
    }
    if (user.disabled_at !== null) throw new AppError('forbidden', `${user.email}'s Firebreak account is disabled`);
    await this.people.syncFromIdentityProvider(user.id, { name, role, issuer, subject });
    const session = await this.sessions.start(user.id, 'oidc');
    await this.people.markSignedIn(user.id);
    return session;
  }
}
