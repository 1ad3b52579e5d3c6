import { createHash } from 'node:crypto';

/**
 * Group keys say which alerts belong to one incident while it is active: every alert of a service
 * (`svc:<service>`), and, when the rules name grouping labels, every alert with the same values of
 * those labels (`lbl:<hash>`), whatever service it reports.
 */
export function groupKeys(service: string, labels: Readonly<Record<string, string>>, groupBy: readonly string[]): string[] {
  const keys = [`svc:${service}`];
  if (groupBy.length > 0 && groupBy.every((name) => labels[name] !== undefined && labels[name] !== '')) {
    const text = groupBy.map((name) => `${name}=${labels[name]}`).join('\0');
    keys.push(`lbl:${createHash('sha256').update(text).digest('hex').slice(0, 32)}`);
  }
  return keys;
}

/** A group is still open to new alerts when its incident is active and saw a new alert within the window. */
export function groupAcceptsAt(lastAlertAt: string, windowMinutes: number, now: Date): boolean {
  if (windowMinutes <= 0) return false;
  return Date.parse(lastAlertAt) >= now.getTime() - windowMinutes * 60_000;
}
