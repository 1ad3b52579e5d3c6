import { useState } from 'preact/hooks';
import { api, query } from '../api.ts';
import { useAsync } from '../hooks.ts';
import type { ScreenProps } from '../registry.ts';
import { navigate } from '../router.tsx';
import { ProblemDisplay } from '../components/forms.tsx';
import { DataTable } from '../components/DataTable.tsx';
import { formatTime } from '../format.ts';
import type { Change, Page } from '../types.ts';

const KINDS = ['deploy', 'model', 'prompt', 'config', 'flag', 'infra', 'other'] as const;
const WINDOWS: { label: string; hours: number | null }[] = [
  { label: 'last hour', hours: 1 },
  { label: 'last 24 h', hours: 24 },
  { label: 'last 7 days', hours: 24 * 7 },
  { label: 'any time', hours: null },
];

/** Every recorded change (deploys, model and prompt rollouts, configuration), newest first; filters live in the URL. */
export function ChangesScreen({ search }: ScreenProps) {
  const service = search.get('service') ?? '';
  const kind = search.get('kind') ?? '';
  const hours = search.get('hours') ?? '24';
  const [cursors, setCursors] = useState<string[]>([]);
  const from = hours ? new Date(Date.now() - Number(hours) * 3_600_000).toISOString() : '';
  const cursor = cursors[cursors.length - 1] ?? '';
  const path = `/api/v1/changes${query({ service, kind, from, limit: 50, cursor })}`;
  // The path changes with the clock through `from`; the list reloads when a filter or the page changes.
  const page = useAsync((signal) => api.get<Page<Change>>(path, { signal }), [service, kind, hours, cursor]);
  const setFilter = (key: string, value: string) => {
    const next = new URLSearchParams(search);
    if (value) next.set(key, value);
    else next.delete(key);
    setCursors([]);
    const text = next.toString();
    navigate(`/changes${text ? `?${text}` : ''}`, { replace: true });
  };
  return (
    <section class="screen changes-screen" aria-labelledby="changes-title">
      <div class="screen-head">
        <h1 id="changes-title">Changes</h1>
      </div>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="changes-service">Service</label>
          <input id="changes-service" value={service} onChange={(e) => setFilter('service', e.currentTarget.value.trim())} />
        </div>
        <div class="field">
          <label for="changes-kind">Kind</label>
          <select id="changes-kind" value={kind} onChange={(e) => setFilter('kind', e.currentTarget.value)}>
            <option value="">any</option>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="changes-window">When</label>
          <select id="changes-window" value={hours} onChange={(e) => setFilter('hours', e.currentTarget.value)}>
            {WINDOWS.map((w) => (
              <option key={w.label} value={w.hours === null ? '' : String(w.hours)}>
                {w.label}
              </option>
            ))}
          </select>
        </div>
      </form>
      <ProblemDisplay of={page} />
      {page.data?.items.length ? (
        <DataTable
          testId="changes-table"
          caption="Changes, newest first"
          hiddenCaption
          rows={page.data.items}
          rowKey={(c) => c.id}
          rowProps={(c) => ({ 'data-change-id': c.id })}
          columns={[
            { header: 'when', cell: (c) => formatTime(c.at) },
            { header: 'service', cell: (c) => c.service },
            { header: 'kind', cell: (c) => <span class="badge">{c.kind}</span> },
            {
              header: 'change',
              cell: (c) =>
                c.links[0] ? (
                  <a href={c.links[0].href} rel="noreferrer noopener" target="_blank">
                    {c.summary}
                  </a>
                ) : (
                  c.summary
                ),
            },
            { header: 'versions', cell: (c) => (c.version_to ? `${c.version_from ?? '?'} → ${c.version_to}` : '—') },
            { header: 'by', cell: (c) => c.author ?? '—' },
            { header: 'from', cell: (c) => c.source },
          ]}
        />
      ) : page.data ? (
        <p class="muted">No changes match. Deploy pipelines, GitHub, Argo CD and PagerDuty change events can send them (README, “Changes”); model and prompt rollouts are noticed in LLM telemetry.</p>
      ) : null}
      <div class="pager">
        {cursors.length ? (
          <button type="button" onClick={() => setCursors(cursors.slice(0, -1))}>
            Newer
          </button>
        ) : null}
        {page.data?.next_cursor ? (
          <button type="button" onClick={() => setCursors([...cursors, page.data!.next_cursor!])}>
            Older
          </button>
        ) : null}
      </div>
    </section>
  );
}
