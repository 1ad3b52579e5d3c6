import type { DialectMigration, MigrationSet } from '../storage/index.ts';
import type { Role } from './roles.ts';

export type TokenTables = {
  api_tokens: {
    id: string;
    name: string;
    role: Role;
    token_hash: string;
    created_at: string;
    created_by: string;
    revoked_at: string | null;
    last_used_at: string | null;
  };
  settings: { key: string; value: string };
};

const createTokenTables: DialectMigration = () => ({
  async up(db) {
    await db.schema
      .createTable('api_tokens')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('revoked_at', 'text')
      .addColumn('last_used_at', 'text')
      .execute();
    await db.schema
      .createTable('settings')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .execute();
  },
});

export const tokenMigrations: MigrationSet = { '003_auth_tokens': createTokenTables };
