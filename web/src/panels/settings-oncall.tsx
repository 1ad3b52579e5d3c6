import { useState } from 'preact/hooks';
import { api, type Problem } from '../api.ts';
import { useAsync } from '../hooks.ts';
import { Field, ProblemNotice, SecretShownOnce, describedBy, problemToErrors, type FieldErrors } from '../components/forms.tsx';
import { formatTime } from '../format.ts';
import type { Channel, OnCallAnswer, Schedule, Team } from '../types.ts';

const SLUG = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const URL_KINDS = ['webhook', 'slack', 'teams'] as const;

/** Notification channels: list, send a real test message, and add a webhook, Slack or Teams channel. */
export function ChannelsSettings() {
  const channels = useAsync((signal) => api.get<Channel[]>('/api/v1/notification-channels', { signal }), []);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [tested, setTested] = useState<Record<string, { ok: boolean; detail: string; duration_ms: number }>>({});
  const [form, setForm] = useState({ id: '', name: '', kind: 'webhook', url: '', team: '', min_severity: 'low' });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [secret, setSecret] = useState<{ id: string; value: string } | null>(null);
  if (channels.state === 'error' && channels.error.status === 404) return <p class="muted">Notifications are not installed.</p>;

  const test = async (channel: Channel) => {
    setProblem(null);
    try {
      const result = await api.post<{ ok: boolean; detail: string; duration_ms: number }>(`/api/v1/notification-channels/${encodeURIComponent(channel.id)}/test`, {});
      setTested({ ...tested, [channel.id]: result });
    } catch (error) {
      setProblem(problemToErrors(error, []).form);
    }
  };
  const submit = async (event: Event) => {
    event.preventDefault();
    setProblem(null);
    const next: FieldErrors = {};
    if (!SLUG.test(form.id)) next.id = 'Lower-case letters, digits, dot, dash or underscore.';
    if (!/^https?:\/\/\S+$/.test(form.url)) next.url = 'An http:// or https:// URL.';
    if (form.team && !SLUG.test(form.team)) next.team = 'A team id, or empty for every team.';
    setErrors(next);
    if (Object.keys(next).length) return;
    try {
      const created = await api.post<Channel & { signing_secret?: string }>('/api/v1/notification-channels', {
        id: form.id,
        kind: form.kind,
        url: form.url,
        min_severity: form.min_severity,
        ...(form.name.trim() ? { name: form.name.trim() } : {}),
        ...(form.team ? { team: form.team } : {}),
      });
      if (created.signing_secret) setSecret({ id: created.id, value: created.signing_secret });
      setForm({ id: '', name: '', kind: 'webhook', url: '', team: '', min_severity: 'low' });
      channels.reload();
    } catch (error) {
      const split = problemToErrors(error, ['id', 'name', 'kind', 'url', 'team', 'min_severity']);
      setErrors(split.fields);
      setProblem(split.form);
    }
  };
  return (
    <div>
      <h2>Notification channels</h2>
      {secret ? (
        <SecretShownOnce secret={secret.value} onDone={() => setSecret(null)}>
          <strong>Channel {secret.id}</strong>: its webhook signing secret is shown only this once.
        </SecretShownOnce>
      ) : null}
      {channels.state === 'error' ? <ProblemNotice problem={channels.error.problem} /> : null}
      <ProblemNotice problem={problem} />
      <div class="table-scroll">
        <table data-testid="channels-table">
          <thead>
            <tr>
              <th scope="col">channel</th>
              <th scope="col">kind</th>
              <th scope="col">team</th>
              <th scope="col">events</th>
              <th scope="col">state</th>
              <th scope="col">
                <span class="visually-hidden">actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(channels.data ?? []).map((c) => (
              <tr key={c.id}>
                <th scope="row">
                  {c.name} <small class="muted">({c.id})</small>
                </th>
                <td>{c.kind}</td>
                <td>{c.team ?? 'all teams'}</td>
                <td>
                  {c.events.join(', ')} <small class="muted">(≥ {c.min_severity})</small>
                </td>
                <td>{c.enabled ? 'enabled' : 'disabled'}</td>
                <td>
                  <button type="button" onClick={() => void test(c)} aria-label={`Send a test message to ${c.id}`}>
                    Send test
                  </button>
                  {tested[c.id] ? (
                    <div class={tested[c.id]!.ok ? '' : 'field-error'} role="status">
                      {tested[c.id]!.ok ? 'delivered' : 'failed'}: {tested[c.id]!.detail} ({tested[c.id]!.duration_ms} ms)
                    </div>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form class="card-form" onSubmit={submit} noValidate aria-labelledby="new-channel-title">
        <h3 id="new-channel-title">New channel</h3>
        <p class="muted">E-mail channels need SMTP settings: create them with the API or CLI.</p>
        <div class="form-grid">
          <Field id="channel-id" label="Id" error={errors.id}>
            <input id="channel-id" value={form.id} onInput={(e) => setForm({ ...form, id: e.currentTarget.value })} {...describedBy('channel-id', errors.id)} />
          </Field>
          <Field id="channel-name" label="Name (optional)" error={errors.name}>
            <input id="channel-name" value={form.name} onInput={(e) => setForm({ ...form, name: e.currentTarget.value })} />
          </Field>
          <Field id="channel-kind" label="Kind" error={errors.kind}>
            <select id="channel-kind" value={form.kind} onChange={(e) => setForm({ ...form, kind: e.currentTarget.value })}>
              {URL_KINDS.map((k) => (
                <option key={k}>{k}</option>
              ))}
            </select>
          </Field>
          <Field id="channel-url" label="URL" error={errors.url}>
            <input id="channel-url" type="url" value={form.url} onInput={(e) => setForm({ ...form, url: e.currentTarget.value })} {...describedBy('channel-url', errors.url)} />
          </Field>
          <Field id="channel-team" label="Team (optional)" error={errors.team}>
            <input id="channel-team" value={form.team} onInput={(e) => setForm({ ...form, team: e.currentTarget.value })} {...describedBy('channel-team', errors.team)} />
          </Field>
          <Field id="channel-severity" label="Lowest severity" error={errors.min_severity}>
            <select id="channel-severity" value={form.min_severity} onChange={(e) => setForm({ ...form, min_severity: e.currentTarget.value })}>
              {['low', 'medium', 'high', 'critical'].map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </Field>
        </div>
        <button type="submit" class="primary">
          Create channel
        </button>
      </form>
    </div>
  );
}

/** On-call schedules: who is on call now, each schedule's layers, and a form for a one-layer schedule. */
export function SchedulesSettings() {
  const schedules = useAsync((signal) => api.get<Schedule[]>('/api/v1/schedules', { signal }), []);
  const now = useAsync((signal) => api.get<OnCallAnswer>('/api/v1/oncall', { signal }), []);
  const teams = useAsync((signal) => api.get<Team[]>('/api/v1/teams', { signal }), []);
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const [form, setForm] = useState({ id: '', team: '', time_zone: zone, rotation: 'weekly', handoff_time: '09:00', start: new Date().toISOString().slice(0, 10), users: '' });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  if (schedules.state === 'error' && schedules.error.status === 404) return <p class="muted">On-call schedules are not installed.</p>;
  const onCall = new Map((now.data?.teams ?? []).flatMap((t) => t.schedules.map((s) => [s.schedule, s.on_call] as const)));

  const submit = async (event: Event) => {
    event.preventDefault();
    setProblem(null);
    const users = form.users.split(',').map((u) => u.trim()).filter(Boolean);
    const next: FieldErrors = {};
    if (!SLUG.test(form.id)) next.id = 'Lower-case letters, digits, dot, dash or underscore.';
    if (!form.team) next.team = 'Choose the team it covers.';
    if (!/^([01][0-9]|2[0-3]):[0-5][0-9]$/.test(form.handoff_time)) next.layers = 'Hand-off time as HH:MM.';
    if (!users.length) next.layers = 'Name at least one person, comma-separated.';
    setErrors(next);
    if (Object.keys(next).length) return;
    try {
      await api.post('/api/v1/schedules', {
        id: form.id,
        team: form.team,
        time_zone: form.time_zone,
        layers: [{ name: 'primary', rotation: form.rotation, handoff_time: form.handoff_time, start: form.start, users }],
      });
      schedules.reload();
      now.reload();
    } catch (error) {
      const split = problemToErrors(error, ['id', 'team', 'time_zone', 'layers']);
      setErrors(split.fields);
      setProblem(split.form);
    }
  };
  return (
    <div>
      <h2>On-call schedules</h2>
      {schedules.state === 'error' ? <ProblemNotice problem={schedules.error.problem} /> : null}
      <div class="table-scroll">
        <table data-testid="schedules-table">
          <thead>
            <tr>
              <th scope="col">schedule</th>
              <th scope="col">team</th>
              <th scope="col">on call now</th>
              <th scope="col">layers</th>
            </tr>
          </thead>
          <tbody>
            {(schedules.data ?? []).map((s) => {
              const shift = onCall.get(s.id);
              return (
                <tr key={s.id}>
                  <th scope="row">
                    {s.name} <small class="muted">({s.id}, {s.time_zone})</small>
                  </th>
                  <td>{s.team}</td>
                  <td>{shift ? `${shift.user} (${shift.source === 'override' ? 'override' : shift.via})` : 'nobody'}</td>
                  <td>
                    {s.layers.map((l) => (
                      <div key={l.name}>
                        {l.name}: {l.rotation} from {l.start} at {l.handoff_time} — {l.users.join(', ')}
                      </div>
                    ))}
                    {s.overrides.map((o) => (
                      <div key={o.id} class="muted">
                        override: {o.user} {formatTime(o.starts_at)} – {formatTime(o.ends_at)}
                      </div>
                    ))}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <ProblemNotice problem={problem} />
      <form class="card-form" onSubmit={submit} noValidate aria-labelledby="new-schedule-title">
        <h3 id="new-schedule-title">New schedule (one rotation layer)</h3>
        <div class="form-grid">
          <Field id="schedule-id" label="Id" error={errors.id}>
            <input id="schedule-id" value={form.id} onInput={(e) => setForm({ ...form, id: e.currentTarget.value })} {...describedBy('schedule-id', errors.id)} />
          </Field>
          <Field id="schedule-team" label="Team" error={errors.team}>
            <select id="schedule-team" value={form.team} onChange={(e) => setForm({ ...form, team: e.currentTarget.value })} {...describedBy('schedule-team', errors.team)}>
              <option value="">choose…</option>
              {(teams.data ?? []).map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name}
                </option>
              ))}
            </select>
          </Field>
          <Field id="schedule-zone" label="Time zone" error={errors.time_zone}>
            <input id="schedule-zone" value={form.time_zone} onInput={(e) => setForm({ ...form, time_zone: e.currentTarget.value })} {...describedBy('schedule-zone', errors.time_zone)} />
          </Field>
          <Field id="schedule-rotation" label="Rotation">
            <select id="schedule-rotation" value={form.rotation} onChange={(e) => setForm({ ...form, rotation: e.currentTarget.value })}>
              <option value="weekly">weekly</option>
              <option value="daily">daily</option>
            </select>
          </Field>
          <Field id="schedule-handoff" label="Hand-off time">
            <input id="schedule-handoff" type="time" value={form.handoff_time} onInput={(e) => setForm({ ...form, handoff_time: e.currentTarget.value })} />
          </Field>
          <Field id="schedule-start" label="First hand-off">
            <input id="schedule-start" type="date" value={form.start} onInput={(e) => setForm({ ...form, start: e.currentTarget.value })} />
          </Field>
          <Field id="schedule-users" label="People, in order" error={errors.layers}>
            <input id="schedule-users" value={form.users} onInput={(e) => setForm({ ...form, users: e.currentTarget.value })} {...describedBy('schedule-users', errors.layers)} />
          </Field>
        </div>
        <button type="submit" class="primary">
          Create schedule
        </button>
      </form>
    </div>
  );
}
