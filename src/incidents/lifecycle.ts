/**
 * The incident lifecycle, declared once. Everything that moves an incident (API, CLI, plans, UI)
 * asks this table; nothing else encodes which moves are legal.
 */
export const INCIDENT_STATUSES = [
  'detected',
  'investigating',
  'identified',
  'containing',
  'eradicating',
  'recovering',
  'resolved',
  'post_incident',
] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const ACTIVE_STATUSES: readonly IncidentStatus[] = INCIDENT_STATUSES.filter(
  (s) => s !== 'resolved' && s !== 'post_incident',
);

/**
 * Allowed moves. Forward steps; skips a responder really makes (a false alarm resolved straight from
 * `detected`, a cause found while still investigating, a fix that needs no containment); going back to
 * `investigating` when a hypothesis proves wrong; `recovering → containing` when a recovery is rolled back;
 * and reopening a resolved incident.
 */
export const ALLOWED_TRANSITIONS: Readonly<Record<IncidentStatus, readonly IncidentStatus[]>> = {
  detected: ['investigating', 'identified', 'containing', 'resolved'],
  investigating: ['identified', 'containing', 'resolved'],
  identified: ['investigating', 'containing', 'eradicating', 'recovering', 'resolved'],
  containing: ['investigating', 'eradicating', 'recovering', 'resolved'],
  eradicating: ['investigating', 'recovering', 'resolved'],
  recovering: ['investigating', 'containing', 'resolved'],
  resolved: ['post_incident', 'investigating'],
  post_incident: [],
};

export function isTransitionAllowed(from: IncidentStatus, to: IncidentStatus): boolean {
  return ALLOWED_TRANSITIONS[from].includes(to);
}

export function isActiveStatus(status: IncidentStatus): boolean {
  return ACTIVE_STATUSES.includes(status);
}

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/** Moving from resolved back into the active states is a reopening and clears the resolution time. */
export function isReopening(from: IncidentStatus, to: IncidentStatus): boolean {
  return !isActiveStatus(from) && isActiveStatus(to);
}
