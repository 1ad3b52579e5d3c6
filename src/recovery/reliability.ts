import { secondsBetween, summariseDurations, type DurationSummary } from '../shared/stats.ts';
import { INCIDENT_STATUSES } from '../incidents/index.ts';

/** The stored facts one incident contributes; every metric below is derived from them. */
export interface ReliabilityRecord {
  id: string;
  severity: string;
  team: string | null;
  services: readonly string[];
  detected_at: string;
  created_at: string;
  acknowledged_at: string | null;
  resolved_at: string | null;
  root_cause: string | null;
  /** `status_changed` timeline entries in order: when the incident moved, from where to where. */
  status_changes: readonly { at: string; from: string; to: string }[];
  /** RTO outcome from the recovery plan: met / missed, or null when not tracked or not decided yet. */
  rto: 'met' | 'missed' | 'not_tracked' | 'pending' | 'no_plan';
  action_items: readonly { status: string }[];
}

export interface ReliabilityGroup {
  incidents: number;
  /** First signal (`detected_at`) to the incident being opened (`created_at`). */
  mttd: DurationSummary;
  /** First signal to acknowledgement. */
  mtta: DurationSummary;
  /** First signal to resolution. */
  mttr: DurationSummary;
  /** Per state, the total time each incident spent in it (only completed stays: the current state is still running). */
  time_in_state: Record<string, DurationSummary>;
  rto_attainment: { met: number; missed: number; pending: number; not_tracked: number; no_plan: number; rate: number | null };
  action_items: { total: number; done: number; open: number; wont_do: number; completion_rate: number | null };
  recurrence: { recurring_incidents: number; rate: number | null };
}

export interface RecurrenceCluster {
  reason: 'shared_root_cause' | 'linked';
  root_cause: string | null;
  incidents: string[];
}

export interface ReliabilityMetrics {
  from: string;
  to: string;
  overall: ReliabilityGroup;
  by_severity: Record<string, ReliabilityGroup>;
  by_service: Record<string, ReliabilityGroup>;
  by_team: Record<string, ReliabilityGroup>;
  recurrence: { clusters: RecurrenceCluster[]; links_available: boolean };
}

/** Root causes written by different people match when they differ only in case, punctuation and spacing. */
export function normaliseRootCause(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Time spent in each state, summed per state, from creation through every recorded move. */
export function timeInStates(record: Pick<ReliabilityRecord, 'created_at' | 'status_changes'>): Record<string, number> {
  const totals: Record<string, number> = {};
  let state = 'detected';
  let since = record.created_at;
  for (const change of record.status_changes) {
    totals[change.from ?? state] = (totals[change.from ?? state] ?? 0) + secondsBetween(since, change.at);
    state = change.to;
    since = change.at;
  }
  return totals;
}

/** Incidents sharing a normalised root cause, and incidents connected by links (transitively), within the set. */
export function findRecurrence(records: readonly ReliabilityRecord[], links: readonly [string, string][] | null): RecurrenceCluster[] {
  const clusters: RecurrenceCluster[] = [];
  const byCause = new Map<string, { text: string; ids: string[] }>();
  for (const r of records) {
    if (!r.root_cause?.trim()) continue;
    const key = normaliseRootCause(r.root_cause);
    if (!key) continue;
    const entry = byCause.get(key) ?? { text: r.root_cause, ids: [] };
    entry.ids.push(r.id);
    byCause.set(key, entry);
  }
  for (const { text, ids } of [...byCause.values()].sort((a, b) => a.text.localeCompare(b.text))) {
    if (ids.length > 1) clusters.push({ reason: 'shared_root_cause', root_cause: text, incidents: [...ids].sort() });
  }
  if (links) {
    const inRange = new Set(records.map((r) => r.id));
    const parent = new Map<string, string>();
    const find = (x: string): string => {
      let root = x;
      while (parent.get(root) !== root) root = parent.get(root)!;
      parent.set(x, root);
      return root;
    };
    for (const [a, b] of links) {
      if (!inRange.has(a) || !inRange.has(b) || a === b) continue;
      if (!parent.has(a)) parent.set(a, a);
      if (!parent.has(b)) parent.set(b, b);
      parent.set(find(a), find(b));
    }
    const groups = new Map<string, string[]>();
    for (const id of parent.keys()) {
      const root = find(id);
      groups.set(root, [...(groups.get(root) ?? []), id]);
    }
    for (const ids of groups.values()) if (ids.length > 1) clusters.push({ reason: 'linked', root_cause: null, incidents: ids.sort() });
  }
  return clusters;
}

function summariseGroup(records: readonly ReliabilityRecord[], recurring: ReadonlySet<string>): ReliabilityGroup {
  const perState = new Map<string, number[]>();
  for (const r of records) {
    for (const [state, seconds] of Object.entries(timeInStates(r))) perState.set(state, [...(perState.get(state) ?? []), seconds]);
  }
  const time_in_state: Record<string, DurationSummary> = {};
  for (const state of INCIDENT_STATUSES) {
    const values = perState.get(state);
    if (values) time_in_state[state] = summariseDurations(values);
  }
  const rto = { met: 0, missed: 0, pending: 0, not_tracked: 0, no_plan: 0 };
  for (const r of records) rto[r.rto] += 1;
  const items = records.flatMap((r) => r.action_items);
  const done = items.filter((i) => i.status === 'done').length;
  const wontDo = items.filter((i) => i.status === 'wont_do').length;
  const recurringHere = records.filter((r) => recurring.has(r.id)).length;
  return {
    incidents: records.length,
    mttd: summariseDurations(records.map((r) => secondsBetween(r.detected_at, r.created_at))),
    mtta: summariseDurations(records.filter((r) => r.acknowledged_at).map((r) => secondsBetween(r.detected_at, r.acknowledged_at!))),
    mttr: summariseDurations(records.filter((r) => r.resolved_at).map((r) => secondsBetween(r.detected_at, r.resolved_at!))),
    time_in_state,
    rto_attainment: { ...rto, rate: rto.met + rto.missed === 0 ? null : rto.met / (rto.met + rto.missed) },
    action_items: {
      total: items.length,
      done,
      wont_do: wontDo,
      open: items.length - done - wontDo,
      completion_rate: items.length === 0 ? null : done / items.length,
    },
    recurrence: { recurring_incidents: recurringHere, rate: records.length === 0 ? null : recurringHere / records.length },
  };
}

function groupBy(
  records: readonly ReliabilityRecord[],
  keys: (r: ReliabilityRecord) => readonly string[],
  recurring: ReadonlySet<string>,
): Record<string, ReliabilityGroup> {
  const groups = new Map<string, ReliabilityRecord[]>();
  for (const r of records) for (const key of keys(r)) groups.set(key, [...(groups.get(key) ?? []), r]);
  return Object.fromEntries(
    [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, list]) => [key, summariseGroup(list, recurring)]),
  );
}

/** Reliability over incidents detected in [from, to), overall and by severity, service and team (`(none)` when unset). */
export function computeReliability(
  records: readonly ReliabilityRecord[],
  links: readonly [string, string][] | null,
  from: string,
  to: string,
): ReliabilityMetrics {
  const clusters = findRecurrence(records, links);
  const recurring = new Set(clusters.flatMap((c) => c.incidents));
  return {
    from,
    to,
    overall: summariseGroup(records, recurring),
    by_severity: groupBy(records, (r) => [r.severity], recurring),
    by_service: groupBy(records, (r) => (r.services.length ? r.services : ['(none)']), recurring),
    by_team: groupBy(records, (r) => [r.team ?? '(none)'], recurring),
    recurrence: { clusters, links_available: links !== null },
  };
}
