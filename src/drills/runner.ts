/**
 * Runs a drill against a Firebreak server through its public API only: sets up the scenario's world,
 * backfills a baseline, plays the timeline at the chosen speed, plays the team's monitoring and its
 * responders, observes what the server did and scores it. See `simclock.ts` for how time works.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify as stringifyYaml } from 'yaml';
import { ApiClient } from '../cli/client.ts';
import { AppError, isAppError } from '../shared/errors.ts';
import { ControlServer } from './control.ts';
import { durationMs, type Monitor, type Scenario, type TimedAlert, type TimedChange } from './scenario.ts';
import type { Scorecard, ObservedAlert, ObservedCorrelation, ObservedExecution, ObservedIncident, ObservedRecovery, ObservedSuspects } from './schemas.ts';
import { computeScorecard, type Observations } from './scorecard.ts';
import { SimClock } from './simclock.ts';
import { TrafficGenerator, activeFaults, type DrillCall, type MinuteStats } from './traffic.ts';

const MINUTE = 60_000;
/** Calls per telemetry request while backfilling (whole minutes only, so every bucket arrives complete). */
const BACKFILL_BATCH_CALLS = 8000;
/** A one-minute bucket plus the server's default grace for late calls (`DEFAULT_LLM_OPTIONS`). */
const BUCKET_CLOSE_MARGIN_MS = 2 * MINUTE;

/**
 * Where a drill reads the time and how it waits: real time by default. A test that runs the server in its own
 * process passes virtual time shared with the server's injected clock, so a loaded machine's delays are not
 * simulated minutes.
 */
export interface DrillTime {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const REAL_TIME: DrillTime = { now: () => Date.now(), sleep: (ms) => sleep(ms) };

export interface DrillOptions {
  server: string;
  token: string;
  speed: number;
  seed: number;
  /** Put before every object the drill creates, so a team's own configuration is never touched. */
  prefix: string;
  /** Simulated responders act as the scenario says; false leaves acknowledging and the rest to people. */
  responders: boolean;
  /** `host:port` the control server listens on (default 127.0.0.1, ephemeral port). */
  controlListen?: string | undefined;
  /** The control server's URL as the Firebreak server reaches it (default: the address it listens on). */
  controlUrl?: string | undefined;
  /** Leave the drill's incidents open at the end (for the console); otherwise they are resolved. */
  keepOpen: boolean;
  /** Post the scorecard to the server (`POST /api/v1/drills/runs`). */
  store: boolean;
  /** Progress lines for people; silent by default. */
  progress?: (line: string) => void;
  /** Real time unless given. */
  time?: DrillTime;
}

interface IncidentWire {
  id: string;
  title: string;
  severity: string;
  status: string;
  services: string[];
  created_at: string;
  acknowledged_at: string | null;
  resolved_at: string | null;
  version: number;
}
interface AlertWire {
  id: string;
  service: string;
  source: string;
  summary: string;
  created_at: string;
}
interface ExecutionWire {
  id: string;
  plan_id: string;
  incident_id: string;
  status: string;
  trigger: string;
  started_at: string;
  finished_at: string | null;
  waiting_for: { step_id: string; kind: string }[];
  steps: { step_id: string; phase: string; type: string; status: string; finished_at: string | null; error: string | null }[];
}
interface RecoveryWire {
  status: string;
  created_at: string;
  verification: { verified_at: string | null };
}
interface EvaluationWire {
  passed: boolean;
  results: { criterion: string; detail: string }[];
}

export class DrillRunner {
  private readonly api: ApiClient;
  private readonly runTag: string;
  private readonly keys = new Map<string, string>();
  private readonly failedOver = new Map<string, { provider: string; minute: number }>();
  private readonly control: ControlServer;
  private clock!: SimClock;
  private runStartedAtMs = 0;
  private readonly time: DrillTime;
  private readonly incidents = new Map<string, IncidentWire>();
  private readonly alerts = new Map<string, AlertWire>();
  private readonly executions = new Map<string, ExecutionWire>();
  private readonly approvalsSeen = new Map<string, number>();
  private readonly acted = new Set<string>();
  private readonly recoveries = new Map<string, { startedMinute: number; lastVerifyMinute: number; evaluations: number; lastDetail: string | null; verifiedAt: string | null; status: string }>();
  private readonly firing = new Map<string, { since: number; active: boolean }>();

  constructor(
    private readonly scenario: Scenario,
    private readonly options: DrillOptions,
  ) {
    this.api = new ApiClient({ server: options.server, token: options.token });
    this.time = options.time ?? REAL_TIME;
    this.runTag = Math.floor(this.time.now() / 1000).toString(36).slice(-5);
    this.control = new ControlServer((service) => this.failover(service));
  }

  /** The name a scenario object has on the server. */
  name(id: string): string {
    return `${this.options.prefix}${id}`;
  }

  private unname(id: string): string {
    return id.startsWith(this.options.prefix) ? id.slice(this.options.prefix.length) : id;
  }

  private say(line: string): void {
    this.options.progress?.(line);
  }

  async run(): Promise<Scorecard> {
    const s = this.scenario;
    this.runStartedAtMs = this.time.now();
    const startedAt = new Date(this.runStartedAtMs).toISOString();
    const durationMinutes = durationMs(s.duration) / MINUTE;
    const baselineMinutes = Math.round((s.baseline ? durationMs(s.baseline) : 0) / MINUTE);
    const listenUrl = await this.control.start(this.options.controlListen);
    try {
      const controlUrl = this.options.controlUrl ?? listenUrl;
      this.say(`setting up ${s.id} on ${this.options.server} (objects prefixed ${this.options.prefix}); control server ${controlUrl}`);
      await this.setUp(controlUrl);
      // The timeline ends, in simulated time, at about the moment the run is planned: everything sent is in the
      // past. Two minutes earlier still, so even the last simulated minute is past the server's bucket grace
      // when it arrives and closes at once (the detectors see every minute while the drill runs).
      const plannedAtMs = Math.floor(this.time.now() / MINUTE) * MINUTE - BUCKET_CLOSE_MARGIN_MS;
      const planned = SimClock.lagging({ plannedAtMs, durationMs: durationMinutes * MINUTE, speed: this.options.speed });
      const generators = s.traffic.map((stream) => new TrafficGenerator(stream, this.options.seed, `${stream.model}#${this.runTag}`, this.name(stream.service)));
      if (baselineMinutes > 0) {
        this.say(`backfilling ${baselineMinutes} min of normal traffic`);
        await this.backfill(generators, planned.simStartMs - baselineMinutes * MINUTE, planned.simStartMs);
      }
      this.clock = planned.startingAt(this.time.now());
      this.say(`playing ${durationMinutes} simulated minutes at ${this.options.speed}x`);
      for (let minute = 0; minute < durationMinutes; minute++) {
        // Each minute is sent once it has passed: a minute's share of real time after the previous one was
        // sent, or at once when the drill is behind (the clock is re-anchored, so the stall is not simulated time).
        const endOfMinute = this.clock.simAtMinute(minute + 1);
        const wait = this.clock.realAt(endOfMinute) - this.time.now();
        if (wait > 0) await this.time.sleep(wait);
        this.clock.anchor(this.time.now(), endOfMinute);
        await this.playMinute(generators, minute);
        await this.observe(true);
      }
      await this.observe(false);
      const seen = await this.collect();
      const finishedAt = new Date(this.time.now()).toISOString();
      await this.cleanUp();
      const scorecard = computeScorecard(
        s,
        {
          seed: this.options.seed,
          speed: this.options.speed,
          prefix: this.options.prefix,
          runTag: this.runTag,
          responders: this.options.responders,
          startedAt,
          finishedAt,
          simStart: new Date(this.clock.simStartMs).toISOString(),
          baselineMinutes,
          durationMinutes,
        },
        seen,
      );
      if (this.options.store) await this.api.request('POST', '/api/v1/drills/runs', scorecard);
      return scorecard;
    } finally {
      await this.control.stop();
    }
  }

  // ------------------------------------------------------------------------------------- setup

  private async setUp(controlUrl: string): Promise<void> {
    const s = this.scenario;
    for (const team of s.teams ?? []) {
      const body = { name: team.name, members: (team.members ?? []).map((user) => ({ user })) };
      await this.upsert(`/api/v1/teams/${this.name(team.id)}`, '/api/v1/teams', { id: this.name(team.id), ...body }, body);
    }
    // Dependencies first, so a service is created after the services it depends on.
    const ordered = [...s.services].sort((a, b) => (a.depends_on ?? []).length - (b.depends_on ?? []).length);
    for (const service of ordered) {
      const body = {
        name: `${service.id} (drill)`,
        description: service.description ?? `Created by the ${s.id} drill.`,
        owner_team: service.team ? this.name(service.team) : null,
        tier: service.tier ?? 3,
        rto_minutes: service.rto_minutes ?? null,
        depends_on: (service.depends_on ?? []).map((d) => this.name(d)),
      };
      await this.upsert(`/api/v1/services/${this.name(service.id)}`, '/api/v1/services', { id: this.name(service.id), ...body }, body);
    }
    // Routing keys are shown once: the drill's integrations are replaced on every run.
    const integrations = await this.api.request<{ id: string; name: string }[]>('GET', '/api/v1/integrations');
    for (const service of s.services) {
      const integrationName = `${this.name(service.id)} drill`;
      for (const old of integrations.filter((i) => i.name === integrationName)) await this.api.request('DELETE', `/api/v1/integrations/${old.id}`);
      const created = await this.api.request<{ routing_key: string }>('POST', '/api/v1/integrations', {
        name: integrationName,
        service: this.name(service.id),
        rate_limit: { per_second: 1000, burst: 10_000 },
      });
      this.keys.set(service.id, created.routing_key);
    }
    await this.applyRoutingRules();
    await this.applyPlans(controlUrl);
    // An incident left open by an earlier run would swallow this run's alerts (grouping): close it.
    for (const service of s.services) {
      const page = await this.api.request<{ items: IncidentWire[] }>('GET', `/api/v1/incidents?active=true&service=${encodeURIComponent(this.name(service.id))}&limit=100`);
      for (const incident of page.items) {
        await this.api.request('POST', `/api/v1/incidents/${incident.id}/resolve`, { resolution: `closed by a new run of the ${s.id} drill: left open by an earlier run` }).catch(ignoreConflicts);
      }
    }
  }

  private async upsert(itemPath: string, collectionPath: string, createBody: object, patchBody: object): Promise<void> {
    try {
      const existing = await this.api.request<{ version: number }>('GET', itemPath);
      await this.api.request('PATCH', itemPath, { ...patchBody, version: existing.version });
    } catch (error) {
      if (!isAppError(error) || error.code !== 'not_found') throw error;
      await this.api.request('POST', collectionPath, createBody);
    }
  }

  /** The scenario's rules go first in the server's rule set, named with the prefix and scenario, matching only the drill's services. */
  private async applyRoutingRules(): Promise<void> {
    const rules = this.scenario.routing_rules ?? [];
    const services = this.scenario.services.map((s) => escapeRegex(this.name(s.id))).join('|');
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.api.request<{ version: number; document: { defaults?: object; rules?: { name: string }[] } }>('GET', '/api/v1/routing-rules');
      // Rules are named after the scenario too, so drills of other scenarios (running at once) keep theirs.
      const mine = `${this.options.prefix}${this.scenario.id}.`;
      const others = (current.document.rules ?? []).filter((r) => !r.name.startsWith(mine));
      if (rules.length === 0 && others.length === (current.document.rules ?? []).length) return;
      const ours = rules.map((rule) => ({
        ...rule,
        name: `${mine}${rule.name}`,
        match: [`service=~"^(${services})$"`, ...(rule.match ?? [])],
        ...(rule.set_service ? { set_service: this.name(rule.set_service) } : {}),
      }));
      const document = { ...(current.document.defaults ? { defaults: current.document.defaults } : {}), rules: [...ours, ...others] };
      try {
        await this.api.request('PUT', '/api/v1/routing-rules', { yaml: stringifyYaml(document), version: current.version });
        return;
      } catch (error) {
        if (!isAppError(error) || error.code !== 'version_conflict') throw error;
      }
    }
    throw new AppError('conflict', 'routing rules kept changing while the drill applied its own; try again');
  }

  private async applyPlans(controlUrl: string): Promise<void> {
    const ours = new Set<string>();
    for (const plan of this.scenario.plans ?? []) {
      const definition = this.rewritePlan(plan, controlUrl);
      ours.add(definition.id);
      try {
        await this.api.request('GET', `/api/v1/plans/${definition.id}`);
        await this.api.request('PUT', `/api/v1/plans/${definition.id}`, definition);
      } catch (error) {
        if (!isAppError(error) || error.code !== 'not_found') throw error;
        await this.api.request('POST', '/api/v1/plans', definition);
      }
    }
    // A plan another drill installed for the same services must not act in this one (the "without a plan" scenario).
    const services = new Set(this.scenario.services.map((s) => this.name(s.id)));
    const plans = await this.api.request<{ id: string; enabled: boolean }[]>('GET', '/api/v1/plans');
    for (const summary of plans.filter((p) => p.id.startsWith(this.options.prefix) && p.enabled && !ours.has(p.id))) {
      const detail = await this.api.request<{ definition: { scope?: { services?: string[] }; triggers?: { services?: string[] }[] } & Record<string, unknown> }>('GET', `/api/v1/plans/${summary.id}`);
      const named = [...(detail.definition.scope?.services ?? []), ...(detail.definition.triggers ?? []).flatMap((t) => t.services ?? [])];
      if (named.length === 0 || named.some((n) => services.has(n))) {
        await this.api.request('PUT', `/api/v1/plans/${summary.id}`, { ...detail.definition, enabled: false });
      }
    }
  }

  private rewritePlan(plan: NonNullable<Scenario['plans']>[number], controlUrl: string): NonNullable<Scenario['plans']>[number] {
    const text = JSON.stringify(plan).replaceAll('{{drill.control_url}}', controlUrl).replaceAll('{{drill.prefix}}', this.options.prefix);
    const copy = JSON.parse(text) as NonNullable<Scenario['plans']>[number];
    copy.id = this.name(copy.id);
    copy.enabled = true;
    if (copy.scope?.services) copy.scope.services = copy.scope.services.map((s) => this.name(s));
    for (const trigger of copy.triggers ?? []) if (trigger.services) trigger.services = trigger.services.map((s) => this.name(s));
    for (const step of [...copy.steps, ...(copy.rollback ?? [])]) {
      if (step.type === 'verify') for (const check of step.with.checks) if ('service' in check) check.service = this.name(check.service);
    }
    return copy;
  }

  private failover(service: string): { ok: boolean; message: string } {
    const id = this.unname(service);
    const stream = this.scenario.traffic.find((t) => t.service === id && t.backup_provider);
    if (!stream) return { ok: false, message: `the drill has no backup provider for ${service}` };
    if (!this.failedOver.has(id)) {
      const minute = this.clock ? this.clock.minuteOfReal(this.time.now()) : 0;
      this.failedOver.set(id, { provider: stream.backup_provider!, minute });
      this.say(`  gateway: ${service} switched to ${stream.backup_provider} at minute ${minute.toFixed(1)}`);
    }
    return { ok: true, message: `${service} now sends its traffic to ${stream.backup_provider}` };
  }

  // ------------------------------------------------------------------------------------- traffic

  /** Hour of the scenario's day at a minute of the timeline (negative minutes are the baseline). */
  private hourOf(minute: number): number {
    const hours = (this.scenario.starts_at_hour ?? 14) + minute / 60;
    return ((hours % 24) + 24) % 24;
  }

  private async backfill(generators: TrafficGenerator[], fromMs: number, toMs: number): Promise<void> {
    await Promise.all(
      generators.map(async (generator) => {
        let batch: DrillCall[] = [];
        for (let minute = fromMs; minute < toMs; minute += MINUTE) {
          batch.push(...generator.minute(minute, { provider: generator.stream.provider, faults: [] }, this.hourOf((minute - toMs) / MINUTE)).calls);
          if (batch.length >= BACKFILL_BATCH_CALLS) {
            await this.sendCalls(generator.stream.service, batch);
            batch = [];
          }
        }
        if (batch.length > 0) await this.sendCalls(generator.stream.service, batch);
      }),
    );
  }

  private async sendCalls(service: string, calls: DrillCall[]): Promise<void> {
    if (calls.length === 0) return;
    const result = await this.api.request<{ accepted: number; rejected: number; rejections: { reason: string }[] }>('POST', '/api/v1/llm/requests', { requests: calls }, {
      authorization: `Bearer ${this.keys.get(service)!}`,
    });
    if (result.rejected > 0) throw new AppError('upstream_failed', `the server refused ${result.rejected} of ${calls.length} drill calls (${result.rejections[0]?.reason}); is its clock far from this machine's?`);
  }

  private async playMinute(generators: TrafficGenerator[], minute: number): Promise<void> {
    const startMs = this.clock.simAtMinute(minute);
    const perService = new Map<string, MinuteStats>();
    await Promise.all(
      generators.map(async (generator) => {
        const service = generator.stream.service;
        const provider = this.failedOver.get(service)?.provider ?? generator.stream.provider;
        const { calls, stats } = generator.minute(startMs, { provider, faults: activeFaults(this.scenario.faults, service, minute) }, this.hourOf(minute));
        const total = perService.get(service);
        perService.set(service, total ? mergeStats(total, stats) : stats);
        await this.sendCalls(service, calls);
      }),
    );
    const endIso = new Date(startMs + MINUTE).toISOString();
    for (const monitor of this.scenario.monitors ?? []) {
      const stats = perService.get(monitor.service);
      if (stats) await this.evaluateMonitor(monitor, stats, minute, endIso);
    }
    for (const change of this.scenario.changes ?? []) {
      if (change.at >= minute && change.at < minute + 1) await this.sendChange(change);
    }
    for (const alert of this.scenario.alerts ?? []) {
      if (alert.at >= minute && alert.at < minute + 1) await this.sendAlert(alert, 'trigger', new Date(this.clock.simAtMinute(alert.at)).toISOString());
      if (alert.resolve_at !== undefined && alert.resolve_at >= minute && alert.resolve_at < minute + 1) {
        await this.sendAlert(alert, 'resolve', new Date(this.clock.simAtMinute(alert.resolve_at)).toISOString());
      }
    }
  }

  /** The team's monitoring: fires after `for_minutes` bad minutes in a row, resolves on the first good one. */
  private async evaluateMonitor(monitor: Monitor, stats: MinuteStats, minute: number, atIso: string): Promise<void> {
    const value = monitorValue(monitor.stat, stats);
    const bad = value !== null && (monitor.op === '>' ? value > monitor.threshold : value < monitor.threshold);
    const key = `${monitor.service}/${monitor.name}`;
    const state = this.firing.get(key) ?? { since: -1, active: false };
    if (bad) {
      if (state.since < 0) state.since = minute;
      if (!state.active && minute - state.since + 1 >= (monitor.for_minutes ?? 2)) {
        state.active = true;
        await this.sendAlert(monitor, 'trigger', atIso, value);
      }
    } else {
      state.since = -1;
      if (state.active) {
        state.active = false;
        await this.sendAlert(monitor, 'resolve', atIso, value);
      }
    }
    this.firing.set(key, state);
  }

  /** A change as the team's pipeline reports it, with the service's routing key. */
  private async sendChange(change: TimedChange): Promise<void> {
    const { at, service, ...rest } = change;
    await this.api.request('POST', '/api/v1/changes', { ...rest, service: this.name(service), at: new Date(this.clock.simAtMinute(at)).toISOString() }, {
      authorization: `Bearer ${this.keys.get(service)!}`,
    });
  }

  private async sendAlert(alert: Monitor | TimedAlert, action: 'trigger' | 'resolve', atIso: string, value?: number | null): Promise<void> {
    const service = this.name(alert.service);
    const key = this.keys.get(alert.service)!;
    const dedupKey = `${service}-${alert.name}-${this.runTag}`;
    const labels = { alertname: alert.name, service, severity: alert.severity, ...alert.labels };
    const valueNote = value === undefined || value === null ? '' : ` (${Number(value.toPrecision(3))})`;
    if (alert.via === 'alertmanager') {
      await this.api.request('POST', '/api/v1/integrations/alertmanager', {
        version: '4',
        status: action === 'trigger' ? 'firing' : 'resolved',
        receiver: 'firebreak-drill',
        groupLabels: { alertname: alert.name },
        alerts: [
          {
            status: action === 'trigger' ? 'firing' : 'resolved',
            labels,
            annotations: { summary: `${alert.summary}${valueNote}` },
            startsAt: atIso,
            ...(action === 'resolve' ? { endsAt: atIso } : {}),
            fingerprint: dedupKey,
          },
        ],
      }, { authorization: `Bearer ${key}` });
    } else {
      await this.api.request('POST', '/v2/enqueue', {
        routing_key: key,
        event_action: action,
        dedup_key: dedupKey,
        ...(action === 'trigger'
          ? { payload: { summary: `${alert.summary}${valueNote}`, source: 'drill-monitoring', severity: alert.severity, timestamp: atIso, custom_details: labels } }
          : {}),
      });
    }
  }

  // ------------------------------------------------------------------------------------- observe and respond

  private minuteOf(iso: string): number {
    return this.clock.minuteOfReal(Date.parse(iso));
  }

  private ourServices(): Set<string> {
    return new Set(this.scenario.services.map((s) => this.name(s.id)));
  }

  /** Reads what the server did; with `respond`, simulated responders act on what is due. */
  private async observe(respond: boolean): Promise<void> {
    const sinceIso = new Date(this.runStartedAtMs).toISOString();
    for (const service of this.ourServices()) {
      const alerts = await this.api.request<{ items: AlertWire[] }>('GET', `/api/v1/alerts?service=${encodeURIComponent(service)}&limit=200`);
      for (const alert of alerts.items) if (alert.created_at >= sinceIso) this.alerts.set(alert.id, alert);
      const page = await this.api.request<{ items: IncidentWire[] }>('GET', `/api/v1/incidents?service=${encodeURIComponent(service)}&limit=100`);
      for (const incident of page.items) if (incident.created_at >= sinceIso) this.incidents.set(incident.id, incident);
    }
    for (const incident of this.incidents.values()) {
      const executions = await this.api.request<ExecutionWire[]>('GET', `/api/v1/incidents/${incident.id}/executions`);
      for (const execution of executions) this.executions.set(execution.id, execution);
    }
    if (respond && this.options.responders && this.scenario.responders) await this.respond();
  }

  private async respond(): Promise<void> {
    const r = this.scenario.responders!;
    const now = this.clock.minuteOfReal(this.time.now());
    const after = (text: string | undefined) => (text === undefined ? undefined : durationMs(text) / MINUTE);
    for (const incident of [...this.incidents.values()]) {
      const opened = this.minuteOf(incident.created_at);
      const active = incident.resolved_at === null;
      const ackAfter = after(r.acknowledge_after);
      if (active && ackAfter !== undefined && incident.acknowledged_at === null && now >= opened + ackAfter && this.once(`ack:${incident.id}`)) {
        await this.act(incident, 'POST', 'acknowledge', {});
      }
      for (const transition of r.transitions ?? []) {
        if (active && now >= opened + after(transition.after)! && this.once(`to:${transition.to}:${incident.id}`)) {
          await this.act(incident, 'POST', 'transition', { to: transition.to, note: 'drill responder' });
        }
      }
      if (r.recovery && active) await this.driveRecovery(incident, opened, now, r.recovery);
      if (r.link_related && this.once(`link-check:${incident.id}:${Math.floor(now)}`)) await this.linkRelated(incident);
    }
    const approveAfter = after(r.approve_after);
    if (approveAfter !== undefined) {
      for (const execution of this.executions.values()) {
        for (const waiting of execution.waiting_for.filter((w) => w.kind === 'approval')) {
          const key = `${execution.id}/${waiting.step_id}`;
          if (!this.approvalsSeen.has(key)) this.approvalsSeen.set(key, now);
          if (now >= this.approvalsSeen.get(key)! + approveAfter && this.once(`approve:${key}`)) {
            await this.api
              .request('POST', `/api/v1/executions/${execution.id}/steps/${waiting.step_id}/approve`, { comment: 'approved by the drill responder' })
              .catch(ignoreConflicts);
          }
        }
      }
    }
  }

  private once(key: string): boolean {
    if (this.acted.has(key)) return false;
    this.acted.add(key);
    return true;
  }

  private async act(incident: IncidentWire, method: string, action: string, body: object): Promise<void> {
    await this.api.request(method, `/api/v1/incidents/${incident.id}/${action}`, body).catch(ignoreConflicts);
  }

  private async driveRecovery(incident: IncidentWire, opened: number, now: number, spec: NonNullable<NonNullable<Scenario['responders']>['recovery']>): Promise<void> {
    const service = incident.services[0];
    if (!service || !this.ourServices().has(service)) return;
    let state = this.recoveries.get(incident.id);
    if (!state) {
      if (now < opened + durationMs(spec.start_after) / MINUTE) return;
      const criteria = spec.criteria.map((c) => ({ id: c.id, check: 'service' in c.check ? { ...c.check, service: this.name(c.check.service) } : c.check }));
      try {
        await this.api.request('POST', `/api/v1/incidents/${incident.id}/recovery`, {
          steps: [{ id: 'mitigate', title: 'Mitigate the failure (fail over, roll back or scale out)', estimate_minutes: 10 }],
          criteria,
        });
      } catch (error) {
        if (!isAppError(error) || (error.code !== 'conflict' && error.code !== 'version_conflict')) throw error;
      }
      state = { startedMinute: now, lastVerifyMinute: Number.NEGATIVE_INFINITY, evaluations: 0, lastDetail: null, verifiedAt: null, status: 'in_progress' };
      this.recoveries.set(incident.id, state);
    }
    if (state.verifiedAt !== null || now < state.lastVerifyMinute + (spec.verify_every ? durationMs(spec.verify_every) / MINUTE : 1)) return;
    state.lastVerifyMinute = now;
    try {
      const evaluation = await this.api.request<EvaluationWire>('POST', `/api/v1/incidents/${incident.id}/recovery/verify`, {});
      state.evaluations++;
      state.lastDetail = evaluation.results.map((r) => `${r.criterion}: ${r.detail}`).join('; ');
    } catch (error) {
      if (!isAppError(error) || error.code !== 'conflict') throw error;
    }
    const plan = await this.api.request<RecoveryWire>('GET', `/api/v1/incidents/${incident.id}/recovery`);
    state.status = plan.status;
    state.verifiedAt = plan.verification.verified_at;
    if (state.verifiedAt !== null && this.scenario.responders?.resolve_after_recovery) {
      await this.act(incident, 'POST', 'resolve', { resolution: 'recovery verified by its criteria (drill responder)' });
    }
  }

  /** Records correlation's suggestion the way a responder would: this incident was caused by the incident of a service it depends on. */
  private async linkRelated(incident: IncidentWire): Promise<void> {
    const own = this.scenario.services.find((s) => this.name(s.id) === incident.services[0]);
    if (!own?.depends_on?.length) return;
    const related = await this.api.request<{ candidates: { incident_id: string; services: string[]; links: string[] }[] }>('GET', `/api/v1/incidents/${incident.id}/related`);
    for (const candidate of related.candidates) {
      const upstream = candidate.services.some((s) => own.depends_on!.map((d) => this.name(d)).includes(s));
      if (upstream && candidate.links.length === 0 && this.once(`link:${incident.id}:${candidate.incident_id}`)) {
        await this.api.request('POST', `/api/v1/incidents/${incident.id}/links`, { to: candidate.incident_id, kind: 'caused_by', note: 'correlation suggested it (drill responder)' }).catch(ignoreConflicts);
      }
    }
  }

  // ------------------------------------------------------------------------------------- collect and clean up

  private async collect(): Promise<Observations> {
    const services = this.ourServices();
    const alerts: ObservedAlert[] = [...this.alerts.values()].map((a) => ({ id: a.id, service: this.unname(a.service), source: a.source, summary: a.summary, minute: round1(this.minuteOf(a.created_at)) }));
    const incidents: ObservedIncident[] = [...this.incidents.values()]
      .filter((i) => i.services.some((s) => services.has(s)))
      .map((i) => ({
        id: i.id,
        service: this.unname(i.services.find((s) => services.has(s))!),
        title: i.title,
        severity: i.severity,
        status: i.status,
        opened_minute: round1(this.minuteOf(i.created_at)),
        acknowledged_minute: i.acknowledged_at ? round1(this.minuteOf(i.acknowledged_at)) : null,
        resolved_minute: i.resolved_at ? round1(this.minuteOf(i.resolved_at)) : null,
      }));
    const plans: ObservedExecution[] = [...this.executions.values()].map((e) => ({
      id: e.id,
      plan_id: this.unname(e.plan_id),
      incident_id: e.incident_id,
      status: e.status,
      trigger: e.trigger,
      started_minute: round1(this.minuteOf(e.started_at)),
      finished_minute: e.finished_at ? round1(this.minuteOf(e.finished_at)) : null,
      waiting_for: e.waiting_for.map((w) => `${w.step_id} (${w.kind})`),
      steps: e.steps.filter((s) => s.phase === 'main').map((s) => ({ id: s.step_id, type: s.type, status: s.status, finished_minute: s.finished_at ? round1(this.minuteOf(s.finished_at)) : null, error: s.error })),
    }));
    const correlation: ObservedCorrelation[] = [];
    const pairs = new Map<string, { service: string; with: string }>();
    for (const service of this.scenario.services) for (const d of service.depends_on ?? []) pairs.set(`${service.id}/${d}`, { service: service.id, with: d });
    for (const e of this.scenario.expectations) if ('correlated' in e) pairs.set(`${e.correlated.service}/${e.correlated.with}`, { service: e.correlated.service, with: e.correlated.with });
    for (const pair of pairs.values()) {
      const mine = incidents.find((i) => i.service === pair.service);
      const other = incidents.find((i) => i.service === pair.with);
      const entry: ObservedCorrelation = { ...pair, incident_id: mine?.id ?? null, other_incident_id: other?.id ?? null, suggested: false, score: null, evidence: [], linked: [] };
      if (mine && other) {
        const related = await this.api.request<{ candidates: { incident_id: string; score: number; evidence: string[] }[]; links: { from_incident: string; to_incident: string; kind: string }[] }>(
          'GET',
          `/api/v1/incidents/${mine.id}/related`,
        );
        const candidate = related.candidates.find((c) => c.incident_id === other.id);
        entry.suggested = candidate !== undefined;
        entry.score = candidate?.score ?? null;
        entry.evidence = candidate?.evidence ?? [];
        entry.linked = related.links.filter((l) => l.from_incident === other.id || l.to_incident === other.id).map((l) => l.kind);
      }
      correlation.push(entry);
    }
    const recoveries: ObservedRecovery[] = [];
    for (const incident of incidents) {
      const state = this.recoveries.get(incident.id);
      let plan: RecoveryWire;
      try {
        plan = await this.api.request<RecoveryWire>('GET', `/api/v1/incidents/${incident.id}/recovery`);
      } catch (error) {
        if (isAppError(error) && error.code === 'not_found') continue;
        throw error;
      }
      const evaluations = await this.api.request<EvaluationWire[]>('GET', `/api/v1/incidents/${incident.id}/recovery/verifications`);
      const last = evaluations[0];
      recoveries.push({
        incident_id: incident.id,
        service: incident.service,
        status: plan.status,
        started_minute: round1(state?.startedMinute ?? this.minuteOf(plan.created_at)),
        verified_minute: plan.verification.verified_at ? round1(this.minuteOf(plan.verification.verified_at)) : null,
        evaluations: evaluations.length,
        last_detail: last ? last.results.map((r) => `${r.criterion}: ${r.detail}`).join('; ') : null,
      });
    }
    const failovers = [...this.failedOver].map(([service, f]) => ({ service, to_provider: f.provider, minute: round1(f.minute) }));
    const suspects: ObservedSuspects[] = [];
    for (const incident of incidents) {
      let ranked: { items: { rank: number; score: number; change: { kind: string; service: string; summary: string; source: string; at: string } }[] };
      try {
        ranked = await this.api.request('GET', `/api/v1/incidents/${incident.id}/changes?limit=5`);
      } catch (error) {
        // A server without change tracking has nothing to rank.
        if (isAppError(error) && error.code === 'not_found') continue;
        throw error;
      }
      suspects.push({
        incident_id: incident.id,
        service: incident.service,
        items: ranked.items.map((s) => ({ rank: s.rank, kind: s.change.kind, service: this.unname(s.change.service), summary: s.change.summary, source: s.change.source, score: s.score, minute: round1((Date.parse(s.change.at) - this.clock.simAtMinute(0)) / MINUTE) })),
      });
    }
    return { alerts: alerts.sort((a, b) => a.minute - b.minute), incidents, plans, correlation, recoveries, failovers, suspects };
  }

  private async cleanUp(): Promise<void> {
    for (const monitor of this.scenario.monitors ?? []) {
      if (this.firing.get(`${monitor.service}/${monitor.name}`)?.active) {
        await this.sendAlert(monitor, 'resolve', new Date(this.clock.simAtMinute(durationMs(this.scenario.duration) / MINUTE)).toISOString());
      }
    }
    if (this.options.keepOpen) return;
    for (const incident of this.incidents.values()) {
      await this.act(incident, 'POST', 'resolve', { resolution: `the ${this.scenario.id} drill ended` });
    }
  }
}

function monitorValue(stat: Monitor['stat'], stats: MinuteStats): number | null {
  switch (stat) {
    case 'error_rate':
      return stats.calls > 0 ? stats.errors / stats.calls : null;
    case 'rate_limit_rate':
      return stats.calls > 0 ? stats.rate_limited / stats.calls : null;
    case 'server_error_rate':
      return stats.calls > 0 ? stats.server_errors / stats.calls : null;
    case 'calls_per_minute':
      return stats.calls;
    case 'ttft_p95_ms':
      return stats.ttft_p95_ms;
    case 'latency_p95_ms':
      return stats.latency_p95_ms;
  }
}

function mergeStats(a: MinuteStats, b: MinuteStats): MinuteStats {
  return {
    calls: a.calls + b.calls,
    errors: a.errors + b.errors,
    server_errors: a.server_errors + b.server_errors,
    rate_limited: a.rate_limited + b.rate_limited,
    ttft_p95_ms: Math.max(a.ttft_p95_ms ?? 0, b.ttft_p95_ms ?? 0) || null,
    latency_p95_ms: Math.max(a.latency_p95_ms ?? 0, b.latency_p95_ms ?? 0) || null,
  };
}

/** Someone (a person, the plan, another responder) got there first: that is not the drill's failure. */
function ignoreConflicts(error: unknown): void {
  if (isAppError(error) && ['conflict', 'version_conflict', 'invalid_transition'].includes(error.code)) return;
  throw error;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

/** Runs one scenario; the scorecard says what happened and whether every expectation held. */
export async function runDrill(scenario: Scenario, options: DrillOptions): Promise<Scorecard> {
  return new DrillRunner(scenario, options).run();
}
