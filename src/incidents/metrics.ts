import { SEVERITIES, type IncidentStatus, type Severity } from './lifecycle.ts';
import { secondsBetween, summariseDurations, type DurationSummary } from '../shared/stats.ts';

/** The stored facts a metric needs; durations are always derived from these timestamps, never stored. */
export interface IncidentTimes {
  id: string;
  severity: Severity;
  status: IncidentStatus;
  team: string | null;
  services: readonly string[];
  detected_at: string;
  acknowledged_at: string | null;
  resolved_at: string | null;
}

export interface MetricGroup {
  total: number;
  resolved: number;
  resolution_rate: number | null;
  mtta: DurationSummary;
  mttr: DurationSummary;
}

export interface IncidentMetrics {
  from: string;
  to: string;
  overall: MetricGroup;
  counts_by_severity: Record<Severity, number>;
  by_severity: Record<string, MetricGroup>;
  by_team: Record<string, MetricGroup>;
  by_service: Record<string, MetricGroup>;
}

/** Time to acknowledge and time to resolve are measured from detection. */
export function summariseGroup(incidents: readonly IncidentTimes[]): MetricGroup {
  const resolved = incidents.filter((i) => i.resolved_at !== null);
  return {
    total: incidents.length,
    resolved: resolved.length,
    resolution_rate: incidents.length === 0 ? null : resolved.length / incidents.length,
    mtta: summariseDurations(
      incidents.filter((i) => i.acknowledged_at !== null).map((i) => secondsBetween(i.detected_at, i.acknowledged_at!)),
    ),
    mttr: summariseDurations(resolved.map((i) => secondsBetween(i.detected_at, i.resolved_at!))),
  };
}

function groupBy(incidents: readonly IncidentTimes[], keys: (i: IncidentTimes) => readonly string[]): Record<string, MetricGroup> {
  const groups = new Map<string, IncidentTimes[]>();
  for (const incident of incidents) {
    for (const key of keys(incident)) {
      const list = groups.get(key) ?? [];
      list.push(incident);
      groups.set(key, list);
    }
  }
  return Object.fromEntries([...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, list]) => [k, summariseGroup(list)]));
}

/** Metrics over incidents detected in [from, to). An incident with no team is grouped under `(none)`. */
export function computeIncidentMetrics(incidents: readonly IncidentTimes[], from: string, to: string): IncidentMetrics {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const incident of incidents) counts[incident.severity] += 1;
  return {
    from,
    to,
    overall: summariseGroup(incidents),
    counts_by_severity: counts,
    by_severity: groupBy(incidents, (i) => [i.severity]),
    by_team: groupBy(incidents, (i) => [i.team ?? '(none)']),
    by_service: groupBy(incidents, (i) => i.services),
  };
}
