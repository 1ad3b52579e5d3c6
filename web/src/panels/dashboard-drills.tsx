import { useState } from 'preact/hooks';
import { api, query } from '../api.ts';
import { useAsync } from '../hooks.ts';
import { ProblemDisplay } from '../components/forms.tsx';
import { DataTable } from '../components/DataTable.tsx';
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
        <DataTable
          testId="drills-table"
          caption="Past drills, newest first; times are simulated minutes from the first fault"
          hiddenCaption
          rows={runs.data}
          rowKey={(run) => run.id}
          columns={[
            {
              header: 'scenario',
              rowHeader: true,
              cell: (run) => (
                <button type="button" class="link-button" onClick={() => setPicked(run.id)} aria-current={run.id === chosen ? 'true' : undefined} aria-label={`Show the scorecard of drill ${run.id}, ${run.scenario}`}>
                  {run.scenario}
                </button>
              ),
            },
            { header: 'result', cell: (run) => (run.passed ? 'passed' : <strong>failed</strong>) },
            { header: 'expectations held', cell: (run) => `${run.expectations_held} of ${run.expectations_total}` },
            { header: 'time to detect', cell: (run) => minutes(run.time_to_detect_minutes) },
            { header: 'time to recovery', cell: (run) => minutes(run.time_to_recovery_minutes) },
            { header: 'finished', cell: (run) => formatTime(run.finished_at) },
          ]}
        />
      ) : null}
      {detail.data ? (
        <DataTable
          testId="drill-expectations"
          caption={`${detail.data.scorecard.title}: each expectation`}
          rows={detail.data.scorecard.expectations}
          rowKey={(e) => detail.data!.scorecard.expectations.indexOf(e)}
          columns={[
            { header: 'held', cell: (e) => (e.held ? 'yes' : <strong>no</strong>) },
            { header: 'expectation', cell: (e) => e.expectation },
            { header: 'observed', cell: (e) => e.observed },
          ]}
        />
      ) : null}
    </div>
  );
}
