import { afterAll, beforeAll, expect, it } from 'vitest';
import { cliTimeout, runFirebreak } from '../support/cli.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const PASSWORD = 'correct horse battery staple';

/** A browser stand-in: keeps the session cookie and the CSRF token the sign-in answered with. */
class Browser {
  cookie: string | undefined;
  csrf: string | undefined;
  constructor(private readonly base: string) {}
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async call<T = any>(method: string, apiPath: string, body?: unknown, options: { csrf?: boolean } = {}): Promise<{ status: number; body: T; headers: Headers }> {
    const response = await fetch(new URL(apiPath, this.base), {
      method,
      redirect: 'manual',
      headers: {
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.csrf !== false && this.csrf ? { 'x-csrf-token': this.csrf } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    for (const setCookie of response.headers.getSetCookie()) {
      const [pair] = setCookie.split(';');
      if (pair?.startsWith('firebreak_session=')) this.cookie = pair.endsWith('=') ? undefined : pair;
    }
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T, headers: response.headers };
  }
  async signIn(email: string, password: string) {
    const answer = await this.call('POST', '/api/v1/sessions', { email, password });
    if (answer.status === 201) this.csrf = answer.body.csrf_token;
    return answer;
  }
}

function metric(text: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`firebreak_sign_in_attempts_total{${labels}}`));
  return Number(line?.split(' ').pop() ?? NaN);
}

describeEachDatabase('people and sign-in', (kind) => {
  let server: TestServer;
  let now = new Date('2026-11-24T09:00:00.000Z');
  beforeAll(async () => {
    server = await startTestServer(kind, { clock: () => now });
    await server.api('POST', '/api/v1/teams', { id: 'llm-platform', name: 'LLM platform', members: [{ user: 'ana', role: 'lead' }, { user: 'bo' }] });
  });
  afterAll(async () => server.close());

  it('admins create accounts; bad input names the field and stores nothing', async () => {
    const responder = await server.tokenFor('responder');
    expect((await server.api('POST', '/api/v1/users', { email: 'x@example.com', name: 'X', role: 'viewer' }, { token: responder })).status).toBe(403);

    const created = await server.api('POST', '/api/v1/users', { email: 'Ana@Example.com', name: 'Ana Silva', role: 'responder', password: PASSWORD });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ handle: 'ana', email: 'ana@example.com', name: 'Ana Silva', role: 'responder', sign_in: ['password'], teams: ['llm-platform'], created_by: 'bootstrap-admin' });
    expect(JSON.stringify(created.body)).not.toContain('argon2');

    for (const [body, field, status] of [
      [{ email: 'not-an-email', name: 'N', role: 'viewer' }, 'email', 400],
      [{ email: 'n@example.com', name: 'N', role: 'owner' }, 'role', 400],
      [{ email: 'n@example.com', name: 'N', role: 'viewer', password: 'short' }, 'password', 400],
      [{ email: 'ANA@example.com', name: 'Other', role: 'viewer' }, 'email', 409],
      [{ email: 'ana@elsewhere.com', name: 'Other Ana', role: 'viewer' }, 'handle', 409],
      [{ email: 'n@example.com', name: 'N', role: 'viewer', handle: 'Not A Handle' }, 'handle', 400],
    ] as const) {
      const refused = await server.api('POST', '/api/v1/users', body);
      expect(refused.status, JSON.stringify(body)).toBe(status);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect(refused.body.field).toBe(field);
    }
    expect((await server.api('GET', '/api/v1/users')).body.map((u: { handle: string }) => u.handle)).toEqual(['ana']);
    expect((await server.api('GET', '/api/v1/users/ana@example.com')).body.handle).toBe('ana');
    expect((await server.api('GET', '/api/v1/users/nobody')).status).toBe(404);

    // The directory the pickers read: accounts, and team members without one yet.
    const viewer = await server.tokenFor('viewer');
    const people = await server.api('GET', '/api/v1/people', undefined, { token: viewer });
    expect(people.body).toEqual([
      { handle: 'ana', name: 'Ana Silva', email: 'ana@example.com', role: 'responder', teams: ['llm-platform'], account: true },
      { handle: 'bo', name: 'bo', email: null, role: null, teams: ['llm-platform'], account: false },
    ]);
  });

  it('signs in with a password into an HttpOnly SameSite cookie; writes need the CSRF token and are attributed to the person', async () => {
    const browser = new Browser(server.url);
    expect((await browser.signIn('ana@example.com', 'wrong password here')).status).toBe(401);
    expect((await browser.signIn('nobody@example.com', PASSWORD)).body.detail).toBe('wrong e-mail or password');
    const signedIn = await browser.signIn('ANA@example.com', PASSWORD);
    expect(signedIn.status).toBe(201);
    expect(signedIn.body).toMatchObject({ handle: 'ana', name: 'Ana Silva', role: 'responder' });
    const cookie = signedIn.headers.getSetCookie().find((c) => c.startsWith('firebreak_session='))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\//);
    expect(signedIn.body.expires_at).toBe('2026-11-24T21:00:00.000Z');

    const me = await browser.call('GET', '/api/v1/me');
    expect(me.body).toMatchObject({ kind: 'person', name: 'ana', display_name: 'Ana Silva', role: 'responder', email: 'ana@example.com', csrf_token: signedIn.body.csrf_token });

    const withoutCsrf = await browser.call('POST', '/api/v1/incidents', { title: 'forged', severity: 'low' }, { csrf: false });
    expect(withoutCsrf.status).toBe(403);
    expect(withoutCsrf.body.field).toBe('x-csrf-token');
    const created = await browser.call('POST', '/api/v1/incidents', { title: 'TTFT regression', severity: 'high' });
    expect(created.status).toBe(201);
    expect(created.body.created_by).toBe('ana');
    const ack = await browser.call('POST', `/api/v1/incidents/${created.body.id}/acknowledge`, {});
    expect(ack.status).toBe(200);
    expect(ack.body.acknowledged_by).toBe('ana');
    const timeline = await server.api('GET', `/api/v1/incidents/${created.body.id}/timeline`);
    const actors = (timeline.body.items ?? timeline.body).map((e: { actor: string }) => e.actor);
    expect(new Set(actors)).toEqual(new Set(['ana']));

    // A responder cannot do admin things with the cookie either.
    expect((await browser.call('POST', '/api/v1/users', { email: 'z@example.com', name: 'Z', role: 'admin' })).status).toBe(403);

    // Sign-out ends the session on the server, not only in this browser.
    const stolen = browser.cookie;
    expect((await browser.call('DELETE', '/api/v1/sessions/current')).status).toBe(204);
    expect(browser.cookie).toBeUndefined();
    const replay = new Browser(server.url);
    replay.cookie = stolen;
    expect((await replay.call('GET', '/api/v1/me')).status).toBe(401);
    // The console's probe answers 200 either way: signed out, and why.
    const probe = await replay.call('GET', '/api/v1/sessions/current');
    expect(probe.status).toBe(200);
    expect(probe.body.authenticated).toBe(false);
    expect(probe.body.reason).toBeTruthy();
  });

  it('the session probe answers 200: nobody signed in, then who is', async () => {
    const browser = new Browser(server.url);
    const before = await browser.call('GET', '/api/v1/sessions/current');
    expect(before.status).toBe(200);
    expect(before.body).toEqual({ authenticated: false, reason: 'no session' });
    expect(before.headers.get('cache-control')).toBe('no-store');
    await browser.signIn('ana@example.com', PASSWORD);
    const after = await browser.call('GET', '/api/v1/sessions/current');
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ authenticated: true, handle: 'ana', role: expect.any(String) });
    expect(after.body.csrf_token).toBeUndefined();
  });

  it('sessions expire; disabling or a new password ends them at once', async () => {
    const browser = new Browser(server.url);
    await browser.signIn('ana@example.com', PASSWORD);
    now = new Date(now.getTime() + 11 * 3_600_000);
    expect((await browser.call('GET', '/api/v1/me')).status).toBe(200);
    now = new Date(now.getTime() + 1 * 3_600_000);
    const expired = await browser.call('GET', '/api/v1/me');
    expect(expired.status).toBe(401);
    expect(expired.body.detail).toContain('expired');

    await browser.signIn('ana@example.com', PASSWORD);
    const ana = (await server.api('GET', '/api/v1/users/ana')).body;
    expect((await server.api('PATCH', '/api/v1/users/ana', { version: ana.version, disabled: true })).status).toBe(200);
    expect((await browser.call('GET', '/api/v1/me')).status).toBe(401);
    expect((await browser.signIn('ana@example.com', PASSWORD)).status).toBe(401);
    expect((await server.api('PATCH', '/api/v1/users/ana', { version: ana.version, disabled: false })).status).toBe(409);
    expect((await server.api('PATCH', '/api/v1/users/ana', { version: ana.version + 1, disabled: false })).status).toBe(200);
    expect((await browser.signIn('ana@example.com', PASSWORD)).status).toBe(201);
  });

  it('rate-limits sign-in attempts and counts them on /metrics', async () => {
    const before = (await server.api('GET', '/metrics')).body as string;
    const browser = new Browser(server.url);
    for (let i = 0; i < 5; i++) expect((await browser.signIn('ana@example.com', `guess number ${i}`)).status).toBe(401);
    const limited = await browser.signIn('ana@example.com', PASSWORD);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    const after = (await server.api('GET', '/metrics')).body as string;
    expect(metric(after, 'method="password",outcome="bad_credentials"') - metric(before, 'method="password",outcome="bad_credentials"')).toBe(5);
    expect(metric(after, 'method="password",outcome="rate_limited"') - metric(before, 'method="password",outcome="rate_limited"')).toBe(1);
    now = new Date(now.getTime() + 15 * 60_000);
    expect((await browser.signIn('ana@example.com', PASSWORD)).status).toBe(201);
    const later = (await server.api('GET', '/metrics')).body as string;
    expect(metric(later, 'method="password",outcome="success"')).toBeGreaterThan(metric(after, 'method="password",outcome="success"'));
  });

  it('assignees are people: an account (by handle or e-mail) or a team member', async () => {
    const incident = (await server.api('POST', '/api/v1/incidents', { title: 'assign me', severity: 'low', assignee: 'bo' })).body;
    expect(incident.assignee).toBe('bo');
    const unknown = await server.api('PATCH', `/api/v1/incidents/${incident.id}`, { version: incident.version, assignee: 'mallory' });
    expect(unknown.status).toBe(422);
    expect(unknown.body.field).toBe('assignee');
    expect((await server.api('POST', '/api/v1/incidents', { title: 'x', severity: 'low', assignee: 'mallory' })).body.field).toBe('assignee');
    const byEmail = await server.api('PATCH', `/api/v1/incidents/${incident.id}`, { version: incident.version, assignee: 'ana@example.com' });
    expect(byEmail.status).toBe(200);
    expect(byEmail.body.assignee).toBe('ana');
    expect((await server.api('PATCH', `/api/v1/incidents/${incident.id}`, { version: byEmail.body.version, assignee: null })).body.assignee).toBeNull();
  });

  it('a token still acts as its name, and cannot sign out', async () => {
    expect((await server.api('GET', '/api/v1/me')).body).toMatchObject({ kind: 'token', name: 'bootstrap-admin', role: 'admin' });
    expect((await server.api('DELETE', '/api/v1/sessions/current')).status).toBe(409);
  });

  if (kind === 'sqlite') {
    it('firebreak user create makes an account on the database, password from standard input', async () => {
      const env = { FIREBREAK_DATABASE_URL: server.database.url };
      const created = await runFirebreak(['user', 'create', '--email', 'cy@example.com', '--name', 'Cy Ops', '--role', 'admin', '--password-stdin'], { env, stdin: `${PASSWORD}\n` });
      expect(created.code, created.stderr).toBe(0);
      expect(created.stdout).toContain('created cy <cy@example.com> (admin)');
      const browser = new Browser(server.url);
      expect((await browser.signIn('cy@example.com', PASSWORD)).body).toMatchObject({ handle: 'cy', role: 'admin' });
      const bad = await runFirebreak(['user', 'create', '--email', 'nope', '--name', 'N', '--role', 'viewer'], { env });
      expect(bad.code).not.toBe(0);
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
      expect(bad.stderr).toContain('email');
    }, cliTimeout(2));
  }
});
