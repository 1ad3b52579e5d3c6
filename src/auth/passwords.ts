import argon2 from 'argon2';
import { AppError } from '../shared/errors.ts';

/**
 * Passwords are hashed with argon2id at OWASP's recommended cost (19 MiB, 2 passes, 1 lane: tens of
 * milliseconds, so a burst of sign-ins does not starve a small server). The encoded hash carries its
 * parameters, so raising them later only affects new hashes and old ones still verify.
 */
const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 1024;

export function checkPasswordStrength(password: string, field = 'password'): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new AppError('validation_failed', `${field}: must be at least ${MIN_PASSWORD_LENGTH} characters`, { field });
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new AppError('validation_failed', `${field}: must be at most ${MAX_PASSWORD_LENGTH} characters`, { field });
  }
}

export async function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, ARGON2_OPTIONS);
}

/** Verifies against a stored hash; a malformed stored hash fails closed. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

let decoy: Promise<string> | undefined;
/**
 * Sign-in for an unknown e-mail still spends one argon2 verification, so the answer time does not
 * tell an attacker which addresses have accounts.
 */
export async function spendDecoyVerification(password: string): Promise<void> {
  decoy ??= hashPassword('decoy password that never signs anyone in');
  await verifyPassword(await decoy, password);
}
