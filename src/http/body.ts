import { AppError } from '../shared/errors.ts';

/**
 * Ingest bodies must be objects: `null` (which the shared body validator reads as `{}`), arrays, scalars
 * and a missing body are the sender's mistake, answered 400, never a 5xx that a sender would retry forever.
 */
export function requireObjectBody(body: unknown): void {
  if (body === null || body === undefined || typeof body !== 'object' || Array.isArray(body) || Buffer.isBuffer(body)) {
    const what = body === undefined ? 'missing' : body === null ? 'null' : Array.isArray(body) ? 'an array' : `a ${typeof body}`;
    throw new AppError('malformed_input', `body: must be an object, not ${what}`, { field: 'body' });
  }
}
