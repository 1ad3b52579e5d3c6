import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, query, type Problem } from '../api.ts';
import type { ScreenProps } from '../registry.ts';
import { Link, navigate } from '../router.tsx';
import { canWrite, useLiveEvents, useSession } from '../session.ts';
import { rememberListOrder, useShortcuts } from '../shortcuts.ts';
import { RESYNC_EVENT } from '../stream.ts';
import { SeverityBadge, StatusBadge } from '../components/badges.tsx';
import { ProblemDisplay } from '../components/forms.tsx';
import { formatAgo, formatCount, humanise } from '../format.ts';
import {
  LIST_PAGE,
  VIEWS,
  VIEW_LABELS,
  acknowledge,
  byCreatedDesc,
  byUrgency,
  countsPath,
  filtersFrom,
  isActive,
  listIncidents,
  matchesFilters,
  matchesView,
  viewFrom,
  type IncidentCounts,
  type IncidentFilters,
  type IncidentView,
} from '../incidents.ts';
import type { Incident, Service, Team } from '../types.ts';

interface ListState {
  items: Incident[];
  cursor: string | null;
  loading: boolean;
  error: Problem | null;
}

const emptyList: ListState = { items: [], cursor: null, loading: true, error: null };

interface BulkResult {
  results: { id: string; ok: boolean; incident?: Incident; error?: { code: string; detail: string } }[];
}

/**
 * The incident list: views (triggered, acknowledged, mine, all open, everything) with true counts, the
 * open ones most urgent first as the API orders them, paginated so a large history never loads at once,
 * and bulk acknowledge/resolve for the rows a responder ticks.
 */
export function IncidentList({ search }: ScreenProps) {
  const { lifecycle, me, streamState } = useSession();
  const filters = filtersFrom(search);
  const view = viewFrom(search);
  const filterKey = JSON.stringify(filters);
  const [list, setList] = useState<ListState>(emptyList);
  const [counts, setCounts] = useState<IncidentCounts | null>(null);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const [selected, setSelected] = useState(0);
  const [ticked, setTicked] = useState<Set<string>>(new Set());
  const [resolving, setResolving] = useState(false);
  const [resolution, setResolution] = useState('');
  const [bulkNote, setBulkNote] = useState<string | null>(null);
  const [actionProblem, setActionProblem] = useState<Problem | null>(null);
  const [services, setServices] = useState<Service[]>([]);
  const [teams, setTeams] = useState<Team[]>([]);
  const [q, setQ] = useState(filters.q);
  const searchRef = useRef<HTMLInputElement>(null);
  const generation = useRef(0);
  const countsTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const order = view === 'all' ? byCreatedDesc : byUrgency(lifecycle.severities);
  const writable = canWrite(me);

  const loadPage = async (cursor: string | null) => {
    const mine = generation.current;
    setList((s) => ({ ...s, loading: true, error: null }));
    try {
      const page = await listIncidents(filters, view, me.name, LIST_PAGE, cursor);
      if (mine !== generation.current) return;
      setList((s) => ({ items: cursor ? [...s.items, ...page.items] : page.items, cursor: page.next_cursor, loading: false, error: null }));
    } catch (error) {
      if (mine !== generation.current) return;
      setList((s) => ({ ...s, loading: false, error: error instanceof ApiError ? error.problem : null }));
    }
  };

  const loadCounts = () => {
    api.get<IncidentCounts>(countsPath(filters)).then(setCounts, () => undefined);
  };
  /** Several events arrive per change; one count covers them. */
  const recount = () => {
    if (countsTimer.current) clearTimeout(countsTimer.current);
    countsTimer.current = setTimeout(loadCounts, 300);
  };
  useEffect(() => () => void (countsTimer.current && clearTimeout(countsTimer.current)), []);

  const reloadAll = () => {
    generation.current++;
    void loadPage(null);
    loadCounts();
  };

  useEffect(() => {
    setList(emptyList);
    setSelected(0);
    setTicked(new Set());
    generation.current++;
    void loadPage(null);
  }, [filterKey, view]);
  useEffect(loadCounts, [filterKey]);

  useEffect(() => {
    api.get<Service[]>('/api/v1/services').then(setServices, () => undefined);
    api.get<Team[]>('/api/v1/teams').then(setTeams, () => undefined);
  }, []);

  // Typing in the search box updates the URL (and so the query) once the user pauses.
  useEffect(() => {
    if (q === filters.q) return;
    const timer = setTimeout(() => setParam('q', q), 250);
    return () => clearTimeout(timer);
  }, [q]);

  const setParam = (key: keyof IncidentFilters | 'view', value: string) => {
    const next = { ...filters, view: view === 'open' ? '' : view, [key]: value };
    navigate(`/incidents${query({ ...next, view: next.view === 'open' ? '' : next.view })}`, { replace: true });
  };

  /** Puts a pushed incident where a reload would: in order, or out if it no longer belongs. */
  const place = (incident: Incident, created: boolean) => {
    const belongs = matchesFilters(incident, filters) && matchesView(lifecycle, incident, view, me.name);
    setList((s) => {
      const without = s.items.filter((i) => i.id !== incident.id);
      const present = without.length !== s.items.length;
      if (!belongs) return present ? { ...s, items: without } : s;
      const last = s.items[s.items.length - 1];
      // Beyond the loaded page it will appear when the user loads more.
      if (!present && s.cursor && last && order(incident, last) > 0) return s;
      return { ...s, items: [...without, incident].sort(order) };
    });
    if (!belongs) setTicked((t) => (t.has(incident.id) ? new Set([...t].filter((id) => id !== incident.id)) : t));
    if (created && belongs) setFresh((f) => new Set(f).add(incident.id));
  };

  useLiveEvents((name, data) => {
    if (name === RESYNC_EVENT) return reloadAll();
    const incident = (data as { incident?: Incident } | null)?.incident;
    if (!incident || typeof incident.id !== 'string' || !('status' in incident)) return;
    if (name === 'incident.created') place(incident, true);
    else if (name === 'incident.updated') place(incident, false);
    else return;
    recount();
  });

  const rows = list.items;
  useEffect(() => rememberListOrder(rows.map((r) => r.id)), [rows.map((r) => r.id).join()]);
  const current = rows[Math.min(selected, rows.length - 1)];

  const focusRow = (index: number) => {
    const clamped = Math.max(0, Math.min(rows.length - 1, index));
    setSelected(clamped);
    const id = rows[clamped]?.id;
    if (id) document.querySelector<HTMLAnchorElement>(`[data-incident-id="${CSS.escape(id)}"] a.incident-link`)?.focus();
  };

  const ack = async (incident: Incident) => {
    setActionProblem(null);
    try {
      place(await acknowledge(incident.id), false);
      recount();
    } catch (error) {
      if (error instanceof ApiError) setActionProblem(error.problem);
    }
  };

  const toggle = (id: string) => setTicked((t) => (t.has(id) ? new Set([...t].filter((x) => x !== id)) : new Set(t).add(id)));
  const actionable = rows.filter((r) => isActive(lifecycle, r));
  const allTicked = actionable.length > 0 && actionable.every((r) => ticked.has(r.id));

  const bulk = async (action: 'acknowledge' | 'resolve') => {
    setActionProblem(null);
    setBulkNote(null);
    try {
      const answer = await api.post<BulkResult>('/api/v1/incidents/bulk', {
        action,
        ids: [...ticked],
        ...(action === 'resolve' ? { resolution: resolution.trim() } : {}),
      });
      for (const result of answer.results) if (result.incident) place(result.incident, false);
      const failed = answer.results.filter((r) => !r.ok);
      const done = answer.results.length - failed.length;
      setBulkNote(
        `${action === 'acknowledge' ? 'Acknowledged' : 'Resolved'} ${done} of ${answer.results.length}.` +
          (failed.length ? ` Not changed: ${failed.map((f) => `${f.id} (${f.error?.detail ?? 'failed'})`).join('; ')}` : ''),
      );
      setTicked(new Set(failed.map((f) => f.id)));
      setResolving(false);
      setResolution('');
      loadCounts();
    } catch (error) {
      if (error instanceof ApiError) setActionProblem(error.problem);
    }
  };

  useShortcuts({
    j: () => focusRow(selected + 1),
    k: () => focusRow(selected - 1),
    o: () => current && navigate(`/incidents/${encodeURIComponent(current.id)}`),
    // On a focused link or button, Enter keeps its own meaning.
    Enter: (event) =>
      current && !(event.target instanceof Element && event.target.closest('a, button, summary, input, [role="button"]'))
        ? navigate(`/incidents/${encodeURIComponent(current.id)}`)
        : false,
    a: () => current && writable && !current.acknowledged_at && isActive(lifecycle, current) && void ack(current),
    x: () => current && writable && isActive(lifecycle, current) && toggle(current.id),
    '/': () => searchRef.current?.focus(),
  });

  const countOf = (v: IncidentView): number | null => {
    if (!counts) return null;
    return v === 'open' ? counts.active : v === 'all' ? counts.total : counts[v];
  };
  const viewTotal = countOf(view);

  const rowFor = (incident: Incident, index: number) => {
    const active = isActive(lifecycle, incident);
    const acknowledgeable = writable && !incident.acknowledged_at && active;
    return (
      <li
        key={incident.id}
        class={`incident-row${index === selected ? ' selected' : ''}${fresh.has(incident.id) ? ' fresh' : ''}${writable ? ' selectable' : ''}`}
        data-incident-id={incident.id}
        data-status={incident.status}
      >
        {writable ? (
          <input
            type="checkbox"
            class="row-tick"
            checked={ticked.has(incident.id)}
            disabled={!active}
            onChange={() => toggle(incident.id)}
            aria-label={`Select ${incident.id}`}
          />
        ) : null}
        <SeverityBadge severity={incident.severity} />
        <div class="incident-main">
          <Link href={`/incidents/${encodeURIComponent(incident.id)}`} class="incident-link" onFocus={() => setSelected(index)} aria-keyshortcuts="Enter">
            <span class="incident-id">{incident.id}</span> <span class="incident-title">{incident.title}</span>
          </Link>
          <div class="incident-meta">
            <StatusBadge status={incident.status} />
            {incident.services.length ? <span>services: {incident.services.join(', ')}</span> : null}
            <span>team: {incident.team ?? 'none'}</span>
            {incident.assignee ? <span>assignee: {incident.assignee}</span> : null}
            <span title={incident.detected_at}>detected {formatAgo(incident.detected_at)}</span>
            {incident.acknowledged_by ? <span>ack by {incident.acknowledged_by}</span> : active ? <strong class="unacked">not acknowledged</strong> : null}
          </div>
        </div>
        {acknowledgeable ? (
          <button type="button" class="ack" onClick={() => void ack(incident)} aria-label={`Acknowledge ${incident.id}`}>
            Acknowledge
          </button>
        ) : (
          <span />
        )}
      </li>
    );
  };

  return (
    <div class="incidents-screen">
      <div class="screen-head">
        <h1>Incidents</h1>
        <span class="live-note muted" aria-live="polite">
          {streamState === 'open' ? 'Updates live' : streamState === 'lost' ? 'Live updates paused' : 'Connecting…'}
        </span>
      </div>
      <nav class="view-tabs" aria-label="Incident views">
        {VIEWS.map((v) => (
          <Link
            key={v}
            href={`/incidents${query({ ...filters, view: v === 'open' ? '' : v })}`}
            aria-current={v === view ? 'page' : undefined}
            data-view={v}
            onClick={(e) => {
              e.preventDefault();
              setParam('view', v === 'open' ? '' : v);
            }}
          >
            {VIEW_LABELS[v]} <span class="count" data-testid={`count-${v}`}>{countOf(v) === null ? '…' : formatCount(countOf(v)!)}</span>
          </Link>
        ))}
      </nav>
      <form class="filters" role="search" aria-label="Filter incidents" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="filter-q">Search</label>
          <input id="filter-q" ref={searchRef} type="search" placeholder="id or title" value={q} onInput={(e) => setQ(e.currentTarget.value)} aria-keyshortcuts="/" />
        </div>
        <FilterSelect id="status" label="Status" value={filters.status} options={lifecycle.statuses} onChange={(v) => setParam('status', v)} />
        <FilterSelect id="severity" label="Severity" value={filters.severity} options={[...lifecycle.severities].reverse()} onChange={(v) => setParam('severity', v)} />
        <FilterSelect id="service" label="Service" value={filters.service} options={services.map((s) => s.id)} onChange={(v) => setParam('service', v)} />
        <FilterSelect id="team" label="Team" value={filters.team} options={teams.map((t) => t.id)} onChange={(v) => setParam('team', v)} />
        {Object.values(filters).some(Boolean) ? (
          <button
            type="button"
            onClick={() => {
              setQ('');
              navigate(`/incidents${query({ view: view === 'open' ? '' : view })}`, { replace: true });
            }}
          >
            Clear filters
          </button>
        ) : null}
      </form>
      <ProblemDisplay problem={actionProblem} />
      {writable ? (
        <div class="bulk-bar" role="group" aria-label="Bulk actions">
          <label class="field inline">
            <input
              type="checkbox"
              checked={allTicked}
              disabled={actionable.length === 0}
              onChange={() => setTicked(allTicked ? new Set() : new Set(actionable.map((r) => r.id)))}
            />
            Select all shown
          </label>
          <span class="muted">{ticked.size} selected</span>
          <button type="button" disabled={ticked.size === 0} onClick={() => void bulk('acknowledge')}>
            Acknowledge selected
          </button>
          <button type="button" disabled={ticked.size === 0} onClick={() => setResolving(!resolving)} aria-expanded={resolving}>
            Resolve selected…
          </button>
          {resolving ? (
            <form
              class="bulk-resolve"
              onSubmit={(e) => {
                e.preventDefault();
                if (resolution.trim()) void bulk('resolve');
              }}
            >
              <label for="bulk-resolution">Resolution for all {ticked.size}</label>
              <input id="bulk-resolution" value={resolution} maxLength={20_000} required onInput={(e) => setResolution(e.currentTarget.value)} />
              <button type="submit" class="primary" disabled={!resolution.trim()}>
                Resolve {ticked.size}
              </button>
            </form>
          ) : null}
          {bulkNote ? (
            <span role="status" class="bulk-note">
              {bulkNote}
            </span>
          ) : null}
        </div>
      ) : null}
      <section aria-labelledby="list-title" class="incident-section" data-section={view}>
        <h2 id="list-title">
          {VIEW_LABELS[view]}{' '}
          <span class="count" data-testid="list-count">
            {viewTotal === null ? `${rows.length}${list.cursor ? '+' : ''}` : `${formatCount(rows.length)} of ${formatCount(viewTotal)}`}
          </span>
        </h2>
        <p class="muted order-note">{view === 'all' ? 'Newest first.' : 'Most urgent first: unacknowledged, then most severe, then oldest.'}</p>
        <ProblemDisplay problem={list.error} />
        {rows.length === 0 && !list.loading ? <p class="muted">No incidents match.</p> : null}
        <ul class="incident-list">{rows.map((incident, i) => rowFor(incident, i))}</ul>
        {list.loading ? (
          <p class="muted" aria-live="polite">
            Loading…
          </p>
        ) : null}
        {list.cursor && !list.loading ? (
          <button type="button" onClick={() => void loadPage(list.cursor)}>
            Load more
          </button>
        ) : null}
      </section>
    </div>
  );
}

function FilterSelect(props: { id: string; label: string; value: string; options: readonly string[]; onChange: (value: string) => void }) {
  const options = props.value && !props.options.includes(props.value) ? [...props.options, props.value] : props.options;
  return (
    <div class="field">
      <label for={`filter-${props.id}`}>{props.label}</label>
      <select id={`filter-${props.id}`} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
        <option value="">any</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {humanise(o)}
          </option>
        ))}
      </select>
    </div>
  );
}
