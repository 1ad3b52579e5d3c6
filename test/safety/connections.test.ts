import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../support/server.ts';

/** Resolves when the server closes the socket; rejects if that takes longer than `withinMs` (a generous bound). */
function closedBy(socket: net.Socket, withinMs: number): Promise<string> {
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server held the connection for more than ${withinMs} ms`)), withinMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.on('error', () => undefined);
  });
}

function connect(url: string): Promise<net.Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => resolve(socket));
    socket.on('error', reject);
  });
}

describeEachDatabase('connection limits', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind, { config: { connectionLimits: { headersTimeoutMs: 300, requestTimeoutMs: 600, maxConnections: 3, checkIntervalMs: 50 } } });
  });
  afterAll(async () => server.close());

  it('closes a slowloris connection that never finishes its headers, and keeps serving', async () => {
    const socket = await connect(server.url);
    socket.write('GET /healthz HTTP/1.1\r\nHost: firebreak\r\n');
    // One more header line every 50 ms, never the blank line that ends the headers.
    let n = 0;
    const drip = setInterval(() => socket.writable && socket.write(`X-Drip-${n++}: x\r\n`), 50);
    try {
      const answer = await closedBy(socket, 10_000);
      expect(answer === '' || answer.startsWith('HTTP/1.1 408'), answer.slice(0, 200)).toBe(true);
    } finally {
      clearInterval(drip);
    }
    expect((await server.api('GET', '/healthz')).status).toBe(200);
  });

  it('closes a connection that sends its headers but never its whole body', async () => {
    const socket = await connect(server.url);
    socket.write(`POST /api/v1/incidents HTTP/1.1\r\nHost: firebreak\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"title":`);
    const answer = await closedBy(socket, 10_000);
    expect(answer === '' || answer.startsWith('HTTP/1.1 408'), answer.slice(0, 200)).toBe(true);
    expect((await server.api('GET', '/healthz')).status).toBe(200);
  });

  it('drops connections beyond the maximum, and accepts again once they close', async () => {
    const held = await Promise.all([connect(server.url), connect(server.url), connect(server.url)]);
    const extra = await connect(server.url);
    await closedBy(extra, 10_000);
    for (const socket of held) socket.destroy();
    // The server notices the closes asynchronously; ask until it answers (each attempt is bounded).
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      status = await server.api('GET', '/healthz').then((r) => r.status, () => 0);
    }
    expect(status).toBe(200);
  });
});
