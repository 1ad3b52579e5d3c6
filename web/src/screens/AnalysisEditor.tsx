import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, query, requestText, type Problem } from '../api.ts';
import { useAsync } from '../hooks.ts';
import type { ScreenProps } from '../registry.ts';
import { Link } from '../router.tsx';
import { canWrite, useSession } from '../session.ts';
import { Field, ProblemDisplay, describedBy, problemToErrors, type FieldErrors } from '../components/forms.tsx';
import { formatTimelineTime, humanise } from '../format.ts';
import type { Analysis, Cause, Evidence, FishboneBody, FiveWhysBody, SuspectsResponse, TimelineEntry, Why } from '../types.ts';

/** Ids the editor chooses for new whys, causes and entries; the server only checks their shape and uniqueness. */
const newId = (prefix: string) => `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const analysisPath = (id: string) => `/api/v1/analyses/${encodeURIComponent(id)}`;

/** An alert as the alert-ingestion capability lists it; only what the evidence picker shows. */
interface AlertSummary {
  id: string;
  summary?: string;
  title?: string;
  source?: string;
}

interface Saved {
  analysis: Analysis;
  /** The server's problem, with the index it names when it points into a list (whys[2], causes[1]). */
  problem: Problem | null;
}

/** Editor for one analysis: a branching 5-whys tree or a fishbone with the server's diagram. */
export function AnalysisEditor({ params }: ScreenProps) {
  const id = params.id!;
  const loaded = useAsync((signal) => api.get<Analysis>(analysisPath(id), { signal }), [id]);
  if (loaded.state === 'error') return <ProblemDisplay problem={loaded.error.problem} />;
  if (!loaded.data) return <p class="muted">Loading…</p>;
  return <LoadedEditor key={`${loaded.data.id}:${loaded.data.version}`} analysis={loaded.data} onSaved={(a) => loaded.set(a)} />;
}

function LoadedEditor({ analysis, onSaved }: { analysis: Analysis; onSaved: (analysis: Analysis) => void }) {
  const { me } = useSession();
  const writable = canWrite(me);
  const [title, setTitle] = useState(analysis.title);
  const [body, setBody] = useState(analysis.body);
  const [dirty, setDirty] = useState(false);
  const [saved, setSaved] = useState<Saved>({ analysis, problem: null });
  const [titleError, setTitleError] = useState<string | undefined>();
  const incidentPath = `/api/v1/incidents/${encodeURIComponent(analysis.incident_id)}`;
  const timeline = useAsync((signal) => api.get<TimelineEntry[]>(`${incidentPath}/timeline?order=asc`, { signal }), [analysis.incident_id]);
  // Alerts are evidence only where alert ingestion is installed; a 404 means it is not.
  const alerts = useAsync(
    (signal) => api.get<AlertSummary[] | { items: AlertSummary[] }>(`${incidentPath}/alerts`, { signal }).then((a) => (Array.isArray(a) ? a : a.items)),
    [analysis.incident_id],
  );
  // Changes before detection (deploys, model and prompt rollouts) can be cited where change tracking is installed.
  const suspects = useAsync((signal) => api.get<SuspectsResponse>(`${incidentPath}/changes${query({ limit: 20 })}`, { signal }), [analysis.incident_id]);

  const update = (next: FiveWhysBody | FishboneBody) => {
    setBody(next);
    setDirty(true);
  };

  const save = async (event?: Event) => {
    event?.preventDefault();
    if (!title.trim() || title.length > 300) {
      setTitleError('A title of 1 to 300 characters.');
      return;
    }
    setTitleError(undefined);
    const local = localProblem(body);
    if (local) return setSaved({ ...saved, problem: local });
    try {
      const next = await api.put<Analysis>(analysisPath(analysis.id), { version: analysis.version, title: title.trim(), body });
      setDirty(false);
      onSaved(next);
    } catch (error) {
      setSaved({ ...saved, problem: error instanceof ApiError ? error.problem : problemToErrors(error, []).form });
    }
  };

  const post = async (path: string, payload?: unknown) => {
    try {
      onSaved(await api.post<Analysis>(path, payload));
    } catch (error) {
      setSaved({ ...saved, problem: error instanceof ApiError ? error.problem : problemToErrors(error, []).form });
    }
  };

  const evidenceOptions: EvidenceOption[] = [
    ...(timeline.data ?? []).map((entry) => ({
      key: `t:${entry.id}`,
      label: `${formatTimelineTime(entry.at)} · ${humanise(entry.kind)} · ${entry.summary}`.slice(0, 140),
      evidence: { kind: 'timeline_entry' as const, entry_id: entry.id },
    })),
    ...(alerts.data ?? []).map((alert) => ({
      key: `a:${alert.id}`,
      label: `alert ${alert.id}${alert.summary || alert.title ? ` · ${alert.summary ?? alert.title}` : ''}`.slice(0, 140),
      evidence: { kind: 'alert' as const, alert_id: alert.id },
    })),
    ...(suspects.data?.items ?? []).map((s) => ({
      key: `c:${s.change.id}`,
      label: `change #${s.rank} · ${s.change.kind} · ${s.change.service} · ${s.change.summary}`.slice(0, 140),
      evidence: { kind: 'change' as const, change_id: s.change.id },
    })),
  ];
  const describeEvidence = (evidence: Evidence) => {
    if (evidence.kind === 'timeline_entry') {
      const entry = timeline.data?.find((e) => e.id === evidence.entry_id);
      return entry ? `timeline: ${formatTimelineTime(entry.at)} ${entry.summary}` : `timeline entry ${evidence.entry_id}`;
    }
    if (evidence.kind === 'alert') return `alert ${evidence.alert_id}`;
    if (evidence.kind === 'change') {
      const suspect = suspects.data?.items.find((s) => s.change.id === evidence.change_id);
      return suspect ? `change: ${suspect.change.kind} on ${suspect.change.service}, ${suspect.change.summary}` : `change ${evidence.change_id}`;
    }
    if (evidence.kind === 'link') return evidence.title ?? evidence.url;
    if (evidence.kind === 'plan_step') return `plan step ${evidence.step_id}`;
    return `LLM stats of ${evidence.service}`;
  };
  const problemField = saved.problem?.field ?? '';
  const ctx: EditorContext = { writable, evidenceOptions, describeEvidence, problemField, problemDetail: saved.problem?.detail ?? '' };

  return (
    <article class="screen analysis-editor" aria-labelledby="analysis-title-heading" data-kind={analysis.kind}>
      <nav class="breadcrumb" aria-label="Breadcrumb">
        <Link href={`/incidents/${encodeURIComponent(analysis.incident_id)}`}>{analysis.incident_id}</Link> / analysis
      </nav>
      <div class="screen-head">
        <h1 id="analysis-title-heading">{analysis.title}</h1>
        <span class="badge">{analysis.kind === 'five_whys' ? '5 whys' : 'fishbone'}</span> <span class="badge">{humanise(analysis.status)}</span>
        {analysis.accepted ? <span class="badge accepted">accepted root cause</span> : null}
      </div>
      <p data-testid="analysis-root-cause">
        Root cause: {analysis.root_cause ?? <span class="muted">not reached yet</span>} <span class="muted">(version {analysis.version})</span>
      </p>
      <form onSubmit={save} noValidate>
        {writable ? (
          <Field id="analysis-edit-title" label="Title" error={titleError}>
            <input id="analysis-edit-title" value={title} onInput={(e) => {
                setTitle(e.currentTarget.value);
                setDirty(true);
              }} {...describedBy('analysis-edit-title', titleError)} />
          </Field>
        ) : null}
        <Field id="analysis-edit-problem" label="Problem" error={problemField.endsWith('problem') ? ctx.problemDetail : undefined}>
          <textarea
            id="analysis-edit-problem"
            rows={2}
            readOnly={!writable}
            value={body.problem}
            onInput={(e) => update({ ...body, problem: e.currentTarget.value })}
          />
        </Field>
        {'whys' in body ? <FiveWhysEditor body={body} onChange={update} ctx={ctx} /> : <FishboneEditor analysis={analysis} body={body} onChange={update} ctx={ctx} dirty={dirty} onVote={(c) => post(`${analysisPath(analysis.id)}/causes/${encodeURIComponent(c)}/vote`)} />}
        {'whys' in body ? (
          <Recommendations analysis={analysis} body={body} onChange={update} ctx={ctx} dirty={dirty} onSaved={onSaved} />
        ) : null}
        <ProblemDisplay problem={saved.problem && !isPlaced(saved.problem.field) ? saved.problem : null} />
        {writable ? (
          <div class="button-row sticky-actions">
            <button type="submit" disabled={!dirty}>
              Save (version {analysis.version})
            </button>
            {dirty ? <span class="muted" role="status">unsaved changes</span> : null}
            {analysis.status === 'draft' ? (
              <button type="button" disabled={dirty} onClick={() => void post(`${analysisPath(analysis.id)}/review`, { version: analysis.version })}>
                Mark reviewed
              </button>
            ) : null}
            {!analysis.accepted && analysis.root_cause ? (
              <button type="button" disabled={dirty} onClick={() => void post(`${analysisPath(analysis.id)}/accept`)}>
                Accept as the incident's root cause
              </button>
            ) : null}
          </div>
        ) : null}
      </form>
    </article>
  );
}

/** Problems the editor can see before asking the server (the server checks them again). */
function localProblem(body: FiveWhysBody | FishboneBody): Problem | null {
  const fail = (field: string, detail: string): Problem => ({ title: 'Check the analysis', status: 0, code: 'client', field, detail });
  if ('whys' in body) {
    const index = body.whys.findIndex((w) => !w.question.trim());
    if (index >= 0) return fail(`whys[${index}].question`, 'every why needs a question');
    if (body.chosen_why_id) {
      const at = body.whys.findIndex((w) => w.id === body.chosen_why_id);
      if (at >= 0 && !body.whys[at]!.answer?.trim()) return fail(`whys[${at}].answer`, 'the chosen why needs an answer: it is the root cause');
    }
    const factor = (body.contributing_factors ?? []).findIndex((f) => !f.text.trim());
    if (factor >= 0) return fail(`contributing_factors[${factor}]`, 'a contributing factor needs text');
    const rec = (body.recommendations ?? []).findIndex((r) => !r.text.trim());
    if (rec >= 0) return fail(`recommendations[${rec}]`, 'a recommendation needs text');
  }
  return null;
}

/** Whether a problem's field is shown next to an item in the editor rather than at the bottom. */
function isPlaced(field: string | undefined): boolean {
  return !!field && /(whys|contributing_factors|recommendations|causes)\[\d+\]|problem$/.test(field);
}

interface EvidenceOption {
  key: string;
  label: string;
  evidence: Evidence;
}

interface EditorContext {
  writable: boolean;
  evidenceOptions: EvidenceOption[];
  describeEvidence: (evidence: Evidence) => string;
  problemField: string;
  problemDetail: string;
}

/** The problem detail when the server's field points at list item `index` of `list`. */
function errorAt(ctx: EditorContext, list: string, index: number): string | undefined {
  const match = new RegExp(`(?:^|\\.)${list}\\[(\\d+)\\]`).exec(ctx.problemField);
  return match && Number(match[1]) === index ? ctx.problemDetail : undefined;
}

const evidenceKey = (e: Evidence) => (e.kind === 'timeline_entry' ? `t:${e.entry_id}` : e.kind === 'alert' ? `a:${e.alert_id}` : e.kind === 'change' ? `c:${e.change_id}` : JSON.stringify(e));

function EvidenceList({ id, evidence, ctx, onChange }: { id: string; evidence: Evidence[]; ctx: EditorContext; onChange: (evidence: Evidence[]) => void }) {
  const [choice, setChoice] = useState('');
  const taken = new Set(evidence.map(evidenceKey));
  const available = ctx.evidenceOptions.filter((o) => !taken.has(o.key));
  return (
    <div class="evidence">
      {evidence.length ? (
        <ul aria-label="Evidence">
          {evidence.map((e, i) => (
            <li key={evidenceKey(e)} data-evidence={evidenceKey(e)}>
              {ctx.describeEvidence(e)}
              {ctx.writable ? (
                <button type="button" class="link-button" aria-label={`Remove evidence ${ctx.describeEvidence(e)}`} onClick={() => onChange(evidence.filter((_, j) => j !== i))}>
                  remove
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
      {ctx.writable && available.length ? (
        <div class="evidence-picker">
          <label for={`${id}-evidence`}>Evidence</label>
          <select id={`${id}-evidence`} value={choice} onChange={(e) => setChoice(e.currentTarget.value)}>
            <option value="">choose a timeline entry or alert…</option>
            {available.map((o) => (
              <option key={o.key} value={o.key}>
                {o.label}
              </option>
            ))}
          </select>
          <button
            type="button"
            disabled={!choice}
            onClick={() => {
              const option = ctx.evidenceOptions.find((o) => o.key === choice);
              if (option) onChange([...evidence, option.evidence]);
              setChoice('');
            }}
          >
            Add evidence
          </button>
        </div>
      ) : null}
    </div>
  );
}

function FiveWhysEditor({ body, onChange, ctx }: { body: FiveWhysBody; onChange: (body: FiveWhysBody) => void; ctx: EditorContext }) {
  const setWhy = (id: string, patch: Partial<Why>) => onChange({ ...body, whys: body.whys.map((w) => (w.id === id ? { ...w, ...patch } : w)) });
  const addWhy = (parent: string | null) => {
    const parentWhy = body.whys.find((w) => w.id === parent);
    const question = parentWhy?.answer?.trim() ? `Why ${parentWhy.answer.trim().replace(/[.?!]+$/, '')}?` : 'Why?';
    onChange({ ...body, whys: [...body.whys, { id: newId('why'), parent_id: parent, question, answer: null, evidence: [] }] });
  };
  const removeWhy = (id: string) => {
    // Removing a why removes the whys that answer it further.
    const gone = new Set([id]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const w of body.whys) {
        if (w.parent_id && gone.has(w.parent_id) && !gone.has(w.id)) {
          gone.add(w.id);
          grew = true;
        }
      }
    }
    onChange({ ...body, whys: body.whys.filter((w) => !gone.has(w.id)), chosen_why_id: body.chosen_why_id && gone.has(body.chosen_why_id) ? null : (body.chosen_why_id ?? null) });
  };
  const children = (parent: string | null) => body.whys.filter((w) => w.parent_id === parent);
  const renderLevel = (parent: string | null, prefix: string) => {
    const list = children(parent);
    if (!list.length) return null;
    return (
      <ol class="why-tree">
        {list.map((why, n) => {
          const label = prefix ? `${prefix}.${n + 1}` : `${n + 1}`;
          const index = body.whys.indexOf(why);
          const error = errorAt(ctx, 'whys', index);
          const leaf = children(why.id).length === 0;
          const fieldId = `why-${why.id}`;
          return (
            <li key={why.id} class={`why${body.chosen_why_id === why.id ? ' chosen' : ''}`} data-why={why.id}>
              <div class={`why-card${error ? ' has-error' : ''}`}>
                <div class="field">
                  <label for={`${fieldId}-q`}>Why {label}</label>
                  <input id={`${fieldId}-q`} readOnly={!ctx.writable} value={why.question} onInput={(e) => setWhy(why.id, { question: e.currentTarget.value })} />
                </div>
                <div class="field">
                  <label for={`${fieldId}-a`}>Answer {label}</label>
                  <textarea
                    id={`${fieldId}-a`}
                    rows={2}
                    readOnly={!ctx.writable}
                    value={why.answer ?? ''}
                    onInput={(e) => setWhy(why.id, { answer: e.currentTarget.value || null })}
                    {...describedBy(fieldId, error)}
                  />
                </div>
                {error ? (
                  <small class="field-error" id={`${fieldId}-error`} role="alert">
                    {error}
                  </small>
                ) : null}
                <EvidenceList id={fieldId} evidence={why.evidence ?? []} ctx={ctx} onChange={(evidence) => setWhy(why.id, { evidence })} />
                {ctx.writable ? (
                  <div class="button-row">
                    <button type="button" onClick={() => addWhy(why.id)} aria-label={`Ask why again under ${label}`}>
                      Why? (deeper)
                    </button>
                    <button type="button" onClick={() => addWhy(why.parent_id)} aria-label={`Add a branch beside ${label}`}>
                      Another branch
                    </button>
                    <button type="button" onClick={() => removeWhy(why.id)} aria-label={`Remove why ${label}`}>
                      Remove
                    </button>
                    {leaf ? (
                      <label class="choose">
                        <input
                          type="radio"
                          name="chosen-why"
                          checked={body.chosen_why_id === why.id}
                          onChange={() => onChange({ ...body, chosen_why_id: why.id })}
                        />{' '}
                        Root cause branch
                      </label>
                    ) : null}
                  </div>
                ) : null}
              </div>
              {renderLevel(why.id, label)}
            </li>
          );
        })}
      </ol>
    );
  };
  return (
    <section aria-labelledby="whys-heading">
      <h2 id="whys-heading">Whys</h2>
      {ctx.problemField.endsWith('chosen_why_id') ? (
        <small class="field-error" role="alert">
          {ctx.problemDetail}
        </small>
      ) : null}
      {renderLevel(null, '')}
      {ctx.writable ? (
        <button type="button" onClick={() => addWhy(null)}>
          {body.whys.length ? 'Add another first why' : 'Add a first why'}
        </button>
      ) : null}
      <EntryList
        title="Contributing factors"
        list="contributing_factors"
        entries={body.contributing_factors ?? []}
        ctx={ctx}
        onChange={(contributing_factors) => onChange({ ...body, contributing_factors })}
        withEvidence
      />
    </section>
  );
}

interface TextEntry {
  id: string;
  text: string;
  evidence?: Evidence[];
  action_item_id?: string | null;
}

function EntryList<T extends TextEntry>(props: {
  title: string;
  list: string;
  entries: T[];
  ctx: EditorContext;
  onChange: (entries: T[]) => void;
  withEvidence?: boolean;
  extra?: (entry: T) => ComponentChildren;
}) {
  const { title, list, entries, ctx, onChange, withEvidence, extra } = props;
  const headingId = `${list}-heading`;
  return (
    <section aria-labelledby={headingId} class="entry-list">
      <h3 id={headingId}>{title}</h3>
      <ul>
        {entries.map((entry, i) => {
          const error = errorAt(ctx, list, i);
          const fieldId = `${list}-${entry.id}`;
          return (
            <li key={entry.id} data-entry={entry.id}>
              <Field id={fieldId} label={`${title.replace(/s$/, '')} ${i + 1}`} error={error}>
                <input
                  id={fieldId}
                  readOnly={!ctx.writable}
                  value={entry.text}
                  onInput={(e) => onChange(entries.map((x) => (x.id === entry.id ? { ...x, text: e.currentTarget.value } : x)))}
                  {...describedBy(fieldId, error)}
                />
              </Field>
              {withEvidence ? (
                <EvidenceList id={fieldId} evidence={entry.evidence ?? []} ctx={ctx} onChange={(evidence) => onChange(entries.map((x) => (x.id === entry.id ? { ...x, evidence } : x)))} />
              ) : null}
              {extra?.(entry)}
              {ctx.writable && !entry.action_item_id ? (
                <button type="button" onClick={() => onChange(entries.filter((x) => x.id !== entry.id))} aria-label={`Remove ${title.replace(/s$/, '').toLowerCase()} ${i + 1}`}>
                  Remove
                </button>
              ) : null}
            </li>
          );
        })}
      </ul>
      {ctx.writable ? (
        <button type="button" onClick={() => onChange([...entries, { id: newId(list === 'recommendations' ? 'rec' : 'factor'), text: '' } as T])}>
          Add {title.replace(/s$/, '').toLowerCase()}
        </button>
      ) : null}
    </section>
  );
}

function Recommendations(props: { analysis: Analysis; body: FiveWhysBody; onChange: (body: FiveWhysBody) => void; ctx: EditorContext; dirty: boolean; onSaved: (a: Analysis) => void }) {
  const { analysis, body, onChange, ctx, dirty, onSaved } = props;
  const savedIds = new Set(((analysis.body as FiveWhysBody).recommendations ?? []).map((r) => r.id));
  return (
    <EntryList
      title="Recommendations"
      list="recommendations"
      entries={body.recommendations ?? []}
      ctx={ctx}
      onChange={(recommendations) => onChange({ ...body, recommendations })}
      extra={(entry) =>
        entry.action_item_id ? (
          <p class="muted">
            Action item <Link href={`/action-items?incident=${encodeURIComponent(analysis.incident_id)}`}>#{entry.action_item_id}</Link>
          </p>
        ) : ctx.writable && savedIds.has(entry.id) ? (
          <MakeActionItem analysisId={analysis.id} recommendationId={entry.id} disabled={dirty} onSaved={onSaved} />
        ) : null
      }
    />
  );
}

function MakeActionItem({ analysisId, recommendationId, disabled, onSaved }: { analysisId: string; recommendationId: string; disabled: boolean; onSaved: (a: Analysis) => void }) {
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState({ owner: '', priority: 'p2', due_date: '' });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  if (!open) {
    return (
      <button type="button" disabled={disabled} title={disabled ? 'Save first' : undefined} onClick={() => setOpen(true)}>
        Make action item
      </button>
    );
  }
  const prefix = `mai-${recommendationId}`;
  const submit = async () => {
    setProblem(null);
    const next: FieldErrors = {};
    if (!form.owner.trim()) next.owner = 'Name a team member or token name.';
    if (!/^\d{4}-\d{2}-\d{2}$/.test(form.due_date)) next.due_date = 'A date, YYYY-MM-DD.';
    setErrors(next);
    if (Object.keys(next).length) return;
    try {
      const result = await api.post<{ analysis: Analysis }>(`${analysisPath(analysisId)}/recommendations/${encodeURIComponent(recommendationId)}/action-item`, {
        ...form,
        owner: form.owner.trim(),
      });
      onSaved(result.analysis);
    } catch (error) {
      const split = problemToErrors(error, ['owner', 'priority', 'due_date']);
      setErrors(split.fields);
      setProblem(split.form);
    }
  };
  // Not a nested <form>: this sits inside the analysis form.
  return (
    <fieldset class="make-action-item">
      <legend>New action item</legend>
      <Field id={`${prefix}-owner`} label="Owner" error={errors.owner}>
        <input id={`${prefix}-owner`} value={form.owner} onInput={(e) => setForm({ ...form, owner: e.currentTarget.value })} {...describedBy(`${prefix}-owner`, errors.owner)} />
      </Field>
      <Field id={`${prefix}-priority`} label="Priority" error={errors.priority}>
        <select id={`${prefix}-priority`} value={form.priority} onChange={(e) => setForm({ ...form, priority: e.currentTarget.value })}>
          {['p1', 'p2', 'p3', 'p4'].map((p) => (
            <option key={p}>{p}</option>
          ))}
        </select>
      </Field>
      <Field id={`${prefix}-due`} label="Due date" error={errors.due_date}>
        <input id={`${prefix}-due`} type="date" value={form.due_date} onInput={(e) => setForm({ ...form, due_date: e.currentTarget.value })} {...describedBy(`${prefix}-due`, errors.due_date)} />
      </Field>
      <ProblemDisplay problem={problem} />
      <button type="button" onClick={() => void submit()}>
        Create action item
      </button>
    </fieldset>
  );
}

/** The server's fishbone SVG, fetched with the Authorization header and inlined. */
function FishboneDiagram({ analysisId, version }: { analysisId: string; version: number }) {
  const [svg, setSvg] = useState<string | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    requestText('GET', `${analysisPath(analysisId)}/diagram.svg`, undefined, controller.signal).then(setSvg, (error: unknown) => {
      if ((error as Error).name !== 'AbortError') setProblem(problemToErrors(error, []).form);
    });
    return () => controller.abort();
  }, [analysisId, version]);
  return (
    <figure class="diagram" data-testid="fishbone-diagram">
      <ProblemDisplay problem={problem} />
      {/* The SVG is drawn by our own server, which escapes every text it places. */}
      {svg ? <div class="svg-box" role="img" aria-label="Fishbone diagram" dangerouslySetInnerHTML={{ __html: svg }} /> : null}
      <figcaption class="muted">Drawn from the saved version {version}.</figcaption>
    </figure>
  );
}

function FishboneEditor(props: { analysis: Analysis; body: FishboneBody; onChange: (body: FishboneBody) => void; ctx: EditorContext; dirty: boolean; onVote: (causeId: string) => void }) {
  const { analysis, body, onChange, ctx, dirty, onVote } = props;
  const { me } = useSession();
  const [drafts, setDrafts] = useState<Record<string, string>>({});
  const savedIds = new Set((analysis.body as FishboneBody).categories.flatMap((c) => c.causes.map((cause) => cause.id)));
  const setCauses = (key: string, causes: Cause[]) => onChange({ ...body, categories: body.categories.map((c) => (c.key === key ? { ...c, causes } : c)) });
  return (
    <section aria-labelledby="fishbone-heading">
      <h2 id="fishbone-heading">Fishbone</h2>
      <FishboneDiagram analysisId={analysis.id} version={analysis.version} />
      <div class="fishbone-categories">
        {body.categories.map((category, c) => (
          <section key={category.key} class="fishbone-category" aria-labelledby={`cat-${category.key}`}>
            <h3 id={`cat-${category.key}`}>{category.name}</h3>
            <ul>
              {category.causes.map((cause, i) => {
                const votes = cause.votes ?? [];
                const mine = votes.includes(me.name);
                const error = errorAt(ctx, `categories\\[${c}\\]\\.causes`, i);
                return (
                  <li key={cause.id} data-cause={cause.id}>
                    <span>{cause.text}</span> <span class="badge">{votes.length} votes</span>
                    {error ? (
                      <small class="field-error" role="alert">
                        {error}
                      </small>
                    ) : null}
                    {ctx.writable ? (
                      <span class="button-row">
                        <button type="button" disabled={dirty || !savedIds.has(cause.id)} aria-pressed={mine} onClick={() => onVote(cause.id)} aria-label={`${mine ? 'Withdraw vote for' : 'Vote for'} ${cause.text}`}>
                          {mine ? 'Unvote' : 'Vote'}
                        </button>
                        <label class="choose">
                          <input type="radio" name="chosen-cause" checked={body.chosen_cause_id === cause.id} onChange={() => onChange({ ...body, chosen_cause_id: cause.id })} /> Root cause
                        </label>
                        <button
                          type="button"
                          aria-label={`Remove cause ${cause.text}`}
                          onClick={() => {
                            setCauses(category.key, category.causes.filter((x) => x.id !== cause.id));
                          }}
                        >
                          Remove
                        </button>
                      </span>
                    ) : null}
                  </li>
                );
              })}
            </ul>
            {ctx.writable ? (
              <div class="add-cause">
                <label for={`new-cause-${category.key}`}>New {category.name.toLowerCase()} cause</label>
                <input id={`new-cause-${category.key}`} value={drafts[category.key] ?? ''} onInput={(e) => setDrafts({ ...drafts, [category.key]: e.currentTarget.value })} />
                <button
                  type="button"
                  disabled={!(drafts[category.key] ?? '').trim()}
                  onClick={() => {
                    setCauses(category.key, [...category.causes, { id: newId('cause'), text: (drafts[category.key] ?? '').trim(), evidence: [], votes: [] }]);
                    setDrafts({ ...drafts, [category.key]: '' });
                  }}
                >
                  Add cause
                </button>
              </div>
            ) : null}
          </section>
        ))}
      </div>
      {dirty ? <p class="muted">Save to redraw the diagram and to vote on new causes.</p> : null}
    </section>
  );
}
