import type { Logger } from 'pino';
import { observeValue, type ChangeDraft, type SeenValues } from './domain.ts';
import type { Executor } from '../storage/index.ts';
import { saveSeriesValues, seriesValues } from './repository.ts';

/** What the detector reads of an LLM call (the llm capability's calls have these fields). */
export interface ObservedCall {
  service: string;
  provider: string;
  /** The requested model: the series. */
  model: string;
  responseModel: string | null;
  promptVersion?: string | null | undefined;
  startedAtMs: number;
}

type Attribute = 'response_model' | 'prompt_version';

interface SeriesState {
  values: Record<Attribute, SeenValues>;
  /** When each (attribute, value) was last written, so a busy series is persisted about once a minute, not per call. */
  persistedMs: Map<string, number>;
}

/** Series kept in memory; the rest are read back from the database when they send again. */
const MAX_SERIES = 10_000;
const PERSIST_EVERY_MS = 60_000;

function seriesKeyOf(call: ObservedCall): string {
  return `${call.service}\u0001${call.provider}\u0001${call.model}`;
}

/**
 * Notices, in the calls the LLM capability accepts, a series (service, provider, requested model)
 * whose response model changes (the provider swapped the model behind the alias) or whose prompt
 * version changes, and records each transition once as a change event. The values seen per series are
 * persisted, so a restart neither forgets a rollout nor reports the current value as new.
 */
export class TelemetryChangeDetector {
  private readonly series = new Map<string, SeriesState>();
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Executor,
    private readonly record: (draft: ChangeDraft) => Promise<unknown>,
    private readonly promptVersionAttribute: string,
    private readonly log: Logger,
  ) {}

  /** Called with each accepted batch; work is queued in order so transitions are seen in the order calls arrived. */
  observe(calls: readonly ObservedCall[]): void {
    const relevant = calls.filter((c) => c.responseModel || c.promptVersion);
    if (relevant.length === 0) return;
    this.queue = this.queue.then(() => this.process(relevant)).catch((error: unknown) => this.log.error({ err: error }, 'telemetry change detection failed'));
  }

  /** Resolves once every batch observed so far is processed. */
  idle(): Promise<void> {
    return this.queue;
  }

  private async process(calls: readonly ObservedCall[]): Promise<void> {
    const bySeries = new Map<string, ObservedCall[]>();
    for (const call of calls) {
      const key = seriesKeyOf(call);
      let list = bySeries.get(key);
      if (!list) bySeries.set(key, (list = []));
      list.push(call);
    }
    await this.load([...bySeries.keys()].filter((k) => !this.series.has(k)));
    const drafts: ChangeDraft[] = [];
    const rows: { series_key: string; attribute: string; value: string; last_seen_at: string }[] = [];
    for (const [key, list] of bySeries) {
      const state = this.series.get(key)!;
      // Most recently used last, so the oldest is evicted first.
      this.series.delete(key);
      this.series.set(key, state);
      list.sort((a, b) => a.startedAtMs - b.startedAtMs);
      const latest = new Map<string, number>();
      for (const call of list) {
        for (const [attribute, value] of [
          ['response_model', call.responseModel],
          ['prompt_version', call.promptVersion],
        ] as const) {
          if (!value) continue;
          const transition = observeValue(state.values[attribute], value, call.startedAtMs);
          if (transition.changed) drafts.push(this.draft(key, call, attribute, transition.from, value));
          latest.set(`${attribute}\u0001${value}`, Math.max(latest.get(`${attribute}\u0001${value}`) ?? 0, call.startedAtMs));
        }
      }
      for (const [id, atMs] of latest) {
        const persisted = state.persistedMs.get(id);
        if (persisted !== undefined && atMs - persisted < PERSIST_EVERY_MS) continue;
        const [attribute, value] = id.split('\u0001') as [string, string];
        rows.push({ series_key: key, attribute, value, last_seen_at: new Date(atMs).toISOString() });
        state.persistedMs.set(id, atMs);
      }
    }
    // Values first: a crash after this write and before the change is stored loses one change event,
    // the other order would report the same transition again after a restart.
    await saveSeriesValues(this.db, rows);
    for (const draft of drafts) await this.record(draft);
    while (this.series.size > MAX_SERIES) this.series.delete(this.series.keys().next().value!);
  }

  private async load(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.series.set(key, { values: { response_model: new Map(), prompt_version: new Map() }, persistedMs: new Map() });
    for (let i = 0; i < keys.length; i += 500) {
      for (const row of await seriesValues(this.db, keys.slice(i, i + 500))) {
        const state = this.series.get(row.series_key);
        if (!state || (row.attribute !== 'response_model' && row.attribute !== 'prompt_version')) continue;
        const ms = Date.parse(row.last_seen_at);
        state.values[row.attribute].set(row.value, ms);
        state.persistedMs.set(`${row.attribute}\u0001${row.value}`, ms);
      }
    }
  }

  private draft(seriesKey: string, call: ObservedCall, attribute: Attribute, from: string, to: string): ChangeDraft {
    const at = new Date(call.startedAtMs).toISOString();
    // One change per transition and hour, even when two servers notice it.
    const hour = at.slice(0, 13);
    const common = {
      service: call.service,
      version_from: from,
      version_to: to,
      author: null,
      links: [],
      at,
      target: `${call.provider}/${call.model}`,
      dedup_key: `${seriesKey}|${attribute}|${from}|${to}|${hour}`,
    };
    if (attribute === 'response_model') {
      return {
        ...common,
        kind: 'model',
        summary: `${call.provider} now answers ${call.model} with ${to} (was ${from}): the model behind the requested name changed`,
        details: { detected_from: 'gen_ai.response.model', provider: call.provider, request_model: call.model },
      };
    }
    return {
      ...common,
      kind: 'prompt',
      summary: `prompt version ${from} → ${to} on ${call.service} (${call.provider}/${call.model})`,
      details: { detected_from: this.promptVersionAttribute, provider: call.provider, request_model: call.model },
    };
  }
}
