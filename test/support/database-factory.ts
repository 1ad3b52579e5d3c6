import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import pg from 'pg';

// No vitest import here: benchmarks create databases with this too.

export type DatabaseKind = 'sqlite' | 'postgres';

export interface TestDatabase {
  kind: DatabaseKind;
  url: string;
  drop(): Promise<void>;
}

/** The databases the suite runs on: SQLite always, PostgreSQL whenever FIREBREAK_TEST_PG_URL is set. */
export function testDatabaseKinds(): DatabaseKind[] {
  return process.env.FIREBREAK_TEST_PG_URL ? ['sqlite', 'postgres'] : ['sqlite'];
}

/**
 * A fresh, empty database: a temporary SQLite file, or a new PostgreSQL database dropped afterwards,
 * created through `postgresAdminUrl` (the suite's FIREBREAK_TEST_PG_URL unless a benchmark names its own).
 */
export async function createTestDatabase(kind: DatabaseKind, postgresAdminUrl = process.env.FIREBREAK_TEST_PG_URL): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-test-'));
    return { kind, url: path.join(dir, 'firebreak.db'), drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
  const adminUrl = postgresAdminUrl;
  if (!adminUrl) throw new Error('FIREBREAK_TEST_PG_URL is not set');
  const name = `firebreak_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    kind,
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
