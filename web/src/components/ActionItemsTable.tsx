import { api } from '../api.ts';
import { fieldChoices } from '../schema.ts';
import { useAsync } from '../hooks.ts';
import { humanise } from '../format.ts';
import { Link } from '../router.tsx';
import type { ActionItem } from '../types.ts';
import { DataTable } from './DataTable.tsx';

const PATCH = { method: 'patch', path: '/api/v1/action-items/{id}' } as const;

/** The values the server accepts for an action item's priority and status, from its schema. */
function useChoices() {
  return useAsync(
    async () => ({
      priority: (await fieldChoices(PATCH.method, PATCH.path, 'priority')) ?? [],
      status: (await fieldChoices(PATCH.method, PATCH.path, 'status')) ?? [],
    }),
    [],
  );
}

/** Saves one change to an action item with its version; answers the stored item. */
export function patchActionItem(item: ActionItem, patch: Record<string, unknown>): Promise<ActionItem> {
  return api.patch<ActionItem>(`/api/v1/action-items/${item.id}`, { ...patch, version: item.version });
}

/**
 * Action items, edited in place (priority, due date, status), wherever they are listed: the postmortem
 * of one incident and the screen of all of them.
 */
export function ActionItemsTable(props: { items: readonly ActionItem[] | undefined; writable: boolean; showIncident?: boolean; empty: string; onChange: (item: ActionItem, patch: Record<string, unknown>) => void }) {
  const { items, writable, showIncident = false, empty, onChange } = props;
  const choices = useChoices();
  const select = (item: ActionItem, field: 'priority' | 'status') => {
    const values = choices.data?.[field].length ? choices.data[field] : [item[field]];
    return (
      <select aria-label={`${field === 'status' ? 'Status' : 'Priority'} of ${item.title}`} value={item[field]} onChange={(e) => onChange(item, { [field]: e.currentTarget.value })}>
        {values.map((v) => (
          <option key={v} value={v}>
            {humanise(v)}
          </option>
        ))}
      </select>
    );
  };
  return (
    <DataTable
      testId="action-items-table"
      rows={items}
      rowKey={(item) => item.id}
      empty={empty}
      rowProps={(item) => ({ class: item.overdue ? 'overdue' : '', 'data-item-id': item.id })}
      columns={[
        {
          header: 'action',
          rowHeader: true,
          cell: (item) => (
            <>
              {item.link ? (
                <a href={item.link} rel="noreferrer noopener" target="_blank">
                  {item.title}
                </a>
              ) : (
                item.title
              )}
              {item.overdue ? <strong class="unacked overdue-flag"> (overdue)</strong> : null}
            </>
          ),
        },
        { header: 'incident', hidden: !showIncident, cell: (item) => <Link href={`/incidents/${encodeURIComponent(item.incident_id)}`}>{item.incident_id}</Link> },
        { header: 'owner', cell: (item) => item.owner },
        { header: 'priority', cell: (item) => (writable ? select(item, 'priority') : item.priority) },
        {
          header: 'due',
          cell: (item) =>
            writable ? (
              <input type="date" aria-label={`Due date of ${item.title}`} value={item.due_date} onChange={(e) => e.currentTarget.value && onChange(item, { due_date: e.currentTarget.value })} />
            ) : (
              item.due_date
            ),
        },
        { header: 'status', cell: (item) => (writable ? select(item, 'status') : humanise(item.status)) },
      ]}
    />
  );
}
