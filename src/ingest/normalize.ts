import { createHash } from 'node:crypto';
import type { AlertmanagerAlert, AlertmanagerWebhook, AlertSeverity, EventsV2Event, GenericAlertInput } from './schemas.ts';
import { MAX_SUMMARY_LENGTH } from './schemas.ts';
import type { InternalAlert } from '../shared/alert-sink.ts';

export type AlertAction = 'trigger' | 'acknowledge' | 'resolve';
export type AlertFormat = 'events_v2' | 'alertmanager' | 'generic' | 'internal';

/** One alert event in the shape every format is turned into before dedup and routing. */
export interface AlertSignal {
  action: AlertAction;
  dedupKey: string;
  format: AlertFormat;
  source: string;
  summary: string;
  severity: AlertSeverity;
  labels: Record<string, string>;
  details: Record<string, unknown>;
  links: { href: string; text?: string }[];
  /** The sender's own time of the signal (payload.timestamp, startsAt, endsAt), ISO-8601. */
  signalAt: string | null;
  /** A service the payload names itself (label `service`, or an internal alert's service). */
  serviceHint: string | null;
  /** For internal alerts: the service to use when `serviceHint` is not in the catalogue. */
  fallbackService?: string | undefined;
  raw: string;
}

/** Keys generated for keyless triggers are derived from the content, so a retried request maps to the same alert. */
export function contentDedupKey(scope: string, content: unknown): string {
  return createHash('sha256').update(scope).update('\0').update(stableJson(content)).digest('hex').slice(0, 32);
}

function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
}

function isoOrNull(text: string | undefined): string | null {
  if (!text) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/** Primitive custom details become matchable labels (without overriding the standard ones). */
function primitiveEntries(details: unknown, into: Record<string, string>): void {
  if (!details || typeof details !== 'object' || Array.isArray(details)) return;
  let count = 0;
  for (const [key, value] of Object.entries(details as Record<string, unknown>)) {
    if (count >= 50) break;
    if (key in into || !/^[A-Za-z_][A-Za-z0-9_.-]{0,99}$/.test(key)) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      into[key] = String(value).slice(0, 1000);
      count++;
    }
  }
}

/** PagerDuty Events API v2 event (already schema-valid). `dedupKey` must be decided by the caller. */
export function signalFromEventsV2(event: EventsV2Event, dedupKey: string, rawText: string): AlertSignal {
  const payload = event.payload;
  const labels: Record<string, string> = {};
  if (payload) {
    labels.source = payload.source;
    if (payload.component) labels.component = payload.component;
    if (payload.group) labels.group = payload.group;
    if (payload.class) labels.class = payload.class;
    primitiveEntries(payload.custom_details, labels);
  }
  const links = [...(event.links ?? [])];
  if (event.client_url) links.push({ href: event.client_url, text: event.client ?? 'client' });
  const details: Record<string, unknown> = {};
  if (payload?.custom_details !== undefined) details.custom_details = payload.custom_details;
  for (const key of ['component', 'group', 'class'] as const) if (payload?.[key]) details[key] = payload[key];
  if (event.images?.length) details.images = event.images;
  if (event.client) details.client = event.client;
  return {
    action: event.event_action,
    dedupKey,
    format: 'events_v2',
    source: payload?.source ?? event.client ?? 'events-api',
    summary: payload?.summary ?? '',
    severity: payload?.severity ?? 'info',
    labels,
    details,
    links,
    signalAt: isoOrNull(payload?.timestamp),
    serviceHint: null,
    raw: rawText,
  };
}

const SEVERITY_WORDS: Record<string, AlertSeverity> = {
  critical: 'critical', crit: 'critical', fatal: 'critical', emergency: 'critical', page: 'critical', p1: 'critical', sev1: 'critical',
  error: 'error', err: 'error', high: 'error', major: 'error', p2: 'error', sev2: 'error',
  warning: 'warning', warn: 'warning', medium: 'warning', minor: 'warning', p3: 'warning', sev3: 'warning',
  info: 'info', informational: 'info', low: 'info', none: 'info', notice: 'info', p4: 'info', p5: 'info', sev4: 'info',
};

/** Alertmanager has no severity field; the `severity` label is the convention. Unknown or missing reads as warning. */
export function severityFromLabel(value: string | undefined): AlertSeverity {
  return (value && SEVERITY_WORDS[value.toLowerCase()]) || 'warning';
}

export function alertmanagerDedupKey(alert: AlertmanagerAlert): string {
  if (alert.fingerprint) return alert.fingerprint;
  // Alertmanager's fingerprint is a hash of the label set; without it, use our own hash of the same.
  return contentDedupKey('alertmanager-labels', alert.labels);
}

export function signalsFromAlertmanager(webhook: AlertmanagerWebhook): AlertSignal[] {
  return webhook.alerts.map((alert) => {
    const annotations = alert.annotations ?? {};
    const summary =
      annotations.summary ?? annotations.description ?? annotations.message ?? (alert.labels.alertname ? `${alert.labels.alertname} ${alert.status}` : 'Alertmanager alert');
    const resolved = alert.status === 'resolved';
    return {
      action: resolved ? 'resolve' : 'trigger',
      dedupKey: alertmanagerDedupKey(alert),
      format: 'alertmanager',
      source: alert.labels.instance ?? alert.labels.job ?? webhook.receiver ?? 'alertmanager',
      summary: summary.slice(0, MAX_SUMMARY_LENGTH),
      severity: severityFromLabel(alert.labels.severity),
      labels: { ...alert.labels },
      details: {
        annotations,
        ...(webhook.groupKey ? { group_key: webhook.groupKey } : {}),
        ...(webhook.receiver ? { receiver: webhook.receiver } : {}),
        ...(webhook.externalURL ? { external_url: webhook.externalURL } : {}),
        ...(alert.startsAt ? { starts_at: alert.startsAt } : {}),
        ...(alert.endsAt && !alert.endsAt.startsWith('0001-') ? { ends_at: alert.endsAt } : {}),
      },
      links: alert.generatorURL ? [{ href: alert.generatorURL, text: 'generatorURL' }] : [],
      signalAt: isoOrNull(resolved ? (alert.endsAt ?? alert.startsAt) : alert.startsAt),
      serviceHint: alert.labels.service ?? null,
      raw: JSON.stringify(alert),
    };
  });
}

export function signalFromGeneric(input: GenericAlertInput, dedupKey: string, rawText: string): AlertSignal {
  const labels: Record<string, string> = { ...input.labels };
  if (input.source && labels.source === undefined) labels.source = input.source;
  return {
    action: input.action ?? 'trigger',
    dedupKey,
    format: 'generic',
    source: input.source ?? 'generic',
    summary: input.summary ?? '',
    severity: input.severity ?? 'info',
    labels,
    details: input.details ?? {},
    links: input.links ?? [],
    signalAt: isoOrNull(input.timestamp),
    serviceHint: null,
    raw: rawText,
  };
}

export function signalFromInternal(alert: InternalAlert): AlertSignal {
  return {
    action: 'trigger',
    dedupKey: alert.dedupKey,
    format: 'internal',
    source: alert.source,
    summary: alert.summary.slice(0, MAX_SUMMARY_LENGTH),
    severity: alert.severity,
    labels: { ...alert.labels, source: alert.source },
    details: alert.details,
    links: [],
    signalAt: isoOrNull(alert.at),
    serviceHint: alert.service,
    fallbackService: alert.fallbackService,
    raw: JSON.stringify(alert),
  };
}
