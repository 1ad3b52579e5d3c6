/**
 * Changes and suspects, without I/O: what a sender's payload means as a change, how a change is scored
 * against an incident, and when a telemetry attribute has really changed.
 */
import type { ArgoCdNotification, Change, ChangeKind, ChangeLink, GitHubDeploymentStatus, PagerDutyChangeEvent } from './schemas.ts';
import { CHANGE_KINDS } from './schemas.ts';

/** A change before it is stored. */
export interface ChangeDraft {
  service: string;
  kind: ChangeKind;
  summary: string;
  version_from: string | null;
  version_to: string | null;
  author: string | null;
  links: ChangeLink[];
  at: string;
  target: string | null;
  details: Record<string, unknown>;
  /** Same key from the same source twice is one change (a sender's retry, a redelivered webhook). */
  dedup_key: string | null;
}

// ---------------------------------------------------------------------------------------------
// Scoring

/**
 * How likely each kind of change is to break an LLM service, relative to the most likely. Model and
 * prompt rollouts change behaviour without changing code, and nothing else catches them before users
 * do; configuration and flags change behaviour at once; deploys are frequent and mostly harmless.
 */
export const KIND_WEIGHTS: Readonly<Record<ChangeKind, number>> = { model: 1, prompt: 1, config: 0.9, flag: 0.85, deploy: 0.8, infra: 0.7, other: 0.5 };
/** A change on the incident's own service, on a service it depends on, and one step further. */
export const PROXIMITY_WEIGHTS: readonly number[] = [1, 0.6, 0.35];
/** The time part halves for every hour between the change and detection. */
export const HALF_LIFE_MINUTES = 60;
export const SCORE_FORMULA = 'score = time × proximity × kind; time = 0.5 ^ (minutes before detection / 60)';

export interface ServiceDistance {
  service: string;
  distance: number;
  /** From an incident service down to this one, e.g. [chat-api, llm-gateway]. */
  via: string[];
}

/**
 * Services within `maxDepth` dependency steps of the incident's services, following `depends_on`
 * (a change in something the service needs can break it; a change in something that needs it cannot).
 */
export function dependencyDistances(start: readonly string[], dependsOn: ReadonlyMap<string, readonly string[]>, maxDepth = PROXIMITY_WEIGHTS.length - 1): ServiceDistance[] {
  const found = new Map<string, ServiceDistance>();
  let frontier: ServiceDistance[] = [];
  for (const service of start) {
    if (found.has(service)) continue;
    const entry = { service, distance: 0, via: [service] };
    found.set(service, entry);
    frontier.push(entry);
  }
  for (let depth = 1; depth <= maxDepth && frontier.length; depth++) {
    const next: ServiceDistance[] = [];
    for (const from of frontier) {
      for (const dep of dependsOn.get(from.service) ?? []) {
        if (found.has(dep)) continue;
        const entry = { service: dep, distance: depth, via: [...from.via, dep] };
        found.set(dep, entry);
        next.push(entry);
      }
    }
    frontier = next;
  }
  return [...found.values()];
}

export interface ScoredChange {
  change: Change;
  score: number;
  parts: { minutes_before_detection: number; time: number; distance: number; via: string[]; proximity: number; kind: number };
  reason: string;
}

const round = (value: number, digits = 4) => Math.round(value * 10 ** digits) / 10 ** digits;

function formatMinutes(minutes: number): string {
  if (minutes < 1) return `${Math.round(minutes * 60)} s`;
  if (minutes < 120) return `${Math.round(minutes)} min`;
  return `${round(minutes / 60, 1)} h`;
}

/** The score alone (see SCORE_FORMULA), for ranking many candidates before describing the first few. */
function rawScore(kindOf: ChangeKind, at: string, detectedMs: number, distance: number): number {
  const minutes = Math.max(0, (detectedMs - Date.parse(at)) / 60_000);
  return 0.5 ** (minutes / HALF_LIFE_MINUTES) * (PROXIMITY_WEIGHTS[distance] ?? 0) * KIND_WEIGHTS[kindOf];
}

export function scoreChange(change: Change, detectedMs: number, where: ServiceDistance): ScoredChange {
  const minutes = Math.max(0, (detectedMs - Date.parse(change.at)) / 60_000);
  const time = 0.5 ** (minutes / HALF_LIFE_MINUTES);
  const proximity = PROXIMITY_WEIGHTS[where.distance] ?? 0;
  const kind = KIND_WEIGHTS[change.kind];
  const score = time * proximity * kind;
  const place =
    where.distance === 0
      ? `on ${change.service}, a service of the incident`
      : `on ${change.service}, which ${where.via[0]} depends on${where.distance > 1 ? ` through ${where.via.slice(1, -1).join(' → ')}` : ''}`;
  const version = change.version_to ? ` (${change.version_from ? `${change.version_from} → ` : ''}${change.version_to})` : '';
  const reason = `${change.kind} change${version} ${formatMinutes(minutes)} before detection ${place}; time ${round(time, 3)} × proximity ${proximity} × ${change.kind} ${kind} = ${round(score, 3)}`;
  return { change, score: round(score, 6), parts: { minutes_before_detection: round(minutes, 2), time: round(time), distance: where.distance, via: where.via, proximity, kind }, reason };
}

/**
 * The first `limit` changes, highest score first; ties go to the later change (closer to detection), then
 * the id for a stable order. Only those are described (parts and reason).
 */
export function rankChanges<C extends Pick<Change, 'id' | 'service' | 'kind' | 'at'>>(
  changes: readonly C[],
  detectedMs: number,
  distances: readonly ServiceDistance[],
  limit = Infinity,
): { change: C; score: number; where: ServiceDistance }[] {
  const byService = new Map(distances.map((d) => [d.service, d]));
  const scored: { change: C; score: number; where: ServiceDistance }[] = [];
  for (const change of changes) {
    const where = byService.get(change.service);
    if (where) scored.push({ change, score: round(rawScore(change.kind, change.at, detectedMs, where.distance), 6), where });
  }
  scored.sort((a, b) => b.score - a.score || (a.change.at < b.change.at ? 1 : a.change.at > b.change.at ? -1 : 0) || (a.change.id < b.change.id ? -1 : a.change.id > b.change.id ? 1 : 0));
  return scored.slice(0, limit);
}

// ---------------------------------------------------------------------------------------------
// Senders' payloads

function text(value: unknown, max = 200): string | null {
  if (typeof value === 'string' && value.trim() !== '') return value.trim().slice(0, max);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

function isKind(value: unknown): value is ChangeKind {
  return typeof value === 'string' && (CHANGE_KINDS as readonly string[]).includes(value);
}

/**
 * PagerDuty change events carry no kind or versions of their own; Firebreak reads them from
 * `custom_details` when present (`kind`, `version_from`, `version_to` or `revision`, `author`) and
 * otherwise records a deploy, which is what CI pipelines send there.
 */
export function draftFromPagerDuty(event: PagerDutyChangeEvent, service: string, receivedAt: string): ChangeDraft {
  const details = event.payload.custom_details ?? {};
  return {
    service,
    kind: isKind(details.kind) ? details.kind : 'deploy',
    summary: event.payload.summary,
    version_from: text(details.version_from),
    version_to: text(details.version_to) ?? text(details.revision) ?? text(details.version),
    author: text(details.author) ?? text(details.user),
    links: (event.links ?? []).filter((l) => /^https?:\/\//.test(l.href)).map((l) => (l.text ? { href: l.href, text: l.text } : { href: l.href })),
    at: event.payload.timestamp ? new Date(Date.parse(event.payload.timestamp)).toISOString() : receivedAt,
    target: event.payload.source ?? null,
    details: { ...(event.payload.source ? { source: event.payload.source } : {}), custom_details: details },
    dedup_key: null,
  };
}

/** GitHub deployment states that mean the new version is serving. */
export const GITHUB_RECORDED_STATES: ReadonlySet<string> = new Set(['success']);

export function draftFromGitHub(payload: GitHubDeploymentStatus, service: string, deliveryId: string | null, previousVersion: string | null): ChangeDraft {
  const { deployment, deployment_status: status, repository } = payload;
  const environment = status.environment ?? deployment.environment;
  const shortSha = deployment.sha.slice(0, 12);
  const links: ChangeLink[] = [];
  for (const [href, label] of [
    [status.target_url, 'deployment'],
    [status.log_url, 'logs'],
    [repository.html_url ? `${repository.html_url}/commit/${deployment.sha}` : null, 'commit'],
  ] as const) {
    if (href && /^https?:\/\//.test(href)) links.push({ href, text: label });
  }
  const description = status.description ?? deployment.description;
  return {
    service,
    kind: 'deploy',
    summary: `${repository.full_name} ${deployment.ref} (${shortSha}) deployed to ${environment}${description ? `: ${description}` : ''}`.slice(0, 1024),
    version_from: previousVersion,
    version_to: deployment.sha,
    author: deployment.creator?.login ?? status.creator?.login ?? payload.sender?.login ?? null,
    links,
    at: new Date(Date.parse(status.created_at)).toISOString(),
    target: `${repository.full_name}@${environment}`,
    details: { repository: repository.full_name, environment, ref: deployment.ref, deployment_id: deployment.id, state: status.state },
    dedup_key: `github:${repository.full_name}:${deployment.id}:${status.state}`,
  };
}

/** What Argo CD's Go templates print for a field the application does not have (an automated sync has no username). */
const GO_TEMPLATE_MISSING = '<no value>';

export function draftFromArgoCd(notification: ArgoCdNotification, service: string, receivedAt: string, previousVersion: string | null): ChangeDraft {
  const payload = Object.fromEntries(Object.entries(notification).filter(([k, v]) => k === 'app' || k === 'revision' || (v !== GO_TEMPLATE_MISSING && v !== ''))) as ArgoCdNotification;
  const at = payload.finished_at ? new Date(Date.parse(payload.finished_at)).toISOString() : receivedAt;
  const links: ChangeLink[] = payload.url && /^https?:\/\//.test(payload.url) ? [{ href: payload.url, text: 'Argo CD application' }] : [];
  return {
    service,
    kind: 'deploy',
    summary: `Argo CD synced ${payload.app} to ${payload.revision.slice(0, 12)}${payload.health_status ? ` (${payload.health_status})` : ''}`,
    version_from: previousVersion,
    version_to: payload.revision,
    author: payload.initiated_by ?? null,
    links,
    at,
    target: `argocd:${payload.app}`,
    details: {
      app: payload.app,
      ...(payload.project ? { project: payload.project } : {}),
      ...(payload.sync_status ? { sync_status: payload.sync_status } : {}),
      ...(payload.health_status ? { health_status: payload.health_status } : {}),
      ...(payload.repo_url ? { repo_url: payload.repo_url } : {}),
    },
    dedup_key: payload.finished_at ? `argocd:${payload.app}:${payload.revision}:${at}` : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Telemetry: a value that changes within one series

/**
 * A value seen again within this gap is the same rollout (traffic during a canary mixes both); one that
 * comes back after a longer absence is a change again (a rollback).
 */
export const VALUE_RETURN_GAP_MS = 10 * 60_000;
/** Values remembered per series and attribute; older ones are forgotten first. */
export const MAX_VALUES_PER_SERIES = 8;

export type SeenValues = Map<string, number>;

export type Transition = { changed: false } | { changed: true; from: string };

/**
 * Records that `value` was seen at `atMs` and says whether that is a transition: a value never seen
 * in the series, or one back after more than `VALUE_RETURN_GAP_MS`, while another value was the
 * latest. The first value a series ever shows is its baseline, not a change.
 */
export function observeValue(seen: SeenValues, value: string, atMs: number): Transition {
  const last = seen.get(value);
  let latestOther: string | null = null;
  let latestOtherMs = -Infinity;
  for (const [other, ms] of seen) {
    if (other !== value && ms > latestOtherMs) {
      latestOther = other;
      latestOtherMs = ms;
    }
  }
  seen.set(value, Math.max(last ?? -Infinity, atMs));
  if (seen.size > MAX_VALUES_PER_SERIES) {
    const oldest = [...seen].sort((a, b) => a[1] - b[1])[0]![0];
    seen.delete(oldest);
  }
  if (latestOther === null) return { changed: false };
  const isNew = last === undefined;
  const isReturn = last !== undefined && atMs - last > VALUE_RETURN_GAP_MS && latestOtherMs > last;
  // A late call of an older value (arriving after the new one) is neither.
  if ((isNew || isReturn) && atMs >= latestOtherMs - VALUE_RETURN_GAP_MS) return { changed: true, from: latestOther };
  return { changed: false };
}
