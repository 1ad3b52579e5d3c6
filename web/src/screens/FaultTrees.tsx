import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, requestText, type Problem } from '../api.ts';
import { useAsync } from '../hooks.ts';
import { Field, ProblemDisplay, describedBy, type FieldErrors } from '../components/forms.tsx';
import type { FaultTreeAnalysis } from '../types.ts';

interface Example {
  name: string;
  label: string;
  description: string;
}

interface TopGate {
  faultTree: string;
  gate: string;
  isDefault: boolean;
}

/** What the server is asked about: a shipped example by name, MEF XML or Firebreak JSON. */
type Source = { example: string } | { mef_xml: string } | { model: unknown };

const shorten = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
const formatProbability = (p: number) => (p === 0 ? '0' : p >= 0.001 ? p.toPrecision(3) : p.toExponential(2));

/** Reads pasted text as MEF XML (it starts with `<`) or JSON; says what is wrong before sending. */
function sourceFromText(text: string): { source?: Source; error?: string } {
  const trimmed = text.trim();
  if (!trimmed) return { error: 'Pick an example or paste a fault tree (Open-PSA MEF XML or Firebreak JSON).' };
  if (trimmed.startsWith('<')) return { source: { mef_xml: trimmed } };
  try {
    return { source: { model: JSON.parse(trimmed) as unknown } };
  } catch (error) {
    return { error: `Not XML, and not valid JSON: ${(error as Error).message}` };
  }
}

/** Fault-tree viewer: analyse a tree, list its minimal cut sets, highlight one on the diagram, chart importance. */
export function FaultTrees() {
  const examples = useAsync((signal) => api.get<Example[]>('/api/v1/fta/examples', { signal }), []);
  const [example, setExample] = useState('');
  const [text, setText] = useState('');
  const [maxOrder, setMaxOrder] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ source: Source; tops: TopGate[]; analysis: FaultTreeAnalysis } | null>(null);
  const [selected, setSelected] = useState<number | null>(null);

  const analyse = async (event: Event) => {
    event.preventDefault();
    setProblem(null);
    const next: FieldErrors = {};
    const parsed = example ? { source: { example } as Source } : sourceFromText(text);
    if (parsed.error) next.source = parsed.error;
    const order = maxOrder.trim() ? Number(maxOrder) : undefined;
    if (order !== undefined && (!Number.isInteger(order) || order < 1 || order > 100)) next.max_order = 'A whole number from 1 to 100.';
    setErrors(next);
    if (Object.keys(next).length || !parsed.source) return;
    setBusy(true);
    try {
      const answer = await api.post<{ tops: TopGate[]; analysis: FaultTreeAnalysis }>('/api/v1/fta/analyze', {
        ...parsed.source,
        ...(order !== undefined ? { max_order: order } : {}),
      });
      setResult({ source: parsed.source, ...answer });
      setSelected(answer.analysis.cutSets.length ? 0 : null);
    } catch (error) {
      if (error instanceof ApiError) {
        const field = error.problem.field ?? '';
        // A rejected tree is shown next to the tree; a rejected limit next to the limit.
        if (/max_?order/i.test(field)) setErrors({ max_order: error.problem.detail });
        else if (error.status === 400 || error.status === 422) setErrors({ source: error.problem.detail });
        else setProblem(error.problem);
      } else setProblem({ title: 'Error', status: 0, code: 'client', detail: String(error) });
    } finally {
      setBusy(false);
    }
  };

  const chosen = examples.data?.find((e) => e.name === example);
  return (
    <section class="screen fault-trees" aria-labelledby="fta-title">
      <div class="screen-head">
        <h1 id="fta-title">Fault trees</h1>
      </div>
      <form onSubmit={analyse} noValidate class="card-form">
        <Field id="fta-example" label="Example">
          <select id="fta-example" value={example} onChange={(e) => setExample(e.currentTarget.value)}>
            <option value="">none: use the pasted tree</option>
            {(examples.data ?? []).map((e) => (
              <option key={e.name} value={e.name}>
                {e.label}
              </option>
            ))}
          </select>
        </Field>
        {chosen ? <p class="muted">{chosen.description}</p> : null}
        {!example ? (
          <Field id="fta-source" label="Fault tree (MEF XML or JSON)" error={errors.source}>
            <textarea id="fta-source" rows={8} spellcheck={false} value={text} onInput={(e) => setText(e.currentTarget.value)} {...describedBy('fta-source', errors.source)} />
          </Field>
        ) : errors.source ? (
          <small class="field-error" role="alert">
            {errors.source}
          </small>
        ) : null}
        <Field id="fta-max-order" label="Largest cut set to list (optional)" error={errors.max_order}>
          <input id="fta-max-order" inputMode="numeric" value={maxOrder} onInput={(e) => setMaxOrder(e.currentTarget.value)} {...describedBy('fta-max-order', errors.max_order)} />
        </Field>
        <ProblemDisplay problem={problem} />
        <button type="submit" disabled={busy}>
          {busy ? 'Analysing…' : 'Analyse'}
        </button>
      </form>
      {result ? <AnalysisView result={result} selected={selected} onSelect={setSelected} /> : null}
    </section>
  );
}

function AnalysisView(props: {
  result: { source: Source; tops: TopGate[]; analysis: FaultTreeAnalysis };
  selected: number | null;
  onSelect: (index: number) => void;
}) {
  const { result, selected, onSelect } = props;
  const { analysis } = result;
  const highlight = selected !== null ? analysis.cutSets[selected]?.events : undefined;
  const shown = analysis.cutSets.length;
  return (
    <div class="fta-result" data-testid="fta-result">
      <dl class="facts">
        <dt>Top event</dt>
        <dd>{analysis.top}</dd>
        <dt>P(top), exact</dt>
        <dd data-testid="fta-probability">
          {analysis.probability.exact === null
            ? 'not computed: the BDD exceeds the node budget, so only the cut sets within the limits were found'
            : formatProbability(analysis.probability.exact)}
        </dd>
        <dt>Rare-event / MCUB</dt>
        <dd>
          {formatProbability(analysis.probability.rareEvent)} / {formatProbability(analysis.probability.mcub)}
        </dd>
        <dt>Minimal cut sets</dt>
        <dd data-testid="fta-cut-set-count">
          {analysis.minimalCutSetCount}
          {String(shown) !== analysis.minimalCutSetCount ? ` (${shown} most probable listed)` : ''}
        </dd>
        <dt>Gates / basic events</dt>
        <dd>
          {analysis.gates} / {analysis.basicEvents}
        </dd>
      </dl>
      {!analysis.coherent ? <p class="muted">The tree has NOT/XOR gates: cut sets are those of its monotone approximation.</p> : null}
      <div class="fta-columns">
        <section aria-labelledby="cut-sets-heading" class="cut-sets">
          <h2 id="cut-sets-heading">Minimal cut sets</h2>
          <p class="muted">Choose one to highlight it on the tree.</p>
          <ol role="listbox" aria-labelledby="cut-sets-heading" data-testid="cut-sets">
            {analysis.cutSets.map((cutSet, i) => (
              <li key={cutSet.events.join('+')} role="option" aria-selected={selected === i} class={selected === i ? 'selected' : ''}>
                <button type="button" onClick={() => onSelect(i)} aria-pressed={selected === i}>
                  {`{ ${cutSet.events.join(', ')} }`} <span class="muted">P = {formatProbability(cutSet.probability)}</span>
                </button>
              </li>
            ))}
          </ol>
        </section>
        <FaultTreeDiagram source={result.source} top={analysis.top} highlight={highlight} />
      </div>
      <ImportanceChart analysis={analysis} />
    </div>
  );
}

/** The server draws the tree; the SVG is fetched with the Authorization header and inlined. */
function FaultTreeDiagram({ source, top, highlight }: { source: Source; top: string; highlight: string[] | undefined }) {
  const [svg, setSvg] = useState<string | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const key = JSON.stringify(highlight ?? []);
  useEffect(() => {
    const controller = new AbortController();
    setProblem(null);
    requestText('POST', '/api/v1/fta/diagram.svg', { ...source, top, ...(highlight ? { highlight } : {}) }, controller.signal).then(setSvg, (error: unknown) => {
      if ((error as Error).name === 'AbortError') return;
      setProblem(error instanceof ApiError ? error.problem : { title: 'Error', status: 0, code: 'client', detail: String(error) });
    });
    return () => controller.abort();
  }, [source, top, key]);
  return (
    <figure class="diagram fta-diagram" data-testid="fta-diagram" data-highlight={key}>
      <ProblemDisplay problem={problem} />
      {/* Drawn by our own server, which escapes every name it places. */}
      {svg ? (
        <div
          class="svg-box"
          role="img"
          aria-label={`Fault tree for ${top}${highlight ? `, cut set ${highlight.join(', ')} highlighted` : ''}`}
          dangerouslySetInnerHTML={{ __html: svg }}
        />
      ) : null}
    </figure>
  );
}

const MEASURES = {
  fussellVesely: 'Fussell-Vesely',
  birnbaum: 'Birnbaum',
  riskAchievementWorth: 'Risk achievement worth',
} as const;
type Measure = keyof typeof MEASURES;

/** Importance measures as a horizontal bar chart, largest first, with the numbers in a table as well. */
function ImportanceChart({ analysis }: { analysis: FaultTreeAnalysis }) {
  const [measure, setMeasure] = useState<Measure>('fussellVesely');
  const canvas = useRef<HTMLCanvasElement>(null);
  const rows = analysis.importance
    .map((m) => ({ event: m.event, value: m[measure] ?? 0 }))
    .sort((a, b) => b.value - a.value)
    .slice(0, 25);
  const key = `${measure}:${rows.map((r) => `${r.event}=${r.value}`).join(',')}`;
  useEffect(() => {
    let chart: { destroy(): void } | null = null;
    let cancelled = false;
    void import('../charts.ts').then(({ Chart }) => {
      if (cancelled || !canvas.current) return;
      chart = new Chart(canvas.current, {
        type: 'bar',
        data: { labels: rows.map((r) => r.event), datasets: [{ label: MEASURES[measure], data: rows.map((r) => r.value), backgroundColor: '#2f6fb5' }] },
        options: {
          indexAxis: 'y',
          maintainAspectRatio: false,
          plugins: { legend: { display: false } },
          scales: {
            x: { beginAtZero: true },
            // Long event names are cut on narrow screens; the table below has them whole.
            y: { ticks: { callback: (_value, index) => shorten(rows[index]?.event ?? '', window.innerWidth < 600 ? 18 : 40) } },
          },
        },
      });
    });
    return () => {
      cancelled = true;
      chart?.destroy();
    };
  }, [key]);
  return (
    <section aria-labelledby="importance-heading" class="importance">
      <div class="panel-head">
        <h2 id="importance-heading">Importance</h2>
        <div class="field">
          <label for="importance-measure">Measure</label>
          <select id="importance-measure" value={measure} onChange={(e) => setMeasure(e.currentTarget.value as Measure)}>
            {Object.entries(MEASURES).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
      </div>
      <div class="chart-box" style={{ height: `${Math.max(160, rows.length * 26 + 40)}px` }}>
        <canvas ref={canvas} role="img" aria-label={`${MEASURES[measure]} by basic event, largest first`} data-testid="importance-chart" />
      </div>
      <details>
        <summary>As a table</summary>
        <div class="table-scroll">
          <table data-testid="importance-table">
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">P</th>
                <th scope="col">Fussell-Vesely</th>
                <th scope="col">Birnbaum</th>
                <th scope="col">RAW</th>
                <th scope="col">RRW</th>
              </tr>
            </thead>
            <tbody>
              {analysis.importance.map((m) => (
                <tr key={m.event}>
                  <th scope="row">{m.event}</th>
                  <td>{formatProbability(m.probability)}</td>
                  <td>{m.fussellVesely.toFixed(4)}</td>
                  <td>{formatProbability(m.birnbaum)}</td>
                  <td>{m.riskAchievementWorth === null ? '—' : m.riskAchievementWorth.toFixed(2)}</td>
                  <td>{m.riskReductionWorth === null ? '—' : m.riskReductionWorth.toFixed(2)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </section>
  );
}
