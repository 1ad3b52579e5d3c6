import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { sql, type Generated, type Kysely } from 'kysely';
import type { Database, MigrationSet } from './database.ts';
import { withAutoIncrementId } from './database.ts';

/**
 * What several server processes on one PostgreSQL database share beyond their tables: committed changes made on
 * another replica (relayed to this replica's live streams), and which replicas are alive (so per-replica shares of
 * a limit add up to the limit). On SQLite there is one server, and this is all in-process.
 */
export interface Cluster {
  /** This process's id among the replicas (random per start). */
  readonly replicaId: string;
  /** Relays a committed change to the other replicas; events with the same coalesce key in one batch send only the last. */
  publish(name: string, payload: unknown, coalesceKey?: string): void;
  /** Changes committed on other replicas, in commit order per replica. */
  onRemote(listener: (name: string, payload: unknown) => void): () => void;
  /** Fired after the relay was interrupted (database restart): listeners may have missed changes and should refetch. */
  onResync(listener: () => void): () => void;
  /** Replicas seen alive within the heartbeat window, this one included (at least 1). */
  liveReplicas(): number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export type ClusterTables = {
  cluster_events: { id: Generated<number>; origin: string; name: string; payload: string; created_at: string };
  cluster_members: { replica_id: string; started_at: string; heartbeat_at: string };
};

export const clusterMigrations: MigrationSet = {
  '095_storage_cluster': (dialect) => ({
    async up(db: Kysely<unknown>) {
      await withAutoIncrementId(db.schema.createTable('cluster_events'), dialect)
        .addColumn('origin', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('cluster_events_created_at').on('cluster_events').column('created_at').execute();
      await db.schema
        .createTable('cluster_members')
        .addColumn('replica_id', 'text', (c) => c.primaryKey())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('heartbeat_at', 'text', (c) => c.notNull())
        .execute();
    },
  }),
};

export const CLUSTER_CHANNEL = 'firebreak_events';
export const HEARTBEAT_MS = 5_000;
/** A replica whose heartbeat is older than this is counted out. */
export const MEMBER_TTL_MS = 3 * HEARTBEAT_MS;
/** Relayed rows are read within a second; older ones are only kept for a reconnecting replica to catch up. */
const EVENT_RETENTION_MS = 10 * 60_000;
/**
 * How long changes gather before one batch is relayed. Every batch is an insert and a NOTIFY that wakes each other
 * replica's listening backend, so the window sets that cost per replica; 100 ms keeps it well inside the 1 s promise.
 */
const FLUSH_DELAY_MS = 100;
const MAX_BATCH = 500;
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;

export interface ClusterOptions {
  clock: () => Date;
  onError?: (error: unknown, what: string) => void;
  /** Tests shorten the heartbeat. */
  heartbeatMs?: number;
}

export function createCluster(database: Database, options: ClusterOptions): Cluster {
  return database.dialect === 'postgres' ? new PostgresCluster(database, options) : new LocalCluster();
}

/** One process: nothing to relay, one replica. */
class LocalCluster implements Cluster {
  readonly replicaId = randomUUID();
  publish(): void {}
  onRemote(): () => void {
    return () => {};
  }
  onResync(): () => void {
    return () => {};
  }
  liveReplicas(): number {
    return 1;
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

interface Pending {
  name: string;
  payload: string;
  coalesceKey: string | undefined;
}

/**
 * NOTIFY payloads are limited to 8000 bytes and an incident can be larger, so each batch of changes is written to
 * `cluster_events` and only the id range is notified; receivers read the rows. The LISTEN connection is a dedicated
 * client (a pooled one could be handed to a query in between), reconnected with backoff after a database restart.
 */
class PostgresCluster implements Cluster {
  readonly replicaId = randomUUID();
  private readonly db: Kysely<ClusterTables>;
  private readonly remoteListeners = new Set<(name: string, payload: unknown) => void>();
  private readonly resyncListeners = new Set<() => void>();
  /** In publish order; a coalesced change is moved to the end (a Map keeps insertion order). */
  private pending = new Map<string | number, Pending>();
  private sequence = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private listener: pg.Client | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectDelayMs = RECONNECT_MIN_MS;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private delivering: Promise<void> = Promise.resolve();
  private live = 1;
  private lastPruneMs = 0;
  private stopped = true;

  constructor(
    private readonly database: Database,
    private readonly options: ClusterOptions,
  ) {
    this.db = database.db.withTables<ClusterTables>();
  }

  publish(name: string, payload: unknown, coalesceKey?: string): void {
    if (this.stopped) return;
    const key = coalesceKey === undefined ? this.sequence++ : `${name}\u0000${coalesceKey}`;
    this.pending.delete(key);
    this.pending.set(key, { name, payload: JSON.stringify(payload ?? null), coalesceKey });
    if (this.pending.size >= MAX_BATCH) this.scheduleFlush(0);
    else this.scheduleFlush(FLUSH_DELAY_MS);
  }

  onRemote(listener: (name: string, payload: unknown) => void): () => void {
    this.remoteListeners.add(listener);
    return () => this.remoteListeners.delete(listener);
  }

  onResync(listener: () => void): () => void {
    this.resyncListeners.add(listener);
    return () => this.resyncListeners.delete(listener);
  }

  liveReplicas(): number {
    return this.live;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.heartbeat();
    const every = this.options.heartbeatMs ?? HEARTBEAT_MS;
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), every);
    this.heartbeatTimer.unref();
    await this.connectListener(false);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.reconnectTimer);
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
      this.flushing = this.flushing.then(() => this.flush());
    }
    await this.flushing;
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => {});
    await this.db
      .deleteFrom('cluster_members')
      .where('replica_id', '=', this.replicaId)
      .execute()
      .catch(() => {});
  }

  private scheduleFlush(delayMs: number): void {
    if (this.flushTimer && delayMs > 0) return;
    clearTimeout(this.flushTimer);
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flushing = this.flushing.then(() => this.flush());
    }, delayMs);
  }

  private async flush(): Promise<void> {
    while (this.pending.size > 0) {
      const batch: Pending[] = [];
      for (const [key, change] of this.pending) {
        if (batch.length >= MAX_BATCH) break;
        batch.push(change);
        this.pending.delete(key);
      }
      const now = this.options.clock();
      try {
        // The rows and the NOTIFY of their id range in one statement (one round trip; the NOTIFY is sent at its commit).
        const inserted = this.db
          .insertInto('cluster_events')
          .values(batch.map((p) => ({ origin: this.replicaId, name: p.name, payload: p.payload, created_at: now.toISOString() })))
          .returning('id');
        await this.db
          .with('inserted', () => inserted)
          .selectFrom('inserted')
          .select((eb) => sql`pg_notify(${CLUSTER_CHANNEL}, ${this.replicaId} || ' ' || ${eb.fn.min('id')} || ' ' || ${eb.fn.max('id')})`.as('notified'))
          .execute();
        if (now.getTime() - this.lastPruneMs > 60_000) {
          this.lastPruneMs = now.getTime();
          await this.db.deleteFrom('cluster_events').where('created_at', '<', new Date(now.getTime() - EVENT_RETENTION_MS).toISOString()).execute();
        }
      } catch (error) {
        // The database is unreachable: the other replicas' streams resync when their LISTEN reconnects.
        this.options.onError?.(error, 'relaying changes to other replicas');
      }
    }
  }

  private async heartbeat(): Promise<void> {
    const now = this.options.clock();
    const at = now.toISOString();
    try {
      await this.db
        .insertInto('cluster_members')
        .values({ replica_id: this.replicaId, started_at: at, heartbeat_at: at })
        .onConflict((oc) => oc.column('replica_id').doUpdateSet({ heartbeat_at: at }))
        .execute();
      const cutoff = new Date(now.getTime() - MEMBER_TTL_MS).toISOString();
      const row = await this.db.selectFrom('cluster_members').select((eb) => eb.fn.countAll<number>().as('count')).where('heartbeat_at', '>=', cutoff).executeTakeFirst();
      this.live = Math.max(1, Number(row?.count ?? 1));
      await this.db.deleteFrom('cluster_members').where('heartbeat_at', '<', new Date(now.getTime() - 10 * MEMBER_TTL_MS).toISOString()).execute();
    } catch (error) {
      this.options.onError?.(error, 'cluster heartbeat');
    }
  }

  private async connectListener(isReconnect: boolean): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.database.url });
    client.on('error', (error) => this.lostListener(client, error));
    client.on('end', () => this.lostListener(client, new Error('the LISTEN connection ended')));
    client.on('notification', (message) => {
      if (message.channel !== CLUSTER_CHANNEL || !message.payload) return;
      const [origin, from, to] = message.payload.split(' ');
      // No live stream on this replica: nothing would read the rows.
      if (origin === this.replicaId || !from || !to || this.remoteListeners.size === 0) return;
      this.delivering = this.delivering.then(() => this.deliver(Number(from), Number(to)));
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CLUSTER_CHANNEL}`);
    } catch (error) {
      client.removeAllListeners('end');
      await client.end().catch(() => {});
      this.options.onError?.(error, 'listening for other replicas');
      this.scheduleReconnect();
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.listener = client;
    this.reconnectDelayMs = RECONNECT_MIN_MS;
    if (isReconnect) for (const listener of this.resyncListeners) listener();
  }

  private lostListener(client: pg.Client, error: Error): void {
    if (this.listener !== client) return;
    this.listener = undefined;
    client.removeAllListeners();
    client.on('error', () => {});
    void client.end().catch(() => {});
    if (this.stopped) return;
    this.options.onError?.(error, 'the connection listening for other replicas was lost');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    clearTimeout(this.reconnectTimer);
    const delay = this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(RECONNECT_MAX_MS, this.reconnectDelayMs * 2);
    this.reconnectTimer = setTimeout(() => void this.connectListener(true), delay);
    this.reconnectTimer.unref();
  }

  private async deliver(from: number, to: number): Promise<void> {
    try {
      const rows = await this.db.selectFrom('cluster_events').select(['name', 'payload']).where('id', '>=', from).where('id', '<=', to).orderBy('id').execute();
      for (const row of rows) {
        const payload: unknown = JSON.parse(row.payload);
        for (const listener of this.remoteListeners) {
          try {
            listener(row.name, payload);
          } catch (error) {
            this.options.onError?.(error, 'a remote change listener');
          }
        }
      }
    } catch (error) {
      this.options.onError?.(error, 'reading changes from other replicas');
      for (const listener of this.resyncListeners) listener();
    }
  }
}
