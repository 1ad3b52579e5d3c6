/**
 * Every failure the product reports on purpose is an AppError with a stable code.
 * The HTTP adapter and the CLI each map codes to their own output in exactly one place
 * (src/http/problem.ts and src/cli/output.ts), so domain code never thinks about status codes.
 */
export type ErrorCode =
  | 'validation_failed' // input does not match its schema (HTTP 400)
  | 'malformed_input' // unparseable JSON, YAML, XML (HTTP 400)
  | 'unprocessable' // well-formed but semantically impossible: unknown reference, cycle (HTTP 422)
  | 'not_found' // (HTTP 404)
  | 'conflict' // clashes with current state (HTTP 409)
  | 'version_conflict' // stale optimistic-concurrency version (HTTP 409)
  | 'precondition_required' // an update without the version it was based on (HTTP 428)
  | 'invalid_transition' // lifecycle forbids the move (HTTP 409)
  | 'unauthorized' // missing or unknown credentials (HTTP 401)
  | 'forbidden' // credentials lack the role (HTTP 403)
  | 'payload_too_large' // (HTTP 413)
  | 'unsupported_media_type' // a body encoding the endpoint does not read (HTTP 415)
  | 'rate_limited' // (HTTP 429)
  | 'too_large_for_analysis' // a request whose exact computation would exhaust memory (HTTP 422)
  | 'upstream_failed' // a dependency we called failed (HTTP 502)
  | 'egress_denied' // an outbound address the egress policy refuses (HTTP 422)
  | 'unavailable' // the database cannot be reached right now; retry later (HTTP 503)
  | 'internal'; // a bug (HTTP 500)

export interface ErrorDetails {
  /** JSON-pointer-like path of the offending input, e.g. `severity`, `steps[3].needs[0]`. */
  field?: string;
  [key: string]: unknown;
}

export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
  }
}

export function notFound(kind: string, id: string): AppError {
  return new AppError('not_found', `${kind} ${id} does not exist`, { kind, id });
}

export function validationError(field: string, message: string): AppError {
  return new AppError('validation_failed', `${field}: ${message}`, { field });
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
