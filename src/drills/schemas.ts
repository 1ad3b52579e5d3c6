import { Type, type Static } from 'typebox';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
const Minute = Nullable(Type.Number({ description: 'minute of the simulated timeline (0 = its start), null when it did not happen' }));

export const ObservedAlertSchema = Type.Object({
  id: Type.String(),
  service: Type.String({ description: 'as the scenario names it' }),
  source: Type.String(),
  summary: Type.String(),
  minute: Type.Number(),
});

export const ObservedIncidentSchema = Type.Object({
  id: Type.String(),
  service: Type.String({ description: 'the first affected service, as the scenario names it' }),
  title: Type.String(),
  severity: Type.String(),
  status: Type.String(),
  opened_minute: Type.Number(),
  acknowledged_minute: Minute,
  resolved_minute: Minute,
});

export const ObservedExecutionSchema = Type.Object({
  id: Type.String(),
  plan_id: Type.String({ description: 'as the scenario names it' }),
  incident_id: Type.String(),
  status: Type.String(),
  trigger: Type.String(),
  started_minute: Type.Number(),
  finished_minute: Minute,
  waiting_for: Type.Array(Type.String({ description: 'steps waiting on a person (an approval or a decision) when the drill ended' })),
  steps: Type.Array(Type.Object({ id: Type.String(), type: Type.String(), status: Type.String(), finished_minute: Minute, error: Nullable(Type.String()) })),
});

export const ObservedCorrelationSchema = Type.Object({
  service: Type.String(),
  with: Type.String(),
  incident_id: Nullable(Type.String()),
  other_incident_id: Nullable(Type.String()),
  suggested: Type.Boolean({ description: 'the server listed the other incident among the related candidates' }),
  score: Nullable(Type.Number()),
  evidence: Type.Array(Type.String()),
  linked: Type.Array(Type.String({ description: 'link kinds recorded between the two' })),
});

export const ObservedRecoverySchema = Type.Object({
  incident_id: Type.String(),
  service: Type.String(),
  status: Type.String(),
  started_minute: Type.Number(),
  verified_minute: Minute,
  evaluations: Type.Integer(),
  last_detail: Nullable(Type.String({ description: 'what the last evaluation observed' })),
});

export const ObservedSuspectsSchema = Type.Object({
  incident_id: Type.String(),
  service: Type.String({ description: 'the incident’s service, as the scenario names it' }),
  items: Type.Array(
    Type.Object({
      rank: Type.Integer(),
      kind: Type.String(),
      service: Type.String({ description: 'the changed service, as the scenario names it' }),
      summary: Type.String(),
      source: Type.String(),
      score: Type.Number(),
      minute: Type.Number({ description: 'simulated minute the change took effect' }),
    }),
  ),
});

export const ExpectationResultSchema = Type.Object({
  kind: Type.String(),
  expectation: Type.String({ description: 'the expectation in words' }),
  held: Type.Boolean(),
  observed: Type.String({ description: 'what actually happened' }),
});

export const ScorecardSchema = Type.Object(
  {
    scenario: Type.String({ minLength: 1, maxLength: 100 }),
    title: Type.String({ maxLength: 200 }),
    seed: Type.Integer(),
    speed: Type.Number({ exclusiveMinimum: 0 }),
    prefix: Type.String({ maxLength: 40 }),
    run_tag: Type.String({ maxLength: 20 }),
    responders: Type.Boolean({ description: 'simulated responders acted (false: people were left to act)' }),
    started_at: Type.String({ format: 'date-time', description: 'real time the run started' }),
    finished_at: Type.String({ format: 'date-time' }),
    sim_start: Type.String({ format: 'date-time', description: 'simulated instant of minute 0 of the timeline' }),
    baseline_minutes: Type.Number(),
    duration_minutes: Type.Number(),
    fault_minute: Type.Number({ description: 'minute the first fault starts; the times below are measured from it' }),
    alerts_before_fault: Type.Integer({ description: 'alerts for the drill’s services before the first fault: false alarms, baseline included' }),
    time_to_detect_minutes: Nullable(Type.Number()),
    time_to_incident_minutes: Nullable(Type.Number()),
    time_to_acknowledge_minutes: Nullable(Type.Number()),
    time_to_recovery_minutes: Nullable(Type.Number({ description: 'to verified recovery' })),
    alerts: Type.Array(ObservedAlertSchema),
    incidents: Type.Array(ObservedIncidentSchema),
    plans: Type.Array(ObservedExecutionSchema),
    correlation: Type.Array(ObservedCorrelationSchema),
    recoveries: Type.Array(ObservedRecoverySchema),
    failovers: Type.Array(Type.Object({ service: Type.String(), to_provider: Type.String(), minute: Type.Number() })),
    suspects: Type.Optional(Type.Array(ObservedSuspectsSchema, { description: 'the changes ranked for each incident, most likely cause first' })),
    expectations: Type.Array(ExpectationResultSchema),
    passed: Type.Boolean({ description: 'every expectation held' }),
  },
  { additionalProperties: false },
);
export type Scorecard = Static<typeof ScorecardSchema>;
export type ObservedAlert = Static<typeof ObservedAlertSchema>;
export type ObservedIncident = Static<typeof ObservedIncidentSchema>;
export type ObservedExecution = Static<typeof ObservedExecutionSchema>;
export type ObservedCorrelation = Static<typeof ObservedCorrelationSchema>;
export type ObservedRecovery = Static<typeof ObservedRecoverySchema>;
export type ExpectationResult = Static<typeof ExpectationResultSchema>;
export type ObservedSuspects = Static<typeof ObservedSuspectsSchema>;

export const DrillRunSchema = Type.Object({
  id: Type.Integer(),
  scenario: Type.String(),
  passed: Type.Boolean(),
  started_at: Type.String(),
  finished_at: Type.String(),
  created_by: Type.String(),
  created_at: Type.String(),
  scorecard: ScorecardSchema,
});
export type DrillRun = Static<typeof DrillRunSchema>;

export const DrillRunSummarySchema = Type.Object({
  id: Type.Integer(),
  scenario: Type.String(),
  title: Type.String(),
  passed: Type.Boolean(),
  expectations_held: Type.Integer(),
  expectations_total: Type.Integer(),
  time_to_detect_minutes: Nullable(Type.Number()),
  time_to_recovery_minutes: Nullable(Type.Number()),
  started_at: Type.String(),
  finished_at: Type.String(),
  created_by: Type.String(),
});
export type DrillRunSummary = Static<typeof DrillRunSummarySchema>;

export const ListDrillRunsQuerySchema = Type.Object(
  {
    scenario: Type.Optional(Type.String({ maxLength: 100 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  },
  { additionalProperties: false },
);
