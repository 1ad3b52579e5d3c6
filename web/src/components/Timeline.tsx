import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { Problem } from '../api.ts';
import { ProblemDisplay } from './forms.tsx';
import { formatDay, humanise, localZone } from '../format.ts';
import type { TimelineEntry } from '../types.ts';

const DELIVERY_KINDS = new Set(['notification_delivered', 'notification_failed', 'notification_dead']);

/** Kinds grouped the way a responder filters them; a kind not listed here falls under "other". */
export const TIMELINE_GROUPS: { id: string; label: string; kinds: (kind: string) => boolean }[] = [
  { id: 'notes', label: 'Notes', kinds: (k) => k === 'note' },
  { id: 'status', label: 'Status and changes', kinds: (k) => ['created', 'acknowledged', 'status_changed', 'resolved', 'field_updated', 'assigned', 'reopened'].includes(k) },
  { id: 'people', label: 'Paging and escalation', kinds: (k) => k.startsWith('notification_') || k.startsWith('escalat') || k === 'paged' || k.startsWith('role_') },
  { id: 'alerts', label: 'Alerts', kinds: (k) => k.startsWith('alert') || k === 'linked' || k === 'unlinked' },
  { id: 'plans', label: 'Plans and recovery', kinds: (k) => k.startsWith('plan_') || k.startsWith('recovery_') || k.startsWith('step_') },
  { id: 'analysis', label: 'Postmortem and analysis', kinds: (k) => k.startsWith('postmortem') || k.startsWith('action_item') || k.startsWith('analysis') || k.startsWith('fault_tree') },
  { id: 'public', label: 'Public updates', kinds: (k) => k === 'public_update' },
];

export function groupOf(kind: string): string {
  return TIMELINE_GROUPS.find((g) => g.kinds(kind))?.id ?? 'other';
}

/** One line of the timeline: an entry, or a notification with all its delivery attempts folded in. */
export interface TimelineLine {
  key: string;
  at: string;
  kind: string;
  actor: string;
  summary: string;
  attempts: TimelineEntry[];
}

/**
 * Folds the delivery attempts of each notification into one line that shows the latest outcome where
 * it happened; the attempts stay one click away.
 */
export function foldDeliveries(entries: readonly TimelineEntry[]): TimelineLine[] {
  const attempts = new Map<string, TimelineEntry[]>();
  for (const entry of entries) {
    const id = entry.data.notification_id;
    if (!DELIVERY_KINDS.has(entry.kind) || (typeof id !== 'number' && typeof id !== 'string')) continue;
    const list = attempts.get(String(id)) ?? [];
    list.push(entry);
    attempts.set(String(id), list);
  }
  const lines: TimelineLine[] = [];
  for (const entry of entries) {
    const id = entry.data.notification_id;
    const group = DELIVERY_KINDS.has(entry.kind) && id !== undefined ? attempts.get(String(id)) : undefined;
    if (!group) {
      lines.push({ key: String(entry.id), at: entry.at, kind: entry.kind, actor: entry.actor, summary: entry.summary, attempts: [] });
      continue;
    }
    const last = group[group.length - 1]!;
    if (entry !== last) continue;
    const tries = group.length;
    lines.push({
      key: `notification-${String(id)}`,
      at: last.at,
      kind: last.kind,
      actor: last.actor,
      summary: tries > 1 ? `${last.summary} (${tries} attempts)` : last.summary,
      attempts: tries > 1 ? group : [],
    });
  }
  return lines;
}

function formatClock(iso: string): string {
  return new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false, timeZoneName: 'short' });
}

function dayKey(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/**
 * The incident's timeline: the note composer on top, filters by kind, delivery attempts folded into one
 * line per notification, and absolute times (with the zone) under a heading per day.
 */
export function Timeline(props: { entries: TimelineEntry[]; loading: boolean; problem: Problem | null; composer?: ComponentChildren }) {
  const { entries, loading, problem, composer } = props;
  const [hidden, setHidden] = useState<Set<string>>(new Set());
  const [newestFirst, setNewestFirst] = useState(true);
  const counts = new Map<string, number>();
  for (const entry of entries) counts.set(groupOf(entry.kind), (counts.get(groupOf(entry.kind)) ?? 0) + 1);
  const groups = [...TIMELINE_GROUPS.map((g) => ({ id: g.id, label: g.label })), { id: 'other', label: 'Other' }].filter((g) => counts.has(g.id));
  const lines = foldDeliveries(entries.filter((e) => !hidden.has(groupOf(e.kind))));
  if (newestFirst) lines.reverse();
  const days: { key: string; heading: string; lines: TimelineLine[] }[] = [];
  for (const line of lines) {
    const key = dayKey(line.at);
    const last = days[days.length - 1];
    if (last && last.key === key) last.lines.push(line);
    else days.push({ key, heading: formatDay(line.at), lines: [line] });
  }
  const toggle = (id: string) => setHidden((h) => (h.has(id) ? new Set([...h].filter((x) => x !== id)) : new Set(h).add(id)));

  return (
    <section class="panel timeline" aria-labelledby="timeline-title">
      <div class="panel-head">
        <h2 id="timeline-title">Timeline</h2>
        <button type="button" onClick={() => setNewestFirst(!newestFirst)} aria-pressed={newestFirst}>
          {newestFirst ? 'Newest first' : 'Oldest first'}
        </button>
      </div>
      {composer}
      <fieldset class="timeline-filters">
        <legend>Show</legend>
        {groups.map((g) => (
          <label key={g.id} class="chip">
            <input type="checkbox" checked={!hidden.has(g.id)} onChange={() => toggle(g.id)} data-group={g.id} />
            {g.label} <span class="muted">({counts.get(g.id)})</span>
          </label>
        ))}
      </fieldset>
      <p class="muted zone-note">Times in {localZone()}.</p>
      <ProblemDisplay problem={problem} />
      {loading && entries.length === 0 ? <p class="muted">Loading…</p> : null}
      <div aria-live="polite">
        {days.map((day) => (
          <div key={day.key} class="timeline-day">
            <h3 class="timeline-day-heading">{day.heading}</h3>
            <ol class="timeline-list">
              {day.lines.map((line) => (
                <li key={line.key} class={`timeline-entry kind-${line.kind}`} data-kind={line.kind} data-attempts={line.attempts.length || undefined}>
                  <time dateTime={line.at} title={line.at}>
                    {formatClock(line.at)}
                  </time>
                  <span class="timeline-kind">{humanise(line.kind)}</span>
                  <span class="timeline-summary">
                    {line.summary}
                    {line.attempts.length ? (
                      <details class="attempts">
                        <summary>attempts</summary>
                        <ol>
                          {line.attempts.map((a) => (
                            <li key={a.id}>
                              <time dateTime={a.at}>{formatClock(a.at)}</time> {a.summary}
                            </li>
                          ))}
                        </ol>
                      </details>
                    ) : null}
                  </span>
                  <span class="timeline-actor">— {line.actor}</span>
                </li>
              ))}
            </ol>
          </div>
        ))}
      </div>
    </section>
  );
}
