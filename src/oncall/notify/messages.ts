import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../../shared/errors.ts';
import { parseTemplate, renderHtmlTemplate, renderTemplate } from '../../shared/templates.ts';
import type { NotifyEvent } from './schemas.ts';

/**
 * Pure message building: templates per event, rendering through the shared logic-less engine, and the
 * wire formats of each channel kind (generic signed webhook, Slack blocks, Teams MessageCard, e-mail).
 */

export interface TemplateText {
  title: string;
  text: string;
  html: string | null;
}

const INCIDENT_LINE = 'Severity: {{incident.severity}} · Status: {{incident.status}} · Team: {{incident.team}}';

export const DEFAULT_TEMPLATES: Readonly<Record<NotifyEvent, TemplateText>> = {
  'incident.created': {
    title: '[{{incident.severity}}] {{incident.id}} opened: {{incident.title}}',
    text: `${INCIDENT_LINE}\nServices: {{incident.services}}\n{{#incident.url}}{{incident.url}}{{/incident.url}}`,
    html: null,
  },
  'incident.acknowledged': {
    title: '{{incident.id}} acknowledged by {{actor}}',
    text: `{{incident.title}}\n${INCIDENT_LINE}`,
    html: null,
  },
  'incident.escalated': {
    title: '[{{incident.severity}}] {{incident.id}} needs a responder: {{incident.title}}',
    text: `Escalation level {{escalation.level}} of {{escalation.levels}}{{#escalation.cycle}} (repeat {{escalation.cycle}}){{/escalation.cycle}}: {{escalation.targets}}\n${INCIDENT_LINE}\nAcknowledge to stop the escalation.{{#incident.url}} {{incident.url}}{{/incident.url}}`,
    html: null,
  },
  'incident.status_changed': {
    title: '{{incident.id}} moved from {{change.from}} to {{change.to}}',
    text: `{{incident.title}}{{#change.note}}\nNote: {{change.note}}{{/change.note}}\n${INCIDENT_LINE}`,
    html: null,
  },
  'incident.resolved': {
    title: '{{incident.id}} resolved: {{incident.title}}',
    text: `Resolution: {{incident.resolution}}{{#incident.root_cause}}\nRoot cause: {{incident.root_cause}}{{/incident.root_cause}}\n${INCIDENT_LINE}`,
    html: null,
  },
  'postmortem.published': {
    title: 'Postmortem published for {{incident.id}}: {{incident.title}}',
    text: 'Published by {{actor}}{{#postmortem.reason}}: {{postmortem.reason}}{{/postmortem.reason}}{{#postmortem.url}}\n{{postmortem.url}}{{/postmortem.url}}{{^postmortem.url}}{{#incident.url}}\n{{incident.url}}{{/incident.url}}{{/postmortem.url}}',
    html: null,
  },
  'recovery.rto_breached': {
    title: '{{incident.id}}: not recovered within its RTO of {{recovery.rto_minutes}} minutes{{#recovery.service}} ({{recovery.service}}){{/recovery.service}}',
    text: `{{incident.title}}\n{{recovery.elapsed_minutes}} minutes since detection; recovery was due at {{recovery.due_at}}\n${INCIDENT_LINE}`,
    html: null,
  },
  'action_item.overdue': {
    title: 'Action item #{{action_item.id}} overdue (owner {{action_item.owner}}, due {{action_item.due_at}})',
    text: '{{action_item.summary}}{{#incident.id}}\nFrom incident {{incident.id}}: {{incident.title}}{{/incident.id}}',
    html: null,
  },
  message: {
    title: '{{message.title}}',
    text: '{{message.text}}',
    html: null,
  },
};

/** Top-level names a template may use; callers of `notify` add their own under their event's names. */
const COMMON_ROOTS = ['event', 'actor', 'at', 'incident', 'change', 'escalation', 'postmortem', 'recovery', 'action_item', 'message'];

export function validateTemplate(input: TemplateText, fieldPrefix = ''): void {
  for (const key of ['title', 'text', 'html'] as const) {
    const source = input[key];
    if (source === null) continue;
    const field = `${fieldPrefix}${key}`;
    for (const name of parseTemplate(source, field)) {
      const root = name.split('.')[0]!;
      if (name !== '.' && !COMMON_ROOTS.includes(root)) {
        throw new AppError('validation_failed', `${field}: {{${name}}} is not a value templates receive; use ${COMMON_ROOTS.join(', ')}`, { field });
      }
    }
  }
}

/** What a notification looks like once decided: stored in the outbox row and sent as-is. */
export interface RenderedMessage {
  event: string;
  title: string;
  text: string;
  html: string;
  severity: string | null;
  status: string | null;
  team: string | null;
  incident_id: string | null;
  url: string | null;
  decided_at: string;
  /** Values the template saw, for webhook receivers that want structure rather than prose. */
  data: Record<string, unknown>;
}

const DEFAULT_HTML =
  '<div style="font-family:sans-serif"><h2>{{title}}</h2><p style="white-space:pre-wrap">{{text}}</p>' +
  '{{#url}}<p><a href="{{url}}">Open in Firebreak</a></p>{{/url}}</div>';

export function renderMessage(event: string, template: TemplateText, view: Record<string, unknown>, decidedAt: string): RenderedMessage {
  const incident = (view.incident ?? {}) as Record<string, unknown>;
  const title = renderTemplate(template.title, view).replace(/\s+/g, ' ').trim();
  const text = renderTemplate(template.text, view).trim();
  const url = typeof incident.url === 'string' ? incident.url : null;
  const html = template.html ? renderHtmlTemplate(template.html, view) : renderHtmlTemplate(DEFAULT_HTML, { title, text, url });
  const str = (value: unknown) => (typeof value === 'string' ? value : null);
  return {
    event,
    title,
    text,
    html,
    severity: str(incident.severity) ?? str(view.severity),
    status: str(incident.status),
    team: str(incident.team),
    incident_id: str(incident.id),
    url,
    decided_at: decidedAt,
    data: view,
  };
}

export interface OutgoingRequest {
  body: string;
  headers: Record<string, string>;
}

/**
 * Generic webhook: JSON, signed. Receivers verify with
 *   expected = hex(HMAC_SHA256(secret, `${X-Firebreak-Timestamp}.${raw body}`))
 * compared in constant time with the `sha256=` value of X-Firebreak-Signature, and reject timestamps
 * more than five minutes from their clock (replay protection). X-Firebreak-Delivery is the outbox id:
 * retries of one notification carry the same id, so receivers can drop duplicates.
 */
export function webhookRequest(message: RenderedMessage, deliveryId: number, attempt: number, secret: string, nowSeconds: number): OutgoingRequest {
  const body = JSON.stringify({
    delivery_id: deliveryId,
    attempt,
    event: message.event,
    decided_at: message.decided_at,
    incident_id: message.incident_id,
    severity: message.severity,
    status: message.status,
    team: message.team,
    url: message.url,
    title: message.title,
    text: message.text,
    data: message.data,
  });
  const timestamp = String(nowSeconds);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-firebreak-event': message.event,
      'x-firebreak-delivery': String(deliveryId),
      'x-firebreak-timestamp': timestamp,
      'x-firebreak-signature': signWebhook(secret, timestamp, body),
    },
  };
}

export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The receiver side of the signature, exported for documentation and tests. */
export function verifyWebhookSignature(secret: string, timestamp: string, body: string, signature: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  if (!/^\d+$/.test(timestamp) || Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

const SEVERITY_COLOURS: Record<string, string> = { critical: 'B71C1C', high: 'E65100', medium: 'F9A825', low: '1565C0' };

/** Slack mrkdwn treats &, < and > as control characters. */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function slackRequest(message: RenderedMessage): OutgoingRequest {
  const fields = [
    ['Severity', message.severity],
    ['Status', message.status],
    ['Team', message.team],
    ['Incident', message.incident_id],
  ]
    .filter(([, value]) => value)
    .map(([name, value]) => ({ type: 'mrkdwn', text: `*${name}*\n${slackEscape(String(value))}` }));
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: message.title.slice(0, 150), emoji: false } },
  ];
  if (fields.length) blocks.push({ type: 'section', fields });
  if (message.text) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: slackEscape(message.text).slice(0, 3000) } });
  if (message.url) {
    blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open incident' }, url: message.url }] });
  }
  return { body: JSON.stringify({ text: message.title, blocks }), headers: { 'content-type': 'application/json' } };
}

/** Office 365 connector MessageCard, which Teams incoming webhooks (and Workflows) accept. */
export function teamsRequest(message: RenderedMessage): OutgoingRequest {
  const facts = [
    ['Severity', message.severity],
    ['Status', message.status],
    ['Team', message.team],
    ['Incident', message.incident_id],
  ]
    .filter(([, value]) => value)
    .map(([name, value]) => ({ name, value: String(value) }));
  const card: Record<string, unknown> = {
    '@type': 'MessageCard',
    '@context': 'https://schema.org/extensions',
    summary: message.title,
    themeColor: SEVERITY_COLOURS[message.severity ?? ''] ?? '546E7A',
    title: message.title,
    sections: [{ facts, text: message.text.replace(/\n/g, '\n\n') }],
  };
  if (message.url) card.potentialAction = [{ '@type': 'OpenUri', name: 'Open incident', targets: [{ os: 'default', uri: message.url }] }];
  return { body: JSON.stringify(card), headers: { 'content-type': 'application/json' } };
}
