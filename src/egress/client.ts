import dns from 'node:dns/promises';
import { isIP } from 'node:net';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { AppError } from '../shared/errors.ts';
import type { EgressPolicy } from './policy.ts';

/** What outbound code passes to fetch; the body and headers stay within what every caller uses. */
export interface EgressRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  redirect?: 'manual' | 'follow' | 'error';
}

/**
 * Every outbound HTTP request and SMTP connection goes through this client. The URL is checked as written,
 * then the host is resolved here and each address judged by the policy, and the socket connects to the
 * address that was judged: a name that resolves differently a moment later (DNS rebinding) cannot redirect it.
 * Redirects are connections too, so they are judged the same way.
 */
export class EgressClient {
  private readonly dispatcher: Agent;

  constructor(readonly policy: EgressPolicy) {
    const connect = buildConnector({});
    this.dispatcher = new Agent({
      connect: (options, callback) => {
        const host = options.hostname;
        const port = Number(options.port || (options.protocol === 'https:' ? 443 : 80));
        this.resolve(host, port).then(
          (address) => {
            const bare = host.replace(/^\[|\]$/g, '');
            const servername = options.servername ?? (isIP(bare) ? undefined : bare);
            connect({ ...options, hostname: address, ...(servername ? { servername } : {}) }, callback);
          },
          (error: Error) => callback(error, null),
        );
      },
    });
  }

  /** Resolves a host to the one address to connect to, refusing when any of its addresses is refused. */
  async resolve(host: string, port: number): Promise<string> {
    const bare = host.replace(/^\[|\]$/g, '');
    const addresses = isIP(bare) ? [bare] : (await dns.lookup(bare, { all: true, verbatim: true })).map((a) => a.address);
    for (const address of addresses) {
      const reason = this.policy.refusal(bare, address, port);
      if (reason) throw new AppError('egress_denied', reason);
    }
    if (addresses.length === 0) throw new AppError('upstream_failed', `${bare} does not resolve`);
    return addresses[0]!;
  }

  async fetch(url: string | URL, init: EgressRequestInit = {}): Promise<Response> {
    const reason = this.policy.urlRefusal(String(url));
    if (reason) throw new TypeError('fetch failed', { cause: new AppError('egress_denied', reason) });
    // fetch refuses URLs with credentials; like curl, they become Basic authentication.
    const target = new URL(url);
    let headers = init.headers;
    if (target.username || target.password) {
      const basic = Buffer.from(`${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`).toString('base64');
      headers = { authorization: `Basic ${basic}`, ...headers };
      target.username = '';
      target.password = '';
    }
    const response = await undiciFetch(target, { ...init, ...(headers ? { headers } : {}), dispatcher: this.dispatcher });
    return response as unknown as Response;
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}

/** A short reason for a failed outbound request: the egress refusal, a timeout, or the network error. */
export function describeOutboundError(error: unknown): string {
  const e = error as Error & { cause?: Error & { code?: string } };
  if (e.name === 'TimeoutError') return 'timed out';
  if (e instanceof AppError) return e.message;
  if (e.cause instanceof AppError) return e.cause.code === 'egress_denied' ? `refused by the egress policy: ${e.cause.message}` : e.cause.message;
  return e.cause?.code ?? e.cause?.message ?? e.message;
}
