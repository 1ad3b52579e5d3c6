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

/**
 * People who sign in. A person is known everywhere by a handle (`alice`): team membership, on-call
 * schedules, assignees and the timeline name the same handle, so an account is the sign-in identity of
 * the handle the catalogue already uses. E-mail and an optional password or SSO identity say how they sign in.
 */
export type PeopleTables = {
  users: {
    id: string;
    handle: string;
    email: string;
    name: string;
    role: Role;
    password_hash: string | null;
    oidc_issuer: string | null;
    oidc_subject: string | null;
    created_at: string;
    created_by: string;
    updated_at: string;
    disabled_at: string | null;
    last_sign_in_at: string | null;
    version: number;
  };
  sessions: {
    id: string;
    token_hash: string;
    user_id: string;
    csrf_token: string;
    method: string;
    created_at: string;
    expires_at: string;
    last_seen_at: string;
    revoked_at: string | null;
  };
  /** One row per SSO sign-in under way: state, nonce and PKCE verifier, used once at the callback. */
  oidc_logins: { state: string; code_verifier: string; nonce: string; return_to: string; expires_at: string };
};

const createPeopleTables: DialectMigration = () => ({
  async up(db) {
    await db.schema
      .createTable('users')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('handle', 'text', (c) => c.notNull().unique())
      .addColumn('email', 'text', (c) => c.notNull().unique())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('password_hash', 'text')
      .addColumn('oidc_issuer', 'text')
      .addColumn('oidc_subject', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('disabled_at', 'text')
      .addColumn('last_sign_in_at', 'text')
      .addColumn('version', 'integer', (c) => c.notNull())
      .addUniqueConstraint('users_oidc_identity', ['oidc_issuer', 'oidc_subject'])
      .execute();
    await db.schema
      .createTable('sessions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('csrf_token', 'text', (c) => c.notNull())
      .addColumn('method', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('last_seen_at', 'text', (c) => c.notNull())
      .addColumn('revoked_at', 'text')
      .execute();
    await db.schema.createIndex('sessions_by_user').on('sessions').column('user_id').execute();
    await db.schema
      .createTable('oidc_logins')
      .addColumn('state', 'text', (c) => c.primaryKey())
      .addColumn('code_verifier', 'text', (c) => c.notNull())
      .addColumn('nonce', 'text', (c) => c.notNull())
      .addColumn('return_to', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();
  },
});

export const peopleMigrations: MigrationSet = { '004_auth_people': createPeopleTables };
