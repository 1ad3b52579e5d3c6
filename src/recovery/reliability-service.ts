import { AppError } from '../shared/errors.ts';
import { fromJson, type Database } from '../storage/index.ts';
import { incidentRepository } from '../incidents/index.ts';
import { computeReliability, type ReliabilityMetrics, type ReliabilityRecord } from './reliability.ts';
import { actionItemStatuses, planDeadlines } from './repository.ts';
import type { PlanRow } from './schema.ts';

const CHUNK = 500;

type PlanDeadline = Pick<PlanRow, 'rto_due_at' | 'verified_at'>;

/** Loads the stored facts the reliability metrics are computed from (`reliability.ts` does the arithmetic). */
export class ReliabilityService {
  private readonly db: Database['db'];

  constructor(
    database: Database,
    /** Pairs of incidents responders linked (related, duplicate, caused by), for the recurrence clusters. */
    private readonly linkedPairs: () => Promise<[string, string][]>,
    private readonly clock: () => Date,
  ) {
    this.db = database.db;
  }

  async compute(fromInput: string, toInput: string): Promise<ReliabilityMetrics> {
    const from = new Date(fromInput).toISOString();
    const to = new Date(toInput).toISOString();
    if (from >= to) throw new AppError('validation_failed', 'to: must be after from', { field: 'to' });
    const incidents = await incidentRepository.incidentsDetectedBetween(this.db, from, to);
    const ids = incidents.map((i) => i.id);
    const changes = new Map<string, { at: string; from: string; to: string }[]>();
    const plans = new Map<string, PlanDeadline>();
    const items = new Map<string, { status: string }[]>();
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      const [timeline, planRows, itemRows] = await Promise.all([
        incidentRepository.timelineEntriesOfKind(this.db, chunk, 'status_changed'),
        planDeadlines(this.db, chunk),
        actionItemStatuses(this.db, chunk),
      ]);
      for (const entry of timeline) {
        const data = fromJson<{ from?: string; to?: string }>(entry.data, {});
        if (!data.from || !data.to) continue;
        changes.set(entry.incident_id, [...(changes.get(entry.incident_id) ?? []), { at: entry.at, from: data.from, to: data.to }]);
      }
      for (const plan of planRows) plans.set(plan.incident_id, plan);
      for (const item of itemRows) items.set(item.incident_id, [...(items.get(item.incident_id) ?? []), { status: item.status }]);
    }
    const nowIso = this.clock().toISOString();
    const records: ReliabilityRecord[] = incidents.map((i) => ({
      id: i.id,
      severity: i.severity,
      team: i.team,
      services: fromJson<string[]>(i.services, []),
      detected_at: i.detected_at,
      created_at: i.created_at,
      acknowledged_at: i.acknowledged_at,
      resolved_at: i.resolved_at,
      root_cause: i.root_cause,
      status_changes: changes.get(i.id) ?? [],
      rto: rtoOutcome(plans.get(i.id), nowIso),
      action_items: items.get(i.id) ?? [],
    }));
    return computeReliability(records, await this.linkedPairs(), from, to);
  }
}

function rtoOutcome(plan: PlanDeadline | undefined, nowIso: string): ReliabilityRecord['rto'] {
  if (!plan) return 'no_plan';
  if (!plan.rto_due_at) return 'not_tracked';
  if (plan.verified_at) return plan.verified_at <= plan.rto_due_at ? 'met' : 'missed';
  return nowIso > plan.rto_due_at ? 'missed' : 'pending';
}
