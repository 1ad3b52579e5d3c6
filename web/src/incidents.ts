import { api, query } from './api.ts';
import type { Incident, Lifecycle, Page } from './types.ts';

export interface IncidentFilters {
  status: string;
  severity: string;
  service: string;
  team: string;
  q: string;
}

/** Page sizes of the list's two sections; also used to prefetch them at start-up. */
export const ACTIVE_PAGE = 50;
export const CLOSED_PAGE = 25;

export function filtersFrom(search: URLSearchParams): IncidentFilters {
  return {
    status: search.get('status') ?? '',
    severity: search.get('severity') ?? '',
    service: search.get('service') ?? '',
    team: search.get('team') ?? '',
    q: search.get('q') ?? '',
  };
}

export function listIncidents(filters: IncidentFilters, active: boolean, limit: number, cursor: string | null, signal?: AbortSignal) {
  return api.get<Page<Incident>>(incidentListPath(filters, active, limit, cursor), signal ? { signal } : undefined);
}

export function incidentListPath(filters: IncidentFilters, active: boolean, limit: number, cursor: string | null): string {
  return `/api/v1/incidents${query({
    active,
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
