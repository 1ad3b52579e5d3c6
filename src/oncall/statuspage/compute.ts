import type { Severity } from '../../incidents/index.ts';
import { SERVICE_STATUSES, type PublicStatus, type ServiceStatus } from './schemas.ts';
import { impactOf } from './impact.ts';

/**
 * Pure computation of a public status page. Its only inputs about incidents are severity, affected
 * services, start and end times and the public updates responders wrote: titles, descriptions,
 * timelines, notes and labels are never passed in, so they cannot leak.
 */
export interface PublishedIncident {
  severity: Severity;
  active: boolean;
  services: string[];
  detected_at: string;
  resolved_at: string | null;
  updates: {
    id: number;
    title: string;
    status: PublicStatus['active_incidents'][number]['status'];
    message: string;
    /** Component statuses the responders chose in this update; a service not named follows the severity. */
    components?: Partial<Record<string, ServiceStatus>>;
    created_at: string;
  }[];
}

/** What an incident shows for one service: the status its latest update chose, else its severity's. */
export function componentImpact(incident: PublishedIncident, service: string): ServiceStatus {
  for (let i = incident.updates.length - 1; i >= 0; i--) {
    const chosen = incident.updates[i]!.components?.[service];
    if (chosen) return chosen;
  }
  return impactOf(incident.severity);
}

/**
 * What an incident showed for a service over time: its severity's status from detection, then each
 * status an update chose, from that update on, until the incident resolved.
 */
function componentPeriods(incident: PublishedIncident, service: string, nowMs: number): { from: number; to: number; status: ServiceStatus }[] {
  const end = incident.resolved_at ? Date.parse(incident.resolved_at) : nowMs;
  const periods = [{ from: Date.parse(incident.detected_at), to: end, status: impactOf(incident.severity) }];
  for (const update of incident.updates) {
    const chosen = update.components?.[service];
    if (!chosen) continue;
    const at = Date.parse(update.created_at);
    periods[periods.length - 1]!.to = at;
    periods.push({ from: at, to: end, status: chosen });
  }
  return periods.filter((p) => p.to >= p.from);
}

export const HISTORY_DAYS = 90;

export { impactOf };

export function worst(a: ServiceStatus, b: ServiceStatus): ServiceStatus {
  return SERVICE_STATUSES.indexOf(a) >= SERVICE_STATUSES.indexOf(b) ? a : b;
}

export function computePublicStatus(
  page: { id: string; title: string; description: string },
  services: readonly { id: string; name: string }[],
  incidents: readonly PublishedIncident[],
  now: Date,
): PublicStatus {
  const onPage = new Set(services.map((s) => s.id));
  const nameOf = new Map(services.map((s) => [s.id, s.name]));
  const relevant = incidents.filter((i) => i.updates.length > 0 && i.services.some((s) => onPage.has(s)));
  // Shown as active while the incident is open and the last public word is not "resolved".
  const active = relevant.filter((i) => i.active && i.updates[i.updates.length - 1]!.status !== 'resolved');

  const current = new Map<string, ServiceStatus>(services.map((s) => [s.id, 'operational']));
  for (const incident of active) {
    for (const service of incident.services) if (current.has(service)) current.set(service, worst(current.get(service)!, componentImpact(incident, service)));
  }

  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const dayMs = 86_400_000;
  const history = services.map((service) => {
    const days: { date: string; status: ServiceStatus }[] = [];
    for (let d = HISTORY_DAYS - 1; d >= 0; d--) {
      const start = today - d * dayMs;
      const end = start + dayMs;
      let status: ServiceStatus = 'operational';
      for (const incident of relevant) {
        if (!incident.services.includes(service.id)) continue;
        for (const period of componentPeriods(incident, service.id, now.getTime())) {
          if (period.from < end && period.to >= start) status = worst(status, period.status);
        }
      }
      days.push({ date: new Date(start).toISOString().slice(0, 10), status });
    }
    return { service: service.id, name: service.name, days };
  });

  const overall = [...current.values()].reduce<ServiceStatus>((acc, s) => worst(acc, s), 'operational');
  return {
    page,
    generated_at: now.toISOString(),
    overall_status: overall,
    services: services.map((s) => ({ id: s.id, name: s.name, status: current.get(s.id)! })),
    active_incidents: active.map((incident) => {
      const latest = incident.updates[incident.updates.length - 1]!;
      return {
        id: `pi-${incident.updates[0]!.id}`,
        title: latest.title,
        status: latest.status,
        impact: incident.services.filter((s) => onPage.has(s)).reduce<ServiceStatus>((acc, s) => worst(acc, componentImpact(incident, s)), 'operational'),
        affected_services: incident.services.filter((s) => onPage.has(s)).map((s) => nameOf.get(s)!),
        started_at: incident.updates[0]!.created_at,
        updates: [...incident.updates].reverse().map((u) => ({ status: u.status, message: u.message, at: u.created_at })),
      };
    }),
    history,
  };
}
