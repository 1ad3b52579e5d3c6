import { useState } from 'preact/hooks';
import { api, query, type Problem } from '../api.ts';
import { useAsync } from '../hooks.ts';
import type { IncidentPanelProps } from '../registry.ts';
import { canWrite, useSession } from '../session.ts';
import { Field, ProblemNotice, describedBy, problemToErrors, type FieldErrors } from '../components/forms.tsx';
import { DetectionWhy } from '../components/DetectionWhy.tsx';
import { formatAgo, formatTime, humanise } from '../format.ts';
import { Link } from '../router.tsx';
import type { Alert, IncidentAlertSummary, IncidentLink, RelatedCandidate } from '../types.ts';
import { useIncidentReload } from './incident-recovery.tsx';

const incidentPath = (id: string) => `/api/v1/incidents/${encodeURIComponent(id)}`;

/** The incident's alerts with their totals; hidden where alert ingestion is not installed. */
export function AlertsPanel({ incident }: IncidentPanelProps) {
  const alerts = useAsync(
    (signal) => api.get<{ summary: IncidentAlertSummary; items: Alert[] }>(`${incidentPath(incident.id)}/alerts${query({ limit: 50 })}`, { signal }),
    [incident.id],
  );
  useIncidentReload(incident.id, alerts.reload);
  if (alerts.state === 'error' && alerts.error.status === 404) return null;
  if (!alerts.data && alerts.state === 'loading') return null;
  const summary = alerts.data?.summary;
  return (
    <section class="panel alerts" aria-labelledby="alerts-title" data-panel="alerts">
      <h2 id="alerts-title">Alerts</h2>
      {alerts.state === 'error' ? <ProblemNotice problem={alerts.error.problem} /> : null}
      {summary ? (
        <dl class="facts compact" data-testid="alert-counts">
          <dt>Alerts</dt>
          <dd>{summary.alerts}</dd>
          <dt>Open</dt>
          <dd>{summary.open}</dd>
          <dt>Resolved</dt>
          <dd>{summary.resolved}</dd>
          <dt>Occurrences</dt>
          <dd>{summary.occurrences}</dd>
        </dl>
      ) : null}
      {alerts.data?.items.length ? (
        <ul class="alert-list">
          {alerts.data.items.map((alert) => (
            <li key={alert.id} data-alert-id={alert.id} data-status={alert.status}>
              <span class="badge">{humanise(alert.status)}</span> <span class="badge">{alert.severity}</span> <strong>{alert.summary}</strong>
              <div class="muted">
                {alert.source} · {alert.service} · first {formatTime(alert.first_seen_at)} · last {formatAgo(alert.last_seen_at)}
              </div>
              <DetectionWhy details={alert.details} />
              {alert.links.length ? (
                <div>
                  {alert.links.map((link) =>
                    /^https?:\/\//.test(link.href) ? (
                      <a key={link.href} href={link.href} rel="noreferrer noopener" target="_blank">
                        {link.text ?? link.href}
                      </a>
                    ) : null,
                  )}
                </div>
              ) : null}
            </li>
          ))}
        </ul>
      ) : alerts.data ? (
        <p class="muted">No alerts on this incident.</p>
      ) : null}
    </section>
  );
}

const LINK_KINDS = ['related', 'duplicate_of', 'caused_by'] as const;

/** Incidents that likely belong with this one, with the server's reasons, and buttons to record a link. */
export function RelatedPanel({ incident }: IncidentPanelProps) {
  const { me } = useSession();
  const writable = canWrite(me);
  const related = useAsync(
    (signal) => api.get<{ candidates: RelatedCandidate[]; links: IncidentLink[] }>(`${incidentPath(incident.id)}/related`, { signal }),
    [incident.id],
  );
  useIncidentReload(incident.id, related.reload);
  const [problem, setProblem] = useState<Problem | null>(null);
  if (related.state === 'error' && related.error.status === 404) return null;
  if (!related.data && related.state === 'loading') return null;
  const link = async (to: string, kind: (typeof LINK_KINDS)[number]) => {
    setProblem(null);
    try {
      await api.post(`${incidentPath(incident.id)}/links`, { to, kind });
      related.reload();
    } catch (error) {
      setProblem(problemToErrors(error, []).form);
    }
  };
  const unlink = async (linkId: number) => {
    setProblem(null);
    try {
      await api.delete(`${incidentPath(incident.id)}/links/${linkId}`);
      related.reload();
    } catch (error) {
      setProblem(problemToErrors(error, []).form);
    }
  };
  return (
    <section class="panel related" aria-labelledby="related-title" data-panel="related">
      <h2 id="related-title">Related incidents</h2>
      {related.state === 'error' ? <ProblemNotice problem={related.error.problem} /> : null}
      <ProblemNotice problem={problem} />
      {related.data?.links.length ? (
        <>
          <h3>Linked</h3>
          <ul>
            {related.data.links.map((l) => {
              const other = l.from_incident === incident.id ? l.to_incident : l.from_incident;
              const phrase = l.from_incident === incident.id ? humanise(l.kind) : `${humanise(l.kind)} (from the other side)`;
              return (
                <li key={l.id}>
                  {phrase} <Link href={`/incidents/${encodeURIComponent(other)}`}>{other}</Link>
                  {l.note ? <span class="muted"> — {l.note}</span> : null}
                  {writable ? (
                    <button type="button" class="link-button" onClick={() => void unlink(l.id)} aria-label={`Remove link to ${other}`}>
                      unlink
                    </button>
                  ) : null}
                </li>
              );
            })}
          </ul>
        </>
      ) : null}
      {related.data?.candidates.length ? (
        <ul class="related-list">
          {related.data.candidates.map((c) => (
            <li key={c.incident_id} data-related={c.incident_id}>
              <Link href={`/incidents/${encodeURIComponent(c.incident_id)}`}>{c.incident_id}</Link> {c.title}{' '}
              <span class="badge">score {c.score.toFixed(2)}</span>
              <div class="muted">{c.reason}</div>
              {writable ? (
                <div class="button-row" role="group" aria-label={`Link ${c.incident_id} as`}>
                  {LINK_KINDS.filter((k) => !c.links.includes(k)).map((kind) => (
                    <button key={kind} type="button" onClick={() => void link(c.incident_id, kind)}>
                      {kind === 'related' ? 'Related' : kind === 'duplicate_of' ? 'Duplicate of it' : 'Caused by it'}
                    </button>
                  ))}
                </div>
              ) : null}
            </li>
          ))}
        </ul>
      ) : related.data ? (
        <p class="muted">No likely related incidents.</p>
      ) : null}
      {writable ? <LinkForm incidentId={incident.id} onLinked={() => related.reload()} /> : null}
    </section>
  );
}

function LinkForm({ incidentId, onLinked }: { incidentId: string; onLinked: () => void }) {
  const [form, setForm] = useState({ to: '', kind: 'related', note: '' });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setProblem(null);
    const next: FieldErrors = {};
    if (!form.to.trim()) next.to = 'Give the other incident’s id.';
    else if (form.to.trim() === incidentId) next.to = 'An incident cannot be linked to itself.';
    setErrors(next);
    if (Object.keys(next).length) return;
    try {
      await api.post(`${incidentPath(incidentId)}/links`, { to: form.to.trim(), kind: form.kind, ...(form.note.trim() ? { note: form.note.trim() } : {}) });
      setForm({ to: '', kind: 'related', note: '' });
      onLinked();
    } catch (error) {
      const split = problemToErrors(error, ['to', 'kind', 'note']);
      setErrors(split.fields);
      setProblem(split.form);
    }
  };
  return (
    <details>
      <summary>Link another incident</summary>
      <form onSubmit={submit} noValidate>
        <Field id="link-to" label="Incident id" error={errors.to}>
          <input id="link-to" value={form.to} onInput={(e) => setForm({ ...form, to: e.currentTarget.value })} {...describedBy('link-to', errors.to)} />
        </Field>
        <Field id="link-kind" label="This incident is" error={errors.kind}>
          <select id="link-kind" value={form.kind} onChange={(e) => setForm({ ...form, kind: e.currentTarget.value })}>
            <option value="related">related to it</option>
            <option value="duplicate_of">a duplicate of it</option>
            <option value="caused_by">caused by it</option>
          </select>
        </Field>
        <Field id="link-note" label="Note (optional)" error={errors.note}>
          <input id="link-note" value={form.note} onInput={(e) => setForm({ ...form, note: e.currentTarget.value })} />
        </Field>
        <ProblemNotice problem={problem} />
        <button type="submit">Link</button>
      </form>
    </details>
  );
}
