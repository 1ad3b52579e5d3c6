/** `INC-YYYYMMDD-NNNN`: the UTC day of creation and a per-day number (more digits past 9999). */
export function formatIncidentId(createdAt: Date, number: number): string {
  return `INC-${incidentDay(createdAt)}-${String(number).padStart(4, '0')}`;
}

export function incidentDay(at: Date): string {
  return at.toISOString().slice(0, 10).replaceAll('-', '');
}

export const INCIDENT_ID_PATTERN = /^INC-\d{8}-\d{4,}$/;
