import type { ComponentChildren, JSX } from 'preact';

export interface Column<T> {
  /** The column heading; an empty one is read out as "actions" and hidden from sight. */
  header: string;
  cell: (row: T) => ComponentChildren;
  /** The cell that names the row (rendered as its row header). */
  rowHeader?: boolean;
  /** Leave the column out (a column only admins see, say). */
  hidden?: boolean;
}

/**
 * The one table of the console: a scrolling wrapper, column headings with scopes, a row header per
 * row, and a line in place of the rows when there are none.
 */
export function DataTable<T>(props: {
  rows: readonly T[] | undefined;
  columns: readonly Column<T>[];
  rowKey: (row: T) => string | number;
  testId?: string;
  /** Shown under the headings once the rows have loaded and there are none. */
  empty?: ComponentChildren;
  rowProps?: (row: T) => JSX.HTMLAttributes<HTMLTableRowElement> & Record<string, unknown>;
  label?: string;
  /** A caption read with the table; `hiddenCaption` keeps it for screen readers only. */
  caption?: ComponentChildren;
  hiddenCaption?: boolean;
}) {
  const { rows, rowKey, testId, empty, rowProps, label, caption, hiddenCaption } = props;
  const columns = props.columns.filter((c) => !c.hidden);
  return (
    <>
    <div class="table-scroll">
      <table data-testid={testId} aria-label={label}>
        {caption ? <caption class={hiddenCaption ? 'visually-hidden' : undefined}>{caption}</caption> : null}
        <thead>
          <tr>
            {columns.map((c, i) => (
              <th key={i} scope="col">
                {c.header || <span class="visually-hidden">actions</span>}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {(rows ?? []).map((row) => (
            <tr key={rowKey(row)} {...(rowProps?.(row) ?? {})}>
              {columns.map((c, i) =>
                c.rowHeader ? (
                  <th key={i} scope="row">
                    {c.cell(row)}
                  </th>
                ) : (
                  <td key={i}>{c.cell(row)}</td>
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
    {rows && rows.length === 0 && empty !== undefined ? <p class="muted">{empty}</p> : null}
    </>
  );
}
