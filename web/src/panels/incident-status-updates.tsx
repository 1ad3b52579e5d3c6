import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { useAsync } from '../hooks.ts';
import type { IncidentPanelProps } from '../registry.ts';
import { canWrite, useSession } from '../session.ts';
import { Field, ProblemDisplay, describedBy } from '../components/forms.tsx';
import { useSchemaForm } from '../components/schema-form.tsx';
import { formatDateTimeZone, humanise } from '../format.ts';
import { useIncidentReload } from './incident-recovery.tsx';
import { SERVICE_STATUSES, impactOf } from '../../../src/oncall/statuspage/impact.ts';
import type { PublicStatus, PublicUpdate, ServiceStatus, StatusPage } from '../../../src/oncall/statuspage/schemas.ts';

const UPDATE_STATUSES = ['investigating', 'identified', 'monitoring', 'resolved'] as const;

/**
 * Communication: a composer for the public status-page update (title, status, message) with a preview
 * of what the public will read and the components' current status on each page that shows this
 * incident's services, then the incident's public update history.
 */
export function StatusUpdatesPanel({ incident }: IncidentPanelProps) {
  const { me } = useSession();
  const writable = canWrite(me);
  const path = `/api/v1/incidents/${encodeURIComponent(incident.id)}/public-updates`;
  const updates = useAsync((signal) => api.get<PublicUpdate[]>(path, { signal }), [incident.id]);
  const pages = useAsync((signal) => api.get<StatusPage[]>('/api/v1/status-pages', { signal }), []);
  useIncidentReload(incident.id, updates.reload);
  const showing = (pages.data ?? []).filter((p) => p.services.some((s) => incident.services.includes(s)));
  const statuses = useAsync(
    (signal) => Promise.all(showing.map((p) => api.get<PublicStatus>(`/status/${encodeURIComponent(p.id)}.json`, { signal, fresh: true }))),
    [showing.map((p) => p.id).join(), updates.data?.length ?? 0],
  );
  const history = [...(updates.data ?? [])].reverse();
  const first = (updates.data ?? []).length === 0;
  const latest = updates.data?.[updates.data.length - 1];
  const [title, setTitle] = useState('');
  const [status, setStatus] = useState<string>('investigating');
  const [message, setMessage] = useState('');
  /** Component statuses the responder chose; a service not chosen follows the severity. */
  const [components, setComponents] = useState<Record<string, ServiceStatus>>({});
  const form = useSchemaForm({ method: 'post', path: '/api/v1/incidents/{id}/public-updates' }, ['title', 'status', 'message', 'components']);
  if (updates.state === 'loading' && !updates.data) return null;

  const publicTitle = title.trim() || latest?.title || '';
  const shown = new Map((statuses.data ?? []).flatMap((p) => p.services.map((svc) => [svc.id, svc] as const)));
  /** What a component shows without a choice here: the last status an update chose for it, else the severity's. */
  const defaultStatus = (service: string): ServiceStatus => {
    for (const update of [...(updates.data ?? [])].reverse()) {
      const chosen = update.components[service];
      if (chosen) return chosen;
    }
    return impactOf(incident.severity);
  };
  return (
    <section class="panel status-updates" aria-labelledby="status-updates-title" data-panel="status-updates">
      <h2 id="status-updates-title">Status page</h2>
      <ProblemDisplay of={updates} />
      {showing.length ? (
        <p class="muted">
          Shown on {showing.map((p) => p.title).join(', ')}.
        </p>
      ) : (
        <p class="muted">No status page shows {incident.services.length ? incident.services.join(', ') : 'this incident (it has no services)'}; updates are kept for when one does.</p>
      )}
      {writable ? (
        <form
          class="status-composer"
          aria-label="Write a status page update"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            const body = { status, message: message.trim(), ...(title.trim() ? { title: title.trim() } : {}), ...(Object.keys(components).length ? { components } : {}) };
            void form.submit(body, (b) => api.post<PublicUpdate>(path, b)).then((created) => {
              if (!created) return;
              setTitle('');
              setMessage('');
              setComponents({});
              updates.set((list = []) => [...list.filter((u) => u.id !== created.id), created]);
            });
          }}
        >
          <Field id="public-title" label={first ? 'Public title (required on the first update)' : `Public title (now "${latest?.title}")`} error={form.errors.title}>
            <input id="public-title" value={title} maxLength={200} onInput={(e) => setTitle(e.currentTarget.value)} {...describedBy('public-title', form.errors.title)} />
          </Field>
          <Field id="public-status" label="Status" error={form.errors.status}>
            <select id="public-status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
              {UPDATE_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {humanise(s)}
                </option>
              ))}
            </select>
          </Field>
          <Field id="public-message" label="Message for the public" error={form.errors.message} hint="No internal names or details: customers read this verbatim.">
            <textarea id="public-message" rows={3} value={message} onInput={(e) => setMessage(e.currentTarget.value)} {...describedBy('public-message', form.errors.message)} />
          </Field>
          {incident.services.length ? (
            <fieldset class="component-statuses" data-testid="component-statuses">
              <legend>Component status on the public page</legend>
              {incident.services.map((service) => {
                const current = shown.get(service);
                return (
                  <Field key={service} id={`component-${service}`} label={`${current?.name ?? service}${current ? ` (now ${humanise(current.status)})` : ''}`} error={form.errors[`components.${service}`]}>
                    <select
                      id={`component-${service}`}
                      value={components[service] ?? ''}
                      onChange={(e) => {
                        const value = e.currentTarget.value as ServiceStatus | '';
                        const next = { ...components };
                        if (value) next[service] = value;
                        else delete next[service];
                        setComponents(next);
                      }}
                    >
                      <option value="">follow the severity ({humanise(defaultStatus(service))})</option>
                      {SERVICE_STATUSES.map((s) => (
                        <option key={s} value={s}>
                          {humanise(s)}
                        </option>
                      ))}
                    </select>
                  </Field>
                );
              })}
            </fieldset>
          ) : null}
          {message.trim() || title.trim() || Object.keys(components).length ? (
            <div class="status-preview" data-testid="status-preview" aria-label="Preview">
              <p class="muted">Preview</p>
              <strong>{publicTitle || '(no title yet)'}</strong>
              <p>
                <span class="badge">{humanise(status)}</span> {message.trim()}
              </p>
              {(statuses.data ?? []).map((s) => (
                <p key={s.page.id} class="muted" data-page={s.page.id}>
                  {s.page.title}:{' '}
                  {s.services
                    .filter((svc) => incident.services.includes(svc.id))
                    .map((svc) => `${svc.name} ${humanise(svc.status)} → ${humanise(status === 'resolved' ? 'operational' : (components[svc.id] ?? defaultStatus(svc.id)))}`)
                    .join(', ')}
                </p>
              ))}
            </div>
          ) : null}
          <ProblemDisplay problem={form.problem} />
          <button type="submit" class="primary" disabled={form.busy}>
            Post update
          </button>
        </form>
      ) : null}
      <h3>Public updates</h3>
      {history.length ? (
        <ol class="plain public-history" data-testid="public-history">
          {history.map((u) => (
            <li key={u.id}>
              <time dateTime={u.created_at}>{formatDateTimeZone(u.created_at)}</time> <span class="badge">{humanise(u.status)}</span> <strong>{u.title}</strong>
              <p class="public-message">{u.message}</p>
              {Object.keys(u.components).length ? (
                <p class="muted">
                  {Object.entries(u.components)
                    .map(([service, st]) => `${service}: ${humanise(st)}`)
                    .join(', ')}
                </p>
              ) : null}
              <small class="muted">by {u.author}</small>
            </li>
          ))}
        </ol>
      ) : (
        <p class="muted">No public updates yet.</p>
      )}
    </section>
  );
}
