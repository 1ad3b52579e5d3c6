import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorObject } from 'ajv';
import { AppError, type ErrorCode } from '../shared/errors.ts';
import { describeAjvError } from '../shared/validation.ts';
import { isDatabaseUnavailable } from '../storage/index.ts';

const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** The one place error codes become HTTP statuses. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  validation_failed: 400,
  malformed_input: 400,
  unprocessable: 422,
  not_found: 404,
  conflict: 409,
  version_conflict: 409,
  precondition_required: 428,
  invalid_transition: 409,
  unauthorized: 401,
  forbidden: 403,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  too_large_for_analysis: 422,
  upstream_failed: 502,
  egress_denied: 422,
  unavailable: 503,
  internal: 500,
};

const TITLES: Record<ErrorCode, string> = {
  validation_failed: 'Invalid request',
  malformed_input: 'Malformed request body',
  unprocessable: 'Request cannot be processed',
  not_found: 'Not found',
  conflict: 'Conflict with current state',
  version_conflict: 'Stale version',
  precondition_required: 'Version required',
  invalid_transition: 'Transition not allowed',
  unauthorized: 'Authentication required',
  forbidden: 'Not allowed for this role',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  rate_limited: 'Too many requests',
  too_large_for_analysis: 'Too large for the requested analysis',
  upstream_failed: 'Upstream failure',
  egress_denied: 'Outbound address refused by the egress policy',
  unavailable: 'Service unavailable',
  internal: 'Internal error',
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  field?: string;
  instance?: string;
  [key: string]: unknown;
}

export function problemFromAppError(error: AppError, instance?: string): Problem {
  const { field, ...rest } = error.details;
  return {
    type: `urn:firebreak:problem:${error.code}`,
    title: TITLES[error.code],
    status: HTTP_STATUS[error.code],
    detail: error.message,
    code: error.code,
    ...(field ? { field } : {}),
    ...(instance ? { instance } : {}),
    ...rest,
  };
}

/** Translates Fastify's own errors (body parsing, size, schema validation) into AppErrors. */
export function toAppError(error: FastifyError | Error): AppError {
  if (error instanceof AppError) return error;
  if (isDatabaseUnavailable(error)) {
    return new AppError('unavailable', 'the database cannot be reached right now; retry shortly', { retry_after_seconds: UNAVAILABLE_RETRY_AFTER_SECONDS });
  }
  const fe = error as FastifyError & { validation?: ErrorObject[]; validationContext?: string };
  if (fe.validation && fe.validation.length > 0) {
    const first = fe.validation[0]!;
    const { field, message } = describeAjvError(first);
    const prefixed = fe.validationContext === 'headers' ? `header ${field}` : field;
    return new AppError('validation_failed', `${prefixed}: ${message}`, { field: prefixed, location: fe.validationContext });
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large', 'request body exceeds the size limit');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('validation_failed', 'Content-Type: send application/json', { field: 'Content-Type' });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('malformed_input', 'the request body is empty but JSON was declared');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('malformed_input', `the request body is not valid JSON: ${fe.message}`);
  }
  if (fe instanceof SyntaxError || fe.statusCode === 400) return new AppError('malformed_input', fe.message);
  if (fe.statusCode === 413) return new AppError('payload_too_large', fe.message);
  if (fe.statusCode === 415) return new AppError('validation_failed', fe.message, { field: 'Content-Type' });
  return new AppError('internal', 'internal error');
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, error: AppError): FastifyReply {
  const problem = problemFromAppError(error, request.url.split('?')[0]);
  if ((error.code === 'rate_limited' || error.code === 'unavailable') && typeof error.details.retry_after_seconds === 'number') {
    void reply.header('retry-after', String(Math.ceil(error.details.retry_after_seconds)));
  }
  if (error.code === 'unauthorized') void reply.header('www-authenticate', 'Bearer');
  return reply.status(problem.status).type('application/problem+json').send(problem);
}

/** Schema for problem responses in the OpenAPI document. */
export const ProblemResponseSchema = {
  type: 'object',
  description: 'RFC 9457 problem details',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string' },
    field: { type: 'string' },
    instance: { type: 'string' },
  },
  required: ['type', 'title', 'status', 'detail', 'code'],
} as const;
