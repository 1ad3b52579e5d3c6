import { renderHtmlTemplate } from '../../shared/templates.ts';
import type { PublicStatus, ServiceStatus } from './schemas.ts';

/**
 * Server-rendered public page: plain HTML and inline CSS, no JavaScript. Every value goes through the
 * shared engine's HTML escaping (double braces only), so a public update cannot inject markup.
 */
const LABELS: Record<ServiceStatus, string> = {
  operational: 'Operational',
  degraded_performance: 'Degraded performance',
  partial_outage: 'Partial outage',
  major_outage: 'Major outage',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{page.title}} status</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:56rem;margin:2rem auto;padding:0 1rem;color:#1f2933}
h1{margin-bottom:.25rem}.muted{color:#616e7c}.banner{padding:1rem;border-radius:.5rem;margin:1.5rem 0;font-weight:600;color:#fff}
.s-operational{background:#2e7d32}.s-degraded_performance{background:#f9a825}.s-partial_outage{background:#ef6c00}.s-major_outage{background:#c62828}
table{width:100%;border-collapse:collapse}td{padding:.5rem 0;border-bottom:1px solid #e4e7eb}td.state{text-align:right}
.dot{display:inline-block;width:.75rem;height:.75rem;border-radius:50%;margin-right:.4rem;vertical-align:middle}
.incident{border:1px solid #e4e7eb;border-radius:.5rem;padding:1rem;margin:1rem 0}.update{margin:.5rem 0}
.bars{display:flex;gap:1px;margin:.25rem 0 1rem}.bars span{flex:1;height:1.75rem;border-radius:1px}
</style>
</head>
<body>
<h1>{{page.title}}</h1>
{{#page.description}}<p class="muted">{{page.description}}</p>{{/page.description}}
<div class="banner s-{{overall_status}}">{{overall_label}}</div>
{{#has_incidents}}<h2>Active incidents</h2>{{/has_incidents}}
{{#active_incidents}}
<section class="incident">
<h3><span class="dot s-{{impact}}"></span>{{title}}</h3>
<p class="muted">Affected: {{affected}} · since {{started_at}}</p>
{{#updates}}<div class="update"><strong>{{status_label}}</strong> <span class="muted">{{at}}</span><br>{{message}}</div>{{/updates}}
</section>
{{/active_incidents}}
<h2>Services</h2>
<table>
{{#services}}<tr><td><span class="dot s-{{status}}"></span>{{name}}</td><td class="state">{{label}}</td></tr>{{/services}}
</table>
<h2>Last 90 days</h2>
{{#history}}
<div>{{name}}</div>
<div class="bars">{{#days}}<span class="s-{{status}}" title="{{date}}: {{label}}"></span>{{/days}}</div>
{{/history}}
<p class="muted">Updated {{generated_at}} · <a href="{{json_path}}">JSON</a></p>
</body>
</html>
`;

const STATUS_WORDS: Record<string, string> = { investigating: 'Investigating', identified: 'Identified', monitoring: 'Monitoring', resolved: 'Resolved' };

export function renderStatusPageHtml(status: PublicStatus, jsonPath: string): string {
  return renderHtmlTemplate(PAGE, {
    ...status,
    json_path: jsonPath,
    overall_label: status.overall_status === 'operational' ? 'All systems operational' : LABELS[status.overall_status],
    has_incidents: status.active_incidents.length > 0,
    active_incidents: status.active_incidents.map((i) => ({
      ...i,
      affected: i.affected_services.join(', '),
      updates: i.updates.map((u) => ({ ...u, status_label: STATUS_WORDS[u.status] ?? u.status })),
    })),
    services: status.services.map((s) => ({ ...s, label: LABELS[s.status] })),
    history: status.history.map((h) => ({ ...h, days: h.days.map((d) => ({ ...d, label: LABELS[d.status] })) })),
  });
}
