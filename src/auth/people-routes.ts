import { Type } from 'typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpApp } from '../http/app.ts';
import { actorOf, principalOf } from '../http/app.ts';
import { ProblemResponseSchema } from '../http/problem.ts';
import type { AppContext } from '../app/context.ts';
import { AppError } from '../shared/errors.ts';
import { CreateUserSchema, PersonSchema, UpdateUserSchema, UserSchema } from './people.ts';
import { SESSION_COOKIE, type StartedSession } from './sessions.ts';
import { safeReturnPath } from './oidc.ts';

const SignInSchema = Type.Object(
  { email: Type.String({ minLength: 1, maxLength: 320 }), password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);
const SessionSchema = Type.Object({
  handle: Type.String(),
  name: Type.String(),
  role: Type.String(),
  csrf_token: Type.String({ description: 'send it as X-CSRF-Token with every write made with the session cookie' }),
  expires_at: Type.String({ format: 'date-time' }),
});
const SessionProbeSchema = Type.Object({
  authenticated: Type.Boolean(),
  reason: Type.Optional(Type.String({ description: 'when not: why (no session, expired, signed out)' })),
  handle: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  role: Type.Optional(Type.String()),
  expires_at: Type.Optional(Type.String({ format: 'date-time' })),
});
const MethodsSchema = Type.Object({
  password: Type.Boolean(),
  sso: Type.Union([Type.Object({ name: Type.String(), start_url: Type.String() }), Type.Null()]),
});
const errors = { 400: ProblemResponseSchema, 401: ProblemResponseSchema, 403: ProblemResponseSchema, 404: ProblemResponseSchema, 409: ProblemResponseSchema, 422: ProblemResponseSchema };
const RefParams = Type.Object({ ref: Type.String({ minLength: 1, maxLength: 320, description: 'id, handle or e-mail' }) });

/** The origin the browser used, for the SSO redirect URI when FIREBREAK_PUBLIC_URL does not say it. */
function requestOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

export function peopleRoutes(app: HttpApp, ctx: AppContext): void {
  const people = ctx.services.people;
  const signIn = ctx.services.signIn;
  const oidc = ctx.services.oidc;
  const admin = { role: 'admin' as const };

  const secure = (request: FastifyRequest) => request.protocol === 'https' || (ctx.config.publicUrl ?? '').startsWith('https:');
  const setSessionCookie = (request: FastifyRequest, reply: FastifyReply, session: StartedSession) =>
    reply.setCookie(SESSION_COOKIE, session.secret, { httpOnly: true, sameSite: 'lax', secure: secure(request), path: '/', expires: session.expiresAt });

  // ---- people -----------------------------------------------------------------------------------
  const userTags = ['people'];
  app.post('/api/v1/users', { config: admin, schema: { tags: userTags, summary: 'Create an account', body: CreateUserSchema, response: { 201: UserSchema, ...errors } } }, async (request, reply) => {
    void reply.status(201);
    return people.create(request.body, actorOf(request));
  });
  app.get('/api/v1/users', { config: admin, schema: { tags: userTags, summary: 'Accounts', response: { 200: Type.Array(UserSchema) } } }, async () => people.list());
  app.get('/api/v1/users/:ref', { config: admin, schema: { tags: userTags, params: RefParams, response: { 200: UserSchema, ...errors } } }, async (request) => people.get(request.params.ref));
  app.patch(
    '/api/v1/users/:ref',
    { config: admin, schema: { tags: userTags, summary: 'Rename, change role or password, disable (a new password, role or disabling ends their sessions)', params: RefParams, body: UpdateUserSchema, response: { 200: UserSchema, ...errors } } },
    async (request) => people.update(request.params.ref, request.body),
  );
  app.get(
    '/api/v1/people',
    { schema: { tags: userTags, summary: 'Everyone who can be assigned or scheduled: accounts and team members', response: { 200: Type.Array(PersonSchema) } } },
    async () => people.people(),
  );

  // ---- sessions ---------------------------------------------------------------------------------
  const sessionTags = ['sessions'];
  app.get(
    '/api/v1/auth/methods',
    { config: { public: true }, schema: { tags: sessionTags, summary: 'How people can sign in (for the sign-in screen)', response: { 200: MethodsSchema } } },
    async () => ({ password: true, sso: oidc ? { name: oidc.settings.displayName, start_url: '/api/v1/sessions/oidc/start' } : null }),
  );
  app.post(
    '/api/v1/sessions',
    {
      config: { public: true },
      schema: {
        tags: sessionTags,
        summary: 'Sign in with e-mail and password; sets an HttpOnly session cookie',
        security: [],
        body: SignInSchema,
        response: { 201: SessionSchema, 400: ProblemResponseSchema, 401: ProblemResponseSchema, 429: ProblemResponseSchema },
      },
    },
    async (request, reply) => {
      const session = await signIn.withPassword(request.body.email, request.body.password, request.ip);
      const principal = await ctx.services.authenticator.authenticate({ kind: 'session', secret: session.secret });
      setSessionCookie(request, reply, session);
      void reply.status(201).header('cache-control', 'no-store');
      return { handle: principal.name, name: principal.kind === 'person' ? principal.displayName : principal.name, role: principal.role, csrf_token: session.csrfToken, expires_at: session.expiresAt.toISOString() };
    },
  );
  app.get(
    '/api/v1/sessions/current',
    {
      config: { public: true },
      schema: {
        tags: sessionTags,
        summary: 'Session probe: is this browser signed in? Answers 200 either way (a page asks before anyone has signed in)',
        description:
          'Reads only the session cookie. Without one, or with one that expired or was signed out, answers `authenticated: false` and why; API tokens ask GET /api/v1/me instead.',
        security: [],
        response: { 200: SessionProbeSchema },
      },
    },
    async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      const secret = request.cookies[SESSION_COOKIE];
      if (!secret) return { authenticated: false, reason: 'no session' };
      try {
        const principal = await ctx.services.authenticator.authenticate({ kind: 'session', secret });
        if (principal.kind !== 'person') return { authenticated: false, reason: 'no session' };
        return { authenticated: true, handle: principal.name, name: principal.displayName, role: principal.role, expires_at: principal.expiresAt };
      } catch (error) {
        if (!(error instanceof AppError) || error.code !== 'unauthorized') throw error;
        // The cookie is worthless now; the browser may as well forget it.
        void reply.clearCookie(SESSION_COOKIE, { path: '/' });
        return { authenticated: false, reason: error.message };
      }
    },
  );
  app.delete(
    '/api/v1/sessions/current',
    { config: { role: 'viewer' }, schema: { tags: sessionTags, summary: 'Sign out', response: { 204: Type.Null(), ...errors } } },
    async (request, reply) => {
      const principal = principalOf(request);
      if (principal.kind !== 'person') throw new AppError('conflict', 'this request carries an API token, not a session; revoke tokens with DELETE /api/v1/tokens/{id}');
      await ctx.services.sessions.end(principal.sessionId);
      void reply.clearCookie(SESSION_COOKIE, { path: '/' }).status(204);
    },
  );

  const SsoStartQuery = Type.Object({ return_to: Type.Optional(Type.String({ maxLength: 2000 })) });
  app.get(
    '/api/v1/sessions/oidc/start',
    { config: { public: true }, schema: { tags: sessionTags, summary: 'Begin single sign-on: redirects to the identity provider', security: [], querystring: SsoStartQuery, response: { 302: Type.Null(), ...errors } } },
    async (request, reply) => {
      if (!oidc) throw new AppError('not_found', 'single sign-on is not configured (FIREBREAK_OIDC_ISSUER)');
      const target = await oidc.begin(request.query.return_to, requestOrigin(request));
      return reply.header('cache-control', 'no-store').redirect(target.href, 302);
    },
  );
  app.get(
    '/api/v1/sessions/oidc/callback',
    { config: { public: true }, schema: { tags: sessionTags, summary: 'Where the identity provider sends people back', security: [], response: { 302: Type.Null(), ...errors } } },
    async (request, reply) => {
      if (!oidc) throw new AppError('not_found', 'single sign-on is not configured (FIREBREAK_OIDC_ISSUER)');
      const query = new URLSearchParams(request.url.split('?')[1] ?? '');
      void reply.header('cache-control', 'no-store');
      try {
        const { session, returnTo } = await oidc.complete(query, requestOrigin(request));
        signIn.count('oidc', 'success');
        setSessionCookie(request, reply, session);
        return reply.redirect(safeReturnPath(returnTo), 302);
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        signIn.count('oidc', error.code === 'forbidden' ? 'refused' : 'failed');
        request.log.warn({ code: error.code, reason: error.message }, 'single sign-on failed');
        // Back to the console's sign-in screen, which shows why.
        return reply.redirect(`/?sign_in_error=${encodeURIComponent(error.message)}`, 302);
      }
    },
  );
}
