import http from 'node:http';

/**
 * The drill's stand-in for the team's LLM gateway: a small HTTP server on loopback that response plans
 * call (`POST {{drill.control_url}}/failover`). A call really switches the drill's generated traffic
 * for the service to its backup provider, so errors stop because the plan acted.
 */
export interface ControlRequest {
  action: 'failover';
  service: string;
  receivedAtMs: number;
}

export class ControlServer {
  private server: http.Server | undefined;
  readonly received: ControlRequest[] = [];

  constructor(private readonly onFailover: (service: string) => { ok: boolean; message: string }) {}

  /** Listens on `listen` (`host:port`, default 127.0.0.1 and an ephemeral port); resolves to its base URL. */
  async start(listen = '127.0.0.1:0'): Promise<string> {
    const [host, portText] = listen.includes(':') ? [listen.slice(0, listen.lastIndexOf(':')), listen.slice(listen.lastIndexOf(':') + 1)] : ['127.0.0.1', listen];
    this.server = http.createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(Number(portText), host, () => resolve());
    });
    const address = this.server.address();
    if (!address || typeof address === 'string') throw new Error('control server has no TCP address');
    return `http://${host}:${address.port}`;
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > 64 * 1024) return reply(response, 413, { error: 'body too large' });
      chunks.push(chunk as Buffer);
    }
    const url = new URL(request.url ?? '/', 'http://control');
    if (request.method !== 'POST' || url.pathname !== '/failover') return reply(response, 404, { error: 'only POST /failover is served' });
    let body: { service?: unknown };
    try {
      body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { service?: unknown }) : {};
    } catch {
      return reply(response, 400, { error: 'body must be JSON: {"service": "<service>"}' });
    }
    const service = typeof body.service === 'string' ? body.service : url.searchParams.get('service');
    if (!service) return reply(response, 400, { error: 'name the service: {"service": "<service>"}' });
    const outcome = this.onFailover(service);
    if (outcome.ok) this.received.push({ action: 'failover', service, receivedAtMs: Date.now() });
    reply(response, outcome.ok ? 200 : 404, outcome.ok ? { status: 'switched', message: outcome.message } : { error: outcome.message });
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function reply(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
