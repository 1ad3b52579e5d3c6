import { useState } from 'preact/hooks';
import type { Static } from 'typebox';
import { api } from '../api.ts';
import { useAsync } from '../hooks.ts';
import { Field, ProblemNotice, describedBy } from '../components/forms.tsx';
import { useSchemaForm } from '../components/schema-form.tsx';
import { PersonPicker } from '../components/PersonPicker.tsx';
import { formatDateTimeZone, humanise } from '../format.ts';
import type { Channel, Team } from '../types.ts';
import type { PolicySchema, OnCallUserSchema } from '../../../src/oncall/schemas.ts';
import type { RoutingRuleSet } from '../../../src/ingest/schemas.ts';
import type { StatusPage } from '../../../src/oncall/statuspage/schemas.ts';

type Policy = Static<typeof PolicySchema>;
type OnCallUser = Static<typeof OnCallUserSchema>;

/** Escalation policies: their levels and targets, and a form for a new one (levels written one per line). */
export function EscalationPoliciesSettings() {
  const policies = useAsync((signal) => api.get<Policy[]>('/api/v1/escalation-policies', { signal }), []);
  const teams = useAsync((signal) => api.get<Team[]>('/api/v1/teams', { signal }), []);
  const [form, setForm] = useState({ id: '', team: '', name: '', repeat: '0', levels: '' });
  const create = useSchemaForm({ method: 'post', path: '/api/v1/escalation-policies' }, ['id', 'team', 'name', 'repeat', 'levels']);
  const [levelsError, setLevelsError] = useState<string | null>(null);

  /** "5: schedule primary, user bob" → { timeout_minutes: 5, targets: [{ schedule: 'primary' }, { user: 'bob' }] } */
  const parseLevels = (text: string) =>
    text
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
      .map((line) => {
        const [minutes, rest = ''] = line.split(':');
        return {
          timeout_minutes: Number(minutes),
          targets: rest
            .split(',')
            .map((t) => t.trim())
            .filter(Boolean)
            .map((t) => {
              const [kind, ...name] = t.split(/\s+/);
              return kind === 'schedule' ? { schedule: name.join(' ') } : { user: name.join(' ') || kind! };
            }),
        };
      });

  return (
    <div>
      <h2>Escalation policies</h2>
      {policies.state === 'error' ? <ProblemNotice problem={policies.error.problem} /> : null}
      <div class="table-scroll">
        <table data-testid="policies-table">
          <thead>
            <tr>
              <th scope="col">policy</th>
              <th scope="col">team</th>
              <th scope="col">levels</th>
              <th scope="col">repeat</th>
            </tr>
          </thead>
          <tbody>
            {(policies.data ?? []).map((p) => (
              <tr key={p.id}>
                <th scope="row">
                  {p.name} <small class="muted">({p.id})</small>
                </th>
                <td>{p.team}</td>
                <td>
                  <ol class="levels">
                    {p.levels.map((level, i) => (
                      <li key={i}>
                        {level.targets.map((t) => ('schedule' in t ? `on call in ${t.schedule}` : t.user)).join(', ')} — escalate after {level.timeout_minutes} min
                      </li>
                    ))}
                  </ol>
                </td>
                <td>{p.repeat}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form
        class="card-form"
        noValidate
        aria-labelledby="new-policy-title"
        onSubmit={(e) => {
          e.preventDefault();
          const levels = parseLevels(form.levels);
          setLevelsError(levels.some((l) => !Number.isInteger(l.timeout_minutes)) ? 'Each line: minutes, a colon, then targets such as "schedule primary, user bob".' : null);
          if (levels.some((l) => !Number.isInteger(l.timeout_minutes))) return;
          void create
            .submit({ id: form.id, team: form.team, ...(form.name.trim() ? { name: form.name.trim() } : {}), repeat: Number(form.repeat), levels }, (body) =>
              api.post('/api/v1/escalation-policies', body),
            )
            .then((done) => {
              if (!done) return;
              setForm({ id: '', team: '', name: '', repeat: '0', levels: '' });
              policies.reload();
            });
        }}
      >
        <h3 id="new-policy-title">New escalation policy</h3>
        <div class="form-grid">
          <Field id="policy-id" label="Id" error={create.errors.id}>
            <input id="policy-id" value={form.id} onInput={(e) => setForm({ ...form, id: e.currentTarget.value })} {...describedBy('policy-id', create.errors.id)} />
          </Field>
          <Field id="policy-team" label="Team" error={create.errors.team}>
            <select id="policy-team" value={form.team} onChange={(e) => setForm({ ...form, team: e.currentTarget.value })} {...describedBy('policy-team', create.errors.team)}>
              <option value="">choose…</option>
              {(teams.data ?? []).map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name}
                </option>
              ))}
            </select>
          </Field>
          <Field id="policy-name" label="Name (optional)" error={create.errors.name}>
            <input id="policy-name" value={form.name} onInput={(e) => setForm({ ...form, name: e.currentTarget.value })} />
          </Field>
          <Field id="policy-repeat" label="Repeat the levels" error={create.errors.repeat}>
            <input id="policy-repeat" inputMode="numeric" value={form.repeat} onInput={(e) => setForm({ ...form, repeat: e.currentTarget.value })} />
          </Field>
        </div>
        <Field
          id="policy-levels"
          label="Levels, one per line"
          error={levelsError ?? create.errors.levels ?? Object.entries(create.errors).find(([f]) => f.startsWith('levels'))?.[1]}
          hint='e.g. "5: schedule primary" then "10: user bob, user carol"'
        >
          <textarea id="policy-levels" rows={3} value={form.levels} onInput={(e) => setForm({ ...form, levels: e.currentTarget.value })} {...describedBy('policy-levels', levelsError ?? create.errors.levels)} />
        </Field>
        <ProblemNotice problem={create.problem} />
        <button type="submit" class="primary" disabled={create.busy}>
          Create policy
        </button>
      </form>
    </div>
  );
}

interface RoutingDecision {
  action: string;
  service: string;
  severity: string;
  rule: string;
  modified_by: string[];
  reason: string;
  attach_to: string | null;
  suppressed_until: string | null;
  group_window_minutes: number;
}

/** Routing rules in force (their YAML and version) and the rule tester: what the rules decide for an alert. */
export function RoutingRulesSettings() {
  const rules = useAsync((signal) => api.get<RoutingRuleSet>('/api/v1/routing-rules', { signal }), []);
  const [form, setForm] = useState({ service: '', severity: 'critical', labels: '' });
  const test = useSchemaForm({ method: 'post', path: '/api/v1/routing-rules/test' }, ['service', 'severity', 'labels']);
  const [decision, setDecision] = useState<RoutingDecision | null>(null);
  const labels = () =>
    Object.fromEntries(
      form.labels
        .split(',')
        .map((pair) => pair.split('=').map((s) => s.trim()))
        .filter((pair) => pair[0])
        .map(([k, v]) => [k!, v ?? '']),
    );
  return (
    <div>
      <h2>Routing rules</h2>
      {rules.state === 'error' ? <ProblemNotice problem={rules.error.problem} /> : null}
      {rules.data ? (
        <>
          <p class="muted">
            Version {rules.data.version} ({rules.data.source}){rules.data.created_at ? `, by ${rules.data.created_by} ${formatDateTimeZone(rules.data.created_at)}` : ''}.
          </p>
          <pre class="yaml" data-testid="routing-yaml">
            {rules.data.yaml}
          </pre>
        </>
      ) : null}
      <form
        class="card-form"
        noValidate
        aria-labelledby="rule-test-title"
        onSubmit={(e) => {
          e.preventDefault();
          setDecision(null);
          void test
            .submit({ service: form.service, severity: form.severity, labels: labels() }, (body) => api.post<RoutingDecision>('/api/v1/routing-rules/test', body))
            .then((d) => d && setDecision(d));
        }}
      >
        <h3 id="rule-test-title">Rule tester</h3>
        <div class="form-grid">
          <Field id="test-service" label="Service" error={test.errors.service}>
            <input id="test-service" value={form.service} onInput={(e) => setForm({ ...form, service: e.currentTarget.value })} {...describedBy('test-service', test.errors.service)} />
          </Field>
          <Field id="test-severity" label="Alert severity" error={test.errors.severity}>
            <select id="test-severity" value={form.severity} onChange={(e) => setForm({ ...form, severity: e.currentTarget.value })}>
              {['critical', 'error', 'warning', 'info'].map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </Field>
          <Field id="test-labels" label="Labels (key=value, comma-separated)" error={test.errors.labels}>
            <input id="test-labels" value={form.labels} onInput={(e) => setForm({ ...form, labels: e.currentTarget.value })} />
          </Field>
        </div>
        <ProblemNotice problem={test.problem} />
        <button type="submit" class="primary" disabled={test.busy}>
          Test
        </button>
        {decision ? (
          <dl class="facts" data-testid="rule-decision">
            <div>
              <dt>Decision</dt>
              <dd>{humanise(decision.action)}</dd>
            </div>
            <div>
              <dt>Rule</dt>
              <dd>{decision.rule}</dd>
            </div>
            <div>
              <dt>Service and severity</dt>
              <dd>
                {decision.service}, {decision.severity}
              </dd>
            </div>
            <div>
              <dt>Why</dt>
              <dd>{decision.reason}</dd>
            </div>
            {decision.modified_by.length ? (
              <div>
                <dt>Changed by</dt>
                <dd>{decision.modified_by.join(', ')}</dd>
              </div>
            ) : null}
            <div>
              <dt>Grouping window</dt>
              <dd>{decision.group_window_minutes} min</dd>
            </div>
          </dl>
        ) : null}
      </form>
    </div>
  );
}

/** Stored secrets, by name only: the values never leave the server. */
export function SecretsSettings() {
  const secrets = useAsync((signal) => api.get<{ name: string; created_at: string; updated_at: string }[]>('/api/v1/secrets', { signal }), []);
  return (
    <div>
      <h2>Secrets</h2>
      <p class="muted">Names only: values are write-only (set them with the API or CLI) and are never shown.</p>
      {secrets.state === 'error' ? <ProblemNotice problem={secrets.error.problem} /> : null}
      <div class="table-scroll">
        <table data-testid="secrets-table">
          <thead>
            <tr>
              <th scope="col">name</th>
              <th scope="col">created</th>
              <th scope="col">updated</th>
            </tr>
          </thead>
          <tbody>
            {(secrets.data ?? []).map((s) => (
              <tr key={s.name}>
                <th scope="row">{s.name}</th>
                <td>{formatDateTimeZone(s.created_at)}</td>
                <td>{formatDateTimeZone(s.updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {secrets.data?.length === 0 ? <p class="muted">No secrets stored.</p> : null}
    </div>
  );
}

/** Public status pages: which services each shows, its public address, and a form for a new one. */
export function StatusPagesSettings() {
  const pages = useAsync((signal) => api.get<StatusPage[]>('/api/v1/status-pages', { signal }), []);
  const [form, setForm] = useState({ id: '', title: '', services: '' });
  const create = useSchemaForm({ method: 'post', path: '/api/v1/status-pages' }, ['id', 'title', 'services']);
  return (
    <div>
      <h2>Status pages</h2>
      {pages.state === 'error' ? <ProblemNotice problem={pages.error.problem} /> : null}
      <div class="table-scroll">
        <table data-testid="status-pages-table">
          <thead>
            <tr>
              <th scope="col">page</th>
              <th scope="col">services</th>
              <th scope="col">public address</th>
            </tr>
          </thead>
          <tbody>
            {(pages.data ?? []).map((p) => (
              <tr key={p.id}>
                <th scope="row">
                  {p.title} <small class="muted">({p.id})</small>
                </th>
                <td>{p.services.join(', ')}</td>
                <td>
                  <a href={p.url} target="_blank" rel="noopener">
                    {new URL(p.url, location.origin).href}
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form
        class="card-form"
        noValidate
        aria-labelledby="new-page-title"
        onSubmit={(e) => {
          e.preventDefault();
          const services = form.services.split(',').map((s) => s.trim()).filter(Boolean);
          void create.submit({ id: form.id, title: form.title.trim(), services }, (body) => api.post('/api/v1/status-pages', body)).then((done) => {
            if (!done) return;
            setForm({ id: '', title: '', services: '' });
            pages.reload();
          });
        }}
      >
        <h3 id="new-page-title">New status page</h3>
        <div class="form-grid">
          <Field id="page-id" label="Id (the public address)" error={create.errors.id}>
            <input id="page-id" value={form.id} onInput={(e) => setForm({ ...form, id: e.currentTarget.value })} {...describedBy('page-id', create.errors.id)} />
          </Field>
          <Field id="page-title" label="Title" error={create.errors.title}>
            <input id="page-title" value={form.title} onInput={(e) => setForm({ ...form, title: e.currentTarget.value })} {...describedBy('page-title', create.errors.title)} />
          </Field>
          <Field id="page-services" label="Services (comma-separated ids)" error={create.errors.services ?? create.errors['services[0]']}>
            <input id="page-services" value={form.services} onInput={(e) => setForm({ ...form, services: e.currentTarget.value })} {...describedBy('page-services', create.errors.services)} />
          </Field>
        </div>
        <ProblemNotice problem={create.problem} />
        <button type="submit" class="primary" disabled={create.busy}>
          Create status page
        </button>
      </form>
    </div>
  );
}

/** People and how they are reached: each person's contact methods, and adding one. */
export function ContactMethodsSettings() {
  const users = useAsync((signal) => api.get<OnCallUser[]>('/api/v1/oncall/users', { signal }), []);
  const channels = useAsync((signal) => api.get<Channel[]>('/api/v1/notification-channels', { signal }), []);
  const [form, setForm] = useState({ user: '', channel_id: '', address: '' });
  const add = useSchemaForm({ method: 'post', path: '/api/v1/oncall/users/{user}/contact-methods' }, ['channel_id', 'address']);
  const [userError, setUserError] = useState<string | undefined>(undefined);
  return (
    <div>
      <h2>Contact methods</h2>
      {users.state === 'error' ? <ProblemNotice problem={users.error.problem} /> : null}
      <div class="table-scroll">
        <table data-testid="contact-methods-table">
          <thead>
            <tr>
              <th scope="col">person</th>
              <th scope="col">teams</th>
              <th scope="col">contact methods</th>
            </tr>
          </thead>
          <tbody>
            {(users.data ?? []).map((u) => (
              <tr key={u.user}>
                <th scope="row">{u.user}</th>
                <td>{u.teams.join(', ')}</td>
                <td>
                  {u.contact_methods.length ? (
                    u.contact_methods.map((m) => (
                      <div key={m.id}>
                        {m.channel_id}
                        {m.address ? ` → ${m.address}` : ''}
                      </div>
                    ))
                  ) : (
                    <strong class="unacked">none: cannot be paged</strong>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form
        class="card-form"
        noValidate
        aria-labelledby="new-contact-title"
        onSubmit={(e) => {
          e.preventDefault();
          setUserError(form.user ? undefined : 'Choose a person.');
          if (!form.user) return;
          void add
            .submit({ channel_id: form.channel_id, ...(form.address.trim() ? { address: form.address.trim() } : {}) }, (body) =>
              api.post(`/api/v1/oncall/users/${encodeURIComponent(form.user)}/contact-methods`, body),
            )
            .then((done) => {
              if (!done) return;
              setForm({ user: '', channel_id: '', address: '' });
              users.reload();
            });
        }}
      >
        <h3 id="new-contact-title">Add a contact method</h3>
        <div class="form-grid">
          <Field id="contact-user" label="Person" error={userError}>
            <PersonPicker id="contact-user" value={form.user} onChange={(user) => setForm({ ...form, user })} invalid={!!userError} />
          </Field>
          <Field id="contact-channel" label="Channel" error={add.errors.channel_id}>
            <select id="contact-channel" value={form.channel_id} onChange={(e) => setForm({ ...form, channel_id: e.currentTarget.value })} {...describedBy('contact-channel', add.errors.channel_id)}>
              <option value="">choose…</option>
              {(channels.data ?? []).map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name} ({c.kind})
                </option>
              ))}
            </select>
          </Field>
          <Field id="contact-address" label="E-mail address (e-mail channels)" error={add.errors.address}>
            <input id="contact-address" type="email" value={form.address} onInput={(e) => setForm({ ...form, address: e.currentTarget.value })} {...describedBy('contact-address', add.errors.address)} />
          </Field>
        </div>
        <ProblemNotice problem={add.problem} />
        <button type="submit" class="primary" disabled={add.busy}>
          Add contact method
        </button>
      </form>
    </div>
  );
}
