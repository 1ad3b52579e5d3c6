import { useState } from 'preact/hooks';
import { api, type Problem } from '../api.ts';
import { useAsync } from '../hooks.ts';
import type { IncidentPanelProps } from '../registry.ts';
import { canWrite, useSession } from '../session.ts';
import { Field, ProblemDisplay, problemToErrors } from '../components/forms.tsx';
import { PersonPicker } from '../components/PersonPicker.tsx';
import { useSchemaForm } from '../components/schema-form.tsx';
import { formatAgo, formatDateTimeZone } from '../format.ts';
import { useIncidentReload, useNow } from './incident-recovery.tsx';
import type { Incident } from '../types.ts';
import type { IncidentResponders } from '../../../src/oncall/schemas.ts';

const ROLE_LABELS: Record<string, string> = {
  commander: 'Incident commander',
  comms_lead: 'Communications lead',
  ops_lead: 'Operations lead',
  scribe: 'Scribe',
  responder: 'Responders',
};
const NAMED_ROLES = ['commander', 'comms_lead', 'ops_lead', 'scribe'] as const;

const base = (id: string) => `/api/v1/incidents/${encodeURIComponent(id)}`;

function countdown(iso: string, now: number): string {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  if (seconds <= 0) return 'due now';
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return m >= 60 ? `in ${Math.floor(m / 60)}h ${m % 60}m` : `in ${m}m ${String(s).padStart(2, '0')}s`;
}

/**
 * On call and escalation where responders work: who is on call for the incident's teams now, the
 * escalation level and when the next fires, roles, who was notified how; escalate now, reassign, page.
 */
export function RespondersPanel({ incident }: IncidentPanelProps) {
  const { me } = useSession();
  const writable = canWrite(me);
  const data = useAsync((signal) => api.get<IncidentResponders>(`${base(incident.id)}/responders`, { signal }), [incident.id]);
  useIncidentReload(incident.id, data.reload);
  const now = useNow();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [note, setNote] = useState<string | null>(null);
  if (data.state === 'loading' && !data.data) return null;
  const r = data.data;
  const escalation = r?.escalation ?? null;

  const escalateNow = async () => {
    setProblem(null);
    setNote(null);
    try {
      await api.post(`${base(incident.id)}/escalation/escalate`, {});
      setNote('Escalated: the next level is being paged.');
      data.reload();
    } catch (error) {
      setProblem(problemToErrors(error, []).form);
    }
  };

  // Who was notified how: one line per person (or channel), with how each was reached.
  const byRecipient = new Map<string, { via: Set<string>; delivered: number; failed: number; pending: number; last: string }>();
  for (const n of r?.notifications ?? []) {
    const key = n.recipient ?? `channel ${n.channel_id}`;
    const entry = byRecipient.get(key) ?? { via: new Set<string>(), delivered: 0, failed: 0, pending: 0, last: n.created_at };
    entry.via.add(n.channel_id);
    if (n.status === 'delivered') entry.delivered++;
    else if (n.status === 'dead') entry.failed++;
    else entry.pending++;
    if (n.created_at > entry.last) entry.last = n.created_at;
    byRecipient.set(key, entry);
  }

  return (
    <section class="panel responders" aria-labelledby="responders-title" data-panel="responders">
      <h2 id="responders-title">On call and escalation</h2>
      <ProblemDisplay of={data} />
      {r ? (
        <>
          <h3>On call now</h3>
          {r.on_call.length ? (
            <ul class="plain" data-testid="on-call-now">
              {r.on_call.map((s) => (
                <li key={s.schedule}>
                  <strong>{s.on_call?.user ?? 'nobody'}</strong> — {s.name} ({s.team}){s.on_call?.source === 'override' ? ', override' : ''}
                  {s.on_call?.until ? <span class="muted"> until {formatDateTimeZone(s.on_call.until)}</span> : null}
                </li>
              ))}
            </ul>
          ) : (
            <p class="muted">{r.teams.length ? `No schedule for ${r.teams.join(', ')}.` : 'The incident has no team, so nobody is on call for it.'}</p>
          )}

          <h3>Escalation</h3>
          {escalation ? (
            <div data-testid="escalation">
              <p>
                Policy <strong>{escalation.policy_id}</strong> ({escalation.team}): <span class="badge">{escalation.status}</span>
                {escalation.status === 'active' ? (
                  <>
                    {' '}
                    {escalation.next_level === 0 ? 'not paged yet' : <>at level <strong>{escalation.next_level}</strong> of {escalation.levels.length}</>}
                    {escalation.cycle ? `, repeat ${escalation.cycle}` : ''}
                  </>
                ) : escalation.stopped_reason ? (
                  <> — {escalation.stopped_reason}</>
                ) : null}
              </p>
              {escalation.status === 'active' && escalation.due_at ? (
                <p data-testid="next-escalation">
                  Next:{' '}
                  {escalation.next_level < escalation.levels.length
                    ? `level ${escalation.next_level + 1}`
                    : escalation.cycle < escalation.repeat
                      ? `level 1 again (repeat ${escalation.cycle + 1} of ${escalation.repeat})`
                      : 'the escalation runs out (nobody further to page)'}{' '}
                  <strong>{countdown(escalation.due_at, now)}</strong> <span class="muted">({formatDateTimeZone(escalation.due_at)})</span> unless acknowledged
                </p>
              ) : null}
              {writable && escalation.status === 'active' ? (
                <button type="button" onClick={() => void escalateNow()}>
                  Escalate now
                </button>
              ) : null}
            </div>
          ) : (
            <p class="muted">No escalation policy covers this incident.</p>
          )}

          <h3>Notified</h3>
          {byRecipient.size ? (
            <ul class="plain" data-testid="notified">
              {[...byRecipient.entries()].map(([who, n]) => (
                <li key={who}>
                  <strong>{who}</strong> via {[...n.via].join(', ')}:{' '}
                  {[n.delivered ? `${n.delivered} delivered` : '', n.pending ? `${n.pending} pending` : '', n.failed ? `${n.failed} failed` : ''].filter(Boolean).join(', ')}{' '}
                  <span class="muted">{formatAgo(n.last)}</span>
                </li>
              ))}
            </ul>
          ) : (
            <p class="muted">Nobody has been notified about this incident.</p>
          )}

          <h3>Roles</h3>
          <Roles incident={incident} roles={r.roles} writable={writable} onChanged={data.reload} />
        </>
      ) : null}
      <ProblemDisplay problem={problem} />
      {note ? (
        <p role="status" class="muted">
          {note}
        </p>
      ) : null}
      {writable ? (
        <>
          <Reassign incident={incident} />
          <PageSomeone incident={incident} onPaged={data.reload} />
        </>
      ) : null}
    </section>
  );
}

function Roles(props: { incident: Incident; roles: IncidentResponders['roles']; writable: boolean; onChanged: () => void }) {
  const { incident, roles, writable, onChanged } = props;
  const [role, setRole] = useState<string>('commander');
  const [user, setUser] = useState('');
  const form = useSchemaForm({ method: 'put', path: '/api/v1/incidents/{id}/roles/{role}' }, ['user']);
  const [problem, setProblem] = useState<Problem | null>(null);
  const held = (name: string) => roles.filter((r) => r.role === name);
  const remove = async (name: string, who: string) => {
    setProblem(null);
    try {
      await api.delete(`${base(incident.id)}/roles/${name}?user=${encodeURIComponent(who)}`);
      onChanged();
    } catch (error) {
      setProblem(problemToErrors(error, []).form);
    }
  };
  return (
    <div class="roles">
      <dl class="facts" data-testid="roles">
        {[...NAMED_ROLES, 'responder'].map((name) => (
          <div key={name}>
            <dt>{ROLE_LABELS[name]}</dt>
            <dd>
              {held(name).length
                ? held(name).map((h) => (
                    <span key={h.user} class="role-holder">
                      {h.user}
                      {writable ? (
                        <button type="button" class="link-button" aria-label={`Remove ${h.user} as ${ROLE_LABELS[name]}`} onClick={() => void remove(name, h.user)}>
                          ×
                        </button>
                      ) : null}{' '}
                    </span>
                  ))
                : 'unassigned'}
            </dd>
          </div>
        ))}
      </dl>
      <ProblemDisplay problem={problem} />
      {writable ? (
        <form
          class="inline-form"
          aria-label="Assign a role"
          onSubmit={(e) => {
            e.preventDefault();
            void form
              .submit({ user }, (body) => api.put(`${base(incident.id)}/roles/${role}`, body))
              .then((done) => {
                if (done) {
                  setUser('');
                  onChanged();
                }
              });
          }}
        >
          <Field id="role-name" label="Role">
            <select id="role-name" value={role} onChange={(e) => setRole(e.currentTarget.value)}>
              {[...NAMED_ROLES, 'responder'].map((name) => (
                <option key={name} value={name}>
                  {name === 'responder' ? 'Responder' : ROLE_LABELS[name]}
                </option>
              ))}
            </select>
          </Field>
          <Field id="role-user" label="Person" error={form.errors.user}>
            <PersonPicker id="role-user" value={user} onChange={setUser} invalid={!!form.errors.user} describedBy={form.errors.user ? 'role-user-error' : undefined} />
          </Field>
          <ProblemDisplay problem={form.problem} />
          <button type="submit" disabled={form.busy}>
            Assign
          </button>
        </form>
      ) : null}
    </div>
  );
}

/** Reassign: the assignee picked from people (the picker's source can change without this form changing). */
function Reassign({ incident }: { incident: Incident }) {
  const [assignee, setAssignee] = useState(incident.assignee ?? '');
  const [saved, setSaved] = useState(false);
  const form = useSchemaForm({ method: 'patch', path: '/api/v1/incidents/{id}' }, ['assignee']);
  return (
    <form
      class="inline-form"
      aria-label="Reassign"
      onSubmit={(e) => {
        e.preventDefault();
        setSaved(false);
        void form
          .submit({ assignee: assignee || null, version: incident.version }, (body) => api.patch<Incident>(base(incident.id), body))
          .then((done) => setSaved(!!done));
      }}
    >
      <Field id="reassign-user" label={`Assignee (now ${incident.assignee ?? 'unassigned'})`} error={form.errors.assignee}>
        <PersonPicker id="reassign-user" value={assignee} onChange={setAssignee} placeholder="unassigned" />
      </Field>
      <ProblemDisplay problem={form.problem} />
      <button type="submit" disabled={form.busy || (assignee || null) === incident.assignee}>
        Reassign
      </button>
      {saved ? (
        <span role="status" class="muted">
          {' '}
          Reassigned.
        </span>
      ) : null}
    </form>
  );
}

/** Page someone now through their own contact methods; they join as a responder. */
function PageSomeone({ incident, onPaged }: { incident: Incident; onPaged: () => void }) {
  const [user, setUser] = useState('');
  const [message, setMessage] = useState('');
  const [outcome, setOutcome] = useState<string | null>(null);
  const form = useSchemaForm({ method: 'post', path: '/api/v1/incidents/{id}/page' }, ['users', 'message']);
  return (
    <form
      class="inline-form"
      aria-label="Page someone"
      onSubmit={(e) => {
        e.preventDefault();
        setOutcome(null);
        void form
          .submit({ users: user ? [user] : [], ...(message.trim() ? { message: message.trim() } : {}) }, (body) =>
            api.post<{ paged: string[]; unreachable: string[] }>(`${base(incident.id)}/page`, body),
          )
          .then((result) => {
            if (!result) return;
            setOutcome(`${result.paged.length ? `Paged ${result.paged.join(', ')}.` : 'Nobody was paged.'}${result.unreachable.length ? ` ${result.unreachable.join('; ')}.` : ''}`);
            setUser('');
            setMessage('');
            onPaged();
          });
      }}
    >
      <h3>Add a responder</h3>
      <Field id="page-user" label="Person to page" error={form.errors.users ?? form.errors['users[0]']}>
        <PersonPicker id="page-user" value={user} onChange={setUser} invalid={!!form.errors.users} describedBy={form.errors.users ? 'page-user-error' : undefined} />
      </Field>
      <Field id="page-message" label="Why (optional)" error={form.errors.message}>
        <input id="page-message" value={message} onInput={(e) => setMessage(e.currentTarget.value)} />
      </Field>
      <ProblemDisplay problem={form.problem} />
      <button type="submit" disabled={form.busy}>
        Page and add as responder
      </button>
      {outcome ? (
        <p role="status" data-testid="page-outcome">
          {outcome}
        </p>
      ) : null}
    </form>
  );
}
