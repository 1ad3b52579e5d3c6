import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobMigrations, migrateToLatest, openDatabase, type Database } from '../../src/storage/index.ts';
import { LlmTelemetryService, llmMigrations } from '../../src/llm/index.ts';
import { DEFAULT_DETECTOR_CONFIG, createAnomalyDetector } from '../../src/llm/detect/index.ts';
import { DEFAULT_LLM_OPTIONS } from '../../src/llm/service.ts';
import { loadDetectorState, saveDetectorStates } from '../../src/llm/repository.ts';
import type { LlmCall } from '../../src/llm/records.ts';

const NOW = Date.parse('2026-11-24T12:00:30Z');

function call(service: string, model: string, startedAtMs: number): LlmCall {
  return { service, provider: 'p', model, responseModel: null, operation: 'chat', startedAtMs, latencyMs: 100, ttftMs: 10, errorKind: null, inputTokens: 1, outputTokens: 1, costUsd: 0, safetyFlagged: false };
}

// The service's memory bounds, exercised directly: they are configuration a server test cannot reach cheaply.
describe('LLM aggregation memory bounds', () => {
  let database: Database;
  beforeAll(async () => {
    database = openDatabase('sqlite::memory:');
    await migrateToLatest(database, [jobMigrations, llmMigrations]);
  });
  afterAll(() => database.close());

  it('writes accepted calls to the database, holding none in memory after, and refuses series beyond maxSeries', async () => {
    const service = new LlmTelemetryService(database, () => new Date(NOW), pino({ level: 'silent' }), [], () => undefined, {
      ...DEFAULT_LLM_OPTIONS,
      maxOpenBuckets: 10,
      maxSeries: 50,
    });
    const calls: LlmCall[] = [];
    for (let s = 0; s < 60; s++) calls.push(call('svc', `model-${s}`, NOW - 1000));
    const outcome = service.ingest(calls, 'json');
    expect(outcome.accepted).toBe(50);
    expect(outcome.rejections).toHaveLength(10);
    expect(new Set(outcome.rejections.map((r) => r.reason))).toEqual(new Set(['too_many_series']));
    expect(service.openBucketCount).toBe(50);
    await service.persist();
    expect(service.openBucketCount).toBe(0);
    expect(await service.openPartialCount()).toBe(50);
    // Nothing is lost: the open minutes are in the database and the stats read them.
    const stats = await service.stats({ fromMs: NOW - 60_000, toMs: NOW + 60_000, stepSeconds: 120, service: 'svc' });
    expect(stats).toHaveLength(50);
    expect(stats.reduce((sum, s) => sum + s.points[0]!.requests, 0)).toBe(50);
  });

  it('evicts series idle for a day, so new series are accepted again', async () => {
    let now = NOW;
    const service = new LlmTelemetryService(database, () => new Date(now), pino({ level: 'silent' }), [], () => undefined, { ...DEFAULT_LLM_OPTIONS, maxSeries: 5 });
    const old = Array.from({ length: 5 }, (_, i) => call('idle', `m-${i}`, NOW - 60_000));
    expect(service.ingest(old, 'json').accepted).toBe(5);
    expect(service.ingest([call('idle', 'new', NOW - 1000)], 'json').rejections[0]?.reason).toBe('too_many_series');
    await service.maintain();
    expect(service.liveSeriesCount).toBe(5);
    now = NOW + 25 * 3_600_000;
    await service.maintain();
    expect(service.liveSeriesCount).toBe(0);
    expect(service.ingest([call('idle', 'new', now - 1000)], 'json').accepted).toBe(1);
  });
});

// A stored detector state keeps its learned baselines and runs the one shipped configuration.
describe('LLM detector states saved under an earlier configuration', () => {
  let database: Database;
  beforeAll(async () => {
    database = openDatabase('sqlite::memory:');
    await migrateToLatest(database, [jobMigrations, llmMigrations]);
  });
  afterAll(() => database.close());

  it('run the shipped configuration, even where the stored config says otherwise or predates a setting', async () => {
    const key = JSON.stringify(['stored', 'p', 'm']);
    // Saved while the service ran with records off.
    const old = createAnomalyDetector({ alertOnDrops: false, recordTolerance: 0, threshold: 0.65, learningPoints: 720 });
    for (let i = 0; i < 50; i++) old.update(NOW - (100 - i) * 60_000, 20);
    const state = JSON.parse(JSON.stringify(old.toJSON())) as { config: Record<string, unknown> } & Record<string, unknown>;
    // ... and before runs of records and per-channel rarity existed.
    delete state.config.recordPoints;
    delete state.config.recordSpikeScales;
    delete state.config.pointRarityRef;
    delete state.channelRarityHist;
    delete state.channelRarityTotal;
    // ... and with a rule that has since been removed.
    state.config.contextZRef = 0;
    state.config.shiftZRef = 3;
    state.config.recordSpikeScales = 12;
    await saveDetectorStates(database.db, [{ seriesKey: key, signal: 'ttft_p95_ms', state }], new Date(NOW - 60_000).toISOString());
    let now = NOW;
    const service = new LlmTelemetryService(database, () => new Date(now), pino({ level: 'silent' }), [], () => undefined, DEFAULT_LLM_OPTIONS);
    await service.load();
    const calls = Array.from({ length: DEFAULT_LLM_OPTIONS.minCallsPerPoint }, () => call('stored', 'm', NOW - 20_000));
    expect(service.ingest(calls, 'json').accepted).toBe(calls.length);
    // Past the minute's allowed lateness (5 min), so it closes and feeds the detector.
    now = NOW + 7 * 60_000;
    await service.maintain();
    const saved = (await loadDetectorState(database.db, key, 'ttft_p95_ms')) as { n: number; config: Record<string, unknown> };
    expect(saved.n).toBe(51);
    expect(saved.config).toEqual({ ...DEFAULT_DETECTOR_CONFIG });
    expect(saved.config.recordTolerance).toBeGreaterThan(0);
  });
});
