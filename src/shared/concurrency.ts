import { AppError } from './errors.ts';

/**
 * Optimistic concurrency: the client sends the version it read. `required` updates (PATCH) refuse to
 * run without it, so a client can never overwrite a change it has not seen.
 */
export function checkVersion(kind: string, id: string, current: number, expected: number | undefined, required: boolean): void {
  if (expected === undefined) {
    if (required) {
      throw new AppError('precondition_required', `updating ${kind} ${id} needs the version it is based on (If-Match header or "version")`, {
        field: 'version',
      });
    }
    return;
  }
  if (expected !== current) {
    throw new AppError('version_conflict', `${kind} ${id} is at version ${current}, not ${expected}; reload and retry`, {
      field: 'version',
      current_version: current,
    });
  }
}

/** Parses `If-Match: "3"` / `W/"3"` / `3` into a version number. */
export function versionFromIfMatch(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const match = /^(?:W\/)?"?(\d+)"?$/.exec(header.trim());
  if (!match) throw new AppError('validation_failed', 'If-Match: must be the ETag of the version you read, e.g. "3"', { field: 'If-Match' });
  return Number(match[1]);
}
