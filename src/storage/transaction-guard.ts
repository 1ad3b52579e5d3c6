import { AsyncLocalStorage } from 'node:async_hooks';
import type { DatabaseConnection, Dialect, Driver, Kysely, QueryCompiler, TransactionSettings, DatabaseIntrospector, DialectAdapter } from 'kysely';
import { AppError } from '../shared/errors.ts';

/** The transaction whose callback the current async context belongs to, while it is still open. */
interface TransactionScope {
  readonly driver: Driver;
  readonly connection: DatabaseConnection;
  open: boolean;
}

const currentTransaction = new AsyncLocalStorage<TransactionScope>();

/**
 * SQLite has a single connection. While a transaction holds it, a query on the plain handle waits for that
 * connection, and when the transaction awaits the query neither can proceed: the whole server wedges.
 * On PostgreSQL the same mistake reads outside the transaction's snapshot and can wait on the transaction's
 * own row locks. The guard makes that mistake fail at once, on both databases, with an error naming it.
 *
 * Kysely calls `beginTransaction` right before the transaction callback, in the callback's async context, so
 * the scope entered there is seen by everything the callback awaits. Work the callback merely starts (an
 * event handler, a timer) inherits the scope too; it is closed when the transaction ends, so such work may use
 * the plain handle once the transaction is over.
 */
class TransactionGuardDriver implements Driver {
  readonly #inner: Driver;

  constructor(inner: Driver) {
    this.#inner = inner;
  }

  init(): Promise<void> {
    return this.#inner.init();
  }

  acquireConnection(): Promise<DatabaseConnection> {
    const scope = currentTransaction.getStore();
    if (scope?.open && scope.driver === this) {
      return Promise.reject(
        new AppError('internal', 'a query on the plain database handle ran inside a transaction; it must use the transaction (on SQLite it would wait forever for the connection the transaction holds)'),
      );
    }
    return this.#inner.acquireConnection();
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    currentTransaction.enterWith({ driver: this, connection, open: true });
    return this.#inner.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    this.#close(connection);
    return this.#inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    this.#close(connection);
    return this.#inner.rollbackTransaction(connection);
  }

  savepoint(connection: DatabaseConnection, name: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    if (!this.#inner.savepoint) throw new AppError('internal', 'this database driver has no savepoints');
    return this.#inner.savepoint(connection, name, compileQuery);
  }

  rollbackToSavepoint(connection: DatabaseConnection, name: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    if (!this.#inner.rollbackToSavepoint) throw new AppError('internal', 'this database driver has no savepoints');
    return this.#inner.rollbackToSavepoint(connection, name, compileQuery);
  }

  releaseSavepoint(connection: DatabaseConnection, name: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    if (!this.#inner.releaseSavepoint) throw new AppError('internal', 'this database driver has no savepoints');
    return this.#inner.releaseSavepoint(connection, name, compileQuery);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    // A transaction Kysely found aborted is neither committed nor rolled back by it; it ends here.
    this.#close(connection);
    return this.#inner.releaseConnection(connection);
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }

  #close(connection: DatabaseConnection): void {
    const scope = currentTransaction.getStore();
    if (scope?.driver === this && scope.connection === connection) scope.open = false;
  }
}

/** Wraps a dialect so that its driver refuses plain-handle queries from inside a transaction (see above). */
export function guardTransactions(dialect: Dialect): Dialect {
  return {
    createDriver: (): Driver => new TransactionGuardDriver(dialect.createDriver()),
    createQueryCompiler: (): QueryCompiler => dialect.createQueryCompiler(),
    createAdapter: (): DialectAdapter => dialect.createAdapter(),
    createIntrospector: (db: Kysely<any>): DatabaseIntrospector => dialect.createIntrospector(db), // eslint-disable-line @typescript-eslint/no-explicit-any -- Kysely's own signature
  };
}
