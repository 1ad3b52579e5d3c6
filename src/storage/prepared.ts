import type { CompiledQuery, Kysely } from 'kysely';

const SLOT = '\u0000slot:';

/** What a slot can be bound to: the scalar types both drivers bind the same way. */
export type PreparedValue = string | number | null;

/**
 * A query built and compiled once with named slots for its values, then executed with values.
 * For per-request hot paths only (alert repeats, authentication, incident creation): the SQL never
 * changes there, and running Kysely's builder and compiler for it thousands of times a second costs
 * more than the database does. A slot stands in for a value while building (typed as text for the
 * builder; numeric and nullable columns cast it), so every slot must reach the compiled parameters.
 */
export class PreparedQuery<Name extends string, Row> {
  private compiled: CompiledQuery<Row> | null = null;
  private slots: (Name | null)[] = [];

  constructor(private readonly build: (slot: (name: Name) => string) => { compile(): CompiledQuery<Row> }) {}

  /** `executor` is the handle or transaction to run on; the compiled text is the same for both. */
  async execute(executor: Pick<Kysely<object>, 'executeQuery'>, values: Readonly<Record<Name, PreparedValue>>): Promise<Row[]> {
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
