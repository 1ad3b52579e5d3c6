/**
 * Pure helpers for the live-update stream: what an event looks like on the wire, and what of it may
 * leave the server. No I/O here.
 */

/** Keys whose values never go to a browser, whatever capability put them in an event. */
const SECRET_KEY = /(token|secret|password|passphrase|routing_key|api_key|apikey|credential|authorization|_hash$|private_key)/i;
/** Above this, an event is sent as a notice with its identifiers only; the client refetches what it shows. */
export const MAX_EVENT_BYTES = 64 * 1024;
const MAX_DEPTH = 8;

export function redactSecrets(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[nested too deep]';
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    out[key] = SECRET_KEY.test(key) && item !== null ? '[redacted]' : redactSecrets(item, depth + 1);
  }
  return out;
}

/** Identifiers a client needs to decide what to refetch when the full payload is too large to send. */
function identifiersOf(payload: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = { truncated: true };
  if (payload === null || typeof payload !== 'object') return out;
  for (const [key, value] of Object.entries(payload as Record<string, unknown>)) {
    if (key === 'id' || key.endsWith('_id')) out[key] = value;
    else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const nested = value as Record<string, unknown>;
      const ids = Object.fromEntries(Object.entries(nested).filter(([k]) => k === 'id' || k.endsWith('_id')));
      if (Object.keys(ids).length > 0) out[key] = ids;
    }
  }
  return out;
}

/** Formats one Server-Sent Event; `data` is one JSON line, so it never needs multi-line framing. */
export function formatSseEvent(name: string, payload: unknown): string {
  let data = JSON.stringify(redactSecrets(payload) ?? null);
  if (Buffer.byteLength(data) > MAX_EVENT_BYTES) data = JSON.stringify(identifiersOf(payload));
  // Event names come from code, but a newline in one would break the framing for every later event.
  const safeName = name.replace(/[\r\n:]/g, '_');
  return `event: ${safeName}\ndata: ${data}\n\n`;
}

export function formatSseComment(text: string): string {
  return `: ${text.replace(/[\r\n]/g, ' ')}\n\n`;
}
