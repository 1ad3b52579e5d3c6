/**
 * Credentials people put in URLs: `https://user:password@host/…` and `?token=…`-style query parameters.
 * Redacted wherever a URL is shown or logged; the stored value (needed to make the request) is untouched.
 */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/@?#\s"'<>]+@/gi;
const QUERY_PARAM = /([?&])([^=&#\s"'<>]+)=([^&#\s"'<>]*)/g;
/** Words that make a query parameter a credential (`key`, `api_key`, `apiKey`, `X-Amz-Signature`), but not `monkey`. */
const SECRET_WORDS = new Set(['key', 'apikey', 'token', 'secret', 'pass', 'password', 'passwd', 'pwd', 'auth', 'authorization', 'sig', 'signature', 'credential', 'credentials', 'session', 'sessionid', 'code']);
function isSecretName(name: string): boolean {
  return name.split(/[^a-zA-Z0-9]+|(?<=[a-z0-9])(?=[A-Z])/).some((word) => SECRET_WORDS.has(word.toLowerCase()));
}

export const REDACTED = '[REDACTED]';

/** Redacts credentials in every URL within a text (a URL alone, or a sentence that quotes one). */
export function redactUrlCredentials(text: string): string {
  if (!text.includes('@') && !text.includes('=')) return text;
  return text
    .replace(USERINFO, `$1${REDACTED}@`)
    .replace(QUERY_PARAM, (match, sep: string, name: string, value: string) => (value && isSecretName(name) ? `${sep}${name}=${REDACTED}` : match));
}

/** The value with credentials redacted in every string inside it; the same object when nothing changed. */
export function redactUrlCredentialsDeep<T>(value: T): T {
  return redactIn(value, false) as T;
}

/**
 * As above, and for people who are not admins also without the bodies other servers answered checks and
 * plan http steps with: those could be anything the server can reach, so only status and timing are shown.
 */
export function redactForViewer<T>(value: T): T {
  return redactIn(value, true) as T;
}

function redactIn(value: unknown, dropBodies: boolean): unknown {
  if (typeof value === 'string') return redactUrlCredentials(value);
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((item, i) => {
      const redacted = redactIn(item, dropBodies);
      if (redacted !== item) (out ??= [...value])[i] = redacted;
    });
    return out ?? value;
  }
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const record = value as Record<string, unknown>;
    const exchange = dropBodies && 'status' in record && 'duration_ms' in record && 'body' in record;
    let out: Record<string, unknown> | undefined;
    for (const [key, item] of Object.entries(record)) {
      if (dropBodies && (key === 'body_excerpt' || (exchange && key === 'body'))) {
        out ??= { ...record };
        delete out[key];
        continue;
      }
      const redacted = redactIn(item, dropBodies);
      if (redacted !== item) (out ??= { ...record })[key] = redacted;
    }
    return out ?? value;
  }
  return value;
}
