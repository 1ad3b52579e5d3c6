import { renderTemplate } from '../shared/templates.ts';
import { redactSecrets } from '../shared/crypto.ts';
import type { CheckResult, CheckSpec } from '../checks/index.ts';
import type { Incident, IncidentStatus } from '../incidents/index.ts';
import type { OutgoingMessage } from './messaging.ts';
import { describeFetchError } from './messaging.ts';
import type { EgressClient } from '../egress/index.ts';
import type { PlanStep } from './schemas.ts';

/** What templates can read while a step runs. `secrets` is only present for http steps. */
export interface StepView {
  incident: Incident;
  plan: { id: string; name: string; version: string };
  execution: { id: string; started_at: string; dry_run: boolean };
  steps: Record<string, { status: string; output: unknown; error: string | null }>;
  secrets?: Record<string, string>;
}

export interface HttpRequestSpec {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
}

export interface HttpExchange {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  duration_ms: number;
}

/** Every way a step touches the world, so a dry run can swap each for a recorded preview. */
export interface StepEffects {
  http(request: HttpRequestSpec, timeoutMs: number): Promise<HttpExchange | { preview: true }>;
  send(message: OutgoingMessage): Promise<{ channel: string; ok: boolean; detail: string }[] | { preview: true; deliveries: unknown[] }>;
  transition(incident: Incident, to: IncidentStatus, note: string | undefined, actor: string): Promise<{ from: string; to: string; changed: boolean; preview?: boolean }>;
  checks(specs: readonly CheckSpec[]): Promise<CheckResult[] | { preview: true; would_check: string[] }>;
  assess(incident: Incident, windowMinutes: number): Promise<Record<string, unknown>>;
}

export interface StepOutcome {
  status: 'succeeded' | 'failed';
  output: Record<string, unknown>;
  /** One line for the timeline. */
  summary: string;
  error?: string;
}

const MAX_BODY_CHARS = 64 * 1024;

export interface StepContext {
  executionId: string;
  planId: string;
  planVersion: string;
  actor: string;
  timeoutMs: number;
}

/** Performs one step (not approval or wait: those are pauses handled by the executor). */
export async function performStep(step: PlanStep, view: StepView, effects: StepEffects, context: StepContext): Promise<StepOutcome> {
  switch (step.type) {
    case 'assess': {
      const snapshot = await effects.assess(view.incident, step.with?.stats_window_minutes ?? 15);
      return { status: 'succeeded', output: snapshot, summary: `assessed ${view.incident.severity} incident affecting ${view.incident.services.join(', ') || 'no listed services'}` };
    }
    case 'communicate': {
      const message: OutgoingMessage = {
        incidentId: view.incident.id,
        subject: step.with.subject === undefined ? undefined : renderTemplate(step.with.subject, view as unknown as Record<string, unknown>),
        text: renderTemplate(step.with.message, view as unknown as Record<string, unknown>),
        audience: step.with.audience,
        channels: step.with.channels,
        webhookUrl: step.with.webhook_url,
        actor: context.actor,
        source: { plan_id: context.planId, plan_version: context.planVersion, execution_id: context.executionId, step_id: step.id },
      };
      const result = await effects.send(message);
      if (!Array.isArray(result)) return { status: 'succeeded', output: { message: { subject: message.subject ?? null, text: message.text }, ...result }, summary: 'message previewed' };
      const failed = result.filter((d) => !d.ok);
      const output = { message: { subject: message.subject ?? null, text: message.text, audience: message.audience ?? null }, deliveries: result };
      if (failed.length) {
        const error = failed.map((d) => `${d.channel}: ${d.detail}`).join('; ');
        return { status: 'failed', output, summary: `message not delivered: ${error}`, error };
      }
      return { status: 'succeeded', output, summary: `message sent via ${result.map((d) => d.channel).join(', ')}` };
    }
    case 'http': {
      const render = (t: string) => renderTemplate(t, view as unknown as Record<string, unknown>);
      const request: HttpRequestSpec = {
        method: step.with.method,
        url: render(step.with.url),
        headers: Object.fromEntries(Object.entries(step.with.headers ?? {}).map(([k, v]) => [k, render(v)])),
        body: step.with.body === undefined ? undefined : render(step.with.body),
      };
      let target: URL;
      try {
        target = new URL(request.url);
        if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error('not http(s)');
      } catch {
        return { status: 'failed', output: { request }, summary: `invalid URL ${request.url}`, error: `rendered url is not an http(s) URL: ${request.url}` };
      }
      let response: HttpExchange | { preview: true };
      try {
        response = await effects.http(request, context.timeoutMs);
      } catch (error) {
        // A timeout names the step's limit, so a responder sees which one applied (the step's own, or the default).
        const why = (error as Error).name === 'TimeoutError' ? `timed out after ${context.timeoutMs} ms` : describeFetchError(error);
        return { status: 'failed', output: { request }, summary: `${request.method} ${request.url} failed: ${why}`, error: `${request.method} ${request.url}: ${why}` };
      }
      if ('preview' in response) return { status: 'succeeded', output: { request, preview: true }, summary: `would send ${request.method} ${request.url}` };
      const expected = step.with.expect_status;
      const ok = expected ? expected.includes(response.status) : response.status >= 200 && response.status < 300;
      const output = { request, response };
      const line = `${request.method} ${request.url} answered ${response.status} in ${response.duration_ms} ms`;
      return ok
        ? { status: 'succeeded', output, summary: line }
        : { status: 'failed', output, summary: line, error: `${line}; expected ${expected ? expected.join(' or ') : '2xx'}` };
    }
    case 'verify': {
      const results = await effects.checks(step.with.checks);
      if (!Array.isArray(results)) return { status: 'succeeded', output: results, summary: 'checks previewed' };
      const passedCount = results.filter((r) => r.passed).length;
      const passed = step.with.require === 'any' ? passedCount > 0 : passedCount === results.length;
      const output = { passed, results };
      const summary = `${passedCount} of ${results.length} checks passed: ${results.map((r) => r.detail).join('; ')}`;
      return passed ? { status: 'succeeded', output, summary } : { status: 'failed', output, summary, error: summary };
    }
    case 'set_status': {
      const note = step.with.note === undefined ? undefined : renderTemplate(step.with.note, view as unknown as Record<string, unknown>);
      const moved = await effects.transition(view.incident, step.with.status, note, context.actor);
      return {
        status: 'succeeded',
        output: moved,
        summary: moved.changed ? `incident moved from ${moved.from} to ${moved.to}` : `incident already ${moved.to}`,
      };
    }
    case 'approval':
    case 'wait':
      throw new Error(`${step.type} steps are pauses, run by the executor`);
  }
}

/** Real HTTP for http steps: the response is captured (JSON parsed when it is JSON), the body bounded. */
export async function sendHttp(egress: EgressClient, request: HttpRequestSpec, timeoutMs: number): Promise<HttpExchange> {
  const started = performance.now();
  const response = await egress.fetch(request.url, {
    method: request.method,
    headers: request.headers,
    ...(request.body !== undefined && request.method !== 'GET' ? { body: request.body } : {}),
    signal: AbortSignal.timeout(timeoutMs),
    redirect: 'manual',
  });
  const text = (await response.text()).slice(0, MAX_BODY_CHARS);
  let body: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('json')) {
    try {
      body = JSON.parse(text);
    } catch {
      // keep the text: the target said JSON but sent something else
    }
  }
  const headers: Record<string, string> = {};
  for (const name of ['content-type', 'location', 'retry-after', 'x-request-id']) {
    const value = response.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  return { status: response.status, headers, body, duration_ms: Math.round(performance.now() - started) };
}

/** Removes every secret value from anything about to be stored or logged. */
export function redactDeep<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0 || value === undefined) return value;
  return JSON.parse(redactSecrets(JSON.stringify(value), secrets.map((s) => JSON.stringify(s).slice(1, -1)))) as T;
}

/** Runs `work` but gives up after `ms`; the step then fails cleanly with a timeout. */
export async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
