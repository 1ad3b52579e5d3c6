import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local HTTP endpoint for recovery checks to probe: 200 "ok" while `healthy`, 500 "down" otherwise. */
export interface HealthTarget {
  readonly url: string;
  healthy: boolean;
  close(): Promise<void>;
}

export async function startHealthTarget(): Promise<HealthTarget> {
  const state = { healthy: true };
  const server = http.createServer((_req, res) => res.writeHead(state.healthy ? 200 : 500).end(state.healthy ? 'ok' : 'down'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url,
    get healthy() {
      return state.healthy;
    },
    set healthy(value: boolean) {
      state.healthy = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
