import { api, query } from '../api.ts';
import { useAsync } from '../hooks.ts';
import type { IncidentPanelProps } from '../registry.ts';
import { ProblemDisplay } from '../components/forms.tsx';
import { formatTime } from '../format.ts';
import { Link } from '../router.tsx';
import type { SuspectsResponse } from '../types.ts';
import { useIncidentReload } from './incident-recovery.tsx';

const versions = (from: string | null, to: string | null) => (to ? `${from ? `${from} → ` : ''}${to}` : null);

/**
 * "What changed?": the changes before detection on the incident's services and their dependencies,
 * most likely cause first, each with the parts of its score. Hidden where change tracking is absent.
 */
export function SuspectsPanel({ incident }: IncidentPanelProps) {
  const suspects = useAsync(
    (signal) => api.get<SuspectsResponse>(`/api/v1/incidents/${encodeURIComponent(incident.id)}/changes${query({ limit: 5 })}`, { signal }),
    [incident.id, incident.detected_at, incident.services.join(',')],
  );
  useIncidentReload(incident.id, suspects.reload);
  if (suspects.state === 'error' && suspects.error.status === 404) return null;
  if (!suspects.data && suspects.state === 'loading') return null;
  const data = suspects.data;
  return (
    <section class="panel suspects" aria-labelledby="suspects-title" data-panel="suspects">
      <h2 id="suspects-title">What changed?</h2>
      <ProblemDisplay of={suspects} />
      {data ? (
        <p class="muted">
          {data.considered} change{data.considered === 1 ? '' : 's'} on {data.services.map((s) => s.service).join(', ') || 'no services'} in the {data.window.hours} h before
          detection. {data.scoring.formula}.
        </p>
      ) : null}
      {data?.items.length ? (
        <ol class="suspect-list" data-testid="suspects">
          {data.items.map((s) => (
            <li key={s.change.id} data-change-id={s.change.id} data-rank={s.rank}>
              <span class="badge">{s.change.kind}</span> <strong>{s.change.summary}</strong>{' '}
              <span class="badge status" title="score = time × proximity × kind">
                {s.score.toFixed(2)}
              </span>
              <div class="muted">
                {s.change.service} · {formatTime(s.change.at)}
                {versions(s.change.version_from, s.change.version_to) ? ` · ${versions(s.change.version_from, s.change.version_to)}` : ''}
                {s.change.author ? ` · by ${s.change.author}` : ''} · from {s.change.source}
              </div>
              <div>{s.reason}</div>
              <div class="muted" data-testid="suspect-parts">
                {s.parts.minutes_before_detection} min before detection (time {s.parts.time}) ·{' '}
                {s.parts.distance === 0 ? 'same service' : `${s.parts.distance} step${s.parts.distance > 1 ? 's' : ''} down: ${s.parts.via.join(' → ')}`} (proximity{' '}
                {s.parts.proximity}) · {s.change.kind} {s.parts.kind} · incidents after it:{' '}
                {s.followed_by.count === 0
                  ? 'none'
                  : s.followed_by.incidents.map((i, n) => (
                      <span key={i.id}>
                        {n > 0 ? ', ' : ''}
                        <Link href={`/incidents/${encodeURIComponent(i.id)}`}>{i.id}</Link>
                      </span>
                    ))}
              </div>
              {s.change.links.length ? (
                <div>
                  {s.change.links.map((link) => (
                    <a key={link.href} href={link.href} rel="noreferrer noopener" target="_blank">
                      {link.text ?? link.href}
                    </a>
                  ))}
                </div>
              ) : null}
            </li>
          ))}
        </ol>
      ) : data ? (
        <p class="muted">No recorded change precedes this incident. Senders: see the README, “Changes”.</p>
      ) : null}
    </section>
  );
}
