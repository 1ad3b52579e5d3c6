import { useState } from 'preact/hooks';
import { api, query, requestText } from '../api.ts';
import { useAsync } from '../hooks.ts';
import type { IncidentPanelProps } from '../registry.ts';
import { canWrite, useSession } from '../session.ts';
import { Field, ProblemDisplay, describedBy, useAction } from '../components/forms.tsx';
import { ActionItemsTable, patchActionItem } from '../components/ActionItemsTable.tsx';
import { SchemaForm } from '../components/SchemaForm.tsx';
import { formatTime, humanise } from '../format.ts';
import { Link } from '../router.tsx';
import type { ActionItem, Incident, Postmortem } from '../types.ts';
import { useSchemaForm } from '../components/schema-form.tsx';
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

export function PostmortemPanel({ incident, timelineKinds }: IncidentPanelProps) {
  const { me } = useSession();
  const writable = canWrite(me);
  const started = timelineKinds?.has('postmortem_created') ?? false;
  const postmortem = useAsync(
    (signal) => (started ? api.get<Postmortem>(pmPath(incident.id), { signal }) : Promise.resolve(undefined)),
    [incident.id, started],
  );
  const missing = timelineKinds !== null && !started && postmortem.data === undefined;
  useIncidentReload(incident.id, postmortem.reload, started);
  const action = useAction();
  const [reason, setReason] = useState('');
  const act = (run: () => Promise<unknown>) => void action.run(run);
  if (timelineKinds === null || (started && postmortem.data === undefined && postmortem.state !== 'error')) return null;
  const pm = postmortem.data;
  const next = pm ? NEXT_STATUS[pm.status] : undefined;
  return (
    <section class="panel postmortem incident-wide" aria-labelledby="postmortem-title" data-panel="postmortem">
      <div class="panel-head">
        <h2 id="postmortem-title">Postmortem</h2>
        {pm ? (
          <div class="button-row">
            <button type="button" onClick={() => act(() => downloadExport(incident.id, 'md'))}>
              Export Markdown
            </button>
            <button type="button" onClick={() => act(() => downloadExport(incident.id, 'html'))}>
              Export HTML
            </button>
          </div>
        ) : null}
      </div>
      <ProblemDisplay of={postmortem} />
      <ProblemDisplay problem={action.problem} />
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
          <PostmortemEditor incident={incident} postmortem={pm} writable={writable && pm.status !== 'published'} onSaved={(p) => postmortem.set(p)} />
          <IncidentActionItems incidentId={incident.id} writable={writable} />
          {writable && next ? (
            <div class="field publish-row">
              {next === 'published' ? (
                <>
                  <label for="publish-reason">Reason to publish without a root cause or action item (optional)</label>
                  <input id="publish-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
                </>
              ) : null}
              <button
                type="button"
                class="primary"
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
    </section>
  );
}

const PM_SECTIONS = [
  { id: 'summary', label: 'Summary', on: 'postmortem' },
  { id: 'impact', label: 'Impact', on: 'incident' },
  { id: 'root_cause', label: 'Root cause', on: 'incident' },
  { id: 'resolution', label: 'Resolution', on: 'incident' },
  { id: 'what_went_well', label: 'What went well', on: 'postmortem' },
  { id: 'what_went_badly', label: 'What went badly', on: 'postmortem' },
  { id: 'lessons_learned', label: 'Lessons learned', on: 'incident' },
] as const;
type SectionId = (typeof PM_SECTIONS)[number]['id'];

function sectionValue(incident: Incident, postmortem: Postmortem, id: SectionId): string {
  if (id === 'impact') return incident.impact.description ?? '';
  if (id === 'summary' || id === 'what_went_well' || id === 'what_went_badly') return postmortem[id] ?? '';
  return incident[id] ?? '';
}

/**
 * Every section of the postmortem in one full-width editor. The narrative sections belong to the
 * postmortem, the facts (impact, root cause, resolution, lessons) to the incident; one save writes each
 * where it lives, checked against the server's schema for that write.
 */
function PostmortemEditor(props: { incident: Incident; postmortem: Postmortem; writable: boolean; onSaved: (p: Postmortem) => void }) {
  const { incident, postmortem, writable, onSaved } = props;
  const initial = () => Object.fromEntries(PM_SECTIONS.map((s) => [s.id, sectionValue(incident, postmortem, s.id)])) as Record<SectionId, string>;
  const [values, setValues] = useState(initial);
  const [saved, setSaved] = useState(false);
  const pmForm = useSchemaForm({ method: 'patch', path: '/api/v1/incidents/{id}/postmortem' }, ['summary', 'what_went_well', 'what_went_badly']);
  const incidentForm = useSchemaForm({ method: 'patch', path: '/api/v1/incidents/{id}' }, ['impact', 'root_cause', 'resolution', 'lessons_learned']);
  const changed = (id: SectionId) => values[id] !== sectionValue(incident, postmortem, id);
  const orNull = (text: string) => (text.trim() ? text.trim() : null);

  if (!writable) {
    return (
      <div class="postmortem-sections">
        {PM_SECTIONS.map((s) => (
          <section key={s.id} class="pm-section">
            <h3>{s.label}</h3>
            <p class="pm-text">{sectionValue(incident, postmortem, s.id) || <span class="muted">not written</span>}</p>
          </section>
        ))}
      </div>
    );
  }
  const save = async (event: Event) => {
    event.preventDefault();
    setSaved(false);
    const pmPatch: Record<string, unknown> = {};
    for (const id of ['summary', 'what_went_well', 'what_went_badly'] as const) if (changed(id)) pmPatch[id] = orNull(values[id]);
    const incidentPatch: Record<string, unknown> = {};
    for (const id of ['root_cause', 'resolution', 'lessons_learned'] as const) if (changed(id)) incidentPatch[id] = orNull(values[id]);
    if (changed('impact')) incidentPatch.impact = { description: orNull(values.impact) };
    let ok = true;
    if (Object.keys(pmPatch).length) {
      const result = await pmForm.submit({ ...pmPatch, version: postmortem.version }, (body) => api.patch<Postmortem>(pmPath(incident.id), body));
      if (result) onSaved(result);
      ok = !!result;
    }
    if (ok && Object.keys(incidentPatch).length) {
      ok = !!(await incidentForm.submit({ ...incidentPatch, version: incident.version }, (body) => api.patch<Incident>(`/api/v1/incidents/${encodeURIComponent(incident.id)}`, body)));
    }
    setSaved(ok);
  };
  const errors = { ...pmForm.errors, ...incidentForm.errors };
  return (
    <form class="postmortem-sections" onSubmit={save} noValidate aria-label="Postmortem editor">
      {PM_SECTIONS.map((s) => (
        <Field key={s.id} id={`pm-${s.id}`} label={s.label} error={errors[s.id] ?? (s.id === 'impact' ? errors['impact.description'] : undefined)}>
          <textarea
            id={`pm-${s.id}`}
            rows={s.id === 'summary' ? 4 : 3}
            value={values[s.id]}
            onInput={(e) => setValues({ ...values, [s.id]: e.currentTarget.value })}
            {...describedBy(`pm-${s.id}`, errors[s.id])}
          />
        </Field>
      ))}
      <ProblemDisplay problem={pmForm.problem ?? incidentForm.problem} />
      <div class="button-row">
        <button type="submit" class="primary" disabled={pmForm.busy || incidentForm.busy || !PM_SECTIONS.some((s) => changed(s.id))}>
          Save postmortem
        </button>
        {saved ? (
          <span role="status" class="muted">
            Saved.
          </span>
        ) : null}
      </div>
    </form>
  );
}


function IncidentActionItems({ incidentId, writable }: { incidentId: string; writable: boolean }) {
  const items = useAsync((signal) => api.get<ActionItem[]>(`/api/v1/action-items${query({ incident: incidentId })}`, { signal }), [incidentId]);
  const action = useAction();
  const update = (item: ActionItem, patch: Record<string, unknown>) =>
    void action.run(async () => {
      try {
        const updated = await patchActionItem(item, patch);
        items.set((list = []) => list.map((i) => (i.id === updated.id ? updated : i)));
      } catch (error) {
        items.reload();
        throw error;
      }
    });
  return (
    <div class="action-items">
      <h3>
        Action items <Link href={`/action-items?incident=${encodeURIComponent(incidentId)}`}>(all)</Link>
      </h3>
      <ProblemDisplay of={items} />
      <ProblemDisplay problem={action.problem} />
      <ActionItemsTable items={items.data} writable={writable} empty="None yet." onChange={update} />
      {writable ? (
        <SchemaForm
          id="ai"
          class="action-item-form"
          grid={false}
          operation={{ method: 'post', path: '/api/v1/incidents/{id}/action-items' }}
          fields={[
            { name: 'title', label: 'New action item' },
            { name: 'owner', label: 'Owner' },
            { name: 'priority', label: 'Priority', kind: 'select' },
            { name: 'due_date', label: 'Due date', kind: 'date', id: 'ai-due' },
          ]}
          initial={{ title: '', owner: '', priority: 'p2', due_date: '' }}
          toBody={(v) => ({ title: v.title?.trim(), owner: v.owner?.trim(), priority: v.priority, due_date: v.due_date })}
          send={(body) => api.post<ActionItem>(`/api/v1/incidents/${encodeURIComponent(incidentId)}/action-items`, body)}
          onDone={() => items.reload()}
          submitLabel="Add action item"
        />
      ) : null}
    </div>
  );
}
