import { api, query } from './api.ts';
import type { Incident, Lifecycle, Page } from './types.ts';

export interface IncidentFilters {
  status: string;
  severity: string;
  service: string;
  team: string;
  q: string;
}

/** Page size of the list; also used to prefetch the first page at start-up. */
export const LIST_PAGE = 50;

/**
 * The list's views. The open ones ask the API for active incidents in urgency order (unacknowledged,
 * then critical first, then oldest); `all` lists every incident, newest first.
 */
export const VIEWS = ['triggered', 'acknowledged', 'mine', 'open', 'all'] as const;
export type IncidentView = (typeof VIEWS)[number];
export const VIEW_LABELS: Record<IncidentView, string> = { triggered: 'Triggered', acknowledged: 'Acknowledged', mine: 'Mine', open: 'All open', all: 'Everything' };

export function viewFrom(search: URLSearchParams): IncidentView {
  const view = search.get('view');
  return (VIEWS as readonly string[]).includes(view ?? '') ? (view as IncidentView) : 'open';
}

export interface IncidentCounts {
  active: number;
  triggered: number;
  acknowledged: number;
  mine: number;
  closed: number;
  total: number;
}

export function countsPath(filters: IncidentFilters): string {
  return `/api/v1/incidents/counts${query({
    status: filters.status ? [filters.status] : undefined,
    severity: filters.severity ? [filters.severity] : undefined,
    service: filters.service,
    team: filters.team,
    q: filters.q.trim(),
  })}`;
}

export function filtersFrom(search: URLSearchParams): IncidentFilters {
  return {
    status: search.get('status') ?? '',
    severity: search.get('severity') ?? '',
    service: search.get('service') ?? '',
    team: search.get('team') ?? '',
    q: search.get('q') ?? '',
  };
}

export function listIncidents(filters: IncidentFilters, view: IncidentView, me: string, limit: number, cursor: string | null, signal?: AbortSignal) {
  return api.get<Page<Incident>>(incidentListPath(filters, view, me, limit, cursor), signal ? { signal } : undefined);
}

export function incidentListPath(filters: IncidentFilters, view: IncidentView, me: string, limit: number, cursor: string | null): string {
  return `/api/v1/incidents${query({
    active: view === 'all' ? undefined : true,
    acknowledged: view === 'triggered' ? false : view === 'acknowledged' ? true : undefined,
    assignee: view === 'mine' ? me : undefined,
    limit,
    cursor,
    status: filters.status ? [filters.status] : undefined,
    severity: filters.severity ? [filters.severity] : undefined,
    service: filters.service,
    team: filters.team,
    q: filters.q.trim(),
  })}`;
}

/**
 * Whether a pushed incident belongs in a list with these filters. Mirrors the API's filters so a live
 * update lands exactly where a reload would put it.
 */
export function matchesFilters(incident: Incident, filters: IncidentFilters): boolean {
  if (filters.status && incident.status !== filters.status) return false;
  if (filters.severity && incident.severity !== filters.severity) return false;
  if (filters.team && incident.team !== filters.team) return false;
  if (filters.service && !incident.services.includes(filters.service)) return false;
  const q = filters.q.trim().toLowerCase();
  if (q && !incident.title.toLowerCase().includes(q) && !incident.id.toLowerCase().includes(q)) return false;
  return true;
}

/** Whether an incident belongs in a view (filters aside), as the API decides it. */
export function matchesView(lifecycle: Lifecycle, incident: Incident, view: IncidentView, me: string): boolean {
  if (view === 'all') return true;
  if (!isActive(lifecycle, incident)) return false;
  if (view === 'triggered') return !incident.acknowledged_at;
  if (view === 'acknowledged') return !!incident.acknowledged_at;
  if (view === 'mine') return incident.assignee === me;
  return true;
}

/** The API's urgency order: unacknowledged first, then by severity (most severe first), then oldest first. */
export function byUrgency(severities: readonly string[]) {
  return (a: Incident, b: Incident): number => {
    const ack = (a.acknowledged_at ? 1 : 0) - (b.acknowledged_at ? 1 : 0);
    if (ack) return ack;
    const severity = severities.indexOf(b.severity) - severities.indexOf(a.severity);
    if (severity) return severity;
    return a.created_at === b.created_at ? (a.id < b.id ? -1 : 1) : a.created_at < b.created_at ? -1 : 1;
  };
}

export function isActive(lifecycle: Lifecycle, incident: Incident): boolean {
  return lifecycle.active_statuses.includes(incident.status);
}

export function acknowledge(id: string) {
  return api.post<Incident>(`/api/v1/incidents/${encodeURIComponent(id)}/acknowledge`, {});
}

/** Newest first, as the API orders them. */
export function byCreatedDesc(a: Incident, b: Incident): number {
  return a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1;
}
