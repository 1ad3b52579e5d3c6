import type { IncidentPanelProps } from '../registry.ts';
import { LlmStatsPanel } from './dashboard-llm-stats.tsx';
import { SloPanel } from './dashboard-slos.tsx';

const HOUR = 3_600_000;

/**
 * The LLM charts and SLOs of the incident's services around its start: two hours before detection to
 * an hour after it ended (or now). Renders nothing when its services have no LLM traffic or SLOs.
 */
export function IncidentLlmPanel({ incident }: IncidentPanelProps) {
  if (!incident.services.length) return null;
  const detected = Date.parse(incident.detected_at);
  const end = incident.resolved_at ? Date.parse(incident.resolved_at) + HOUR : Math.max(detected + HOUR, Date.now());
  // Whole minutes so the range (and the request) is stable across renders.
  const range = { from: new Date(Math.floor((detected - 2 * HOUR) / 60_000) * 60_000), to: new Date(Math.ceil(end / 60_000) * 60_000), bucket: 'day' as const };
  return (
    <section class="panel incident-llm incident-wide" aria-labelledby="incident-llm-title" data-panel="llm">
      <h2 id="incident-llm-title">LLM health of {incident.services.join(', ')} around the incident</h2>
      <LlmStatsPanel range={range} services={incident.services} hideWhenQuiet />
      <SloPanel services={incident.services} />
    </section>
  );
}
