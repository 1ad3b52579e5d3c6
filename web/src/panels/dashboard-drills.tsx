import { useState } from 'preact/hooks';
import { api, query } from '../api.ts';
import { useAsync } from '../hooks.ts';
import { ProblemDisplay } from '../components/forms.tsx';
import { formatTime } from '../format.ts';
import type { DrillRun, DrillRunSummary } from '../types.ts';

const minutes = (value: number | null) => (value === null ? '—' : `${value >= 0 ? '+' : ''}${value.toFixed(1)} min`);

/** Past drills (`firebreak drill run` stores each scorecard) and the expectations of the one picked. */
export function DrillsPanel() {
  const runs = useAsync((signal) => api.get<DrillRunSummary[]>(`/api/v1/drills/runs${query({ limit: '20' })}`, { signal }), []);
  const [picked, setPicked] = useState<number | null>(null);
  const chosen = picked ?? runs.data?.[0]?.id ?? null;
  const detail = useAsync((signal) => (chosen === null ? Promise.resolve(null) : api.get<DrillRun>(`/api/v1/drills/runs/${chosen}`, { signal })), [chosen]);
  if (runs.state === 'error' && runs.error.status === 404) return null;
  return (
    <div data-panel="drills">
      <ProblemDisplay of={runs} />
      {runs.data?.length === 0 ? (
        <p class="muted">
          No drills yet. Run one with <code>npx firebreak drill run provider-outage-failover</code> (or <code>npx firebreak demo</code>).
        </p>
      ) : null}
      {runs.data?.length ? (
        <div class="table-scroll">
          <table data-testid="drills-table">
            <caption class="visually-hidden">Past drills, newest first; times are simulated minutes from the first fault</caption>
            <thead>
              <tr>
                <th scope="col">scenario</th>
                <th scope="col">result</th>
                <th scope="col">expectations held</th>
                <th scope="col">time to detect</th>
                <th scope="col">time to recovery</th>
                <th scope="col">finished</th>
              </tr>
            </thead>
            <tbody>
              {runs.data.map((run) => (
                <tr key={run.id}>
                  <th scope="row">
                    <button type="button" class="link-button" onClick={() => setPicked(run.id)} aria-current={run.id === chosen ? "true" : undefined} aria-label={`Show the scorecard of drill ${run.id}, ${run.scenario}`}>
                      {run.scenario}
                    </button>
                  </th>
                  <td>{run.passed ? 'passed' : <strong>failed</strong>}</td>
                  <td>
                    {run.expectations_held} of {run.expectations_total}
                  </td>
                  <td>{minutes(run.time_to_detect_minutes)}</td>
                  <td>{minutes(run.time_to_recovery_minutes)}</td>
                  <td>{formatTime(run.finished_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {detail.data ? (
        <div class="table-scroll">
          <table data-testid="drill-expectations">
            <caption>
              {detail.data.scorecard.title}: each expectation
            </caption>
            <thead>
              <tr>
                <th scope="col">held</th>
                <th scope="col">expectation</th>
                <th scope="col">observed</th>
              </tr>
            </thead>
            <tbody>
              {detail.data.scorecard.expectations.map((e, index) => (
                <tr key={index}>
                  <td>{e.held ? 'yes' : <strong>no</strong>}</td>
                  <td>{e.expectation}</td>
                  <td>{e.observed}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}
