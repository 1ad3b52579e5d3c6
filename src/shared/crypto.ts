import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { AppError } from './errors.ts';

/**
 * Secrets at rest (channel credentials, plan secrets) are sealed with AES-256-GCM under a key derived
 * from FIREBREAK_SECRET_KEY per purpose, so one leaked ciphertext type tells nothing about another.
 * Sealed values are `v1.<iv>.<tag>.<ciphertext>` in base64url.
 */
export class SecretBox {
  private readonly masterKey: Buffer;

  constructor(secretKey: string | undefined) {
    if (!secretKey || secretKey.length < 16) {
      throw new AppError('validation_failed', 'FIREBREAK_SECRET_KEY must be set (16+ characters) to store secrets', {
        field: 'FIREBREAK_SECRET_KEY',
      });
    }
    this.masterKey = Buffer.from(secretKey, 'utf8');
  }

  private keyFor(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.masterKey, Buffer.from('firebreak'), Buffer.from(purpose), 32));
  }

  seal(plaintext: string, purpose: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keyFor(purpose), iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
  }

  open(sealed: string, purpose: string): string {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || body === undefined) throw new AppError('internal', 'stored secret has an unknown format');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.keyFor(purpose), Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new AppError('internal', 'stored secret cannot be decrypted: FIREBREAK_SECRET_KEY changed?');
    }
  }
}

/** Replaces every occurrence of each secret value in `text`, so records and logs never carry them. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('[REDACTED]');
  return out;
}
