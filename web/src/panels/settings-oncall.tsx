import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { useAsync } from '../hooks.ts';
import { ProblemDisplay, SecretShownOnce, useAction } from '../components/forms.tsx';
import { DataTable } from '../components/DataTable.tsx';
import { SchemaForm, listOf, optional } from '../components/SchemaForm.tsx';
import { formatCount, formatTime, localZone } from '../format.ts';
import type { Channel, OnCallAnswer, Schedule, Team } from '../types.ts';

const URL_KINDS = ['webhook', 'slack', 'teams'] as const;

/** Notification channels: list, send a real test message, and add a webhook, Slack or Teams channel. */
export function ChannelsSettings() {
  const channels = useAsync((signal) => api.get<Channel[]>('/api/v1/notification-channels', { signal }), []);
  const action = useAction();
  const [tested, setTested] = useState<Record<string, { ok: boolean; detail: string; duration_ms: number }>>({});
  const [secret, setSecret] = useState<{ id: string; value: string } | null>(null);
  if (channels.state === 'error' && channels.error.status === 404) return <p class="muted">Notifications are not installed.</p>;

  const test = (channel: Channel) =>
    void action.run(async () => {
      const result = await api.post<{ ok: boolean; detail: string; duration_ms: number }>(`/api/v1/notification-channels/${encodeURIComponent(channel.id)}/test`, {});
      setTested((current) => ({ ...current, [channel.id]: result }));
    });
  return (
    <div>
      <h2>Notification channels</h2>
      {secret ? (
        <SecretShownOnce secret={secret.value} onDone={() => setSecret(null)}>
          <strong>Channel {secret.id}</strong>: its webhook signing secret is shown only this once.
        </SecretShownOnce>
      ) : null}
      <ProblemDisplay of={channels} />
      <ProblemDisplay problem={action.problem} />
      <DataTable
        testId="channels-table"
        rows={channels.data}
        rowKey={(c) => c.id}
        columns={[
          {
            header: 'channel',
            rowHeader: true,
            cell: (c) => (
              <>
                {c.name} <small class="muted">({c.id})</small>
              </>
            ),
          },
          { header: 'kind', cell: (c) => c.kind },
          { header: 'team', cell: (c) => c.team ?? 'all teams' },
          {
            header: 'events',
            cell: (c) => (
              <>
                {c.events.join(', ')} <small class="muted">(≥ {c.min_severity})</small>
              </>
            ),
          },
          { header: 'state', cell: (c) => (c.enabled ? 'enabled' : 'disabled') },
          {
            header: '',
            cell: (c) => (
              <>
                <button type="button" onClick={() => test(c)} aria-label={`Send a test message to ${c.id}`}>
                  Send test
                </button>
                {tested[c.id] ? (
                  <div class={tested[c.id]!.ok ? '' : 'field-error'} role="status">
                    {tested[c.id]!.ok ? 'delivered' : 'failed'}: {tested[c.id]!.detail} ({formatCount(tested[c.id]!.duration_ms)} ms)
                  </div>
                ) : null}
              </>
            ),
          },
        ]}
      />
      <SchemaForm
        id="channel"
        title="New channel"
        operation={{ method: 'post', path: '/api/v1/notification-channels' }}
        fields={[
          { name: 'id', label: 'Id' },
          { name: 'name', label: 'Name (optional)' },
          { name: 'kind', label: 'Kind', kind: 'select', choices: URL_KINDS.map((k) => ({ value: k, label: k })) },
          { name: 'url', label: 'URL', kind: 'url' },
          { name: 'team', label: 'Team (optional)' },
          { name: 'min_severity', label: 'Lowest severity', kind: 'select', id: 'channel-severity' },
        ]}
        initial={{ id: '', name: '', kind: 'webhook', url: '', team: '', min_severity: 'low' }}
        toBody={(v) => ({ id: v.id, kind: v.kind, url: v.url, min_severity: v.min_severity, ...optional('name', v.name), ...optional('team', v.team) })}
        send={(body) => api.post<Channel & { signing_secret?: string }>('/api/v1/notification-channels', body)}
        onDone={(created) => {
          if (created.signing_secret) setSecret({ id: created.id, value: created.signing_secret });
          channels.reload();
        }}
        submitLabel="Create channel"
      >
        <p class="muted">E-mail channels need SMTP settings: create them with the API or CLI.</p>
      </SchemaForm>
    </div>
  );
}

/** On-call schedules: who is on call now, each schedule's layers, and a form for a one-layer schedule. */
export function SchedulesSettings() {
  const schedules = useAsync((signal) => api.get<Schedule[]>('/api/v1/schedules', { signal }), []);
  const now = useAsync((signal) => api.get<OnCallAnswer>('/api/v1/oncall', { signal }), []);
  const teams = useAsync((signal) => api.get<Team[]>('/api/v1/teams', { signal }), []);
  if (schedules.state === 'error' && schedules.error.status === 404) return <p class="muted">On-call schedules are not installed.</p>;
  const onCall = new Map((now.data?.teams ?? []).flatMap((t) => t.schedules.map((s) => [s.schedule, s.on_call] as const)));
  return (
    <div>
      <h2>On-call schedules</h2>
      <ProblemDisplay of={schedules} />
      <DataTable
        testId="schedules-table"
        rows={schedules.data}
        rowKey={(s) => s.id}
        columns={[
          {
            header: 'schedule',
            rowHeader: true,
            cell: (s) => (
              <>
                {s.name} <small class="muted">({s.id}, {s.time_zone})</small>
              </>
            ),
          },
          { header: 'team', cell: (s) => s.team },
          {
            header: 'on call now',
            cell: (s) => {
              const shift = onCall.get(s.id);
              return shift ? `${shift.user} (${shift.source === 'override' ? 'override' : shift.via})` : 'nobody';
            },
          },
          {
            header: 'layers',
            cell: (s) => (
              <>
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
              </>
            ),
          },
        ]}
      />
      <SchemaForm
        id="schedule"
        title="New schedule (one rotation layer)"
        operation={{ method: 'post', path: '/api/v1/schedules' }}
        fields={[
          { name: 'id', label: 'Id' },
          { name: 'team', label: 'Team', kind: 'select', placeholder: 'choose…', choices: (teams.data ?? []).map((t) => ({ value: t.id, label: t.name })) },
          { name: 'time_zone', label: 'Time zone', id: 'schedule-zone' },
          { name: 'rotation', bodyField: 'layers[0].rotation', label: 'Rotation', kind: 'select' },
          { name: 'handoff_time', bodyField: 'layers[0].handoff_time', label: 'Hand-off time', kind: 'time', id: 'schedule-handoff' },
          { name: 'start', bodyField: 'layers[0].start', label: 'First hand-off', kind: 'date' },
          { name: 'users', bodyField: 'layers[0].users', label: 'People, in order' },
        ]}
        initial={{ id: '', team: '', time_zone: localZone(), rotation: 'weekly', handoff_time: '09:00', start: new Date().toISOString().slice(0, 10), users: '' }}
        keepValues
        toBody={(v) => ({
          id: v.id,
          team: v.team,
          time_zone: v.time_zone,
          layers: [{ name: 'primary', rotation: v.rotation, handoff_time: v.handoff_time, start: v.start, users: listOf(v.users) }],
        })}
        send={(body) => api.post<Schedule>('/api/v1/schedules', body)}
        onDone={() => {
          schedules.reload();
          now.reload();
        }}
        submitLabel="Create schedule"
      />
    </div>
  );
}
