import net from 'node:net';

/**
 * A loopback TCP proxy in front of a real server, so a test can take the database away as a network would:
 * `freeze()` keeps connections open but passes no bytes (a stuck database), `cut()` drops every connection and
 * refuses new ones (a restart), `restore()` serves again.
 */
export interface TcpProxy {
  port: number;
  freeze(): void;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let frozen = false;
  let server: net.Server;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = net.createServer((client) => {
        const upstream = net.connect(targetPort, targetHost);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => s.destroy());
        }
        client.on('data', (chunk) => {
          if (!frozen) upstream.write(chunk);
        });
        upstream.on('data', (chunk) => {
          if (!frozen) client.write(chunk);
        });
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      server.close(() => resolve());
    });
  await listen();
  return {
    get port() {
      return port;
    },
    freeze() {
      frozen = true;
    },
    async cut() {
      frozen = false;
      await stop();
    },
    async restore() {
      frozen = false;
      await listen();
    },
    close: stop,
  };
}
