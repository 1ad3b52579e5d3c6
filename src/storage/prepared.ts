import type { CompiledQuery, Kysely } from 'kysely';
import type { Executor } from './database.ts';

const SLOT = '\u0000slot:';

/** What a slot can be bound to: the scalar types both drivers bind the same way. */
export type PreparedValue = string | number | null;

/**
 * A query built and compiled once with named slots for its values, then executed with values.
 * For per-request hot paths only (alert repeats, authentication, incident creation): the SQL never
 * changes there, and running Kysely's builder and compiler for it thousands of times a second costs
 * more than the database does. A slot stands in for a value while building (typed as text for the
 * builder; numeric and nullable columns cast it), so every slot must reach the compiled parameters.
 *
 * `build` receives the executor of the first run in each SQL dialect, so a repository can declare a prepared
 * query once at module level and use it on every database: the compiled text is kept per dialect.
 */
export class PreparedQuery<Name extends string, Row> {
  private readonly byDialect = new Map<unknown, { compiled: CompiledQuery<Row>; slots: (Name | null)[] }>();

  constructor(private readonly build: (slot: (name: Name) => string, executor: Kysely<object>) => { compile(): CompiledQuery<Row> }) {}

  /** `executor` is the handle or transaction to run on; the compiled text is the same for both. */
  async execute(executor: Executor, values: Readonly<Record<Name, PreparedValue>>): Promise<Row[]> {
    const dialect = dialectOf(executor);
    let prepared = this.byDialect.get(dialect);
    if (!prepared) {
      const compiled = this.build((name) => `${SLOT}${name}`, executor as Kysely<object>).compile();
      const slots = compiled.parameters.map((p) => (typeof p === 'string' && p.startsWith(SLOT) ? (p.slice(SLOT.length) as Name) : null));
      prepared = { compiled, slots };
      this.byDialect.set(dialect, prepared);
    }
    const { compiled, slots } = prepared;
    const parameters = compiled.parameters.map((p, i) => {
      const slot = slots[i];
      return slot === null || slot === undefined ? p : values[slot];
    });
    return (await executor.executeQuery<Row>({ ...compiled, parameters })).rows;
  }
}

/**
 * Prepared statements whose SQL depends on a small shape (how many keys an IN list has, which fixed kinds it names):
 * each shape's statements are built on its first use and kept, so a hot path compiles a handful of shapes once. A list
 * shape is told apart by its items, so callers may pass a fresh copy of the same list.
 */
export function preparedPerShape<Shape extends number | readonly string[], Prepared>(build: (shape: Shape) => Prepared): (shape: Shape) => Prepared {
  const byShape = new Map<number | string, Prepared>();
  return (shape) => {
    const key = typeof shape === 'number' ? shape : shape.join('\u0000');
    let prepared = byShape.get(key);
    if (prepared === undefined) {
      prepared = build(shape);
      byShape.set(key, prepared);
    }
    return prepared;
  };
}

/** Rows per statement of a PreparedInsert: the largest power of two used, so a table has at most 7 compiled shapes. */
const MAX_ROWS_PER_INSERT = 64;

/**
 * A multi-row INSERT compiled once per row count, executed with rows of values in `columns` order.
 * Several rows in one statement cost about as much as one row, which is what makes a batch of
 * incident creations cheap. Row counts are split into power-of-two chunks (13 rows run as 8 + 4 + 1),
 * so each table compiles at most log2(64) + 1 shapes and the statement caches stay small.
 */
export class PreparedInsert<Column extends string, Row> {
  private readonly shapes = new Map<string, { compiled: CompiledQuery<Row>; cells: (number | null)[] }>();
  private readonly dialects = new Map<unknown, number>();

  /** `build` receives the rows of slot markers to pass to `.values(...)` and the executor to build on; it may add `.returning…`. */
  constructor(
    private readonly columns: readonly Column[],
    private readonly build: (rows: Record<Column, string>[], executor: Kysely<object>) => { compile(): CompiledQuery<Row> },
  ) {}

  /** Inserts `rows` (each a value per column, in `columns` order); returns what the statement returns, in row order of each chunk. */
  async execute(executor: Executor, rows: readonly (readonly PreparedValue[])[]): Promise<Row[]> {
    const returned: Row[] = [];
    for (let start = 0; start < rows.length; ) {
      let size = MAX_ROWS_PER_INSERT;
      while (size > rows.length - start) size >>= 1;
      const { compiled, cells } = this.shape(size, executor);
      const width = this.columns.length;
      const parameters = cells.map((cell, i) => (cell === null ? compiled.parameters[i] : rows[start + Math.floor(cell / width)]![cell % width]));
      returned.push(...(await executor.executeQuery<Row>({ ...compiled, parameters })).rows);
      start += size;
    }
    return returned;
  }

  private shape(size: number, executor: Executor) {
    const dialect = dialectOf(executor);
    let dialectIndex = this.dialects.get(dialect);
    if (dialectIndex === undefined) this.dialects.set(dialect, (dialectIndex = this.dialects.size));
    const key = `${dialectIndex}:${size}`;
    let shape = this.shapes.get(key);
    if (!shape) {
      const width = this.columns.length;
      const rows = Array.from({ length: size }, (_, r) =>
        Object.fromEntries(this.columns.map((column, c) => [column, `${SLOT}${r * width + c}`])) as Record<Column, string>,
      );
      const compiled = this.build(rows, executor as Kysely<object>).compile();
      const cells = compiled.parameters.map((p) => (typeof p === 'string' && p.startsWith(SLOT) ? Number(p.slice(SLOT.length)) : null));
      shape = { compiled, cells };
      this.shapes.set(key, shape);
    }
    return shape;
  }
}

/** The SQL dialect an executor compiles for: its adapter's class (one per dialect, shared by a handle and its transactions). */
function dialectOf(executor: Executor): unknown {
  return executor.getExecutor().adapter.constructor;
}
