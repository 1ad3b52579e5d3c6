import nodemailer from 'nodemailer';
import { describeOutboundError, type EgressClient } from '../../egress/index.ts';
import { redactSecrets } from '../../shared/crypto.ts';
import { slackRequest, teamsRequest, webhookRequest, type OutgoingRequest, type RenderedMessage } from './messages.ts';
import type { ChannelKind } from './schemas.ts';

/** A channel as the sender needs it: settings plus opened secrets. Never leaves this module's process. */
export interface OpenChannel {
  id: string;
  kind: ChannelKind;
  settings: Record<string, unknown>;
  secrets: Record<string, string>;
}

export interface SendResult {
  ok: boolean;
  /** A failure that retrying cannot fix (HTTP 4xx other than 408/429, SMTP 5xx): the row goes dead at once. */
  permanent: boolean;
  detail: string;
}

export interface Delivery {
  id: number;
  attempt: number;
  /** E-mail recipient for people's contact methods; otherwise the channel's own recipients. */
  address: string | null;
}

const HTTP_TIMEOUT_MS = 10_000;

/** Really sends one message. Never throws: every failure is a result that the outbox records. */
export async function sendMessage(egress: EgressClient, channel: OpenChannel, message: RenderedMessage, delivery: Delivery): Promise<SendResult> {
  const secrets = Object.values(channel.secrets);
  try {
    const result = channel.kind === 'email' ? await sendEmail(egress, channel, message, delivery) : await postJson(egress, channel, message, delivery);
    return { ...result, detail: redactSecrets(result.detail, secrets) };
  } catch (error) {
    return { ok: false, permanent: false, detail: redactSecrets(`send failed: ${(error as Error).message}`, secrets) };
  }
}

async function postJson(egress: EgressClient, channel: OpenChannel, message: RenderedMessage, delivery: Delivery): Promise<SendResult> {
  let url: string;
  let request: OutgoingRequest;
  if (channel.kind === 'webhook') {
    // Channels made before webhook URLs were sealed keep theirs in settings until the service reseals them.
    url = channel.secrets.url ?? String(channel.settings.url);
    request = webhookRequest(message, delivery.id, delivery.attempt, channel.secrets.signing_secret ?? '', Math.floor(Date.now() / 1000));
  } else {
    url = channel.secrets.url ?? '';
    request = channel.kind === 'slack' ? slackRequest(message) : teamsRequest(message);
  }
  let response: Response;
  try {
    response = await egress.fetch(url, {
      method: 'POST',
      headers: { ...request.headers, 'user-agent': 'Firebreak-Notifier' },
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
  } catch (error) {
    return { ok: false, permanent: false, detail: `${new URL(url).host} unreachable: ${describeOutboundError(error)}` };
  }
  const text = (await response.text()).slice(0, 300).replace(/\s+/g, ' ').trim();
  if (response.status >= 200 && response.status < 300) return { ok: true, permanent: false, detail: `HTTP ${response.status}` };
  const permanent = response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429;
  return { ok: false, permanent, detail: `HTTP ${response.status}${text ? `: ${text}` : ''}` };
}

async function sendEmail(egress: EgressClient, channel: OpenChannel, message: RenderedMessage, delivery: Delivery): Promise<SendResult> {
  const smtp = channel.settings.smtp as { host: string; port: number; secure?: boolean; require_tls?: boolean; username?: string };
  const recipients = delivery.address ? [delivery.address] : ((channel.settings.to as string[] | undefined) ?? []);
  if (recipients.length === 0) return { ok: false, permanent: true, detail: 'no recipient: set the channel `to` list or use a person’s contact method' };
  // Resolved and judged here, then the connection goes to that address; TLS still verifies the host name.
  let address: string;
  try {
    address = await egress.resolve(smtp.host, smtp.port);
  } catch (error) {
    return { ok: false, permanent: false, detail: `SMTP ${smtp.host} unreachable: ${describeOutboundError(error)}` };
  }
  const transport = nodemailer.createTransport({
    host: address,
    tls: { servername: smtp.host },
    port: smtp.port,
    secure: smtp.secure ?? false,
    requireTLS: smtp.require_tls ?? false,
    ...(smtp.username ? { auth: { user: smtp.username, pass: channel.secrets.password ?? '' } } : {}),
    connectionTimeout: HTTP_TIMEOUT_MS,
    greetingTimeout: HTTP_TIMEOUT_MS,
    socketTimeout: HTTP_TIMEOUT_MS,
  });
  try {
    const info = await transport.sendMail({
      from: String(channel.settings.from),
      to: recipients,
      subject: message.title,
      text: message.url && !message.text.includes(message.url) ? `${message.text}\n\n${message.url}` : message.text,
      html: message.html,
      headers: { 'X-Firebreak-Delivery': String(delivery.id), 'X-Firebreak-Event': message.event },
    });
    const rejected = (info.rejected ?? []).map(String);
    if (rejected.length > 0) return { ok: false, permanent: true, detail: `SMTP rejected ${rejected.join(', ')}: ${info.response}` };
    return { ok: true, permanent: false, detail: `SMTP accepted for ${recipients.join(', ')}: ${info.response}` };
  } catch (error) {
    const smtpError = error as Error & { responseCode?: number; response?: string; code?: string };
    const code = smtpError.responseCode;
    const permanent = code !== undefined && code >= 500 && code < 600;
    return { ok: false, permanent, detail: `SMTP ${code ?? smtpError.code ?? 'error'}: ${smtpError.response ?? smtpError.message}` };
  } finally {
    transport.close();
  }
}
