import { Type, type Static } from 'typebox';
import { SERVICE_STATUSES } from './impact.ts';

const Slug = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$', description: 'URL slug: /status/<slug>' });

export const PUBLIC_UPDATE_STATUSES = ['investigating', 'identified', 'monitoring', 'resolved'] as const;
export { SERVICE_STATUSES };
export type ServiceStatus = (typeof SERVICE_STATUSES)[number];

export const CreateStatusPageSchema = Type.Object(
  {
    id: Slug,
    title: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    services: Type.Array(Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,62}$' }), { minItems: 1, maxItems: 100, uniqueItems: true }),
  },
  { additionalProperties: false },
);
export type CreateStatusPageInput = Static<typeof CreateStatusPageSchema>;

export const PatchStatusPageSchema = Type.Object(
  {
    version: Type.Optional(Type.Integer({ minimum: 1 })),
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    services: Type.Optional(Type.Array(Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,62}$' }), { minItems: 1, maxItems: 100, uniqueItems: true })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type PatchStatusPageInput = Static<typeof PatchStatusPageSchema>;

export const StatusPageSchema = Type.Object({
  id: Type.String(),
  title: Type.String(),
  description: Type.String(),
  services: Type.Array(Type.String()),
  url: Type.String({ description: 'public path of the HTML page' }),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  version: Type.Integer(),
});
export type StatusPage = Static<typeof StatusPageSchema>;

export const CreatePublicUpdateSchema = Type.Object(
  {
    status: Type.Enum(PUBLIC_UPDATE_STATUSES),
    message: Type.String({ minLength: 1, maxLength: 5000, description: 'shown verbatim (escaped) on public status pages' }),
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'public title; required on the first update' })),
    components: Type.Optional(
      Type.Record(Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,62}$' }), Type.Enum(SERVICE_STATUSES), {
        maxProperties: 100,
        description:
          "status to show per affected service (component) from this update on; a service not named shows the incident's severity (critical: major outage, high: partial outage, else degraded performance)",
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreatePublicUpdateInput = Static<typeof CreatePublicUpdateSchema>;

export const PublicUpdateSchema = Type.Object({
  id: Type.Integer(),
  incident_id: Type.String(),
  title: Type.String(),
  status: Type.Enum(PUBLIC_UPDATE_STATUSES),
  message: Type.String(),
  components: Type.Record(Type.String(), Type.Enum(SERVICE_STATUSES), { description: 'component statuses this update set; empty: they follow the severity' }),
  author: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
});
export type PublicUpdate = Static<typeof PublicUpdateSchema>;

const ServiceStatusSchema = Type.Enum(SERVICE_STATUSES);

/** Everything the public sees. Built only from public updates, service names and coarse incident times. */
export const PublicStatusSchema = Type.Object({
  page: Type.Object({ id: Type.String(), title: Type.String(), description: Type.String() }),
  generated_at: Type.String({ format: 'date-time' }),
  overall_status: ServiceStatusSchema,
  services: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), status: ServiceStatusSchema })),
  active_incidents: Type.Array(
    Type.Object({
      id: Type.String({ description: 'public reference, stable across updates' }),
      title: Type.String(),
      status: Type.Enum(PUBLIC_UPDATE_STATUSES),
      impact: ServiceStatusSchema,
      affected_services: Type.Array(Type.String()),
      started_at: Type.String({ format: 'date-time' }),
      updates: Type.Array(Type.Object({ status: Type.Enum(PUBLIC_UPDATE_STATUSES), message: Type.String(), at: Type.String({ format: 'date-time' }) })),
    }),
  ),
  history: Type.Array(
    Type.Object({
      service: Type.String(),
      name: Type.String(),
      days: Type.Array(Type.Object({ date: Type.String({ format: 'date' }), status: ServiceStatusSchema })),
    }),
  ),
});
export type PublicStatus = Static<typeof PublicStatusSchema>;
