import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * GitHub signs each webhook delivery with HMAC-SHA256 of the raw body under the webhook's secret and
 * sends it as `X-Hub-Signature-256: sha256=<hex>`. The comparison is constant-time.
 */
export function verifyGitHubSignature(rawBody: Buffer, secret: string, header: string | undefined): boolean {
  if (!header?.startsWith('sha256=')) return false;
  const received = Buffer.from(header.slice('sha256='.length), 'hex');
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return received.length === expected.length && timingSafeEqual(received, expected);
}

export function signGitHubBody(rawBody: Buffer | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}
