import fs from 'node:fs';
import path from 'node:path';
import { Type, type Static } from 'typebox';
import { parse as parseYaml } from 'yaml';
import { CheckSpecSchema } from '../checks/index.ts';
import { SEVERITIES } from '../incidents/index.ts';
import { PlanDefinitionSchema } from '../plans/index.ts';
import { RoutingRuleSchema } from '../ingest/index.ts';
import { AppError } from '../shared/errors.ts';
import { parseWithSchema } from '../shared/validation.ts';

/**
 * A drill scenario: what a team's world looks like (teams, services, plans, rules), the LLM traffic it
 * serves, the faults injected into it on a timeline of simulated minutes, how the team's existing
 * monitoring reacts, how simulated responders behave, and what the team expects to happen.
 * Service names are written plainly; the drill prefixes every object it creates (see `naming.ts`).
 */

const Slug = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,40}$', description: 'lower-case identifier' });
const Minute = (description: string) => Type.Number({ minimum: 0, maximum: 10_080, description: `${description}, in simulated minutes` });
const DURATION_PATTERN = '^[0-9]+(\\.[0-9]+)?(s|m|h)$';
const Duration = (description: string) => Type.String({ pattern: DURATION_PATTERN, description: `${description}, simulated, e.g. 90s, 2m, 1h` });
const Rate = (description: string) => Type.Number({ minimum: 0, maximum: 1, description });
const Factor = (description: string) => Type.Number({ exclusiveMinimum: 0, maximum: 1000, description });

export const TrafficStreamSchema = Type.Object(
  {
    service: Slug,
    provider: Type.String({ minLength: 1, maxLength: 60 }),
    model: Type.String({ minLength: 1, maxLength: 100 }),
    response_model: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    backup_provider: Type.Optional(Type.String({ minLength: 1, maxLength: 60, description: 'where traffic goes once a plan calls {{drill.control_url}}/failover' })),
    calls_per_minute: Type.Number({ minimum: 1, maximum: 5000, description: 'mean calls per simulated minute' }),
    diurnal_amplitude: Type.Optional(Type.Number({ minimum: 0, maximum: 0.9, description: 'daily swing around the mean, default 0.3' })),
    latency_ms: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 600_000, description: 'median, default 1500' })),
    ttft_ms: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 600_000, description: 'median time to first token, default 300' })),
    input_tokens: Type.Optional(Type.Number({ minimum: 1, maximum: 1_000_000, description: 'mean, default 500' })),
    output_tokens: Type.Optional(Type.Number({ minimum: 1, maximum: 1_000_000, description: 'mean, default 200' })),
    usd_per_1k_input_tokens: Type.Optional(Type.Number({ minimum: 0, maximum: 1000, description: 'default 0.0025' })),
    usd_per_1k_output_tokens: Type.Optional(Type.Number({ minimum: 0, maximum: 1000, description: 'default 0.01' })),
    error_rate: Type.Optional(Rate('background 5xx probability, default 0.0001')),
    safety_flag_rate: Type.Optional(Rate('background probability a call is flagged by moderation, default 0')),
  },
  { additionalProperties: false },
);
export type TrafficStream = Static<typeof TrafficStreamSchema>;

export const FaultSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    service: Slug,
    provider: Type.Optional(Type.String({ minLength: 1, maxLength: 60, description: 'only calls to this provider are affected (fail-over escapes the fault)' })),
    at: Minute('when the fault starts'),
    until: Type.Optional(Minute('when it ends by itself (default: never during the drill)')),
    server_error_rate: Type.Optional(Rate('probability of a 5xx')),
    rate_limit_rate: Type.Optional(Rate('probability of a 429')),
    rate_factor: Type.Optional(Factor('multiplies the call rate (a traffic surge)')),
    latency_factor: Type.Optional(Factor('multiplies latency')),
    ttft_factor: Type.Optional(Factor('multiplies time to first token')),
    input_token_factor: Type.Optional(Factor('multiplies input tokens (a longer prompt template)')),
    output_token_factor: Type.Optional(Factor('multiplies output tokens')),
    safety_flag_rate: Type.Optional(Rate('probability a call is flagged by moderation')),
    response_model: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'the model version serving during the fault (a rollout)' })),
  },
  { additionalProperties: false },
);
export type Fault = Static<typeof FaultSchema>;

export const MONITOR_STATS = ['error_rate', 'rate_limit_rate', 'server_error_rate', 'calls_per_minute', 'ttft_p95_ms', 'latency_p95_ms'] as const;
export type MonitorStat = (typeof MONITOR_STATS)[number];

/** The team's existing monitoring, played by the drill over the traffic it generates, sending alerts as that monitoring would. */
export const MonitorSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]{0,99}$', description: 'the alert name, e.g. LLMHighErrorRate' }),
    via: Type.Enum(['alertmanager', 'events_v2'], { description: 'Alertmanager webhook, or PagerDuty Events API v2' }),
    service: Slug,
    stat: Type.Enum(MONITOR_STATS, { description: 'computed per simulated minute over all of the service’s calls' }),
    op: Type.Enum(['>', '<']),
    threshold: Type.Number(),
    for_minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 60, description: 'consecutive minutes before it fires, default 2' })),
    severity: Type.Enum(['info', 'warning', 'error', 'critical']),
    summary: Type.String({ minLength: 1, maxLength: 500 }),
    labels: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,99}$' }), Type.String({ maxLength: 500 }))),
  },
  { additionalProperties: false },
);
export type Monitor = Static<typeof MonitorSchema>;

/** A one-off alert at a point of the timeline (a deploy marker, a node exporter's OOM kill). */
export const TimedAlertSchema = Type.Object(
  {
    at: Minute('when it is sent'),
    resolve_at: Type.Optional(Minute('when it is resolved')),
    via: Type.Enum(['alertmanager', 'events_v2']),
    service: Slug,
    name: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]{0,99}$' }),
    severity: Type.Enum(['info', 'warning', 'error', 'critical']),
    summary: Type.String({ minLength: 1, maxLength: 500 }),
    labels: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,99}$' }), Type.String({ maxLength: 500 }))),
  },
  { additionalProperties: false },
);
export type TimedAlert = Static<typeof TimedAlertSchema>;

/** A change the team's pipelines report at a point of the timeline (a deploy, a flag flip), sent as `POST /api/v1/changes`. */
export const TimedChangeSchema = Type.Object(
  {
    at: Minute('when it takes effect'),
    service: Slug,
    kind: Type.Enum(['deploy', 'model', 'prompt', 'config', 'flag', 'infra', 'other']),
    summary: Type.String({ minLength: 1, maxLength: 500 }),
    version_from: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    version_to: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    author: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type TimedChange = Static<typeof TimedChangeSchema>;

export const RespondersSchema = Type.Object(
  {
    acknowledge_after: Type.Optional(Duration('acknowledge each incident this long after it opens')),
    approve_after: Type.Optional(Duration('approve a waiting approval step this long after it starts waiting')),
    transitions: Type.Optional(
      Type.Array(
        Type.Object({ to: Type.Enum(['investigating', 'identified', 'containing', 'eradicating', 'recovering']), after: Duration('after the incident opens') }, { additionalProperties: false }),
        { maxItems: 10 },
      ),
    ),
    link_related: Type.Optional(Type.Boolean({ description: 'record correlation’s suggestion: an incident is caused_by the incident of a service it depends on' })),
    recovery: Type.Optional(
      Type.Object(
        {
          start_after: Duration('create the recovery plan this long after the incident opens'),
          verify_every: Type.Optional(Duration('run its verification this often, default 1m')),
          criteria: Type.Array(Type.Object({ id: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,40}$' }), check: CheckSpecSchema }, { additionalProperties: false }), { minItems: 1, maxItems: 10 }),
        },
        { additionalProperties: false },
      ),
    ),
    resolve_after_recovery: Type.Optional(Type.Boolean({ description: 'resolve the incident once its recovery is verified' })),
  },
  { additionalProperties: false },
);
export type Responders = Static<typeof RespondersSchema>;

const Within = Duration('measured from the first fault of the service, or from `from_fault`');
const FromFault = Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'name of the fault to measure from (default: the service’s first)' }));
export const ExpectationSchema = Type.Union(
  [
    Type.Object({ detect: Type.Object({ service: Slug, within: Within, from_fault: FromFault }, { additionalProperties: false }) }, { additionalProperties: false }),
    Type.Object(
      { incident: Type.Object({ service: Slug, severity_at_least: Type.Optional(Type.Enum(SEVERITIES)), within: Within, from_fault: FromFault }, { additionalProperties: false }) },
      { additionalProperties: false },
    ),
    Type.Object({ no_incident: Type.Object({ service: Slug }, { additionalProperties: false }) }, { additionalProperties: false }),
    Type.Object({ acknowledged: Type.Object({ service: Slug, within: Within, from_fault: FromFault }, { additionalProperties: false }) }, { additionalProperties: false }),
    Type.Object(
      {
        plan: Type.Object(
          { id: Slug, status: Type.Optional(Type.Enum(['succeeded', 'failed', 'running', 'waiting'])), within: Type.Optional(Within) },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
    Type.Object({ no_plan: Type.Object({ service: Slug }, { additionalProperties: false }) }, { additionalProperties: false }),
    Type.Object(
      {
        suspect: Type.Object(
          {
            service: Slug,
            kind: Type.Enum(['deploy', 'model', 'prompt', 'config', 'flag', 'infra', 'other'], { description: 'the kind of change expected at that rank of the incident’s suspects' }),
            rank: Type.Optional(Type.Integer({ minimum: 1, maximum: 10, description: 'default 1: ranked first' })),
            service_of_change: Type.Optional(Slug),
          },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      { correlated: Type.Object({ service: Slug, with: Slug, min_score: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })) }, { additionalProperties: false }) },
      { additionalProperties: false },
    ),
    Type.Object({ recovered: Type.Object({ service: Slug, within: Within, from_fault: FromFault }, { additionalProperties: false }) }, { additionalProperties: false }),
    Type.Object({ not_recovered: Type.Object({ service: Slug, within: Within, from_fault: FromFault }, { additionalProperties: false }) }, { additionalProperties: false }),
  ],
  { description: 'one thing the team expects; each is checked against what the server did' },
);
export type Expectation = Static<typeof ExpectationSchema>;

export const ScenarioSchema = Type.Object(
  {
    id: Slug,
    title: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.String({ maxLength: 4000 })),
    duration: Duration('length of the timeline after the baseline'),
    baseline: Type.Optional(Duration('normal traffic sent first, as fast as the server takes it, so detectors can learn (they need about 12 h)')),
    starts_at_hour: Type.Optional(Type.Number({ minimum: 0, maximum: 24, exclusiveMaximum: 24, description: 'hour of the day minute 0 falls at, for the daily traffic curve (default 14)' })),
    teams: Type.Optional(
      Type.Array(
        Type.Object({ id: Slug, name: Type.String({ minLength: 1, maxLength: 200 }), members: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 50 })) }, { additionalProperties: false }),
        { maxItems: 20 },
      ),
    ),
    services: Type.Array(
      Type.Object(
        {
          id: Slug,
          team: Type.Optional(Slug),
          tier: Type.Optional(Type.Integer({ minimum: 1, maximum: 4 })),
          rto_minutes: Type.Optional(Type.Integer({ minimum: 1 })),
          depends_on: Type.Optional(Type.Array(Slug, { maxItems: 20, uniqueItems: true })),
          description: Type.Optional(Type.String({ maxLength: 2000 })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 20 },
    ),
    routing_rules: Type.Optional(Type.Array(RoutingRuleSchema, { maxItems: 20, description: 'applied only to the drill’s services' })),
    plans: Type.Optional(Type.Array(PlanDefinitionSchema, { maxItems: 10 })),
    traffic: Type.Array(TrafficStreamSchema, { minItems: 1, maxItems: 20 }),
    faults: Type.Array(FaultSchema, { minItems: 1, maxItems: 20 }),
    monitors: Type.Optional(Type.Array(MonitorSchema, { maxItems: 20 })),
    alerts: Type.Optional(Type.Array(TimedAlertSchema, { maxItems: 50 })),
    changes: Type.Optional(Type.Array(TimedChangeSchema, { maxItems: 50, description: 'changes reported by the team’s pipelines' })),
    responders: Type.Optional(RespondersSchema),
    expectations: Type.Array(ExpectationSchema, { minItems: 1, maxItems: 50 }),
  },
  { additionalProperties: false },
);
export type Scenario = Static<typeof ScenarioSchema>;

/** Simulated milliseconds of a duration such as `90s`, `2m`, `1.5h`. */
export function durationMs(text: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(s|m|h)$/.exec(text);
  if (!match) throw new AppError('validation_failed', `${text}: not a duration such as 90s, 2m or 1h`);
  const unit = match[2] === 's' ? 1000 : match[2] === 'm' ? 60_000 : 3_600_000;
  return Number(match[1]) * unit;
}

/** Parses and checks a scenario document; every problem names the field, prefixed with the source. */
export function parseScenario(text: string, source: string): Scenario {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new AppError('malformed_input', `${source}: not valid YAML: ${(error as Error).message.split('\n')[0]}`, { field: '(root)' });
  }
  let scenario: Scenario;
  try {
    scenario = parseWithSchema(ScenarioSchema, document ?? {});
  } catch (error) {
    if (error instanceof AppError) throw new AppError(error.code, `${source}: ${error.message}`, error.details);
    throw error;
  }
  checkReferences(scenario, source);
  return scenario;
}

function checkReferences(scenario: Scenario, source: string): void {
  const fail = (field: string, message: string) => {
    throw new AppError('validation_failed', `${source}: ${field}: ${message}`, { field });
  };
  const services = new Set(scenario.services.map((s) => s.id));
  const teams = new Set((scenario.teams ?? []).map((t) => t.id));
  const durationMinutes = durationMs(scenario.duration) / 60_000;
  scenario.services.forEach((s, i) => {
    if (s.team !== undefined && !teams.has(s.team)) fail(`services[${i}].team`, `team ${s.team} is not declared under teams`);
    (s.depends_on ?? []).forEach((d, j) => {
      if (!services.has(d)) fail(`services[${i}].depends_on[${j}]`, `service ${d} is not declared under services`);
    });
  });
  const named = (list: { service: string }[] | undefined, field: string) =>
    (list ?? []).forEach((item, i) => {
      if (!services.has(item.service)) fail(`${field}[${i}].service`, `service ${item.service} is not declared under services`);
    });
  named(scenario.traffic, 'traffic');
  named(scenario.faults, 'faults');
  named(scenario.monitors, 'monitors');
  named(scenario.alerts, 'alerts');
  scenario.faults.forEach((f, i) => {
    if (f.at >= durationMinutes) fail(`faults[${i}].at`, `starts after the drill ends (duration ${scenario.duration})`);
    if (f.until !== undefined && f.until <= f.at) fail(`faults[${i}].until`, 'must be after at');
    if (!scenario.traffic.some((t) => t.service === f.service)) fail(`faults[${i}].service`, `service ${f.service} has no traffic`);
  });
  scenario.expectations.forEach((e, i) => {
    const body = Object.values(e)[0] as { service?: string; with?: string; from_fault?: string };
    const kind = Object.keys(e)[0]!;
    if (body.service !== undefined && !services.has(body.service)) fail(`expectations[${i}].${kind}.service`, `service ${body.service} is not declared under services`);
    if (body.with !== undefined && !services.has(body.with)) fail(`expectations[${i}].${kind}.with`, `service ${body.with} is not declared under services`);
    if (body.from_fault !== undefined && !scenario.faults.some((f) => f.name === body.from_fault)) fail(`expectations[${i}].${kind}.from_fault`, `no fault is named ${body.from_fault}`);
    if ('plan' in e && !(scenario.plans ?? []).some((p) => p.id === e.plan.id)) fail(`expectations[${i}].plan.id`, `plan ${e.plan.id} is not declared under plans`);
  });
}

/** The scenarios shipped with Firebreak. */
export const SHIPPED_SCENARIO_DIR = path.join(import.meta.dirname, 'scenarios');

export function loadScenarioFile(file: string): Scenario {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new AppError('not_found', `cannot read scenario ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return parseScenario(text, path.basename(file));
}

/** Every shipped scenario, by id. */
export function shippedScenarios(dir = SHIPPED_SCENARIO_DIR): Scenario[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => loadScenarioFile(path.join(dir, f)));
}

/** A shipped scenario by id, or a scenario file by path. */
export function resolveScenario(nameOrPath: string, dir = SHIPPED_SCENARIO_DIR): Scenario {
  if (nameOrPath.endsWith('.yaml') || nameOrPath.endsWith('.yml') || nameOrPath.includes('/')) return loadScenarioFile(nameOrPath);
  const file = path.join(dir, `${nameOrPath}.yaml`);
  if (!fs.existsSync(file)) {
    const known = shippedScenarios(dir).map((s) => s.id);
    throw new AppError('not_found', `no scenario ${nameOrPath}; shipped: ${known.join(', ')}`);
  }
  return loadScenarioFile(file);
}
