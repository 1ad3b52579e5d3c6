/** Wire types, taken from the server's own schemas so the console cannot drift from the API. */
export type { Incident, TimelineEntry, IncidentStatus, Severity } from '../../src/incidents/index.ts';
export type { IncidentMetrics, MetricGroup } from '../../src/incidents/metrics.ts';
export type { DurationSummary } from '../../src/shared/stats.ts';
export type { Service, Team } from '../../src/catalog/schemas.ts';
export type { TokenInfo } from '../../src/auth/tokens.ts';
export type { Role } from '../../src/auth/roles.ts';

export interface Me {
  name: string;
  role: 'viewer' | 'responder' | 'admin';
  token_id: string;
}

export interface Lifecycle {
  statuses: string[];
  active_statuses: string[];
  severities: string[];
  transitions: Record<string, string[]>;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}
