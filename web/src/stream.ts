import { authHeaders } from './api.ts';

export type StreamState = 'connecting' | 'open' | 'lost';
export type StreamHandler = (name: string, data: unknown) => void;

/** Sent to subscribers after a reconnect: events may have been missed, so views refetch. */
export const RESYNC_EVENT = 'stream.resync';

const INITIAL_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30_000;

/**
 * Server-Sent Events over `fetch()` so the token goes in a header (EventSource cannot send one, and
 * tokens never go into URLs). Reconnects with exponential backoff and jitter; a stream that stays
 * silent for longer than a few heartbeats is treated as lost; a 401 ends the session.
 */
export class LiveStream {
  private readonly handlers = new Set<StreamHandler>();
  private readonly stateListeners = new Set<(state: StreamState) => void>();
  private controller: AbortController | null = null;
  private stopped = false;
  private everOpened = false;
  private backoff = INITIAL_BACKOFF_MS;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  state: StreamState = 'connecting';

  constructor(private readonly onUnauthorized: (detail: string) => void) {}

  subscribe(handler: StreamHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  onState(listener: (state: StreamState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.controller?.abort();
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  private setState(state: StreamState): void {
    if (state === this.state) return;
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }

  private dispatch(name: string, data: unknown): void {
    for (const handler of this.handlers) {
      try {
        handler(name, data);
      } catch (error) {
        console.error('stream handler failed', name, error);
      }
    }
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const controller = new AbortController();
    this.controller = controller;
    let silenceLimit = 45_000;
    let watchdog: ReturnType<typeof setTimeout> | null = null;
    const feedWatchdog = () => {
      if (watchdog) clearTimeout(watchdog);
      watchdog = setTimeout(() => controller.abort(), silenceLimit);
    };
    try {
      const response = await fetch('/api/v1/stream', {
        headers: { accept: 'text/event-stream', ...authHeaders() },
        signal: controller.signal,
        cache: 'no-store',
      });
      if (response.status === 401) {
        this.stopped = true;
        const problem = (await response.json().catch(() => ({}))) as { detail?: string };
        this.onUnauthorized(problem.detail ?? 'the token is no longer valid');
        return;
      }
      if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      feedWatchdog();
      let buffer = '';
      let eventName = 'message';
      let data: string[] = [];
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        feedWatchdog();
        buffer += value;
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline).replace(/\r$/, '');
          buffer = buffer.slice(newline + 1);
          if (line === '') {
            if (data.length > 0) {
              const name = eventName;
              let payload: unknown = data.join('\n');
              try {
                payload = JSON.parse(payload as string);
              } catch {
                // not JSON: pass the text on
              }
              if (name === 'ready') {
                const heartbeat = (payload as { heartbeat_ms?: number }).heartbeat_ms ?? 15_000;
                silenceLimit = heartbeat * 3;
                feedWatchdog();
                const reconnected = this.everOpened;
                this.everOpened = true;
                this.backoff = INITIAL_BACKOFF_MS;
                this.setState('open');
                if (reconnected) this.dispatch(RESYNC_EVENT, {});
              } else if (name === 'unauthorized') {
                this.stopped = true;
                this.onUnauthorized((payload as { detail?: string }).detail ?? 'the token was revoked');
                return;
              } else {
                this.dispatch(name, payload);
              }
            }
            eventName = 'message';
            data = [];
          } else if (line.startsWith(':')) {
            // heartbeat comment: the watchdog was already fed
          } else {
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'event') eventName = value;
            else if (field === 'data') data.push(value);
          }
        }
      }
    } catch {
      // network failure, abort by the watchdog, or a server restart: reconnect below
    } finally {
      if (watchdog) clearTimeout(watchdog);
    }
    if (this.stopped) return;
    this.setState('lost');
    const delay = this.backoff * (0.75 + Math.random() * 0.5);
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }
}
