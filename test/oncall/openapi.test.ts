import { expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { startTestServer } from '../support/server.ts';

describeEachDatabase('on-call OpenAPI', (kind) => {
  // The document does not depend on the database.
  it.skipIf(kind !== 'sqlite')('documents every on-call endpoint', async () => {
    const server = await startTestServer(kind);
    try {
      const doc = (await server.api('GET', '/openapi.json')).body as { paths: Record<string, Record<string, { security?: unknown[] }>> };
      for (const path of [
        '/api/v1/oncall',
        '/api/v1/schedules/{id}/overrides',
        '/api/v1/escalation-policies',
        '/api/v1/incidents/{id}/escalation',
        '/api/v1/notification-channels/{id}/test',
        '/api/v1/notification-templates/{event}',
        '/api/v1/notifications',
        '/api/v1/incidents/{id}/public-updates',
        '/status/{slug}',
        '/status/{slug}.json',
      ]) {
        expect(doc.paths[path], path).toBeDefined();
      }
      const unauthenticated = await server.api('GET', '/api/v1/notification-channels', undefined, { token: null });
      expect(unauthenticated.status).toBe(401);
    } finally {
      await server.close();
    }
  });
});
