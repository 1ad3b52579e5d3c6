import { api, query } from '../api.ts';
import { useAsync } from '../hooks.ts';
import type { ScreenProps } from '../registry.ts';
import { navigate } from '../router.tsx';
import { canWrite, useSession } from '../session.ts';
import { ProblemDisplay, useAction } from '../components/forms.tsx';
import { ActionItemsTable, patchActionItem } from '../components/ActionItemsTable.tsx';
import { humanise } from '../format.ts';
import type { ActionItem } from '../types.ts';

const STATUSES = ['open', 'in_progress', 'done', 'wont_do'] as const;

/** Action items across incidents; filters live in the URL so a filtered view can be shared. */
export function ActionItems({ search }: ScreenProps) {
  const { me } = useSession();
  const writable = canWrite(me);
  const status = search.get('status') ?? '';
  const owner = search.get('owner') ?? '';
  const incident = search.get('incident') ?? '';
  const overdue = search.get('overdue') === 'true';
  const action = useAction();
  const path = `/api/v1/action-items${query({ status, owner, incident, overdue: overdue ? 'true' : '' })}`;
  const items = useAsync((signal) => api.get<ActionItem[]>(path, { signal }), [path]);
  const setFilter = (key: string, value: string) => {
    const next = new URLSearchParams(search);
    if (value) next.set(key, value);
    else next.delete(key);
    const text = next.toString();
    navigate(`/action-items${text ? `?${text}` : ''}`, { replace: true });
  };
  return (
    <section class="screen action-items-screen" aria-labelledby="ai-screen-title">
      <div class="screen-head">
        <h1 id="ai-screen-title">Action items</h1>
      </div>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="ai-filter-status">Status</label>
          <select id="ai-filter-status" value={status} onChange={(e) => setFilter('status', e.currentTarget.value)}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {humanise(s)}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="ai-filter-owner">Owner</label>
          <input id="ai-filter-owner" value={owner} onChange={(e) => setFilter('owner', e.currentTarget.value.trim())} />
        </div>
        <div class="field">
          <label for="ai-filter-incident">Incident</label>
          <input id="ai-filter-incident" value={incident} onChange={(e) => setFilter('incident', e.currentTarget.value.trim())} />
        </div>
        <div class="field checkbox">
          <label>
            <input type="checkbox" checked={overdue} onChange={(e) => setFilter('overdue', e.currentTarget.checked ? 'true' : '')} /> Overdue only
          </label>
        </div>
      </form>
      <ProblemDisplay of={items} />
      <ProblemDisplay problem={action.problem} />
      <ActionItemsTable
        items={items.data}
        writable={writable}
        showIncident
        empty="No action items match."
        onChange={(item, patch) => void action.run(() => patchActionItem(item, patch)).then(() => items.reload())}
      />
    </section>
  );
}
