import { useState } from 'preact/hooks';
import { api, query, type Problem } from '../api.ts';
import { useAsync } from '../hooks.ts';
import type { ScreenProps } from '../registry.ts';
import { Link, navigate } from '../router.tsx';
import { canWrite, useSession } from '../session.ts';
import { ProblemNotice, problemToErrors } from '../components/forms.tsx';
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
  const [problem, setProblem] = useState<Problem | null>(null);
  const path = `/api/v1/action-items${query({ status, owner, incident, overdue: overdue ? 'true' : '' })}`;
  const items = useAsync((signal) => api.get<ActionItem[]>(path, { signal }), [path]);
  const setFilter = (key: string, value: string) => {
    const next = new URLSearchParams(search);
    if (value) next.set(key, value);
    else next.delete(key);
    const text = next.toString();
    navigate(`/action-items${text ? `?${text}` : ''}`, { replace: true });
  };
  const setItemStatus = async (item: ActionItem, to: string) => {
    setProblem(null);
    try {
      await api.patch(`/api/v1/action-items/${item.id}`, { version: item.version, status: to });
      items.reload();
    } catch (error) {
      setProblem(problemToErrors(error, []).form);
    }
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
      {items.state === 'error' ? <ProblemNotice problem={items.error.problem} /> : null}
      <ProblemNotice problem={problem} />
      <div class="table-scroll">
        <table data-testid="action-items-table">
          <thead>
            <tr>
              <th scope="col">Title</th>
              <th scope="col">Incident</th>
              <th scope="col">Owner</th>
              <th scope="col">Priority</th>
              <th scope="col">Due</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {(items.data ?? []).map((item) => (
              <tr key={item.id} class={item.overdue ? 'overdue' : ''} data-item-id={item.id}>
                <th scope="row">
                  {item.link ? (
                    <a href={item.link} rel="noreferrer noopener" target="_blank">
                      {item.title}
                    </a>
                  ) : (
                    item.title
                  )}
                </th>
                <td>
                  <Link href={`/incidents/${encodeURIComponent(item.incident_id)}`}>{item.incident_id}</Link>
                </td>
                <td>{item.owner}</td>
                <td>{item.priority}</td>
                <td>
                  {item.due_date}
                  {item.overdue ? <strong class="overdue-flag"> overdue</strong> : null}
                </td>
                <td>
                  {writable ? (
                    <select aria-label={`Status of ${item.title}`} value={item.status} onChange={(e) => void setItemStatus(item, e.currentTarget.value)}>
                      {STATUSES.map((s) => (
                        <option key={s} value={s}>
                          {humanise(s)}
                        </option>
                      ))}
                    </select>
                  ) : (
                    humanise(item.status)
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {items.data && items.data.length === 0 ? <p class="muted">No action items match.</p> : null}
    </section>
  );
}
