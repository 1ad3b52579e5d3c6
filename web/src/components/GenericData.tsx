import { formatNumber } from '../format.ts';
import { DataTable } from './DataTable.tsx';

/**
 * Renders whatever a capability's endpoint answered, as it is: a table for a list of records, a
 * definition list for one record. Used by incident panel slots until their capability ships a
 * dedicated panel, so real data is shown and nothing is invented.
 */
function scalar(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function GenericData({ data }: { data: unknown }) {
  const list = Array.isArray(data)
    ? data
    : data && typeof data === 'object' && Array.isArray((data as { items?: unknown }).items)
      ? (data as { items: unknown[] }).items
      : null;
  if (list) {
    if (list.length === 0) return <p class="muted">None.</p>;
    const records = list.filter((item): item is Record<string, unknown> => !!item && typeof item === 'object');
    const columns = [...new Set(records.flatMap((r) => Object.keys(r)))].filter((key) => records.some((r) => typeof r[key] !== 'object' || r[key] === null)).slice(0, 6);
    return <DataTable rows={records} rowKey={(r) => records.indexOf(r)} columns={columns.map((c) => ({ header: c, cell: (r: Record<string, unknown>) => scalar(r[c]) }))} />;
  }
  if (data && typeof data === 'object') {
    return (
      <dl class="facts">
        {Object.entries(data as Record<string, unknown>).map(([key, value]) => (
          <div key={key}>
            <dt>{key}</dt>
            <dd>{scalar(value)}</dd>
          </div>
        ))}
      </dl>
    );
  }
  return <p>{scalar(data)}</p>;
}
