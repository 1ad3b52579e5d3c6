/**
 * Scorecards: what the server did during a drill, in minutes of the simulated timeline, and whether
 * each expectation written in the scenario held. Pure: the adapter gathers the observations.
 */
import { SEVERITIES } from '../incidents/index.ts';
import { durationMs, type Expectation, type Scenario } from './scenario.ts';
import type {
  ExpectationResult,
  ObservedAlert,
  ObservedCorrelation,
  ObservedExecution,
  ObservedIncident,
  ObservedRecovery,
  ObservedSuspects,
  Scorecard,
} from './schemas.ts';

export interface Observations {
  alerts: ObservedAlert[];
  incidents: ObservedIncident[];
  plans: ObservedExecution[];
  correlation: ObservedCorrelation[];
  recoveries: ObservedRecovery[];
  failovers: { service: string; to_provider: string; minute: number }[];
  suspects?: ObservedSuspects[];
}

export interface RunFacts {
  seed: number;
  speed: number;
  prefix: string;
  runTag: string;
  responders: boolean;
  startedAt: string;
  finishedAt: string;
  simStart: string;
  baselineMinutes: number;
  durationMinutes: number;
}

const round = (minutes: number) => Math.round(minutes * 10) / 10;
const since = (minute: number | null | undefined, from: number) => (minute === null || minute === undefined ? null : round(minute - from));
const fmt = (minutes: number | null) => (minutes === null ? 'never' : `${minutes >= 0 ? '+' : ''}${minutes.toFixed(1)} min`);

/** Minute the first fault of a service starts (the scenario's first fault when the service has none). */
export function faultMinuteOf(scenario: Scenario, service?: string, faultName?: string): number {
  const named = faultName === undefined ? undefined : scenario.faults.find((f) => f.name === faultName);
  if (named) return named.at;
  const own = scenario.faults.filter((f) => service === undefined || f.service === service).map((f) => f.at);
  return Math.min(...(own.length > 0 ? own : scenario.faults.map((f) => f.at)));
}

function firstBy<T>(items: readonly T[], minute: (item: T) => number | null): T | undefined {
  let best: T | undefined;
  let bestMinute = Number.POSITIVE_INFINITY;
  for (const item of items) {
    const m = minute(item);
    if (m !== null && m < bestMinute) {
      best = item;
      bestMinute = m;
    }
  }
  return best;
}

export function evaluateExpectation(scenario: Scenario, expectation: Expectation, seen: Observations): ExpectationResult {
  const within = (text: string) => durationMs(text) / 60_000;
  if ('detect' in expectation) {
    const { service } = expectation.detect;
    const from = faultMinuteOf(scenario, service, expectation.detect.from_fault);
    const alert = firstBy(seen.alerts.filter((a) => a.service === service && a.minute >= from - 0.5), (a) => a.minute);
    const took = since(alert?.minute, from);
    return {
      kind: 'detect',
      expectation: `an alert for ${service} within ${expectation.detect.within} of ${expectation.detect.from_fault ?? 'the fault'}`,
      held: took !== null && took <= within(expectation.detect.within),
      observed: alert ? `${fmt(took)}: ${alert.source}: ${alert.summary}` : 'no alert',
    };
  }
  if ('incident' in expectation) {
    const { service, severity_at_least: atLeast } = expectation.incident;
    const from = faultMinuteOf(scenario, service, expectation.incident.from_fault);
    const incident = firstBy(seen.incidents.filter((i) => i.service === service && i.opened_minute >= from - 0.5), (i) => i.opened_minute);
    const earlier = seen.incidents.filter((i) => i.service === service && i.opened_minute < from - 0.5);
    const took = since(incident?.opened_minute, from);
    const severityOk = !atLeast || (incident !== undefined && SEVERITIES.indexOf(incident.severity as never) >= SEVERITIES.indexOf(atLeast));
    return {
      kind: 'incident',
      expectation: `an incident${atLeast ? ` of severity ${atLeast} or worse` : ''} for ${service} within ${expectation.incident.within}`,
      held: took !== null && took <= within(expectation.incident.within) && severityOk,
      observed:
        (incident ? `${incident.id} (${incident.severity}) opened at ${fmt(took)}` : 'no incident since the fault') +
        (earlier.length ? `; before the fault: ${earlier.map((i) => `${i.id} at ${fmt(since(i.opened_minute, from))}`).join(', ')}` : ''),
    };
  }
  if ('no_incident' in expectation) {
    const { service } = expectation.no_incident;
    const incidents = seen.incidents.filter((i) => i.service === service);
    return {
      kind: 'no_incident',
      expectation: `no incident for ${service}`,
      held: incidents.length === 0,
      observed: incidents.length === 0 ? 'none' : incidents.map((i) => `${i.id} (${i.severity})`).join(', '),
    };
  }
  if ('acknowledged' in expectation) {
    const { service } = expectation.acknowledged;
    const from = faultMinuteOf(scenario, service, expectation.acknowledged.from_fault);
    const incident = firstBy(seen.incidents.filter((i) => i.service === service), (i) => i.opened_minute);
    const took = since(incident?.acknowledged_minute, from);
    return {
      kind: 'acknowledged',
      expectation: `the incident for ${service} acknowledged within ${expectation.acknowledged.within}`,
      held: took !== null && took <= within(expectation.acknowledged.within),
      observed: !incident ? 'no incident' : took === null ? `${incident.id} not acknowledged` : `${incident.id} acknowledged at ${fmt(took)}`,
    };
  }
  if ('plan' in expectation) {
    const { id, status = 'succeeded' } = expectation.plan;
    const from = faultMinuteOf(scenario);
    const runs = seen.plans.filter((p) => p.plan_id === id);
    const matching = runs.find((p) => p.status === status && (!expectation.plan.within || (since(p.finished_minute ?? p.started_minute, from) ?? Infinity) <= within(expectation.plan.within)));
    const describe = (p: ObservedExecution) => `${p.status}${p.finished_minute !== null ? ` at ${fmt(since(p.finished_minute, from))}` : ''} (${p.steps.map((s) => `${s.id} ${s.status}`).join(', ')})`;
    return {
      kind: 'plan',
      expectation: `plan ${id} ${status}${expectation.plan.within ? ` within ${expectation.plan.within}` : ''}`,
      held: matching !== undefined,
      observed: runs.length === 0 ? 'the plan did not run' : runs.map(describe).join('; '),
    };
  }
  if ('no_plan' in expectation) {
    const { service } = expectation.no_plan;
    const incidentIds = new Set(seen.incidents.filter((i) => i.service === service).map((i) => i.id));
    const runs = seen.plans.filter((p) => incidentIds.has(p.incident_id));
    return {
      kind: 'no_plan',
      expectation: `no response plan runs for ${service}`,
      held: runs.length === 0,
      observed: runs.length === 0 ? 'no plan ran' : runs.map((p) => `${p.plan_id} ${p.status}`).join(', '),
    };
  }
  if ('correlated' in expectation) {
    const { service, with: other, min_score: minScore = 0 } = expectation.correlated;
    const found = seen.correlation.find((c) => c.service === service && c.with === other);
    const held = found !== undefined && ((found.suggested && (found.score ?? 0) >= minScore) || found.linked.length > 0);
    return {
      kind: 'correlated',
      expectation: `correlation relates the incident of ${service} to that of ${other}${minScore > 0 ? ` (score ≥ ${minScore})` : ''}`,
      held,
      observed: !found || !found.incident_id || !found.other_incident_id
        ? 'one of the two incidents did not open'
        : `${found.suggested ? `suggested with score ${found.score?.toFixed(2)} (${found.evidence.join(', ')})` : 'not suggested'}${found.linked.length ? `; linked ${found.linked.join(', ')}` : ''}`,
    };
  }
  if ('recovered' in expectation || 'not_recovered' in expectation) {
    const negative = 'not_recovered' in expectation;
    const body = 'recovered' in expectation ? expectation.recovered : expectation.not_recovered;
    const from = faultMinuteOf(scenario, body.service, body.from_fault);
    const recovery = firstBy(seen.recoveries.filter((r) => r.service === body.service), (r) => r.verified_minute ?? r.started_minute);
    const took = since(recovery?.verified_minute, from);
    const inTime = took !== null && took <= within(body.within);
    return {
      kind: negative ? 'not_recovered' : 'recovered',
      expectation: `${body.service} ${negative ? 'not ' : ''}verified recovered within ${body.within}`,
      held: negative ? !inTime : inTime,
      observed: !recovery ? 'no recovery started' : took === null ? `not verified (${recovery.evaluations} evaluations; last: ${recovery.last_detail ?? '-'})` : `verified at ${fmt(took)}`,
    };
  }
  if ('suspect' in expectation) {
    const { service, kind, rank = 1, service_of_change: changedService } = expectation.suspect;
    const incident = firstBy(seen.incidents.filter((i) => i.service === service), (i) => i.opened_minute);
    const ranked = seen.suspects?.find((s) => s.incident_id === incident?.id);
    const at = ranked?.items.find((s) => s.rank === rank);
    const held = at !== undefined && at.kind === kind && (changedService === undefined || at.service === changedService);
    return {
      kind: 'suspect',
      expectation: `the incident of ${service} ranks a ${kind} change${changedService ? ` on ${changedService}` : ''} ${rank === 1 ? 'first' : `at ${rank}`} among its suspects`,
      held,
      observed: !incident
        ? 'no incident opened'
        : !ranked || ranked.items.length === 0
          ? 'no change was ranked'
          : ranked.items.slice(0, 5).map((s) => `#${s.rank} ${s.kind} on ${s.service} at minute ${s.minute} (${s.score.toFixed(2)}, ${s.source})`).join('; '),
    };
  }
  const never: never = expectation;
  throw new Error(`unknown expectation ${JSON.stringify(never)}`);
}

export function computeScorecard(scenario: Scenario, facts: RunFacts, seen: Observations): Scorecard {
  const from = faultMinuteOf(scenario);
  const faulty = new Set(scenario.faults.map((f) => f.service));
  const relevantAlerts = seen.alerts.filter((a) => faulty.has(a.service) && a.minute >= from - 0.5);
  const firstAlert = firstBy(relevantAlerts, (a) => a.minute);
  const firstIncident = firstBy(seen.incidents.filter((i) => faulty.has(i.service)), (i) => i.opened_minute);
  const firstAck = firstBy(seen.incidents.filter((i) => faulty.has(i.service)), (i) => i.acknowledged_minute);
  const firstRecovery = firstBy(seen.recoveries, (r) => r.verified_minute);
  const expectations = scenario.expectations.map((e) => evaluateExpectation(scenario, e, seen));
  return {
    scenario: scenario.id,
    title: scenario.title,
    seed: facts.seed,
    speed: facts.speed,
    prefix: facts.prefix,
    run_tag: facts.runTag,
    responders: facts.responders,
    started_at: facts.startedAt,
    finished_at: facts.finishedAt,
    sim_start: facts.simStart,
    baseline_minutes: facts.baselineMinutes,
    duration_minutes: facts.durationMinutes,
    fault_minute: from,
    alerts_before_fault: seen.alerts.filter((a) => a.minute < from - 0.5).length,
    time_to_detect_minutes: since(firstAlert?.minute, from),
    time_to_incident_minutes: since(firstIncident?.opened_minute, from),
    time_to_acknowledge_minutes: since(firstAck?.acknowledged_minute, from),
    time_to_recovery_minutes: since(firstRecovery?.verified_minute, from),
    alerts: seen.alerts,
    incidents: seen.incidents,
    plans: seen.plans,
    correlation: seen.correlation,
    recoveries: seen.recoveries,
    failovers: seen.failovers,
    ...(seen.suspects ? { suspects: seen.suspects } : {}),
    expectations,
    passed: expectations.every((e) => e.held),
  };
}
