import { AppError, type ErrorCode } from '../shared/errors.ts';

export interface ClientOptions {
  server: string;
  token: string | undefined;
}

/** A thin HTTP client: the CLI never touches the domain directly, it uses the same API as everyone else. */
export class ApiClient {
  constructor(private readonly options: ClientOptions) {}

  async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const url = new URL(path, this.options.server.endsWith('/') ? this.options.server : `${this.options.server}/`);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new AppError('upstream_failed', `cannot reach ${url.origin}: ${(error as Error).cause ?? (error as Error).message}`);
    }
    const text = await response.text();
    const parsed: unknown = text ? safeJson(text) : undefined;
    if (!response.ok) {
      const problem = (parsed ?? {}) as { detail?: string; code?: ErrorCode; field?: string };
      throw new AppError(problem.code ?? 'upstream_failed', problem.detail ?? `${method} ${url.pathname} failed with HTTP ${response.status}`, {
        ...(problem.field ? { field: problem.field } : {}),
        status: response.status,
      });
    }
    return parsed as T;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
