import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { rejectInserts } from '../support/reject-inserts.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { createIntegration, createService, post, trigger } from './helpers.ts';

interface RawResponse {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests assert on the bodies
  body: any;
}

/**
 * Sends the events on one connection in one write (HTTP/1.1 pipelining, as a sender with a queue may): the
 * server reads them in one go and in this order, so they reach the pipeline together and are written as one
 * delivery. Answers come back in the same order.
 */
async function pipelined(url: string, path: string, bodies: readonly unknown[]): Promise<RawResponse[]> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write(
    bodies
      .map((body) => {
        const text = JSON.stringify(body);
        return `POST ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`;
      })
      .join(''),
  );
  const responses: RawResponse[] = [];
  let buffer = Buffer.alloc(0);
  for await (const chunk of socket) {
    buffer = Buffer.concat([buffer, chunk as Buffer]);
    for (;;) {
      const headerEnd = buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) break;
      const head = buffer.subarray(0, headerEnd).toString('latin1');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (buffer.length < headerEnd + 4 + length) break;
      responses.push({ status: Number(head.split(' ')[1]), body: JSON.parse(buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString('utf8')) });
      buffer = buffer.subarray(headerEnd + 4 + length);
    }
    if (responses.length === bodies.length) break;
  }
  socket.destroy();
  return responses;
}

// Events API events that arrive together are written together (one transaction, multi-row inserts, one
// timeline entry per incident); each must come out as it would have on its own.
describeEachDatabase('Events API events sent together', (kind) => {
  let server: TestServer;
  let key: string;
  let integrationId: string;
  beforeAll(async () => {
    server = await startTestServer(kind);
    await createService(server, 'checkout');
    ({ routing_key: key, id: integrationId } = await createIntegration(server, 'checkout'));
  });
  afterAll(async () => server.close());

  const alertsOfKey = async (dedupKey: string) =>
    ((await server.api('GET', `/api/v1/alerts?integration_id=${integrationId}&limit=500`)).body.items as { dedup_key: string }[]).filter((a) => a.dedup_key === dedupKey);
  const action = (event_action: string, dedup_key: string) => ({ routing_key: key, event_action, dedup_key });

  it('repeats, acknowledgements and resolutions in one delivery apply in the order the events came', async () => {
    const opened = await post(server, '/v2/enqueue', trigger(key, 'checkout errors above 5%', { dedup_key: 'errors' }));
    expect(opened.status).toBe(202);
    const [incidentId] = (await alertsOfKey('errors')).map((a) => (a as unknown as { incident_id: string }).incident_id);

    const events = [
      trigger(key, 'card declines up', { dedup_key: 'declines' }),
      trigger(key, 'card declines up', { dedup_key: 'declines' }),
      trigger(key, 'card declines up', { dedup_key: 'declines' }),
      // Resolved before it was triggered: nothing to resolve then, so the trigger opens a firing alert.
      action('resolve', 'late'),
      trigger(key, 'late trigger', { dedup_key: 'late' }),
      action('acknowledge', 'queue'),
      trigger(key, 'queue backlog', { dedup_key: 'queue' }),
      action('acknowledge', 'queue'),
      trigger(key, 'flapping', { dedup_key: 'flap' }),
      action('resolve', 'flap'),
      trigger(key, 'checkout errors above 5%', { dedup_key: 'errors' }),
      action('resolve', 'errors'),
    ];
    const responses = await pipelined(server.url, '/v2/enqueue', events);
    expect(responses.map((r) => r.status)).toEqual(events.map(() => 202));
    expect(responses.map((r) => r.body.dedup_key)).toEqual(events.map((e) => (e as { dedup_key: string }).dedup_key));

    const only = async (dedupKey: string) => {
      const alerts = await alertsOfKey(dedupKey);
      expect(alerts, dedupKey).toHaveLength(1);
      return alerts[0];
    };
    expect(await only('declines')).toMatchObject({ status: 'firing', occurrences: 3, decision: 'grouped', incident_id: incidentId });
    expect(await only('late')).toMatchObject({ status: 'firing', occurrences: 1 });
    expect(await only('queue')).toMatchObject({ status: 'acknowledged', occurrences: 1 });
    expect(await only('flap')).toMatchObject({ status: 'resolved', occurrences: 1 });
    expect(await only('errors')).toMatchObject({ status: 'resolved', occurrences: 2 });

    // They were written as one delivery: one timeline entry for the new alerts whose first event was their
    // trigger (declines, flap); late and queue, acted on before they existed, went one by one after them.
    const timeline = (await server.api('GET', `/api/v1/incidents/${incidentId}/timeline`)).body as { kind: string; summary: string; data: { alerts?: number } }[];
    const together = timeline.filter((e) => e.kind === 'alert_attached' && e.summary.includes('received together'));
    expect(together).toHaveLength(1);
    expect(together[0]!.data.alerts).toBe(2);
    expect(timeline.filter((e) => e.kind === 'alert_resolved')).toHaveLength(2);
    expect(timeline.filter((e) => e.kind === 'alert_acknowledged')).toHaveLength(1);
  });

  it('concurrent triggers of one new dedup key make one alert that counts them all', async () => {
    const sends = 24;
    // Separate connections, as separate senders' requests would arrive.
    const responses = await Promise.all(Array.from({ length: sends }, () => post(server, '/v2/enqueue', trigger(key, 'payment provider timeouts', { dedup_key: 'timeouts' }))));
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 202));
    const [alert] = await alertsOfKey('timeouts');
    expect(await alertsOfKey('timeouts')).toHaveLength(1);
    expect(alert).toMatchObject({ status: 'firing', occurrences: sends });
    // And once more in one delivery: one new alert, counted.
    const again = await pipelined(server.url, '/v2/enqueue', Array.from({ length: 6 }, () => trigger(key, 'tax service down', { dedup_key: 'tax' })));
    expect(again.map((r) => r.status)).toEqual([202, 202, 202, 202, 202, 202]);
    expect(await alertsOfKey('tax')).toEqual([expect.objectContaining({ status: 'firing', occurrences: 6 })]);
  });

  it('an event whose write fails fails alone; the events sent with it are stored', async () => {
    const undo = await rejectInserts(server.firebreak.ctx.database.db, kind, 'alerts', 'dedup_key', 'poison');
    try {
      expect((await post(server, '/v2/enqueue', trigger(key, 'inventory sync lagging', { dedup_key: 'inventory' }))).status).toBe(202);
      const events = [
        trigger(key, 'search slow', { dedup_key: 'search' }),
        trigger(key, 'poisoned alert', { dedup_key: 'poison' }),
        trigger(key, 'cart errors', { dedup_key: 'cart' }),
        trigger(key, 'inventory sync lagging', { dedup_key: 'inventory' }),
        action('resolve', 'inventory'),
        // Invalid: refused before it reaches the pipeline, and alone.
        { routing_key: key, event_action: 'trigger' },
      ];
      const responses = await pipelined(server.url, '/v2/enqueue', events);
      expect(responses.map((r) => r.status)).toEqual([202, 500, 202, 202, 202, 400]);
      expect(responses[1]!.body).toMatchObject({ status: 'error' });
      expect(responses[5]!.body).toMatchObject({ status: 'invalid event' });
      expect(await alertsOfKey('poison')).toEqual([]);
      expect(await alertsOfKey('search')).toEqual([expect.objectContaining({ status: 'firing', occurrences: 1 })]);
      expect(await alertsOfKey('cart')).toEqual([expect.objectContaining({ status: 'firing', occurrences: 1 })]);
      expect(await alertsOfKey('inventory')).toEqual([expect.objectContaining({ status: 'resolved', occurrences: 2 })]);
    } finally {
      await undo();
    }
  });
});
