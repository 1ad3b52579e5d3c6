import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, query, type Problem } from '../api.ts';
import type { ScreenProps } from '../registry.ts';
import { Link, navigate } from '../router.tsx';
import { canWrite, useLiveEvents, useSession } from '../session.ts';
import { rememberListOrder, useShortcuts } from '../shortcuts.ts';
import { RESYNC_EVENT } from '../stream.ts';
import { SeverityBadge, StatusBadge } from '../components/badges.tsx';
import { ProblemNotice } from '../components/forms.tsx';
import { formatAgo, humanise } from '../format.ts';
import { ACTIVE_PAGE, CLOSED_PAGE, acknowledge, byCreatedDesc, filtersFrom, isActive, listIncidents, matchesFilters, type IncidentFilters } from '../incidents.ts';
import type { Incident, Service, Team } from '../types.ts';


interface Section {
  items: Incident[];
  cursor: string | null;
  loading: boolean;
  error: Problem | null;
}

const emptySection: Section = { items: [], cursor: null, loading: true, error: null };

/** Active incidents first, then closed ones; both paginated, so a large history never loads at once. */
export function IncidentList({ search }: ScreenProps) {
  const { lifecycle, me, streamState } = useSession();
  const filters = filtersFrom(search);
  const filterKey = JSON.stringify(filters);
  const [active, setActive] = useState<Section>(emptySection);
  const [closed, setClosed] = useState<Section>(emptySection);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const [selected, setSelected] = useState(0);
  const [actionProblem, setActionProblem] = useState<Problem | null>(null);
  const [services, setServices] = useState<Service[]>([]);
  const [teams, setTeams] = useState<Team[]>([]);
  const [q, setQ] = useState(filters.q);
  const searchRef = useRef<HTMLInputElement>(null);
  const generation = useRef(0);

  const loadSection = async (which: 'active' | 'closed', cursor: string | null) => {
    const mine = generation.current;
    const setter = which === 'active' ? setActive : setClosed;
    setter((s) => ({ ...s, loading: true, error: null }));
    try {
      const page = await listIncidents(filters, which === 'active', which === 'active' ? ACTIVE_PAGE : CLOSED_PAGE, cursor);
      if (mine !== generation.current) return;
      setter((s) => ({ items: cursor ? [...s.items, ...page.items] : page.items, cursor: page.next_cursor, loading: false, error: null }));
    } catch (error) {
      if (mine !== generation.current) return;
      setter((s) => ({ ...s, loading: false, error: error instanceof ApiError ? error.problem : null }));
    }
  };

  const reloadAll = () => {
    generation.current++;
    void loadSection('active', null);
    void loadSection('closed', null);
  };

  useEffect(() => {
    setActive(emptySection);
    setClosed(emptySection);
    setSelected(0);
    reloadAll();
  }, [filterKey]);

  useEffect(() => {
    api.get<Service[]>('/api/v1/services').then(setServices, () => undefined);
    api.get<Team[]>('/api/v1/teams').then(setTeams, () => undefined);
  }, []);

  // Typing in the search box updates the URL (and so the query) once the user pauses.
  useEffect(() => {
    if (q === filters.q) return;
    const timer = setTimeout(() => setFilter('q', q), 250);
    return () => clearTimeout(timer);
  }, [q]);

  const setFilter = (key: keyof IncidentFilters, value: string) => {
    const next = { ...filters, [key]: value };
    navigate(`/incidents${query({ ...next })}`, { replace: true });
  };

  /** Puts a pushed incident where a reload would: in its section, in order, or out if it no longer matches. */
  const place = (incident: Incident, created: boolean) => {
    const belongs = matchesFilters(incident, filters);
    const nowActive = isActive(lifecycle, incident);
    const apply = (setter: typeof setActive, sectionActive: boolean) =>
      setter((s) => {
        const without = s.items.filter((i) => i.id !== incident.id);
        const present = without.length !== s.items.length;
        if (!belongs || nowActive !== sectionActive) return present ? { ...s, items: without } : s;
        const oldest = s.items[s.items.length - 1];
        // Beyond the loaded page it will appear when the user loads more.
        if (!present && !created && s.cursor && oldest && byCreatedDesc(incident, oldest) > 0) return s;
        return { ...s, items: [...without, incident].sort(byCreatedDesc) };
      });
    apply(setActive, true);
    apply(setClosed, false);
    if (created && belongs) setFresh((f) => new Set(f).add(incident.id));
  };

  useLiveEvents((name, data) => {
    if (name === RESYNC_EVENT) reloadAll();
    const incident = (data as { incident?: Incident } | null)?.incident;
    if (!incident || typeof incident.id !== 'string' || !('status' in incident)) return;
    if (name === 'incident.created') place(incident, true);
    else if (name === 'incident.updated') place(incident, false);
  });

  const rows = [...active.items, ...closed.items];
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
      current && !(event.target instanceof Element && event.target.closest('a, button, summary, [role="button"]'))
        ? navigate(`/incidents/${encodeURIComponent(current.id)}`)
        : false,
    a: () => current && canWrite(me) && !current.acknowledged_at && isActive(lifecycle, current) && void ack(current),
    '/': () => searchRef.current?.focus(),
  });

  const rowFor = (incident: Incident, index: number) => {
    const acknowledgeable = canWrite(me) && !incident.acknowledged_at && isActive(lifecycle, incident);
    return (
      <li
        key={incident.id}
        class={`incident-row${index === selected ? ' selected' : ''}${fresh.has(incident.id) ? ' fresh' : ''}`}
        data-incident-id={incident.id}
        data-status={incident.status}
      >
        <SeverityBadge severity={incident.severity} />
        <div class="incident-main">
          <Link
            href={`/incidents/${encodeURIComponent(incident.id)}`}
            class="incident-link"
            onFocus={() => setSelected(index)}
            aria-keyshortcuts="Enter"
          >
            <span class="incident-id">{incident.id}</span> <span class="incident-title">{incident.title}</span>
          </Link>
          <div class="incident-meta">
            <StatusBadge status={incident.status} />
            {incident.services.length ? <span>services: {incident.services.join(', ')}</span> : null}
            <span>team: {incident.team ?? 'none'}</span>
            <span title={incident.detected_at}>detected {formatAgo(incident.detected_at)}</span>
            {incident.acknowledged_by ? <span>ack by {incident.acknowledged_by}</span> : isActive(lifecycle, incident) ? <strong class="unacked">not acknowledged</strong> : null}
          </div>
        </div>
        {acknowledgeable ? (
          <button type="button" class="ack" onClick={() => void ack(incident)} aria-label={`Acknowledge ${incident.id}`}>
            Acknowledge
          </button>
        ) : null}
      </li>
    );
  };

  const section = (title: string, data: Section, offset: number, which: 'active' | 'closed') => (
    <section aria-labelledby={`${which}-title`} class="incident-section" data-section={which}>
      <h2 id={`${which}-title`}>
        {title} <span class="count">{data.items.length}{data.cursor ? '+' : ''}</span>
      </h2>
      <ProblemNotice problem={data.error} />
      {data.items.length === 0 && !data.loading ? <p class="muted">No {which} incidents match.</p> : null}
      <ul class="incident-list">{data.items.map((incident, i) => rowFor(incident, offset + i))}</ul>
      {data.loading ? <p class="muted" aria-live="polite">Loading…</p> : null}
      {data.cursor && !data.loading ? (
        <button type="button" onClick={() => void loadSection(which, data.cursor)}>
          Load more {which} incidents
        </button>
      ) : null}
    </section>
  );

  return (
    <div class="incidents-screen">
      <div class="screen-head">
        <h1>Incidents</h1>
        <span class="live-note muted" aria-live="polite">
          {streamState === 'open' ? 'Updates live' : streamState === 'lost' ? 'Live updates paused' : 'Connecting…'}
        </span>
      </div>
      <form class="filters" role="search" aria-label="Filter incidents" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="filter-q">Search</label>
          <input id="filter-q" ref={searchRef} type="search" placeholder="id or title" value={q} onInput={(e) => setQ(e.currentTarget.value)} aria-keyshortcuts="/" />
        </div>
        <FilterSelect id="status" label="Status" value={filters.status} options={lifecycle.statuses} onChange={(v) => setFilter('status', v)} />
        <FilterSelect id="severity" label="Severity" value={filters.severity} options={[...lifecycle.severities].reverse()} onChange={(v) => setFilter('severity', v)} />
        <FilterSelect id="service" label="Service" value={filters.service} options={services.map((s) => s.id)} onChange={(v) => setFilter('service', v)} />
        <FilterSelect id="team" label="Team" value={filters.team} options={teams.map((t) => t.id)} onChange={(v) => setFilter('team', v)} />
        {Object.values(filters).some(Boolean) ? (
          <button
            type="button"
            onClick={() => {
              setQ('');
              navigate('/incidents', { replace: true });
            }}
          >
            Clear filters
          </button>
        ) : null}
      </form>
      <ProblemNotice problem={actionProblem} />
      {section('Active', active, 0, 'active')}
      {section('Resolved and closed', closed, active.items.length, 'closed')}
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
