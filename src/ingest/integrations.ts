import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import { AppError, notFound } from '../shared/errors.ts';
import type { Database } from '../storage/index.ts';
import type { CatalogService } from '../catalog/index.ts';
import { integrationFromRow, type IngestTables } from './schema.ts';
import * as repository from './repository.ts';
import type { CreatedIntegration, CreateIntegrationInput, Integration, IntegrationActivity, IntegrationDetail } from './schemas.ts';
import { TokenBuckets } from './rate-limit.ts';

/** PagerDuty's default limit is 120 events a minute per key; monitoring storms need more headroom here. */
export const DEFAULT_RATE_LIMIT = { per_second: 200, burst: 2000 };
/** Integrations are cached this long, so a key used thousands of times a second costs no query. */
const CACHE_MS = 5000;

function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export class IntegrationService {
  private readonly db: Kysely<IngestTables>;
  /** Keyed by the routing key itself, so a request with a cached key costs no hashing; cleared when an integration is deleted. */
  private readonly cache = new Map<string, { integration: Integration; expiresMs: number }>();
  /** Bumped by every delete, so a lookup that started before one does not cache what it read. */
  private cacheGeneration = 0;
  private readonly buckets = new TokenBuckets();

  constructor(
    database: Database,
    private readonly catalog: CatalogService,
    private readonly clock: () => Date = () => new Date(),
    /** This server's share of every integration's limit: 1 / the live replicas on the same database. */
    private readonly limitShare: () => number = () => 1,
  ) {
    this.db = database.db.withTables<IngestTables>();
  }

  async create(input: CreateIntegrationInput, actor: string): Promise<CreatedIntegration> {
    try {
      await this.catalog.getService(input.service);
    } catch {
      throw new AppError('unprocessable', `service: service ${input.service} does not exist; create it first`, { field: 'service' });
    }
    // 32 hex characters: the length PagerDuty senders expect of a routing key.
    const routingKey = randomBytes(16).toString('hex');
    const now = this.clock().toISOString();
    const rate = input.rate_limit ?? DEFAULT_RATE_LIMIT;
    const row = {
      id: `int_${randomBytes(8).toString('hex')}`,
      name: input.name,
      service: input.service,
      key_hash: hashKey(routingKey),
      key_hint: routingKey.slice(0, 6),
      rate_per_second: rate.per_second,
      burst: rate.burst,
      created_at: now,
      created_by: actor,
      updated_at: now,
    };
    await repository.insertIntegration(this.db, row);
    return { ...integrationFromRow(row), routing_key: routingKey };
  }

  async list(service?: string): Promise<Integration[]> {
    return (await repository.listIntegrations(this.db, service)).map(integrationFromRow);
  }

  /**
   * Integrations with what they have received (counted from the alerts they delivered) and the URLs
   * senders post to, so a sender that went quiet shows here.
   */
  async withActivity(integrations: readonly Integration[], publicUrl: string | undefined): Promise<IntegrationDetail[]> {
    const ids = integrations.map((i) => i.id);
    const rows = ids.length ? await repository.alertActivityOfIntegrations(this.db, ids) : [];
    const byId = new Map(rows.map((row) => [row.integration_id, row]));
    const base = publicUrl ?? '';
    return integrations.map((integration) => {
      const row = byId.get(integration.id);
      const last = [row?.last_seen_at, row?.last_resolved_at].filter((t): t is string => typeof t === 'string').sort().pop() ?? null;
      const activity: IntegrationActivity = {
        alerts: Number(row?.alerts ?? 0),
        open_alerts: Number(row?.open_alerts ?? 0),
        events: Number(row?.events ?? 0),
        last_event_at: last,
      };
      return {
        ...integration,
        activity,
        endpoints: { events_v2: `${base}/v2/enqueue`, alertmanager: `${base}/api/v1/integrations/alertmanager`, generic: `${base}/api/v1/alerts` },
      };
    });
  }

  async get(id: string): Promise<Integration> {
    const row = await repository.findIntegration(this.db, id);
    if (!row) throw notFound('integration', id);
    return integrationFromRow(row);
  }

  async delete(id: string): Promise<Integration> {
    const integration = await this.get(id);
    await repository.deleteIntegration(this.db, id);
    this.cacheGeneration++;
    this.cache.clear();
    this.buckets.forget(id);
    return integration;
  }

  /** Resolves a routing key to its integration, or null when no integration has it. */
  async authenticate(routingKey: string | undefined): Promise<Integration | null> {
    if (!routingKey) return null;
    const nowMs = this.clock().getTime();
    const cached = this.cache.get(routingKey);
    if (cached && cached.expiresMs > nowMs) return cached.integration;
    const hash = hashKey(routingKey);
    const generation = this.cacheGeneration;
    const row = await repository.integrationByKeyHash(this.db, hash);
    if (!row || !timingSafeEqual(Buffer.from(row.key_hash), Buffer.from(hash))) {
      this.cache.delete(routingKey);
      return null;
    }
    const integration = integrationFromRow(row);
    if (generation !== this.cacheGeneration) return integration;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(routingKey, { integration, expiresMs: nowMs + CACHE_MS });
    return integration;
  }

  /**
   * Throws `rate_limited` (429 with Retry-After) when the integration's bucket is empty. Each replica holds a bucket
   * of its share of the limit, so with traffic spread over the replicas the whole cluster admits the limit.
   */
  checkRate(integration: Integration, count = 1): void {
    const share = this.limitShare();
    const verdict = this.buckets.take(integration.id, integration.rate_limit.per_second * share, Math.max(1, integration.rate_limit.burst * share), this.clock().getTime(), count);
    if (!verdict.allowed) {
      throw new AppError('rate_limited', `integration ${integration.name} sends faster than ${integration.rate_limit.per_second} events/s; retry later`, {
        retry_after_seconds: verdict.retryAfterSeconds,
        integration_id: integration.id,
      });
    }
  }
}
