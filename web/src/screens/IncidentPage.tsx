import { useState } from 'preact/hooks';
import { api, ApiError, type Problem } from '../api.ts';
import { getIncidentPanels, type ScreenProps } from '../registry.ts';
import { Link, navigate } from '../router.tsx';
import { canWrite, useLiveEvents, useSession } from '../session.ts';
import { neighbourIncident, useShortcuts } from '../shortcuts.ts';
import { RESYNC_EVENT } from '../stream.ts';
import { useAsync } from '../hooks.ts';
import { SeverityBadge, StatusBadge } from '../components/badges.tsx';
import { Field, ProblemDisplay, describedBy, problemToErrors, type FieldErrors } from '../components/forms.tsx';
import { formatAgo, formatDateTimeZone, formatDuration, humanise, secondsBetween } from '../format.ts';
import { Timeline } from '../components/Timeline.tsx';
import { useEffect, useMemo } from 'preact/hooks';
import { acknowledge, isActive } from '../incidents.ts';
import type { Incident, Person, TimelineEntry } from '../types.ts';

export function IncidentPage({ params }: ScreenProps) {
  const id = params.id!;
  const path = `/api/v1/incidents/${encodeURIComponent(id)}`;
  const { me, lifecycle } = useSession();
  const incident = useAsync((signal) => api.get<Incident>(path, { signal }), [id]);
  const timeline = useAsync((signal) => api.get<TimelineEntry[]>(`${path}/timeline?order=asc`, { signal }), [id]);
  const [problem, setProblem] = useState<Problem | null>(null);
  const addEntry = (entry: TimelineEntry) =>
    timeline.set((entries = []) => (entries.some((e) => e.id === entry.id) ? entries : [...entries, entry].sort((a, b) => a.id - b.id)));

  useLiveEvents((name, data) => {
    if (name === RESYNC_EVENT) {
      incident.reload();
      timeline.reload();
      return;
    }
    const payload = data as { incident?: Incident; entry?: TimelineEntry } | null;
    if (name === 'incident.updated' && payload?.incident?.id === id) {
      const pushed = payload.incident;
      incident.set((current) => (!current || pushed.version >= current.version ? pushed : current));
    }
    if (name === 'timeline.appended' && payload?.entry?.incident_id === id) {
      addEntry(payload.entry);
    }
  });

  const run = async (action: () => Promise<Incident>) => {
    setProblem(null);
    try {
      incident.set(await action());
    } catch (error) {
      if (error instanceof ApiError) setProblem(error.problem);
      throw error;
    }
  };

  const current = incident.data;
  const writable = canWrite(me);
  const kindsKey = timeline.data ? [...new Set(timeline.data.map((e) => e.kind))].sort().join() : null;
  const timelineKinds = useMemo(() => (kindsKey === null ? null : new Set(kindsKey.split(','))), [kindsKey]);
  useEffect(() => {
    document.title = current ? `${current.id} ${current.title} · Firebreak` : `${id} · Firebreak`;
  }, [id, current?.title]);
  const canAck = !!current && writable && !current.acknowledged_at && isActive(lifecycle, current);

  useShortcuts({
    a: () => canAck && void run(() => acknowledge(id)).catch(() => undefined),
    j: () => {
      const next = neighbourIncident(id, 1);
      if (next) navigate(`/incidents/${encodeURIComponent(next)}`);
    },
    k: () => {
      const previous = neighbourIncident(id, -1);
      if (previous) navigate(`/incidents/${encodeURIComponent(previous)}`);
    },
  });

  if (!current) {
    if (incident.state === 'error') {
      return (
        <section>
          <p>
            <Link href="/incidents">← Incidents</Link>
          </p>
          <h1>Incident {id}</h1>
          <ProblemDisplay problem={incident.error.problem} />
        </section>
      );
    }
    return <p class="muted">Loading {id}…</p>;
  }

  return (
    <article class="incident-page" data-incident-id={current.id} data-version={current.version}>
      <p class="breadcrumb">
        <Link href="/incidents">← Incidents</Link>
      </p>
      <header class="incident-header">
        <h1>
          <span class="incident-id">{current.id}</span> {current.title}
        </h1>
        <div class="incident-badges">
          <SeverityBadge severity={current.severity} />
          <StatusBadge status={current.status} />
          {current.acknowledged_at ? (
            <span class="acked">
              acknowledged by {current.acknowledged_by} {formatAgo(current.acknowledged_at)}
            </span>
          ) : isActive(lifecycle, current) ? (
            <strong class="unacked">not acknowledged</strong>
          ) : null}
        </div>
        <dl class="facts">
          <div>
            <dt>Owner team</dt>
            <dd data-testid="owner-team">{current.team ?? 'none'}</dd>
          </div>
          <div>
            <dt>Assignee</dt>
            <dd>{current.assignee ?? 'unassigned'}</dd>
          </div>
          <div>
            <dt>Services</dt>
            <dd>{current.services.length ? current.services.join(', ') : 'none'}</dd>
          </div>
          <div>
            <dt>Detected</dt>
            <dd title={current.detected_at}>{formatDateTimeZone(current.detected_at)}</dd>
          </div>
          <div>
            <dt>Time to acknowledge</dt>
            <dd data-testid="tta">{current.acknowledged_at ? formatDuration(secondsBetween(current.detected_at, current.acknowledged_at)) : 'not yet'}</dd>
          </div>
          {current.resolved_at ? (
            <>
              <div>
                <dt>Resolved</dt>
                <dd title={current.resolved_at}>{formatDateTimeZone(current.resolved_at)}</dd>
              </div>
              <div>
                <dt>Time to resolve</dt>
                <dd data-testid="ttr">{formatDuration(secondsBetween(current.detected_at, current.resolved_at))}</dd>
              </div>
            </>
          ) : (
            <div>
              <dt>Duration</dt>
              <dd data-testid="duration">ongoing for {formatDuration(secondsBetween(current.detected_at, new Date().toISOString()))}</dd>
            </div>
          )}
        </dl>
        {current.resolved_at || current.resolution || current.root_cause ? (
          <dl class="resolution-facts" data-testid="resolution-facts">
            <div>
              <dt>Resolution</dt>
              <dd>{current.resolution ?? '—'}</dd>
            </div>
            <div>
              <dt>Root cause</dt>
              <dd>{current.root_cause ?? 'not recorded yet'}</dd>
            </div>
            {current.resolved_at ? (
              <div>
                <dt>Duration</dt>
                <dd data-testid="duration">
                  {formatDuration(secondsBetween(current.detected_at, current.resolved_at))} ({formatDateTimeZone(current.detected_at)} → {formatDateTimeZone(current.resolved_at)})
                </dd>
              </div>
            ) : null}
          </dl>
        ) : null}
        {canAck ? (
          <button type="button" class="primary" aria-keyshortcuts="a" onClick={() => void run(() => acknowledge(id)).catch(() => undefined)}>
            Acknowledge
          </button>
        ) : null}
        <ProblemDisplay problem={problem} />
      </header>

      {current.description ? <p class="description">{current.description}</p> : null}

      <div class="incident-columns">
        <div class="incident-primary">
          {writable ? <LifecycleControls incident={current} onChanged={(i) => incident.set(i)} /> : null}
          <Timeline
            entries={timeline.data ?? []}
            loading={timeline.state === 'loading'}
            problem={timeline.state === 'error' ? timeline.error.problem : null}
            composer={writable ? <NoteForm incidentId={id} onAdded={addEntry} /> : null}
          />
        </div>
        <div class="incident-secondary">
          {writable ? <DetailsForm incident={current} onChanged={(i) => incident.set(i)} /> : null}
          {getIncidentPanels()
            .filter((panel) => panel.placement !== 'wide')
            .map((panel) => (
              <panel.component key={panel.id} incident={current} timelineKinds={timelineKinds} />
            ))}
        </div>
      </div>
      {getIncidentPanels()
        .filter((panel) => panel.placement === 'wide')
        .map((panel) => (
          <panel.component key={panel.id} incident={current} timelineKinds={timelineKinds} />
        ))}
    </article>
  );
}

/** Offers exactly the moves the server's lifecycle table allows from the current status. */
function LifecycleControls({ incident, onChanged }: { incident: Incident; onChanged: (incident: Incident) => void }) {
  const { lifecycle } = useSession();
  const [note, setNote] = useState('');
  const [resolving, setResolving] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const moves = lifecycle.transitions[incident.status] ?? [];
  const base = `/api/v1/incidents/${encodeURIComponent(incident.id)}`;

  const move = async (to: string) => {
    if (to === 'resolved') {
      setResolving(true);
      return;
    }
    setBusy(true);
    setProblem(null);
    try {
      onChanged(await api.post<Incident>(`${base}/transition`, { to, version: incident.version, ...(note.trim() ? { note: note.trim() } : {}) }));
      setNote('');
    } catch (error) {
      if (error instanceof ApiError) setProblem(error.problem);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="panel lifecycle" aria-labelledby="lifecycle-title">
      <h2 id="lifecycle-title">Lifecycle</h2>
      {moves.length === 0 ? (
        <p class="muted">{humanise(incident.status)} is final: there are no further moves.</p>
      ) : (
        <>
          <div class="field">
            <label for="transition-note">Note for the move (optional)</label>
            <input id="transition-note" value={note} maxLength={4000} onInput={(e) => setNote(e.currentTarget.value)} />
          </div>
          <div class="button-row" role="group" aria-label={`Move from ${humanise(incident.status)} to`}>
            {moves.map((to) => (
              <button type="button" key={to} disabled={busy} data-transition={to} onClick={() => void move(to)}>
                {moveLabel(lifecycle.statuses, lifecycle.active_statuses, incident.status, to)}
              </button>
            ))}
          </div>
        </>
      )}
      <ProblemDisplay problem={problem} />
      {resolving ? (
        <ResolveForm
          incident={incident}
          onDone={(updated) => {
            setResolving(false);
            if (updated) onChanged(updated);
          }}
        />
      ) : null}
    </section>
  );
}

function moveLabel(statuses: string[], active: string[], from: string, to: string): string {
  if (!active.includes(from) && active.includes(to)) return `Reopen (${humanise(to)})`;
  if (to === 'resolved') return 'Resolve…';
  return statuses.indexOf(to) < statuses.indexOf(from) ? `Back to ${humanise(to)}` : `Move to ${humanise(to)}`;
}

function ResolveForm({ incident, onDone }: { incident: Incident; onDone: (incident: Incident | null) => void }) {
  const [resolution, setResolution] = useState('');
  const [rootCause, setRootCause] = useState(incident.root_cause ?? '');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [problem, setProblem] = useState<Problem | null>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!resolution.trim()) {
      setErrors({ resolution: 'Say how it was resolved.' });
      return;
    }
    setErrors({});
    try {
      onDone(
        await api.post<Incident>(`/api/v1/incidents/${encodeURIComponent(incident.id)}/resolve`, {
          resolution: resolution.trim(),
          version: incident.version,
          ...(rootCause.trim() ? { root_cause: rootCause.trim() } : {}),
        }),
      );
    } catch (error) {
      const split = problemToErrors(error, ['resolution', 'root_cause']);
      setErrors(split.fields);
      setProblem(split.form);
    }
  };

  return (
    <form class="resolve-form" onSubmit={submit} noValidate aria-label="Resolve the incident">
      <Field id="resolution" label="Resolution" error={errors.resolution}>
        <textarea id="resolution" value={resolution} maxLength={20_000} onInput={(e) => setResolution(e.currentTarget.value)} {...describedBy('resolution', errors.resolution)} />
      </Field>
      <Field id="root_cause" label="Root cause (optional)" error={errors.root_cause}>
        <textarea id="root_cause" value={rootCause} maxLength={20_000} onInput={(e) => setRootCause(e.currentTarget.value)} {...describedBy('root_cause', errors.root_cause)} />
      </Field>
      <ProblemDisplay problem={problem} />
      <div class="button-row">
        <button type="submit" class="primary">
          Resolve
        </button>
        <button type="button" onClick={() => onDone(null)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function DetailsForm({ incident, onChanged }: { incident: Incident; onChanged: (incident: Incident) => void }) {
  const { lifecycle } = useSession();
  const [severity, setSeverity] = useState(incident.severity);
  const [assignee, setAssignee] = useState(incident.assignee ?? '');
  const [team, setTeam] = useState(incident.team ?? '');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  const [saved, setSaved] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setSaved(false);
    const nextErrors: FieldErrors = {};
    if (team && !/^[a-z0-9][a-z0-9._-]{0,62}$/.test(team)) nextErrors.team = 'A team id: lower-case letters, digits, dot, dash or underscore.';
    setErrors(nextErrors);
    setProblem(null);
    if (Object.keys(nextErrors).length) return;
    const patch: Record<string, unknown> = {};
    if (severity !== incident.severity) patch.severity = severity;
    if ((assignee.trim() || null) !== incident.assignee) patch.assignee = assignee.trim() || null;
    if ((team || null) !== incident.team) patch.team = team || null;
    if (Object.keys(patch).length === 0) return;
    try {
      onChanged(await api.patch<Incident>(`/api/v1/incidents/${encodeURIComponent(incident.id)}`, patch, { headers: { 'if-match': `"${incident.version}"` } }));
      setSaved(true);
    } catch (error) {
      const split = problemToErrors(error, ['severity', 'assignee', 'team']);
      setErrors(split.fields);
      setProblem(split.form);
    }
  };

  return (
    <section class="panel" aria-labelledby="details-title">
      <h2 id="details-title">Details</h2>
      <form onSubmit={submit} noValidate class="details-form">
        <Field id="detail-severity" label="Severity" error={errors.severity}>
          <select id="detail-severity" value={severity} onChange={(e) => setSeverity(e.currentTarget.value as Incident['severity'])}>
            {lifecycle.severities.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </Field>
        <Field id="detail-assignee" label="Assignee" error={errors.assignee}>
          <AssigneePicker id="detail-assignee" value={assignee} onChange={setAssignee} error={errors.assignee} />
        </Field>
        <Field id="detail-team" label="Owner team" error={errors.team}>
          <input id="detail-team" value={team} onInput={(e) => setTeam(e.currentTarget.value)} {...describedBy('detail-team', errors.team)} />
        </Field>
        <ProblemDisplay problem={problem} />
        <button type="submit">Save details</button>
        {saved ? (
          <span role="status" class="muted">
            {' '}
            Saved.
          </span>
        ) : null}
      </form>
    </section>
  );
}

function NoteForm({ incidentId, onAdded }: { incidentId: string; onAdded: (entry: TimelineEntry) => void }) {
  const [text, setText] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!text.trim()) {
      setErrors({ text: 'Write a note first.' });
      return;
    }
    if (text.length > 20_000) {
      setErrors({ text: 'At most 20,000 characters.' });
      return;
    }
    setErrors({});
    setProblem(null);
    setBusy(true);
    try {
      onAdded(await api.post<TimelineEntry>(`/api/v1/incidents/${encodeURIComponent(incidentId)}/notes`, { text: text.trim() }));
      setText('');
    } catch (error) {
      const split = problemToErrors(error, ['text']);
      setErrors(split.fields);
      setProblem(split.form);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="note-composer" onSubmit={submit} noValidate aria-label="Add a note">
      <Field id="text" label="Note" error={errors.text}>
        <textarea
          id="text"
          value={text}
          rows={2}
          placeholder="What you see, what you tried, what you decided (Ctrl+Enter adds it)"
          onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) void submit(e);
          }}
          {...describedBy('text', errors.text)}
        />
      </Field>
      <ProblemDisplay problem={problem} />
      <button type="submit" class="primary" disabled={busy}>
        Add note
      </button>
    </form>
  );
}

/**
 * Assignees are people: accounts and team members from `GET /api/v1/people`. An assignee stored before
 * people existed (free text) stays selectable, so saving other details does not drop it.
 */
function AssigneePicker({ id, value, onChange, error }: { id: string; value: string; onChange: (value: string) => void; error: string | undefined }) {
  const people = useAsync((signal) => api.get<Person[]>('/api/v1/people', { signal }), []);
  const list = people.state === 'ready' ? people.data : [];
  const known = list.some((p) => p.handle === value);
  return (
    <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value)} disabled={people.state === 'loading'} {...describedBy(id, error)}>
      <option value="">Unassigned</option>
      {value && !known ? <option value={value}>{value}</option> : null}
      {list.map((p) => (
        <option key={p.handle} value={p.handle}>
          {p.name === p.handle ? p.handle : `${p.name} (${p.handle})`}
          {p.teams.length ? ` · ${p.teams.join(', ')}` : ''}
        </option>
      ))}
    </select>
  );
}
