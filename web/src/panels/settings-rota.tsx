import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { useAsync } from '../hooks.ts';
import { ProblemDisplay, useAction } from '../components/forms.tsx';
import { SchemaForm } from '../components/SchemaForm.tsx';
import { formatDateTimeZone, localZone } from '../format.ts';
import type { Schedule } from '../types.ts';
import type { ScheduleLayer } from '../../../src/oncall/rotation.ts';

const DAY = 86_400_000;
const DAYS = 14;

interface Segment {
  user: string;
  source: 'override' | 'layer';
  from: number;
  to: number;
}

/**
 * Walks the schedule's shifts from the start of today for two weeks with the server's own rotation
 * rules (the same pure module, loaded only when this tab opens).
 */
async function rota(schedule: Schedule, from: number): Promise<Segment[]> {
  const { onCallAt } = await import('../../../src/oncall/rotation.ts');
  const end = from + DAYS * DAY;
  const segments: Segment[] = [];
  let t = from;
  while (t < end && segments.length < 500) {
    // The server answers with normalised layers (shift_length and handoff_day filled in), as it stores them.
    const shift = onCallAt(schedule.layers as ScheduleLayer[], schedule.overrides, schedule.time_zone, new Date(t));
    if (!shift) {
      t += 3_600_000;
      continue;
    }
    // A layer's shift runs to its hand-off, but an override starting earlier takes over there.
    const nextOverride = Math.min(...schedule.overrides.map((o) => Date.parse(o.starts_at)).filter((start) => start > t), end);
    const until = Math.min(shift.until ? Date.parse(shift.until) : end, nextOverride, end);
    const last = segments[segments.length - 1];
    if (last && last.user === shift.user && last.source === shift.source && last.to === t) last.to = until;
    else segments.push({ user: shift.user, source: shift.source, from: t, to: until });
    t = Math.max(until, t + 60_000);
  }
  return segments;
}

function RotaCalendar({ schedule }: { schedule: Schedule }) {
  const [segments, setSegments] = useState<Segment[] | null>(null);
  const start = new Date();
  start.setHours(0, 0, 0, 0);
  const from = start.getTime();
  useEffect(() => {
    let live = true;
    void rota(schedule, from).then((s) => live && setSegments(s));
    return () => {
      live = false;
    };
  }, [schedule.id, schedule.version, schedule.overrides.length, from]);
  if (!segments) return <p class="muted">Working out the rota…</p>;
  const time = (ms: number) => new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hour12: false });
  return (
    <div class="rota" data-testid={`rota-${schedule.id}`} role="table" aria-label={`Rota of ${schedule.name} for ${DAYS} days`}>
      {Array.from({ length: DAYS }, (_, i) => {
        const dayStart = from + i * DAY;
        const dayEnd = dayStart + DAY;
        const today = segments.filter((s) => s.from < dayEnd && s.to > dayStart);
        return (
          <div key={i} class="rota-day" role="row">
            <div class="rota-date" role="rowheader">
              {new Date(dayStart).toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short' })}
            </div>
            <div role="cell">
              {today.length ? (
                today.map((s) => (
                  <div key={`${s.user}-${s.from}`} class={`rota-shift ${s.source}`} data-user={s.user}>
                    <strong>{s.user}</strong>
                    {s.from > dayStart || s.to < dayEnd ? ` ${s.from > dayStart ? time(s.from) : '00:00'}–${s.to < dayEnd ? time(s.to) : '24:00'}` : ''}
                    {s.source === 'override' ? ' (override)' : ''}
                  </div>
                ))
              ) : (
                <span class="unacked">nobody</span>
              )}
            </div>
          </div>
        );
      })}
    </div>
  );
}

/** Each schedule's rota for the next two weeks, its overrides (add, remove), in the viewer's time zone. */
export function RotaSettings() {
  const schedules = useAsync((signal) => api.get<Schedule[]>('/api/v1/schedules', { signal }), []);
  const [chosen, setChosen] = useState('');
  const action = useAction();
  const schedule = (schedules.data ?? []).find((s) => s.id === chosen) ?? schedules.data?.[0];
  if (schedules.state === 'error') return <ProblemDisplay of={schedules} />;
  if (!schedules.data) return <p class="muted">Loading…</p>;
  if (!schedule) return <p class="muted">No schedules yet: create one under Schedules.</p>;
  const iso = (local: string | undefined) => (local ? new Date(local).toISOString() : '');
  const remove = (id: number) =>
    void action.run(() => api.delete(`/api/v1/schedules/${encodeURIComponent(schedule.id)}/overrides/${id}`)).then((ok) => ok && schedules.reload());
  return (
    <div>
      <h2>Rota and overrides</h2>
      <div class="field inline">
        <label for="rota-schedule">Schedule</label>
        <select id="rota-schedule" value={schedule.id} onChange={(e) => setChosen(e.currentTarget.value)}>
          {schedules.data.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name} ({s.team})
            </option>
          ))}
        </select>
      </div>
      <p class="muted">
        Hand-offs follow the schedule's zone ({schedule.time_zone}); times shown in yours ({localZone()}).
      </p>
      <RotaCalendar schedule={schedule} />
      <h3>Overrides</h3>
      <ProblemDisplay problem={action.problem} />
      {schedule.overrides.length ? (
        <ul class="plain" data-testid="overrides">
          {schedule.overrides.map((o) => (
            <li key={o.id}>
              <strong>{o.user}</strong> {formatDateTimeZone(o.starts_at)} → {formatDateTimeZone(o.ends_at)}{' '}
              <button type="button" class="link-button" onClick={() => remove(o.id)} aria-label={`Remove the override for ${o.user}`}>
                remove
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted">No overrides.</p>
      )}
      <SchemaForm
        id="override"
        title="Cover a shift"
        operation={{ method: 'post', path: '/api/v1/schedules/{id}/overrides' }}
        fields={[
          { name: 'user', label: 'Who covers', kind: 'person' },
          { name: 'starts_at', label: 'From', kind: 'datetime-local', id: 'override-start' },
          { name: 'ends_at', label: 'Until', kind: 'datetime-local', id: 'override-end' },
        ]}
        initial={{ user: '', starts_at: '', ends_at: '' }}
        toBody={(v) => ({ user: v.user, starts_at: iso(v.starts_at), ends_at: iso(v.ends_at) })}
        send={(body) => api.post(`/api/v1/schedules/${encodeURIComponent(schedule.id)}/overrides`, body)}
        onDone={() => schedules.reload()}
        submitLabel="Add override"
      />
    </div>
  );
}
