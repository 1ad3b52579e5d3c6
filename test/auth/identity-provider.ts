import http from 'node:http';
import Provider from 'oidc-provider';
import { freePort } from '../support/server.ts';

export interface Identity {
  email: string;
  name: string;
  groups: string[];
  email_verified?: boolean;
}

export interface IdentityProvider {
  issuer: string;
  /** Accounts by id; edit them between sign-ins to change what the provider asserts. */
  accounts: Map<string, Identity>;
  /** Starts answering (the client's redirect URI is known only once Firebreak listens). */
  listen(redirectUri: string): Promise<void>;
  close(): Promise<void>;
}

/** A real OpenID provider (oidc-provider) on loopback, with its development login and consent screens. */
export async function identityProvider(): Promise<IdentityProvider> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const accounts = new Map<string, Identity>();
  let server: http.Server | undefined;
  const start = async (redirectUri: string) => {
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'firebreak',
        client_secret: 'firebreak-client-secret-0123456789',
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    cookies: { keys: ['identity-provider-test-cookie-key'] },
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    async findAccount(_ctx, id) {
      const account = accounts.get(id);
      if (!account) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, email_verified: true, ...account }) };
    },
  });
  const listening = http.createServer(provider.callback());
  await new Promise<void>((resolve) => listening.listen(port, '127.0.0.1', resolve));
  server = listening;
  };
  return {
    issuer,
    accounts,
    listen: start,
    close: () =>
      new Promise<void>((resolve) => {
        if (!server) return resolve();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Follows a sign-in as a browser would: Firebreak's start URL, the provider's login and consent forms,
 * and back to Firebreak's callback. Returns Firebreak's final answer (a redirect carrying the cookie).
 */
export async function signInThroughProvider(startUrl: string, accountId: string): Promise<Response> {
  const jar = new Map<string, string>();
  const keep = (response: Response) => {
    for (const setCookie of response.headers.getSetCookie()) {
      const [pair] = setCookie.split(';');
      const at = pair!.indexOf('=');
      jar.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
  };
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  let response = await fetch(startUrl, { redirect: 'manual' });
  const firebreak = new URL(startUrl).origin;
  for (let hop = 0; hop < 12; hop++) {
    const location = response.headers.get('location');
    if (!location) throw new Error(`stopped at ${response.status} ${response.url}: ${await response.text()}`);
    const next = new URL(location, response.url || startUrl);
    if (next.origin === firebreak) return fetch(next, { redirect: 'manual' });
    response = await fetch(next, { redirect: 'manual', headers: { cookie: cookieHeader() } });
    keep(response);
    if (response.status === 200 && next.pathname.startsWith('/interaction/')) {
      const html = await response.text();
      const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1] ?? (html.includes('name="login"') ? 'login' : 'consent');
      const form = new URLSearchParams({ prompt, ...(prompt === 'login' ? { login: accountId, password: 'any' } : {}) });
      response = await fetch(next, { method: 'POST', redirect: 'manual', headers: { cookie: cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' }, body: form });
      keep(response);
    }
  }
  throw new Error('too many redirects');
}
