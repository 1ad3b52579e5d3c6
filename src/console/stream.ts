import type { ServerResponse } from 'node:http';
import type { HttpApp } from '../http/app.ts';
import { principalOf } from '../http/app.ts';
import type { AppContext } from '../app/context.ts';
import { formatSseComment, formatSseEvent } from './stream-events.ts';

/** Often enough that proxies and the browser's stall detector keep the connection; the client expects this. */
export const HEARTBEAT_MS = 15_000;
/** A client this far behind is dropped; it reconnects and refetches, which is cheaper than buffering for it. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * `GET /api/v1/stream`: every committed domain event as Server-Sent Events, for the web console and
 * any other client. Browsers cannot set headers on EventSource, and tokens must never go into URLs,
 * so clients read this with `fetch()` and an `Authorization` header. The token is checked again on
 * every heartbeat, so revoking it ends open streams within one interval.
 */
export function streamRoutes(app: HttpApp, ctx: AppContext, heartbeatMs: number = HEARTBEAT_MS): void {
  const open = new Set<ServerResponse>();

  // Streams never go idle, so without this, shutdown would wait for every browser to disconnect.
  app.addHook('preClose', async () => {
    for (const raw of open) raw.end(formatSseEvent('server.closing', {}));
    open.clear();
  });

  app.get(
    '/api/v1/stream',
    {
      schema: {
        tags: ['console'],
        summary: 'Live domain events (text/event-stream)',
        description:
          'Server-Sent Events: `incident.created`, `incident.updated`, `timeline.appended` and every event other capabilities add, ' +
          'whichever server of the same database committed the change; `stream.resync` says changes may have been missed (refetch). ' +
          `A \`ready\` event opens the stream (its \`heartbeat_ms\` says how often comment-line heartbeats follow); \`unauthorized\` ends it when the token is revoked.`,
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const reauthenticate = request.reauthenticate ?? (() => Promise.resolve(principal));
      void reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      open.add(raw);

      const send = (chunk: string) => {
        if (raw.writableEnded) return;
        if (raw.writableLength > MAX_BUFFERED_BYTES) {
          close();
          return;
        }
        raw.write(chunk);
      };
      const unsubscribeLocal = ctx.events.onAny((name, payload) => send(formatSseEvent(name, payload)));
      // Changes committed on other replicas of the same database, and a resync when that relay was interrupted.
      const unsubscribeRemote = ctx.cluster.onRemote((name, payload) => send(formatSseEvent(name, payload)));
      const unsubscribeResync = ctx.cluster.onResync(() => send(formatSseEvent('stream.resync', { reason: 'changes made on other servers may have been missed; refetch' })));
      const unsubscribe = () => {
        unsubscribeLocal();
        unsubscribeRemote();
        unsubscribeResync();
      };
      const heartbeat = setInterval(() => {
        reauthenticate().then(
          () => send(formatSseComment(`heartbeat ${ctx.clock().toISOString()}`)),
          () => {
            send(formatSseEvent('unauthorized', { detail: principal.kind === 'token' ? 'the token was revoked' : 'the session ended' }));
            close();
          },
        );
      }, heartbeatMs);
      heartbeat.unref();

      function close(): void {
        clearInterval(heartbeat);
        unsubscribe();
        open.delete(raw);
        if (!raw.writableEnded) raw.end();
      }
      request.raw.on('close', close);
      raw.on('close', close);

      send('retry: 2000\n\n');
      send(formatSseEvent('ready', { heartbeat_ms: heartbeatMs, name: principal.name, role: principal.role }));
    },
  );
}
