import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/databases.ts';
import { ADMIN_TOKEN, SERVER_START_LIMIT_MS, spawnServer } from '../support/server.ts';

describe('graceful shutdown', () => {
  it('finishes in-flight requests on SIGTERM, loses nothing and exits 0', async () => {
    const database = await createTestDatabase('sqlite');
    const server = await spawnServer({ FIREBREAK_DATABASE_URL: database.url, FIREBREAK_BOOTSTRAP_TOKEN: ADMIN_TOKEN });
    try {
      const send = (i: number) =>
        fetch(`${server.url}/api/v1/incidents`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ title: `in flight ${i}`, severity: 'low' }),
        }).then(
          (r) => r.status,
          () => 'refused' as const,
        );
      const inFlight = Array.from({ length: 60 }, (_, i) => send(i));
      // Signal as soon as the server is demonstrably handling the burst, with most requests still open.
      await Promise.race(inFlight);
      const exit = server.stop('SIGTERM');
      const statuses = await Promise.all(inFlight);
      expect(await exit).toBe(0);
      expect(server.output()).toContain('shutting down: finishing in-flight requests');
      const created = statuses.filter((s) => s === 201).length;
      // Anything not answered 201 was refused before it started (503 while closing, or no connection).
      expect(statuses.every((s) => s === 201 || s === 503 || s === 'refused')).toBe(true);
      expect(created).toBeGreaterThan(0);

      const restarted = await spawnServer({ FIREBREAK_DATABASE_URL: database.url, FIREBREAK_BOOTSTRAP_TOKEN: ADMIN_TOKEN });
      try {
        const list = await fetch(`${restarted.url}/api/v1/incidents?limit=500`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
        const body = (await list.json()) as { items: unknown[] };
        expect(body.items).toHaveLength(created);
      } finally {
        await restarted.stop();
      }
    } finally {
      await server.stop('SIGKILL');
      await database.drop();
    }
    // Two servers start one after the other.
  }, 2 * SERVER_START_LIMIT_MS + 60_000);
});
