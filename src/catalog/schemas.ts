import { Type, type Static } from 'typebox';

const Slug = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,62}$', description: 'lower-case identifier, immutable' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

export const TeamMemberSchema = Type.Object(
  {
    user: Type.String({ minLength: 1, maxLength: 200, description: 'user handle or e-mail' }),
    role: Type.Optional(Type.Union([Type.Literal('member'), Type.Literal('lead')], { default: 'member' })),
  },
  { additionalProperties: false },
);

export const TeamSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  members: Type.Array(Type.Object({ user: Type.String(), role: Type.String() })),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  version: Type.Integer(),
});
export type Team = Static<typeof TeamSchema>;

export const CreateTeamSchema = Type.Object(
  {
    id: Slug,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    members: Type.Optional(Type.Array(TeamMemberSchema, { maxItems: 500 })),
  },
  { additionalProperties: false },
);
export type CreateTeamInput = Static<typeof CreateTeamSchema>;

export const PatchTeamSchema = Type.Object(
  {
    version: Type.Optional(Type.Integer({ minimum: 1 })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    members: Type.Optional(Type.Array(TeamMemberSchema, { maxItems: 500 })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type PatchTeamInput = Static<typeof PatchTeamSchema>;

/** Recovery objectives live here, per service, so recovery plans never carry constants of their own. */
const ServiceObjectives = {
  description: Type.Optional(Type.String({ maxLength: 4000 })),
  tier: Type.Optional(Type.Integer({ minimum: 1, maximum: 4, default: 3, description: '1 = most critical' })),
  rto_minutes: Type.Optional(Nullable(Type.Integer({ minimum: 1, description: 'recovery time objective' }))),
  rpo_minutes: Type.Optional(Nullable(Type.Integer({ minimum: 0, description: 'recovery point objective' }))),
  slo_target: Type.Optional(Nullable(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'e.g. 0.999' }))),
  data_integrity_required: Type.Optional(Type.Boolean({ default: false })),
  depends_on: Type.Optional(Type.Array(Slug, { maxItems: 100, uniqueItems: true })),
};

export const ServiceSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  owner_team: Nullable(Type.String()),
  tier: Type.Integer(),
  rto_minutes: Nullable(Type.Integer()),
  rpo_minutes: Nullable(Type.Integer()),
  slo_target: Nullable(Type.Number()),
  data_integrity_required: Type.Boolean(),
  depends_on: Type.Array(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  version: Type.Integer(),
});
export type Service = Static<typeof ServiceSchema>;

export const CreateServiceSchema = Type.Object(
  {
    id: Slug,
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    owner_team: Type.Optional(Nullable(Slug)),
    ...ServiceObjectives,
  },
  { additionalProperties: false },
);
export type CreateServiceInput = Static<typeof CreateServiceSchema>;

export const PatchServiceSchema = Type.Object(
  {
    version: Type.Optional(Type.Integer({ minimum: 1 })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    owner_team: Type.Optional(Nullable(Slug)),
    ...ServiceObjectives,
  },
  { additionalProperties: false, minProperties: 1 },
);
export type PatchServiceInput = Static<typeof PatchServiceSchema>;
