import { describeOutboundError, type EgressClient } from '../egress/index.ts';
import type { IncidentService } from '../incidents/index.ts';

/**
 * How a `communicate` step sends a message. Plans ship a sender that writes to the incident timeline
 * and POSTs to a webhook; when notification channels are installed, the plans module wraps it once in a
 * sender that also reaches them (Slack, e-mail, status page): `notification-sender.ts`. Plan validation
 * asks the sender which channel names exist, so a plan naming an unknown channel is rejected.
 */
export interface OutgoingMessage {
  incidentId: string;
  subject: string | undefined;
  text: string;
  audience: string | undefined;
  /** Channel names from the step; undefined means the sender's defaults. */
  channels: readonly string[] | undefined;
  webhookUrl: string | undefined;
  /** Who sends it, e.g. `plan:provider-failover`. */
  actor: string;
  /** Where it came from, passed through to receivers. */
  source: { plan_id: string; plan_version: string; execution_id: string; step_id: string };
}

export interface Delivery {
  channel: string;
  ok: boolean;
  detail: string;
}

export interface MessageSender {
  channelNames(): string[];
  send(message: OutgoingMessage): Promise<Delivery[]>;
  /** Exactly what `send` would transmit, per channel, without sending (dry runs). */
  preview(message: OutgoingMessage): { channel: string; request: Record<string, unknown> }[];
}

const WEBHOOK_TIMEOUT_MS = 10_000;

export function webhookPayload(message: OutgoingMessage): Record<string, unknown> {
  return {
    incident_id: message.incidentId,
    subject: message.subject ?? null,
    text: message.text,
    audience: message.audience ?? null,
    source: message.source,
  };
}

/** The sender used until notification channels exist: the incident timeline, and a webhook when the step names one. */
export class TimelineWebhookSender implements MessageSender {
  constructor(
    private readonly incidents: IncidentService,
    private readonly egress: EgressClient,
  ) {}

  channelNames(): string[] {
    return ['timeline', 'webhook'];
  }

  private channelsFor(message: OutgoingMessage): string[] {
    return [...(message.channels ?? ['timeline', ...(message.webhookUrl ? ['webhook'] : [])])];
  }

  preview(message: OutgoingMessage): { channel: string; request: Record<string, unknown> }[] {
    return this.channelsFor(message).map((channel) =>
      channel === 'webhook'
        ? { channel, request: { method: 'POST', url: message.webhookUrl ?? null, headers: { 'content-type': 'application/json' }, body: webhookPayload(message) } }
        : { channel, request: { incident_id: message.incidentId, kind: 'plan_message', summary: message.subject ? `${message.subject}: ${message.text}` : message.text } },
    );
  }

  async send(message: OutgoingMessage): Promise<Delivery[]> {
    const deliveries: Delivery[] = [];
    for (const channel of this.channelsFor(message)) {
      if (channel === 'timeline') {
        await this.incidents.appendTimeline(
          message.incidentId,
          [{ kind: 'plan_message', summary: message.subject ? `${message.subject}: ${message.text}` : message.text, data: { audience: message.audience ?? null, ...message.source } }],
          message.actor,
        );
        deliveries.push({ channel, ok: true, detail: 'appended to the incident timeline' });
      } else if (channel === 'webhook') {
        deliveries.push(await this.postWebhook(message));
      } else {
        deliveries.push({ channel, ok: false, detail: `channel ${channel} is not available` });
      }
    }
    return deliveries;
  }

  private async postWebhook(message: OutgoingMessage): Promise<Delivery> {
    if (!message.webhookUrl) return { channel: 'webhook', ok: false, detail: 'no webhook_url given' };
    try {
      const response = await this.egress.fetch(message.webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(webhookPayload(message)),
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
        redirect: 'manual',
      });
      await response.body?.cancel();
      const ok = response.status >= 200 && response.status < 300;
      return { channel: 'webhook', ok, detail: `${message.webhookUrl} answered ${response.status}` };
    } catch (error) {
      return { channel: 'webhook', ok: false, detail: `${message.webhookUrl} unreachable: ${describeFetchError(error)}` };
    }
  }
}

export function describeFetchError(error: unknown): string {
  return describeOutboundError(error);
}
