/**
 * The one place the console talks HTTP. People sign in with a session: the cookie is HttpOnly (this
 * code never sees it) and every write carries the session's CSRF token, which lives only in memory and
 * is fetched again from `GET /api/v1/me` after a reload. An API token (automation, or a person who
 * prefers one) lives in session storage (gone when the tab closes) and only travels in the
 * Authorization header.
 */

export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  field?: string;
  [key: string]: unknown;
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail || problem.title);
  }
  get status(): number {
    return this.problem.status;
  }
}

const TOKEN_KEY = 'firebreak.token';
let unauthorizedHandler: (detail: string) => void = () => undefined;

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** Called when the server says the token is unknown or revoked: the app returns to sign-in. */
export function onUnauthorized(handler: (detail: string) => void): void {
  unauthorizedHandler = handler;
}

let csrfToken: string | null = null;
/** Kept from the sign-in answer or `GET /api/v1/me`; null when signed out. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export function authHeaders(token: string | null = storedToken()): Record<string, string> {
  if (token) return { authorization: `Bearer ${token}` };
  return csrfToken ? { 'x-csrf-token': csrfToken } : {};
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** Use this token instead of the stored one (sign-in checks a token before storing it). */
  token?: string;
  /** A 401 is an answer, not the end of the session (checking for a session on load, signing in). */
  quiet?: boolean;
  signal?: AbortSignal;
  /** Bypass the browser's HTTP cache (a public page's status is cacheable for 30 s, but a responder just changed it). */
  fresh?: boolean;
}

export async function request<T>(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: {
        accept: 'application/json',
        ...authHeaders(options.token ?? storedToken()),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.fresh ? { cache: 'no-store' as const } : {}),
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError({ title: 'Network error', status: 0, code: 'network', detail: 'the server could not be reached; check the connection and retry' });
  }
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  if (!response.ok) {
    const problem: Problem =
      parsed && typeof parsed === 'object' && 'status' in parsed
        ? (parsed as Problem)
        : { title: response.statusText || 'Request failed', status: response.status, code: 'http', detail: `${method} ${path} answered ${response.status}` };
    if (response.status === 401 && !options.token && !options.quiet) unauthorizedHandler(problem.detail);
    throw new ApiError(problem);
  }
  return parsed as T;
}

const prefetched = new Map<string, { pending: Promise<unknown>; at: number }>();
/** Older than this, a prefetched answer is not worth showing; fetch again. */
const PREFETCH_FRESH_MS = 5000;

/**
 * Starts a GET before the screen that needs it has mounted (the first screen's data need not wait for
 * the sign-in check); the next `api.get` of the same path takes the answer, once.
 */
export function prefetch(path: string): void {
  const pending = request<unknown>('GET', path);
  pending.catch(() => undefined);
  prefetched.set(path, { pending, at: Date.now() });
}

function takePrefetched<T>(path: string): Promise<T> | undefined {
  const entry = prefetched.get(path);
  prefetched.delete(path);
  if (!entry || Date.now() - entry.at > PREFETCH_FRESH_MS) return undefined;
  // A failed prefetch (say, before sign-in completed) is simply retried.
  return entry.pending.catch(() => request<T>('GET', path)) as Promise<T>;
}

export const api = {
  get: <T>(path: string, options?: RequestOptions) => (!options?.token && takePrefetched<T>(path)) || request<T>('GET', path, undefined, options),
  post: <T>(path: string, body?: unknown, options?: RequestOptions) => request<T>('POST', path, body ?? {}, options),
  patch: <T>(path: string, body: unknown, options?: RequestOptions) => request<T>('PATCH', path, body, options),
  put: <T>(path: string, body: unknown, options?: RequestOptions) => request<T>('PUT', path, body, options),
  delete: <T>(path: string, options?: RequestOptions) => request<T>('DELETE', path, undefined, options),
};

/** Builds a query string, repeating keys for arrays and skipping empty values. */
export function query(params: Record<string, string | number | boolean | readonly string[] | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) for (const item of value) search.append(key, item);
    else search.append(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/**
 * Fetches a text answer (an SVG drawn by the server, say) with the Authorization header, so images that
 * need a token are inlined rather than linked with the token in their URL.
 */
export async function requestText(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<string> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: { ...authHeaders(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError({ title: 'Network error', status: 0, code: 'network', detail: 'the server could not be reached; check the connection and retry' });
  }
  const text = await response.text();
  if (!response.ok) {
    let problem: Problem = { title: response.statusText || 'Request failed', status: response.status, code: 'http', detail: `${method} ${path} answered ${response.status}` };
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed && typeof parsed === 'object' && 'status' in parsed) problem = parsed as Problem;
    } catch {
      // not JSON: keep the generic problem
    }
    if (response.status === 401) unauthorizedHandler(problem.detail);
    throw new ApiError(problem);
  }
  return text;
}
