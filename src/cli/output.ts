import Table from 'cli-table3';
import { AppError, isAppError, type ErrorCode } from '../shared/errors.ts';

/** The one place error codes become process exit codes. */
const EXIT_CODES: Partial<Record<ErrorCode, number>> = {
  validation_failed: 2,
  malformed_input: 2,
  unauthorized: 3,
  forbidden: 3,
  not_found: 4,
  conflict: 5,
  version_conflict: 5,
  invalid_transition: 5,
  upstream_failed: 6,
  unavailable: 6,
};

export function exitCodeFor(error: unknown): number {
  return isAppError(error) ? (EXIT_CODES[error.code] ?? 1) : 1;
}

export function oneLineMessage(error: unknown): string {
  const message = isAppError(error) ? error.message : error instanceof Error ? error.message : String(error);
  return `firebreak: ${message.replace(/\s*\n\s*/g, ' ')}`;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Plain aligned columns, like kubectl: easy to read and to grep. */
export function printTable(rows: readonly Record<string, unknown>[], columns: readonly string[]): void {
  const table = new Table({
    head: columns.map((c) => c.toUpperCase()),
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  for (const row of rows) table.push(columns.map((c) => formatCell(row[c])));
  process.stdout.write(`${rows.length === 0 ? '(none)' : table.toString()}\n`);
}

function formatCell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (Array.isArray(value)) return value.join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function usageError(message: string): AppError {
  return new AppError('validation_failed', message);
}
