import { formatSeconds, type Postmortem, type PostmortemDocument } from './postmortem.ts';

/**
 * One outline, two renderings. Sections are built as plain data (headings, paragraphs, lists, tables)
 * and then written as Markdown or as a standalone HTML page, so both exports always say the same thing.
 */
type Block =
  | { kind: 'heading'; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'list'; items: string[] }
  | { kind: 'table'; head: string[]; rows: string[][] };

function duration(seconds: number | null | undefined): string {
  return seconds === null || seconds === undefined ? '—' : formatSeconds(seconds);
}

function text(value: string | null | undefined, missing: string): string {
  return value && value.trim() ? value : missing;
}

function outline(pm: Postmortem): { title: string; blocks: Block[] } {
  const d: PostmortemDocument = pm.document;
  const blocks: Block[] = [];
  const h = (t: string) => blocks.push({ kind: 'heading', text: t });
  const p = (t: string) => blocks.push({ kind: 'paragraph', text: t });

  p(
    `Status: ${pm.status}${pm.published_at ? ` (published ${pm.published_at} by ${pm.published_by})` : ''} · Severity: ${d.incident.severity} · ` +
      `Services: ${d.incident.services.join(', ') || '—'} · Team: ${d.incident.team ?? '—'}`,
  );
  h('Summary');
  p(d.summary.facts);
  if (d.summary.written) p(d.summary.written);

  h('Impact');
  blocks.push({
    kind: 'list',
    items: [
      `Duration (first signal to resolution): ${duration(d.impact.duration_seconds)}`,
      `Users affected: ${d.impact.users_affected ?? 'not recorded'}`,
      `Revenue impact: ${d.impact.revenue ?? 'not recorded'}`,
      `Services: ${d.impact.services.join(', ') || '—'}`,
      ...(d.impact.description ? [`Description: ${d.impact.description}`] : []),
    ],
  });

  h('Detection');
  blocks.push({
    kind: 'list',
    items: [
      `How: ${d.detection.how}`,
      `First signal: ${d.detection.detected_at}`,
      `Incident opened: ${d.detection.opened_at} (time to detect ${duration(d.detection.time_to_detect_seconds)})`,
      `Acknowledged: ${d.detection.acknowledged_at ? `${d.detection.acknowledged_at} by ${d.detection.acknowledged_by} (time to acknowledge ${duration(d.detection.time_to_acknowledge_seconds)})` : 'never'}`,
    ],
  });

  h('Timeline');
  blocks.push({ kind: 'table', head: ['Time (UTC)', 'Who', 'What', 'Details'], rows: d.timeline.map((e) => [e.at, e.actor, e.kind, e.summary]) });

  h('Response');
  if (d.response.actions_taken.length) blocks.push({ kind: 'list', items: d.response.actions_taken });
  else p('No actions were recorded on the incident.');
  if (!d.response.plan_executions.available) p('Response plan executions: not available on this server.');
  else if (d.response.plan_executions.items.length === 0) p('No response plan ran for this incident.');
  else {
    blocks.push({
      kind: 'list',
      items: d.response.plan_executions.items.map((e) => {
        const steps = e.steps.map((s) => `${s.phase === 'rollback' ? 'rollback ' : ''}${s.step_id} ${s.status}${s.error ? ` (${s.error})` : ''}`).join(', ');
        return `Plan ${e.plan_id} ${e.plan_version} (${e.trigger}) ${e.status}, ${e.started_at} → ${e.finished_at ?? 'still running'}: ${steps || 'no steps ran'}`;
      }),
    });
  }

  h('Root cause');
  p(text(d.root_cause.statement, 'No root cause was recorded.'));
  if (d.root_cause.resolution) p(`Resolution: ${d.root_cause.resolution}`);
  if (d.root_cause.analyses.available && d.root_cause.analyses.items.length > 0) {
    blocks.push({
      kind: 'list',
      items: d.root_cause.analyses.items.map((a) => {
        const chain = a.chain.map((step) => `${step.question} ${step.answer ?? '(unanswered)'}`).join(' → ');
        const verdict = a.root_cause ? `root cause: ${a.root_cause}` : 'no root cause yet';
        return `${a.title} (${a.kind === 'five_whys' ? '5 whys' : 'fishbone'}, ${a.status}${a.accepted ? ', accepted' : ''}, by ${a.author}): ${verdict}${chain ? `. ${chain}` : ''}`;
      }),
    });
  }

  const changes = d.root_cause.changes;
  if (changes?.available) {
    const line = (c: { kind: string; service: string; summary: string; at: string; id: string }) => `${c.kind} on ${c.service} at ${c.at}: ${c.summary} (${c.id})`;
    if (changes.cited.length) {
      p('Changes cited as evidence:');
      blocks.push({ kind: 'list', items: changes.cited.map(line) });
    }
    if (changes.suspects.length) {
      p('Changes before detection, most likely cause first:');
      blocks.push({ kind: 'list', items: changes.suspects.map((s) => `#${s.rank} ${line(s)}; ${s.reason}`) });
    }
  }

  h('Recovery');
  const r = d.recovery;
  if (!r) p('No recovery plan was made for this incident.');
  else {
    const rto = !r.rto.tracked
      ? `RTO: not tracked (${r.rto.note})`
      : `RTO: ${r.rto.objective_minutes} min (from ${r.rto.source_service}), ` +
        (r.rto.met === null
          ? 'outcome not known yet'
          : r.rto.met
            ? `met with ${duration(r.rto.margin_seconds)} to spare`
            : `missed by ${duration(-(r.rto.margin_seconds ?? 0))}`);
    const rpo = !r.rpo.tracked
      ? `RPO: not tracked (${r.rpo.note})`
      : r.rpo.met === null
        ? `RPO: ${r.rpo.objective_minutes} min (from ${r.rpo.source_service}); no data-loss window recorded`
        : `RPO: ${r.rpo.objective_minutes} min (from ${r.rpo.source_service}); data-loss window ${round(r.rpo.data_loss!.window_minutes)} min, ` +
          (r.rpo.met ? `met with ${round(r.rpo.margin_minutes!)} min to spare` : `missed by ${round(-r.rpo.margin_minutes!)} min`);
    blocks.push({
      kind: 'list',
      items: [
        `Recovery verified: ${r.verified_at ?? 'not verified'}${r.duration_seconds !== null ? ` (${duration(r.duration_seconds)} after the first signal)` : ''}`,
        rto,
        rpo,
        `Verification: ${r.verification.evaluations} evaluations, ${r.verification.passed} passed, ${r.verification.failed} failed`,
        `Rollbacks: ${r.rollbacks.length}`,
      ],
    });
    if (r.verification.evidence.length > 0) {
      blocks.push({
        kind: 'table',
        head: ['Evaluated (UTC)', 'Outcome', 'Criterion', 'Passed', 'Observed'],
        rows: r.verification.evidence.flatMap((e) =>
          e.results.map((c) => [e.evaluated_at, e.outcome, c.criterion, c.passed ? 'yes' : 'no', c.detail]),
        ),
      });
    }
    for (const rb of r.rollbacks) {
      p(`Rollback at ${rb.started_at} (${rb.trigger}) by ${rb.actor}: ${rb.reason}; steps reverted: ${rb.reverted_steps.map((s) => s.id).join(', ') || 'none'}`);
    }
  }

  h('What went well');
  p(text(d.what_went_well, 'Not written yet.'));
  h('What went badly');
  p(text(d.what_went_badly, 'Not written yet.'));
  if (d.lessons_learned) {
    h('Lessons learned');
    p(d.lessons_learned);
  }

  h('Action items');
  if (d.action_items.length === 0) p(`No action items.${d.publish_reason ? ` Reason: ${d.publish_reason}` : ''}`);
  else {
    blocks.push({
      kind: 'table',
      head: ['#', 'Action', 'Owner', 'Priority', 'Due', 'Status', 'Link'],
      rows: d.action_items.map((a) => [String(a.id), a.title, a.owner, a.priority, a.due_date, a.overdue ? `${a.status} (overdue)` : a.status, a.link ?? '']),
    });
  }
  if (d.publish_reason && d.action_items.length > 0) p(`Published with the reason: ${d.publish_reason}`);
  p(`Generated ${d.generated_at}.`);
  return { title: `Postmortem ${d.incident.id}: ${d.incident.title}`, blocks };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

// ---- Markdown ------------------------------------------------------------------------------------

/** Escapes characters Markdown would read as formatting, so user text appears as written. */
function md(value: string): string {
  return value.replace(/([\\`*_[\]<>#|])/g, '\\$1').replace(/\r?\n/g, ' ');
}

function mdParagraph(value: string): string {
  return value
    .split(/\r?\n/)
    .map((line) => line.replace(/([\\`*_[\]<>#|])/g, '\\$1'))
    .join('  \n');
}

export function renderMarkdown(pm: Postmortem): string {
  const { title, blocks } = outline(pm);
  const out: string[] = [`# ${md(title)}`, ''];
  for (const block of blocks) {
    switch (block.kind) {
      case 'heading':
        out.push(`## ${md(block.text)}`, '');
        break;
      case 'paragraph':
        out.push(mdParagraph(block.text), '');
        break;
      case 'list':
        for (const item of block.items) out.push(`- ${md(item)}`);
        out.push('');
        break;
      case 'table':
        out.push(`| ${block.head.map(md).join(' | ')} |`, `| ${block.head.map(() => '---').join(' | ')} |`);
        for (const row of block.rows) out.push(`| ${row.map(md).join(' | ')} |`);
        out.push('');
        break;
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

// ---- HTML ----------------------------------------------------------------------------------------

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `body{font:15px/1.5 system-ui,-apple-system,Segoe UI,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}p{white-space:pre-wrap}`;

/** A standalone page: inline styles, no scripts, no external assets; every piece of data is escaped. */
export function renderHtml(pm: Postmortem): string {
  const { title, blocks } = outline(pm);
  const body: string[] = [`<h1>${escapeHtml(title)}</h1>`];
  for (const block of blocks) {
    switch (block.kind) {
      case 'heading':
        body.push(`<h2>${escapeHtml(block.text)}</h2>`);
        break;
      case 'paragraph':
        body.push(`<p>${escapeHtml(block.text)}</p>`);
        break;
      case 'list':
        body.push(`<ul>${block.items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>`);
        break;
      case 'table':
        body.push(
          `<table><thead><tr>${block.head.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead><tbody>` +
            block.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('') +
            `</tbody></table>`,
        );
        break;
    }
  }
  return (
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>\n` +
    `<body>\n${body.join('\n')}\n</body></html>\n`
  );
}
