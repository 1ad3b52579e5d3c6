import { secondsBetween } from '../shared/stats.ts';
import type { RecoveryObjectives } from './objectives.ts';

/** A recorded data-loss window: measured directly, or from the last known-good data to when writes stopped being safe. */
export interface DataLoss {
  window_minutes: number;
  basis: 'measured' | 'last_good_data' | 'prometheus';
  /** What a check observed when it measured the window (its samples), as evidence. */
  evidence?: Record<string, unknown>;
  last_good_data_at: string | null;
  lost_until: string | null;
  source: string;
  note: string | null;
  recorded_by: string;
  recorded_at: string;
}

export interface CriterionResult {
  criterion: string;
  kind: string;
  passed: boolean;
  observed: Record<string, unknown>;
  expected: string;
  detail: string;
  at: string;
  duration_ms: number;
}

export interface Evaluation {
  id: number;
  incident_id: string;
  epoch: number;
  phase: string;
  evaluated_at: string;
  passed: boolean;
  results: CriterionResult[];
  actor: string;
  outcome: string;
}

export interface RollbackRecord {
  id: number;
  incident_id: string;
  started_at: string;
  trigger: string;
  reason: string;
  actor: string;
  procedure_steps: string[];
  reverted_steps: { id: string; status: string; started_at: string | null; completed_at: string | null }[];
  incident_status_before: string;
  incident_moved_to: string | null;
}

export interface ReportInput {
  incident_id: string;
  objectives: RecoveryObjectives;
  rto_clock_started_at: string;
  rto_due_at: string | null;
  rto_breach_recorded_at: string | null;
  plan_created_at: string;
  verified_at: string | null;
  data_loss: DataLoss | null;
  evaluations: Evaluation[];
  rollbacks: RollbackRecord[];
  steps: { id: string; title: string; status: string; started_at: string | null; completed_at: string | null; estimate_minutes: number }[];
}

export interface RecoveryReport {
  incident_id: string;
  status: 'verified' | 'not_verified';
  started_at: string;
  plan_created_at: string;
  verified_at: string | null;
  /** Detection to verified recovery, from the stored times; null until verified. */
  duration_seconds: number | null;
  rto: {
    tracked: boolean;
    objective_minutes: number | null;
    source_service: string | null;
    note: string;
    due_at: string | null;
    met: boolean | null;
    /** Positive: recovered this many seconds before the deadline; negative: this many after (or overrun so far). */
    margin_seconds: number | null;
    breach_recorded_at: string | null;
  };
  rpo: {
    tracked: boolean;
    objective_minutes: number | null;
    source_service: string | null;
    note: string;
    data_loss: DataLoss | null;
    met: boolean | null;
    /** Positive: the loss window was this many minutes inside the RPO; negative: beyond it. */
    margin_minutes: number | null;
  };
  steps: ReportInput['steps'];
  verification: { evaluations: number; passed: number; failed: number; evidence: Evaluation[] };
  rollbacks: RollbackRecord[];
}

/** The recovery report: every figure derived from stored timestamps and recorded measurements. */
export function buildRecoveryReport(input: ReportInput, now: Date): RecoveryReport {
  const rtoObjective = input.objectives.rto_minutes;
  const rpoObjective = input.objectives.rpo_minutes;
  const verifiedAt = input.verified_at;
  let rtoMet: boolean | null = null;
  let rtoMargin: number | null = null;
  if (input.rto_due_at) {
    if (verifiedAt) {
      rtoMargin = secondsBetween(verifiedAt, input.rto_due_at);
      rtoMet = rtoMargin >= 0;
    } else if (now.toISOString() > input.rto_due_at) {
      // Not recovered and the deadline has passed: missed, by at least this much so far.
      rtoMargin = secondsBetween(now.toISOString(), input.rto_due_at);
      rtoMet = false;
    }
  }
  let rpoMet: boolean | null = null;
  let rpoMargin: number | null = null;
  let rpoNote = rpoObjective.note;
  if (rpoObjective.value !== null) {
    if (input.data_loss) {
      rpoMargin = rpoObjective.value - input.data_loss.window_minutes;
      rpoMet = rpoMargin >= 0;
    } else {
      rpoNote = `${rpoObjective.note}; no data-loss window has been recorded yet, so whether it was met is unknown`;
    }
  }
  const passed = input.evaluations.filter((e) => e.passed).length;
  return {
    incident_id: input.incident_id,
    status: verifiedAt ? 'verified' : 'not_verified',
    started_at: input.rto_clock_started_at,
    plan_created_at: input.plan_created_at,
    verified_at: verifiedAt,
    duration_seconds: verifiedAt ? secondsBetween(input.rto_clock_started_at, verifiedAt) : null,
    rto: {
      tracked: rtoObjective.value !== null,
      objective_minutes: rtoObjective.value,
      source_service: rtoObjective.source_service,
      note: rtoObjective.note,
      due_at: input.rto_due_at,
      met: rtoMet,
      margin_seconds: rtoMargin,
      breach_recorded_at: input.rto_breach_recorded_at,
    },
    rpo: {
      tracked: rpoObjective.value !== null,
      objective_minutes: rpoObjective.value,
      source_service: rpoObjective.source_service,
      note: rpoNote,
      data_loss: input.data_loss,
      met: rpoMet,
      margin_minutes: rpoMargin,
    },
    steps: input.steps,
    verification: { evaluations: input.evaluations.length, passed, failed: input.evaluations.length - passed, evidence: input.evaluations },
    rollbacks: input.rollbacks,
  };
}
