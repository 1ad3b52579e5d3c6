/**
 * Portable value encodings: both dialects store JSON as TEXT and instants as ISO-8601 UTC text with
 * millisecond precision. Fixed-width ISO strings sort lexicographically in time order on both databases.
 */
export function toJson(value: unknown): string {
  return JSON.stringify(value ?? null);
}

export function fromJson<T>(text: string | null | undefined, fallback: T): T {
  if (text === null || text === undefined || text === '') return fallback;
  return JSON.parse(text) as T;
}

export function nowIso(clock: () => Date = () => new Date()): string {
  return clock().toISOString();
}
