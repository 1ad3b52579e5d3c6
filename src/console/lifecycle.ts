import { Type } from 'typebox';
import type { HttpApp } from '../http/app.ts';
import {
  ACTIVE_STATUSES,
  ALLOWED_TRANSITIONS,
  INCIDENT_STATUSES,
  IncidentStatusSchema,
  SEVERITIES,
  SeveritySchema,
} from '../incidents/index.ts';

const LifecycleSchema = Type.Object({
  statuses: Type.Array(IncidentStatusSchema, { description: 'in lifecycle order' }),
  active_statuses: Type.Array(IncidentStatusSchema),
  severities: Type.Array(SeveritySchema, { description: 'least to most severe' }),
  transitions: Type.Record(Type.String(), Type.Array(IncidentStatusSchema), { description: 'allowed moves from each status' }),
});

/**
 * The lifecycle table as data, so the console (and other clients) offer exactly the moves the server
 * allows without keeping a copy of `ALLOWED_TRANSITIONS`.
 */
export function lifecycleRoutes(app: HttpApp): void {
  const body = {
    statuses: [...INCIDENT_STATUSES],
    active_statuses: [...ACTIVE_STATUSES],
    severities: [...SEVERITIES],
    transitions: Object.fromEntries(INCIDENT_STATUSES.map((status) => [status, [...ALLOWED_TRANSITIONS[status]]])),
  };
  app.get(
    '/api/v1/lifecycle',
    { schema: { tags: ['incidents'], summary: 'Incident statuses, severities and the allowed transitions', response: { 200: LifecycleSchema } } },
    async () => body,
  );
}
