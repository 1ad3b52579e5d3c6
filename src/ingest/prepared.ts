import type { CompiledQuery, Kysely } from 'kysely';

const SLOT = '\u0000slot:';

/**
 * A query built and compiled once with named slots for its text values, then executed with values.
 * For the per-event hot path only: the SQL never changes there, and running Kysely's builder and
 * compiler for it thousands of times a second costs more than the database does.
 */
export class PreparedQuery<Name extends string, Row> {
  private compiled: CompiledQuery<Row> | null = null;
  private slots: (Name | null)[] = [];

  constructor(private readonly build: (slot: (name: Name) => string) => { compile(): CompiledQuery<Row> }) {}

  /** `executor` is the handle or transaction to run on; the compiled text is the same for both. */
  async execute(executor: Pick<Kysely<object>, 'executeQuery'>, values: Readonly<Record<Name, string>>): Promise<Row[]> {
    if (!this.compiled) {
      const compiled = this.build((name) => `${SLOT}${name}`).compile();
      this.slots = compiled.parameters.map((p) => (typeof p === 'string' && p.startsWith(SLOT) ? (p.slice(SLOT.length) as Name) : null));
      this.compiled = compiled;
    }
    const compiled = this.compiled;
    const parameters = compiled.parameters.map((p, i) => {
      const slot = this.slots[i];
      return slot === null || slot === undefined ? p : values[slot];
    });
    return (await executor.executeQuery<Row>({ ...compiled, parameters })).rows;
  }
}
