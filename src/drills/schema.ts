import type { Generated } from 'kysely';
import { withAutoIncrementId, type DialectMigration, type MigrationSet } from '../storage/index.ts';

export type DrillTables = {
  drill_runs: {
    id: Generated<number>;
    scenario: string;
    /** 1 when every expectation held. */
    passed: number;
    started_at: string;
    finished_at: string;
    created_by: string;
    created_at: string;
    /** The whole scorecard as JSON: what the drill observed and each expectation's outcome. */
    scorecard: string;
  };
};


const createDrillTables: DialectMigration = (dialect) => ({
  async up(db) {
    await withAutoIncrementId(db.schema.createTable('drill_runs'), dialect)
      .addColumn('scenario', 'text', (c) => c.notNull())
      .addColumn('passed', 'integer', (c) => c.notNull())
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('finished_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('scorecard', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('drill_runs_by_scenario').on('drill_runs').columns(['scenario', 'id']).execute();
  },
});

export const drillMigrations: MigrationSet = { '070_drills_runs': createDrillTables };
