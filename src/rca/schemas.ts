import { Type, type Static } from 'typebox';

const Id = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'stable id chosen by the editor' });
const Text = (max: number) => Type.String({ minLength: 1, maxLength: max });

/** Evidence points at a real record; each kind is checked against the data it names when saved. */
export const EvidenceSchema = Type.Union([
  Type.Object({ kind: Type.Literal('timeline_entry'), entry_id: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('alert'), alert_id: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('change'), change_id: Type.String({ minLength: 1, maxLength: 64 }), note: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false }),
  Type.Object(
    {
      kind: Type.Literal('llm_stats_window'),
      service: Type.String({ minLength: 1 }),
      from: Type.String({ format: 'date-time' }),
      to: Type.String({ format: 'date-time' }),
      note: Type.Optional(Type.String({ maxLength: 1000 })),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { kind: Type.Literal('plan_step'), execution_id: Type.String({ minLength: 1 }), step_id: Type.String({ minLength: 1 }) },
    { additionalProperties: false },
  ),
  Type.Object(
    { kind: Type.Literal('link'), url: Type.String({ format: 'uri', pattern: '^https?://' }), title: Type.Optional(Type.String({ maxLength: 300 })) },
    { additionalProperties: false },
  ),
]);
export type Evidence = Static<typeof EvidenceSchema>;
export type EvidenceKind = Evidence['kind'];

const EvidenceList = Type.Array(EvidenceSchema, { maxItems: 50, default: [] });

export const WhySchema = Type.Object(
  {
    id: Id,
    /** The why this one answers further; null for the first why. Several whys with one parent are branches. */
    parent_id: Type.Union([Id, Type.Null()]),
    question: Text(2000),
    answer: Type.Union([Type.String({ maxLength: 4000 }), Type.Null()]),
    evidence: Type.Optional(EvidenceList),
  },
  { additionalProperties: false },
);
export type Why = Static<typeof WhySchema>;

export const EntrySchema = Type.Object(
  { id: Id, text: Text(4000), evidence: Type.Optional(EvidenceList) },
  { additionalProperties: false },
);

export const RecommendationSchema = Type.Object(
  {
    id: Id,
    text: Text(4000),
    /** Set by the server once the recommendation has become a tracked action item. */
    action_item_id: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  },
  { additionalProperties: false },
);

export const FiveWhysBodySchema = Type.Object(
  {
    problem: Type.String({ maxLength: 4000, default: '' }),
    whys: Type.Array(WhySchema, { maxItems: 200 }),
    /** The last why of the branch the team settled on; its answer is the root cause. */
    chosen_why_id: Type.Optional(Type.Union([Id, Type.Null()])),
    contributing_factors: Type.Optional(Type.Array(EntrySchema, { maxItems: 100 })),
    recommendations: Type.Optional(Type.Array(RecommendationSchema, { maxItems: 100 })),
  },
  { additionalProperties: false },
);
export type FiveWhysBody = Static<typeof FiveWhysBodySchema>;

export const FISHBONE_CATEGORIES = ['people', 'process', 'technology', 'environment', 'measurement', 'materials'] as const;

export const CauseSchema = Type.Object(
  {
    id: Id,
    text: Text(2000),
    evidence: Type.Optional(EvidenceList),
    /** Users who voted for this cause; votes are cast through the vote endpoint. */
    votes: Type.Optional(Type.Array(Type.String(), { maxItems: 500 })),
    sub_causes: Type.Optional(
      Type.Array(
        Type.Object(
          { id: Id, text: Text(2000), evidence: Type.Optional(EvidenceList), votes: Type.Optional(Type.Array(Type.String(), { maxItems: 500 })) },
          { additionalProperties: false },
        ),
        { maxItems: 50 },
      ),
    ),
  },
  { additionalProperties: false },
);
export type Cause = Static<typeof CauseSchema>;

export const FishboneBodySchema = Type.Object(
  {
    problem: Type.String({ maxLength: 4000, default: '' }),
    categories: Type.Array(
      Type.Object(
        {
          key: Type.Enum(FISHBONE_CATEGORIES),
          name: Text(100),
          causes: Type.Array(CauseSchema, { maxItems: 100 }),
        },
        { additionalProperties: false },
      ),
      { minItems: 6, maxItems: 6 },
    ),
    /** The cause (or sub-cause) accepted as the root cause. */
    chosen_cause_id: Type.Optional(Type.Union([Id, Type.Null()])),
  },
  { additionalProperties: false },
);
export type FishboneBody = Static<typeof FishboneBodySchema>;

export const AnalysisKindSchema = Type.Enum(['five_whys', 'fishbone']);
export type AnalysisKind = Static<typeof AnalysisKindSchema>;

export const AnalysisSchema = Type.Object({
  id: Type.String(),
  incident_id: Type.String(),
  kind: AnalysisKindSchema,
  title: Type.String(),
  author: Type.String(),
  status: Type.Enum(['draft', 'reviewed']),
  accepted: Type.Boolean({ description: 'its root cause is the incident’s accepted root cause' }),
  root_cause: Type.Union([Type.String(), Type.Null()]),
  body: Type.Unknown({ description: 'FiveWhysBody or FishboneBody' }),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  version: Type.Integer(),
});
export type Analysis = Omit<Static<typeof AnalysisSchema>, 'body'> & { body: FiveWhysBody | FishboneBody };

export const CreateAnalysisSchema = Type.Object(
  {
    kind: AnalysisKindSchema,
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
    problem: Type.Optional(Type.String({ maxLength: 4000 })),
    /** A 5-whys starter template: suggests questions, never answers. */
    template: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
);

export const UpdateAnalysisSchema = Type.Object(
  {
    version: Type.Integer({ minimum: 1 }),
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
    body: Type.Unknown({ description: 'the whole structure; validated against the analysis kind' }),
  },
  { additionalProperties: false },
);

export const HistoryEntrySchema = Type.Object({
  id: Type.Integer(),
  analysis_id: Type.String(),
  at: Type.String({ format: 'date-time' }),
  actor: Type.String(),
  change: Type.String(),
  version: Type.Integer(),
  snapshot: Type.Unknown(),
});
