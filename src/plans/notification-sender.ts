import type { NotificationService } from '../oncall/index.ts';
import type { MessageSender, OutgoingMessage, Delivery } from './messaging.ts';

/** The channel name a plan's `communicate` step uses for Firebreak's notification channels. */
export const NOTIFICATIONS_CHANNEL = 'notifications';

/**
 * Lets response plans' `communicate` steps send through the notification channels (Slack, Teams,
 * e-mail, webhooks) of the incident's team that subscribe to `message` events. Messages are enqueued
 * in the durable outbox, so delivery, retries and the timeline entries follow the same path as every
 * other notification. `timeline` and `webhook` stay with the plans' own sender.
 */
export class NotificationMessageSender implements MessageSender {
  constructor(
    private readonly notifications: NotificationService,
    private readonly fallback: MessageSender,
  ) {}

  channelNames(): string[] {
    return [...this.fallback.channelNames(), NOTIFICATIONS_CHANNEL];
  }

  private split(message: OutgoingMessage): { ours: boolean; others: OutgoingMessage | null } {
    // A step that names no channels keeps the plans' defaults; the notification channels are opted into by name.
    if (!message.channels) return { ours: false, others: message };
    const channels = message.channels;
    const others = channels.filter((c) => c !== NOTIFICATIONS_CHANNEL);
    return { ours: channels.includes(NOTIFICATIONS_CHANNEL), others: others.length ? { ...message, channels: others } : null };
  }

  private request(message: OutgoingMessage) {
    return {
      event: 'message' as const,
      incidentId: message.incidentId,
      actor: message.actor,
      context: { message: { title: message.subject ?? 'Update', text: message.text, audience: message.audience ?? null }, source: message.source },
    };
  }

  preview(message: OutgoingMessage): { channel: string; request: Record<string, unknown> }[] {
    const { ours, others } = this.split(message);
    return [
      ...(others ? this.fallback.preview(others) : []),
      ...(ours ? [{ channel: NOTIFICATIONS_CHANNEL, request: this.request(message) as unknown as Record<string, unknown> }] : []),
    ];
  }

  async send(message: OutgoingMessage): Promise<Delivery[]> {
    const { ours, others } = this.split(message);
    const deliveries = others ? await this.fallback.send(others) : [];
    if (ours) {
      try {
        const outcome = await this.notifications.notify(this.request(message));
        deliveries.push({
          channel: NOTIFICATIONS_CHANNEL,
          ok: outcome.ids.length > 0,
          detail: outcome.ids.length
            ? `queued ${outcome.ids.length} notification(s) in the outbox`
            : 'no channel of the incident’s team subscribes to message events',
        });
      } catch (error) {
        deliveries.push({ channel: NOTIFICATIONS_CHANNEL, ok: false, detail: (error as Error).message });
      }
    }
    return deliveries;
  }
}
