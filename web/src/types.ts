/** Wire types, taken from the server's own schemas so the console cannot drift from the API. */
export type { Incident, TimelineEntry, IncidentStatus, Severity } from '../../src/incidents/index.ts';
export type { IncidentMetrics, MetricGroup } from '../../src/incidents/metrics.ts';
export type { DurationSummary } from '../../src/shared/stats.ts';
export type { Service, Team } from '../../src/catalog/schemas.ts';
export type { TokenInfo } from '../../src/auth/tokens.ts';
export type { Role } from '../../src/auth/roles.ts';
export type { DrillRun, DrillRunSummary } from '../../src/drills/schemas.ts';
export type { Change, Suspect, SuspectsResponse, ChangeKind } from '../../src/changes/schemas.ts';

export interface Me {
  kind: 'person' | 'token';
  /** The person's handle or the token's name: what the timeline records. */
  name: string;
  display_name: string;
  role: 'viewer' | 'responder' | 'admin';
  token_id?: string;
  email?: string;
  csrf_token?: string;
}

/** Someone an incident can be assigned to (`GET /api/v1/people`). */
export interface Person {
  handle: string;
  name: string;
  email: string | null;
  role: 'viewer' | 'responder' | 'admin' | null;
  teams: string[];
  account: boolean;
}

export interface SignInMethods {
  password: boolean;
  sso: { name: string; start_url: string } | null;
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

import type { Static } from 'typebox';
import type { ActionItemSchema, EvaluationSchema, PlanSchema, PostmortemSchema } from '../../src/recovery/schemas.ts';
import type { AnalysisSchema, FiveWhysBody, FishboneBody } from '../../src/rca/schemas.ts';
export type { FiveWhysBody, FishboneBody, Evidence, Why, Cause } from '../../src/rca/schemas.ts';
export type { FaultTreeAnalysis, CutSet, ImportanceMeasures } from '../../src/rca/fta/analysis.ts';

export type RecoveryPlan = Static<typeof PlanSchema>;
export type RecoveryStep = RecoveryPlan['steps'][number];
export interface CriterionResult {
  criterion: string;
  passed: boolean;
  detail: string;
  observed?: unknown;
}
export type RecoveryEvaluation = Omit<Static<typeof EvaluationSchema>, 'results'> & { results: CriterionResult[] };
export type Postmortem = Static<typeof PostmortemSchema>;
export type ActionItem = Static<typeof ActionItemSchema>;
export type Analysis = Omit<Static<typeof AnalysisSchema>, 'body'> & { body: FiveWhysBody | FishboneBody };
export type { Alert, IncidentAlertSummary, RelatedCandidate, IncidentLink, Integration, IntegrationDetail, CreatedIntegration } from '../../src/ingest/schemas.ts';
export type { Execution, StepRun, PlanSummary, PlanDetail, DryRunReport } from '../../src/plans/api.ts';
export type { Channel } from '../../src/oncall/notify/schemas.ts';
export type { Schedule, OnCallAnswer } from '../../src/oncall/schemas.ts';
