export * from './lifecycle.ts';
export * from './schemas.ts';
export { IncidentService, type TimelineDraft, type CreatedIncident } from './service.ts';
export { incidentMigrations, type IncidentTables } from './schema.ts';
export { computeIncidentMetrics, type IncidentTimes, type IncidentMetrics } from './metrics.ts';
export { formatIncidentId, INCIDENT_ID_PATTERN } from './ids.ts';
export { incidentRoutes } from './routes.ts';
export * as incidentRepository from './repository.ts';
