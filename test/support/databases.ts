import { describe } from 'vitest';
import { testDatabaseKinds, type DatabaseKind } from './database-factory.ts';

export { createTestDatabase, testDatabaseKinds, type DatabaseKind, type TestDatabase } from './database-factory.ts';

/** Runs the same suite once per database kind. */
export function describeEachDatabase(title: string, suite: (kind: DatabaseKind) => void): void {
  for (const kind of testDatabaseKinds()) describe(`${title} [${kind}]`, () => suite(kind));
}
