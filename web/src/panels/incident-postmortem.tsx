import { useState } from 'preact/hooks';
import { api, query, requestText, type Problem } from '../api.ts';
import { useAsync } from '../hooks.ts';
import type { IncidentPanelProps } from '../registry.ts';
import { canWrite, useSession } from '../session.ts';
import { Field, ProblemNotice, describedBy, problemToErrors, type FieldErrors } from '../components/forms.tsx';
import { formatTime, humanise } from '../format.ts';
import { Link } from '../router.tsx';
import type { ActionItem, Postmortem } from '../types.ts';
import { useIncidentReload } from './incident-recovery.tsx';

const pmPath = (id: string) => `/api/v1/incidents/${encodeURIComponent(id)}/postmortem`;
const NEXT_STATUS: Record<string, 'in_review' | 'published' | undefined> = { draft: 'in_review', in_review: 'published' };

/**
 * Downloads an export with the Authorization header (a plain link would need the token in its URL)
 * and hands it to the browser as a file.
 */
async function downloadExport(incidentId: string, format: 'md' | 'html'): Promise<void> {
  const text = await requestText('GET', `${pmPath(incidentId)}/export${query({ format })}`);
  const blob = new Blob([text], { type: format === 'html' ? 'text/html' : 'text/markdown' });
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = `postmortem-${incidentId}.${format}`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function PostmortemPanel({ incident }: IncidentPanelProps) {
  const { me } = useSession();
  const writable = canWrite(me);
  const postmortem = useAsync((signal) => api.get<Postmortem>(pmPath(incident.id), { signal }), [incident.id]);
  const missing = postmortem.state === 'error' && postmortem.error.status === 404;
  useIncidentReload(incident.id, postmortem.reload);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [reason, setReason] = useState('');
  const act = async (action: () => Promise<void>) => {
    setProblem(null);
    try {
      await action();
    } catch (error) {
      setProblem(problemToErrors(error, []).form);
    }
  };
  if (postmortem.state === 'loading' && postmortem.data === undefined) return null;
  const pm = postmortem.data;
  const next = pm ? NEXT_STATUS[pm.status] : undefined;
  return (
    <section class="panel postmortem" aria-labelledby="postmortem-title" data-panel="postmortem">
      <h2 id="postmortem-title">Postmortem</h2>
      {postmortem.state === 'error' && !missing ? <ProblemNotice problem={postmortem.error.problem} /> : null}
      <ProblemNotice problem={problem} />
      {missing ? (
        writable ? (
          <button type="button" onClick={() => act(async () => postmortem.set(await api.post<Postmortem>(pmPath(incident.id), {})))}>
            Start postmortem
          </button>
        ) : (
          <p class="muted">No postmortem yet.</p>
        )
      ) : pm ? (
        <>
          <p data-testid="postmortem-status">
            <span class="badge">{humanise(pm.status)}</span> started by {pm.created_by} {formatTime(pm.created_at)}
            {pm.published_at ? `, published ${formatTime(pm.published_at)} by ${pm.published_by ?? '?'}` : ''}
          </p>
          {pm.summary ? <p>{pm.summary}</p> : null}
          <div class="button-row">
            <button type="button" onClick={() => act(() => downloadExport(incident.id, 'md'))}>
              Export Markdown
            </button>
            <button type="button" onClick={() => act(() => downloadExport(incident.id, 'html'))}>
              Export HTML
            </button>
          </div>
          {writable ? <SummaryForm incidentId={incident.id} postmortem={pm} onSaved={(p) => postmortem.set(p)} /> : null}
          {writable && next ? (
            <div class="field">
              {next === 'published' ? (
                <>
                  <label for="publish-reason">Reason to publish without a root cause or action item (optional)</label>
                  <input id="publish-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
                </>
              ) : null}
              <button
                type="button"
                onClick={() =>
                  act(async () =>
                    postmortem.set(
                      await api.post<Postmortem>(`${pmPath(incident.id)}/transition`, { to: next, version: pm.version, ...(reason.trim() ? { reason: reason.trim() } : {}) }),
                    ),
                  )
                }
              >
                {next === 'in_review' ? 'Request review' : 'Publish'}
              </button>
            </div>
          ) : null}
        </>
      ) : null}
      <IncidentActionItems incidentId={incident.id} writable={writable} />
    </section>
  );
}

function SummaryForm({ incidentId, postmortem, onSaved }: { incidentId: string; postmortem: Postmortem; onSaved: (p: Postmortem) => void }) {
  const [summary, setSummary] = useState(postmortem.summary ?? '');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  if (postmortem.status === 'published') return null;
  const submit = async (event: Event) => {
    event.preventDefault();
    setProblem(null);
    if (summary.length > 20_000) return setErrors({ summary: 'At most 20,000 characters.' });
    setErrors({});
    try {
      onSaved(await api.patch<Postmortem>(pmPath(incidentId), { version: postmortem.version, summary: summary.trim() || null }));
    } catch (error) {
      const split = problemToErrors(error, ['summary']);
      setErrors(split.fields);
      setProblem(split.form);
    }
  };
  return (
    <form onSubmit={submit} noValidate>
      <Field id="pm-summary" label="Summary" error={errors.summary}>
        <textarea id="pm-summary" rows={3} value={summary} onInput={(e) => setSummary(e.currentTarget.value)} {...describedBy('pm-summary', errors.summary)} />
      </Field>
      <ProblemNotice problem={problem} />
      <button type="submit">Save summary</button>
    </form>
  );
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function IncidentActionItems({ incidentId, writable }: { incidentId: string; writable: boolean }) {
  const items = useAsync((signal) => api.get<ActionItem[]>(`/api/v1/action-items${query({ incident: incidentId })}`, { signal }), [incidentId]);
  const [form, setForm] = useState({ title: '', owner: '', priority: 'p2', due_date: '' });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setProblem(null);
    const next: FieldErrors = {};
    if (!form.title.trim()) next.title = 'Say what has to be done.';
    if (!form.owner.trim()) next.owner = 'Name a team member or token name.';
    if (!DATE.test(form.due_date)) next.due_date = 'A date, YYYY-MM-DD.';
    setErrors(next);
    if (Object.keys(next).length) return;
    try {
      await api.post(`/api/v1/incidents/${encodeURIComponent(incidentId)}/action-items`, { ...form, title: form.title.trim(), owner: form.owner.trim() });
      setForm({ title: '', owner: '', priority: 'p2', due_date: '' });
      items.reload();
    } catch (error) {
      const split = problemToErrors(error, ['title', 'owner', 'priority', 'due_date']);
      setErrors(split.fields);
      setProblem(split.form);
    }
  };
  return (
    <div class="action-items">
      <h3>
        Action items <Link href={`/action-items?incident=${encodeURIComponent(incidentId)}`}>(all)</Link>
      </h3>
      {items.state === 'error' ? <ProblemNotice problem={items.error.problem} /> : null}
      {items.data?.length ? (
        <ul>
          {items.data.map((item) => (
            <li key={item.id} class={item.overdue ? 'overdue' : ''}>
              <strong>{item.title}</strong> — {item.owner}, {item.priority}, due {item.due_date}, {humanise(item.status)}
              {item.overdue ? <strong> (overdue)</strong> : null}
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted">None yet.</p>
      )}
      {writable ? (
        <details>
          <summary>Add an action item</summary>
          <form onSubmit={submit} noValidate>
            <Field id="ai-title" label="Title" error={errors.title}>
              <input id="ai-title" value={form.title} onInput={(e) => setForm({ ...form, title: e.currentTarget.value })} {...describedBy('ai-title', errors.title)} />
            </Field>
            <Field id="ai-owner" label="Owner" error={errors.owner}>
              <input id="ai-owner" value={form.owner} onInput={(e) => setForm({ ...form, owner: e.currentTarget.value })} {...describedBy('ai-owner', errors.owner)} />
            </Field>
            <Field id="ai-priority" label="Priority" error={errors.priority}>
              <select id="ai-priority" value={form.priority} onChange={(e) => setForm({ ...form, priority: e.currentTarget.value })}>
                {['p1', 'p2', 'p3', 'p4'].map((p) => (
                  <option key={p} value={p}>
                    {p}
                  </option>
                ))}
              </select>
            </Field>
            <Field id="ai-due" label="Due date" error={errors.due_date}>
              <input id="ai-due" type="date" value={form.due_date} onInput={(e) => setForm({ ...form, due_date: e.currentTarget.value })} {...describedBy('ai-due', errors.due_date)} />
            </Field>
            <ProblemNotice problem={problem} />
            <button type="submit">Add action item</button>
          </form>
        </details>
      ) : null}
    </div>
  );
}
