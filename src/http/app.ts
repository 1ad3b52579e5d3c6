import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import cookie from '@fastify/cookie';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import { AppError } from '../shared/errors.ts';
import { redactForViewer, redactUrlCredentialsDeep, redactUrlCredentials } from '../shared/redact.ts';
import { createAjv } from '../shared/validation.ts';
import { CSRF_HEADER, SESSION_COOKIE, roleAllows, type Authenticator, type Principal, type Role } from '../auth/index.ts';
import { sendProblem, toAppError } from './problem.ts';
import { createHttpMetrics, type HttpMetrics } from './observability.ts';
import { LazyRequestLogger } from './request-logger.ts';
import { MAX_BODY_DEPTH, assertObjectBody, jsonTextDepth, pathOfNulString, tooDeep } from '../shared/bodies.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Minimum role; defaults to viewer for GET/HEAD and responder for writes. */
    role?: Role;
    /** Public endpoints authenticate another way (routing keys) or not at all (health, status page). */
    public?: boolean;
  }
  interface FastifyRequest {
    principal?: Principal;
    /** Checks the request's credential again (long-lived streams end when a token is revoked or a session ends). */
    reauthenticate?: () => Promise<Principal>;
  }
}

export type HttpApp = FastifyInstance<Server, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

export const MAX_BODY_BYTES = 1024 * 1024;

/** Integrations may pass their routing key as `?key=`, and any URL may carry credentials; none reach the logs. */
export function redactUrl(url: string): string {
  return redactUrlCredentials(url);
}

export interface HttpAppOptions {
  log: Logger;
  authenticator: Authenticator;
  version: string;
  limits?: ConnectionLimits;
}

/**
 * A client that opens connections and never finishes its request (slowloris) would otherwise hold them
 * forever. Headers must arrive within `headersTimeoutMs` and the whole request within `requestTimeoutMs`
 * (answers, including event streams, are not limited); beyond `maxConnections` new connections are dropped.
 */
export interface ConnectionLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxConnections: number;
  /** How often Node looks for connections past those timeouts. */
  checkIntervalMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = { headersTimeoutMs: 15_000, requestTimeoutMs: 60_000, maxConnections: 1024, checkIntervalMs: 1000 };

/** The principal of an authenticated request; routes that need one can rely on the auth hook having run. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('unauthorized', 'this endpoint needs a bearer token or a signed-in session');
  return request.principal;
}

export function actorOf(request: FastifyRequest): string {
  return principalOf(request).name;
}

export async function createHttpApp(options: HttpAppOptions): Promise<{ app: HttpApp; metrics: HttpMetrics }> {
  const limits = options.limits ?? DEFAULT_CONNECTION_LIMITS;
  const app = Fastify({
    http: { headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: limits.checkIntervalMs },
    requestTimeout: limits.requestTimeoutMs,
    loggerInstance: options.log as unknown as FastifyBaseLogger,
    bodyLimit: MAX_BODY_BYTES,
    // Per-request logs at 2,000 req/s drown the useful ones; slow and failed requests are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: (logger, bindings, options) => new LazyRequestLogger(logger, bindings, options),
    // Keep-alive connections are closed when idle on shutdown; in-flight requests finish first.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.server.maxConnections = limits.maxConnections;

  // Bodies are validated strictly (no coercion, unknown fields rejected by the schemas); query strings
  // and path parameters arrive as text, so those are coerced to the declared types.
  const bodyAjv = createAjv();
  const queryAjv = createAjv({ coerceTypes: true });
  app.setValidatorCompiler(({ schema, httpPart }) => {
    if (httpPart !== 'body') return queryAjv.compile(schema);
    const validate = bodyAjv.compile(schema);
    // A request without a body (Fastify passes null) is validated as an empty object: optional bodies
    // (acknowledge, verify) then pass, and bodies with required fields still name the missing field.
    // Fastify reads the errors off the function it was given, so they are copied onto the wrapper.
    const validateBody = (data: unknown): boolean => {
      const valid = validate(data === null || data === undefined ? {} : data);
      validateBody.errors = validate.errors;
      return valid;
    };
    validateBody.errors = validate.errors;
    return validateBody;
  });

  // Bodies are depth-checked on their text before JSON.parse and the schema validator (both recursive)
  // see them, and must be objects: no route takes a bare array, scalar or null.
  const parseJson = app.getDefaultJsonParser('error', 'ignore');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (jsonTextDepth(text, MAX_BODY_DEPTH) > MAX_BODY_DEPTH) return done(tooDeep(), undefined);
    parseJson(request, text, (error, value) => {
      if (error) return done(error, undefined);
      try {
        const object = assertObjectBody(value);
        // Only JSON's \u0000 escape can put a NUL in a parsed string, so most bodies skip the walk.
        const nulField = text.includes('\\u0000') ? pathOfNulString(object) : null;
        if (nulField !== null) throw new AppError('validation_failed', 'text may not contain the NUL character (\\u0000)', { field: nulField });
        done(null, object);
      } catch (refused) {
        done(refused as Error, undefined);
      }
    });
  });

  app.setErrorHandler((error, request, reply) => {
    const appError = toAppError(error as Error);
    if (appError.code === 'internal') request.log.error({ err: error, url: redactUrl(request.url) }, 'request failed');
    return sendProblem(reply, request, appError);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, request, new AppError('not_found', `no endpoint ${request.method} ${request.url.split('?')[0]}`)),
  );

  // Reads never show credentials in URLs, and check results carry status and timing, not the bodies
  // other servers answered, except to admins (a check could otherwise read any page the server reaches).
  // The hooks every request runs are callback-style, not async: an async hook costs a promise and a
  // microtask per request, which an ingest storm pays thousands of times a second.
  app.addHook('preSerialization', (request, _reply, payload: unknown, done) => {
    if (payload === null || typeof payload !== 'object') return done(null, payload);
    done(null, request.principal?.role === 'admin' ? redactUrlCredentialsDeep(payload) : redactForViewer(payload));
  });

  const metrics = createHttpMetrics();
  app.addHook('onResponse', (request, reply, done) => {
    metrics.observeRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    if (reply.statusCode >= 500 || reply.elapsedTime > 1000) {
      request.log.warn({ method: request.method, url: redactUrl(request.url), status: reply.statusCode, ms: reply.elapsedTime }, 'slow or failed request');
    }
    done();
  });

  // On close, Node ends the keep-alive connections that are idle at that moment; one still answering a
  // request would stay open for the keep-alive timeout (72 s) after its answer and hold shutdown up.
  // Answers sent while closing therefore say `Connection: close`, and Node ends the connection after them.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close');
    done(null, payload);
  });

  // Cookies are read only for the session; they are never signed here (the session secret is random and stored hashed).
  await app.register(cookie);

  const authenticate = async (request: FastifyRequest): Promise<void> => {
    const config = request.routeOptions.config;
    const credential = options.authenticator.credentialOf(request.headers.authorization, request.cookies[SESSION_COOKIE]);
    const reading = request.method === 'GET' || request.method === 'HEAD';
    const csrfHeader = request.headers[CSRF_HEADER];
    request.principal = await options.authenticator.authenticate(credential, { required: !reading, presented: typeof csrfHeader === 'string' ? csrfHeader : undefined });
    request.reauthenticate = () => options.authenticator.authenticate(credential);
    const required = config.role ?? (reading ? 'viewer' : 'responder');
    if (!roleAllows(request.principal.role, required)) {
      const who = request.principal.kind === 'token' ? `token ${request.principal.name}` : request.principal.name;
      throw new AppError('forbidden', `this needs the ${required} role; ${who} has ${request.principal.role}`);
    }
  };
  // Public routes (ingest with routing keys, health, status pages) skip authentication without a promise.
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.routeOptions.config.public || request.routeOptions.url === undefined) return done();
    void authenticate(request).then(() => done(), done);
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Firebreak API',
        version: options.version,
        description: 'Incident response for teams that run LLM services. Errors are application/problem+json.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: `from POST /api/v1/sessions; writes also need the ${CSRF_HEADER} header` },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
  });

  return { app, metrics };
}
