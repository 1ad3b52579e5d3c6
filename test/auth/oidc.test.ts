import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { parseRoleMap } from '../../src/auth/index.ts';
import { identityProvider, signInThroughProvider, type IdentityProvider } from './identity-provider.ts';

describeEachDatabase('single sign-on with OpenID Connect', (kind) => {
  let idp: IdentityProvider;
  let server: TestServer;
  const sessionCookie = (response: Response) => response.headers.getSetCookie().find((c) => c.startsWith('firebreak_session='));
  const me = async (response: Response) => {
    const cookie = sessionCookie(response)!.split(';')[0]!;
    return (await fetch(new URL('/api/v1/me', server.url), { headers: { cookie } })).json() as Promise<Record<string, unknown>>;
  };
  const metric = async (outcome: string) => {
    const text = (await server.api('GET', '/metrics')).body as string;
    return Number(text.split('\n').find((l) => l.startsWith(`firebreak_sign_in_attempts_total{method="oidc",outcome="${outcome}"}`))?.split(' ').pop());
  };

  beforeAll(async () => {
    idp = await identityProvider();
    server = await startTestServer(kind, {
      config: {
        oidc: {
          issuer: idp.issuer,
          clientId: 'firebreak',
          clientSecret: 'firebreak-client-secret-0123456789',
          redirectUrl: undefined,
          scopes: 'openid email profile groups',
          roleClaim: 'groups',
          roleMap: parseRoleMap('sre-leads=admin,sre=responder,support=viewer'),
          defaultRole: undefined,
          createUsers: true,
          displayName: 'Example SSO',
        },
      },
    });
    await idp.listen(`${server.url}/api/v1/sessions/oidc/callback`);
    idp.accounts.set('u-ana', { email: 'ana@example.com', name: 'Ana Silva', groups: ['sre'] });
    idp.accounts.set('u-lee', { email: 'lee@example.com', name: 'Lee Park', groups: ['sre', 'sre-leads'] });
    idp.accounts.set('u-max', { email: 'max@example.com', name: 'Max Mustermann', groups: ['marketing'] });
  });
  afterAll(async () => {
    await server?.close();
    await idp?.close();
  });

  it('the sign-in screen learns that SSO is offered', async () => {
    expect((await server.api('GET', '/api/v1/auth/methods', undefined, { token: null })).body).toEqual({
      password: true,
      sso: { name: 'Example SSO', start_url: '/api/v1/sessions/oidc/start' },
    });
  });

  it('signs a person in with the code flow and PKCE, creating their account with the role their groups map to', async () => {
    const start = `${server.url}/api/v1/sessions/oidc/start?return_to=${encodeURIComponent('/#/incidents')}`;
    const first = await fetch(start, { redirect: 'manual' });
    const authorize = new URL(first.headers.get('location')!);
    expect(authorize.origin).toBe(idp.issuer);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('state')).toBeTruthy();
    expect(authorize.searchParams.get('nonce')).toBeTruthy();

    const done = await signInThroughProvider(start, 'u-ana');
    expect(done.status).toBe(302);
    expect(done.headers.get('location')).toBe('/#/incidents');
    expect(sessionCookie(done)).toMatch(/HttpOnly/i);
    expect(await me(done)).toMatchObject({ kind: 'person', name: 'ana', display_name: 'Ana Silva', role: 'responder', email: 'ana@example.com' });
    const account = (await server.api('GET', '/api/v1/users/ana@example.com')).body;
    expect(account).toMatchObject({ handle: 'ana', role: 'responder', sign_in: ['sso'], created_by: 'sso' });

    // The highest role any group maps to wins.
    const lee = await signInThroughProvider(`${server.url}/api/v1/sessions/oidc/start`, 'u-lee');
    expect(lee.headers.get('location')).toBe('/');
    expect(await me(lee)).toMatchObject({ name: 'lee', role: 'admin' });
  });

  it('follows the provider: a changed group changes the role at the next sign-in; an existing account is linked by e-mail', async () => {
    idp.accounts.set('u-ana', { email: 'ana@example.com', name: 'Ana Silva-Ito', groups: ['support'] });
    const again = await signInThroughProvider(`${server.url}/api/v1/sessions/oidc/start`, 'u-ana');
    expect(await me(again)).toMatchObject({ name: 'ana', display_name: 'Ana Silva-Ito', role: 'viewer' });

    await server.api('POST', '/api/v1/users', { email: 'rui@example.com', name: 'Rui', role: 'viewer', password: 'a long enough password' });
    idp.accounts.set('u-rui', { email: 'rui@example.com', name: 'Rui Costa', groups: ['sre'] });
    const rui = await signInThroughProvider(`${server.url}/api/v1/sessions/oidc/start`, 'u-rui');
    expect(await me(rui)).toMatchObject({ name: 'rui', role: 'responder' });
    expect((await server.api('GET', '/api/v1/users/rui')).body.sign_in).toEqual(['password', 'sso']);
  });

  it('refuses people whose groups map to no role, and answers that are replayed or forged', async () => {
    const refusedBefore = await metric('refused');
    const max = await signInThroughProvider(`${server.url}/api/v1/sessions/oidc/start`, 'u-max');
    expect(max.status).toBe(302);
    expect(sessionCookie(max)).toBeUndefined();
    expect(decodeURIComponent(max.headers.get('location')!)).toContain('no Firebreak role');
    expect(await metric('refused')).toBe(refusedBefore + 1);
    expect((await server.api('GET', '/api/v1/users/max@example.com')).status).toBe(404);

    // The provider's answer is used once: replaying the callback (a leaked URL) signs nobody in.
    idp.accounts.set('u-ana', { email: 'ana@example.com', name: 'Ana Silva', groups: ['sre'] });
    const used = await signInThroughProvider(`${server.url}/api/v1/sessions/oidc/start`, 'u-ana');
    expect(sessionCookie(used)).toBeTruthy();
    const replayed = await fetch(used.url, { redirect: 'manual' });
    expect(sessionCookie(replayed)).toBeUndefined();
    expect(decodeURIComponent(replayed.headers.get('location')!)).toContain('sign-in is unknown');

    const failedBefore = await metric('failed');
    const forged = await fetch(`${server.url}/api/v1/sessions/oidc/callback?code=made-up&state=made-up`, { redirect: 'manual' });
    expect(sessionCookie(forged)).toBeUndefined();
    expect(decodeURIComponent(forged.headers.get('location')!)).toContain('sign-in is unknown');
    expect(await metric('failed')).toBe(failedBefore + 1);
  });

  it('never redirects off the server after sign-in', async () => {
    idp.accounts.set('u-ana', { email: 'ana@example.com', name: 'Ana Silva', groups: ['sre'] });
    for (const target of ['https://evil.example/', '//evil.example/x', '/\\evil.example']) {
      const done = await signInThroughProvider(`${server.url}/api/v1/sessions/oidc/start?return_to=${encodeURIComponent(target)}`, 'u-ana');
      expect(done.headers.get('location')).toBe('/');
    }
  });
});
