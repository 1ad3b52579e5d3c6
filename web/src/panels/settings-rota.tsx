import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { useAsync } from '../hooks.ts';
import { Field, ProblemNotice, describedBy, problemToErrors } from '../components/forms.tsx';
import { PersonPicker } from '../components/PersonPicker.tsx';
import { useSchemaForm } from '../components/schema-form.tsx';
import { formatDateTimeZone } from '../format.ts';
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
  const [form, setForm] = useState({ user: '', starts_at: '', ends_at: '' });
  const add = useSchemaForm({ method: 'post', path: '/api/v1/schedules/{id}/overrides' }, ['user', 'starts_at', 'ends_at']);
  const [problem, setProblem] = useState<ReturnType<typeof problemToErrors>['form']>(null);
  const schedule = (schedules.data ?? []).find((s) => s.id === chosen) ?? schedules.data?.[0];
  if (schedules.state === 'error') return <ProblemNotice problem={schedules.error.problem} />;
  if (!schedules.data) return <p class="muted">Loading…</p>;
  if (!schedule) return <p class="muted">No schedules yet: create one under Schedules.</p>;
  const iso = (local: string) => (local ? new Date(local).toISOString() : '');
  const remove = async (id: number) => {
    setProblem(null);
    try {
      await api.delete(`/api/v1/schedules/${encodeURIComponent(schedule.id)}/overrides/${id}`);
      schedules.reload();
    } catch (error) {
      setProblem(problemToErrors(error, []).form);
    }
  };
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
        Hand-offs follow the schedule's zone ({schedule.time_zone}); times shown in yours ({Intl.DateTimeFormat().resolvedOptions().timeZone}).
      </p>
      <RotaCalendar schedule={schedule} />
      <h3>Overrides</h3>
      <ProblemNotice problem={problem} />
      {schedule.overrides.length ? (
        <ul class="plain" data-testid="overrides">
          {schedule.overrides.map((o) => (
            <li key={o.id}>
              <strong>{o.user}</strong> {formatDateTimeZone(o.starts_at)} → {formatDateTimeZone(o.ends_at)}{' '}
              <button type="button" class="link-button" onClick={() => void remove(o.id)} aria-label={`Remove the override for ${o.user}`}>
                remove
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted">No overrides.</p>
      )}
      <form
        class="card-form"
        noValidate
        aria-labelledby="new-override-title"
        onSubmit={(e) => {
          e.preventDefault();
          void add
            .submit({ user: form.user, starts_at: iso(form.starts_at), ends_at: iso(form.ends_at) }, (body) =>
              api.post(`/api/v1/schedules/${encodeURIComponent(schedule.id)}/overrides`, body),
            )
            .then((done) => {
              if (!done) return;
              setForm({ user: '', starts_at: '', ends_at: '' });
              schedules.reload();
            });
        }}
      >
        <h3 id="new-override-title">Cover a shift</h3>
        <div class="form-grid">
          <Field id="override-user" label="Who covers" error={add.errors.user}>
            <PersonPicker id="override-user" value={form.user} onChange={(user) => setForm({ ...form, user })} invalid={!!add.errors.user} describedBy={add.errors.user ? 'override-user-error' : undefined} />
          </Field>
          <Field id="override-start" label="From" error={add.errors.starts_at}>
            <input id="override-start" type="datetime-local" value={form.starts_at} onInput={(e) => setForm({ ...form, starts_at: e.currentTarget.value })} {...describedBy('override-start', add.errors.starts_at)} />
          </Field>
          <Field id="override-end" label="Until" error={add.errors.ends_at}>
            <input id="override-end" type="datetime-local" value={form.ends_at} onInput={(e) => setForm({ ...form, ends_at: e.currentTarget.value })} {...describedBy('override-end', add.errors.ends_at)} />
          </Field>
        </div>
        <ProblemNotice problem={add.problem} />
        <button type="submit" class="primary" disabled={add.busy}>
          Add override
        </button>
      </form>
    </div>
  );
}
