import { api, query } from '../api.ts';
import { useAsync } from '../hooks.ts';
import type { IncidentPanelProps } from '../registry.ts';
import { canWrite, useSession } from '../session.ts';
import { ProblemDisplay, useAction } from '../components/forms.tsx';
import { SchemaForm, optional } from '../components/SchemaForm.tsx';
import { DetectionWhy } from '../components/DetectionWhy.tsx';
import { formatAgo, formatNumber, formatTime, humanise } from '../format.ts';
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
      <ProblemDisplay of={alerts} />
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
const LINK_WORDS: Record<(typeof LINK_KINDS)[number], string> = { related: 'related to it', duplicate_of: 'a duplicate of it', caused_by: 'caused by it' };

/** Incidents that likely belong with this one, with the server's reasons, and buttons to record a link. */
export function RelatedPanel({ incident }: IncidentPanelProps) {
  const { me } = useSession();
  const writable = canWrite(me);
  const related = useAsync(
    (signal) => api.get<{ candidates: RelatedCandidate[]; links: IncidentLink[] }>(`${incidentPath(incident.id)}/related`, { signal }),
    [incident.id],
  );
  useIncidentReload(incident.id, related.reload);
  const action = useAction();
  if (related.state === 'error' && related.error.status === 404) return null;
  if (!related.data && related.state === 'loading') return null;
  const link = (to: string, kind: (typeof LINK_KINDS)[number]) =>
    void action.run(() => api.post(`${incidentPath(incident.id)}/links`, { to, kind })).then((ok) => ok && related.reload());
  const unlink = (linkId: number) => void action.run(() => api.delete(`${incidentPath(incident.id)}/links/${linkId}`)).then((ok) => ok && related.reload());
  return (
    <section class="panel related" aria-labelledby="related-title" data-panel="related">
      <h2 id="related-title">Related incidents</h2>
      <ProblemDisplay of={related} />
      <ProblemDisplay problem={action.problem} />
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
                    <button type="button" class="link-button" onClick={() => unlink(l.id)} aria-label={`Remove link to ${other}`}>
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
              <span class="badge">score {formatNumber(c.score, 2)}</span>
              <div class="muted">{c.reason}</div>
              {writable ? (
                <div class="button-row" role="group" aria-label={`Link ${c.incident_id} as`}>
                  {LINK_KINDS.filter((k) => !c.links.includes(k)).map((kind) => (
                    <button key={kind} type="button" onClick={() => link(c.incident_id, kind)}>
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
  return (
    <details>
      <summary>Link another incident</summary>
      <SchemaForm
        id="link"
        class="inline-form"
        grid={false}
        operation={{ method: 'post', path: '/api/v1/incidents/{id}/links' }}
        fields={[
          { name: 'to', label: 'Incident id' },
          { name: 'kind', label: 'This incident is', kind: 'select', choiceLabel: (k) => LINK_WORDS[k as (typeof LINK_KINDS)[number]] ?? k },
          { name: 'note', label: 'Note (optional)' },
        ]}
        initial={{ to: '', kind: 'related', note: '' }}
        toBody={(v) => ({ to: v.to?.trim(), kind: v.kind, ...optional('note', v.note) })}
        send={(body) => api.post(`${incidentPath(incidentId)}/links`, body)}
        onDone={onLinked}
        submitLabel="Link"
      />
    </details>
  );
}
