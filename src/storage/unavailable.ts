/**
 * True when a driver error means the database cannot be reached or is not serving right now (connection refused,
 * dropped or timed out, server shutting down or starting up, SQLite locked past its busy timeout), as opposed to a
 * bad query. Such a request is answered 503 and may be retried; a bad query stays a 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  // PostgreSQL classes 08 (connection exception) and 57P0x (operator intervention: shutdown, crash, starting up).
  if (/^08...$/.test(code) || /^57P0[1-4]$/.test(code)) return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', 'SQLITE_BUSY', 'SQLITE_LOCKED'].includes(code)) return true;
  return /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|connection is closed/i.test(message);
}
