import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
  finishedAt?: number;
}

/**
 * A real HTTP server standing in for a gateway, flag service or webhook receiver. Behaviour is chosen
 * by query parameters: `status=<code>`, `fail_first=<n>` (answer 500 to the first n requests for that
 * path), `echo=1` (answer the request headers and body as JSON), `together=<group>:<n>` (answer none of
 * the group's requests until n of them have arrived: proves they were in flight at once, whatever the
 * machine's speed), `hold=1` (never answer: the request ends only when its sender gives up, by its
 * timeout or by dying) and `hold_first=<n>` (hold the first n requests for that path, answer the rest).
 * Holding, not a delay, keeps a request in flight for as long as a test needs, however slow the machine.
 */
export class TestTarget {
  readonly requests: RecordedRequest[] = [];
  private readonly server = http.createServer((req, res) => void this.handle(req, res));
  private readonly sockets = new Set<import('node:net').Socket>();
  private readonly groups = new Map<string, { arrived: number; release: (() => void)[] }>();
  url = '';

  async start(): Promise<this> {
    // Longer than the sender's own idle timer even on a busy machine, so a reused connection is never reset under it.
    this.server.keepAliveTimeout = 10 * 60_000;
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  countFor(path: string): number {
    return this.requests.filter((r) => r.path === path).length;
  }

  byPath(prefix: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.startsWith(prefix));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const record: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, headers: req.headers, body, at: Date.now() };
    this.requests.push(record);
    if (url.searchParams.get('hold') || this.countFor(url.pathname) <= Number(url.searchParams.get('hold_first') ?? 0)) {
      // Nothing is sent; the response closes with its connection (the sender's abort, its death, or close()).
      await new Promise<void>((resolve) => res.once('close', resolve));
      return;
    }
    const together = url.searchParams.get('together');
    if (together) {
      const [name = '', count = '1'] = together.split(':');
      const group = this.groups.get(name) ?? { arrived: 0, release: [] };
      this.groups.set(name, group);
      group.arrived++;
      if (group.arrived >= Number(count)) for (const release of group.release.splice(0)) release();
      else await new Promise<void>((resolve) => group.release.push(resolve));
    }
    const failFirst = Number(url.searchParams.get('fail_first') ?? 0);
    const seen = this.countFor(url.pathname);
    let status = Number(url.searchParams.get('status') ?? 200);
    if (seen <= failFirst) status = 500;
    record.finishedAt = Date.now();
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(url.searchParams.get('echo') ? { headers: req.headers, body, path: url.pathname } : { ok: status < 400, path: url.pathname, n: seen }));
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Polls until `probe` returns a value that is not undefined, or fails after `ms`; the limit is a safety net for a loaded machine, not a speed target. */
export async function eventually<T>(probe: () => Promise<T | undefined>, ms = 120_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function httpStep(id: string, url: string, extra: Record<string, unknown> = {}, withExtra: Record<string, unknown> = {}) {
  return { id, type: 'http', ...extra, with: { method: 'POST', url, ...withExtra } };
}

/** A loopback port nothing listens on (taken and released), for "unreachable" targets. */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
