import type { DialectMigration, MigrationSet } from '../storage/index.ts';

export type SecretTables = {
  named_secrets: {
    name: string;
    /** `SecretBox.seal(value, 'named-secret')`: the plaintext is never stored. */
    sealed: string;
    created_at: string;
    updated_at: string;
    updated_by: string;
  };
};

const createSecretTables: DialectMigration = () => ({
  async up(db) {
    await db.schema
      .createTable('named_secrets')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('sealed', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('updated_by', 'text', (c) => c.notNull())
      .execute();
  },
});

export const secretMigrations: MigrationSet = { '030_secrets_named': createSecretTables };
