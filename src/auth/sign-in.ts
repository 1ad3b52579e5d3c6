import { Counter, type Registry } from 'prom-client';
import { AppError } from '../shared/errors.ts';
import type { PeopleService } from './people.ts';
import type { SessionService, StartedSession } from './sessions.ts';
import { spendDecoyVerification, verifyPassword } from './passwords.ts';

/**
 * Counts attempts per key in a fixed window. It lives in this process: with several servers each
 * enforces the limit on its share of the attempts, which still turns a password-guessing run from
 * thousands of guesses a minute into a handful.
 */
export class AttemptWindow {
  private readonly windows = new Map<string, { startedMs: number; count: number }>();
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Counts one attempt; when over the limit, says after how many seconds the window resets. */
  take(key: string, nowMs: number): { allowed: true } | { allowed: false; retryAfterSeconds: number } {
    let window = this.windows.get(key);
    if (!window || nowMs - window.startedMs >= this.windowMs) {
      if (this.windows.size > 100_000) this.sweep(nowMs);
      window = { startedMs: nowMs, count: 0 };
      this.windows.set(key, window);
    }
    if (window.count >= this.limit) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((window.startedMs + this.windowMs - nowMs) / 1000)) };
    window.count += 1;
    return { allowed: true };
  }

  forget(key: string): void {
    this.windows.delete(key);
  }

  private sweep(nowMs: number): void {
    for (const [key, window] of this.windows) if (nowMs - window.startedMs >= this.windowMs) this.windows.delete(key);
  }
}

export type SignInOutcome = 'success' | 'bad_credentials' | 'rate_limited' | 'refused' | 'failed';

export interface SignInLimits {
  /** Failed password attempts per e-mail and client address per window. */
  perAccount: number;
  /** Password attempts per client address per window, whatever the e-mail. */
  perClient: number;
  windowMs: number;
}

export const DEFAULT_SIGN_IN_LIMITS: SignInLimits = { perAccount: 5, perClient: 30, windowMs: 15 * 60_000 };

export class SignInService {
  private readonly attempts: Counter<'method' | 'outcome'>;
  private readonly perAccount: AttemptWindow;
  private readonly perClient: AttemptWindow;

  constructor(
    private readonly people: PeopleService,
    private readonly sessions: SessionService,
    private readonly clock: () => Date,
    registry: Registry,
    limits: SignInLimits = DEFAULT_SIGN_IN_LIMITS,
  ) {
    this.attempts = new Counter({
      name: 'firebreak_sign_in_attempts_total',
      help: 'Sign-in attempts by method (password, oidc) and outcome (success, bad_credentials, rate_limited, refused, failed)',
      labelNames: ['method', 'outcome'] as const,
      registers: [registry],
    });
    for (const outcome of ['success', 'bad_credentials', 'rate_limited'] as const) this.attempts.inc({ method: 'password', outcome }, 0);
    for (const outcome of ['success', 'refused', 'failed'] as const) this.attempts.inc({ method: 'oidc', outcome }, 0);
    this.perAccount = new AttemptWindow(limits.perAccount, limits.windowMs);
    this.perClient = new AttemptWindow(limits.perClient, limits.windowMs);
  }

  count(method: 'password' | 'oidc', outcome: SignInOutcome): void {
    this.attempts.inc({ method, outcome });
  }

  async withPassword(email: string, password: string, client: string): Promise<StartedSession> {
    const nowMs = this.clock().getTime();
    const accountKey = `${client}|${email.trim().toLowerCase()}`;
    for (const check of [this.perClient.take(client, nowMs), this.perAccount.take(accountKey, nowMs)]) {
      if (!check.allowed) {
        this.count('password', 'rate_limited');
        throw new AppError('rate_limited', `too many sign-in attempts; try again in ${check.retryAfterSeconds} s`, { retry_after_seconds: check.retryAfterSeconds });
      }
    }
    const user = await this.people.byEmail(email);
    const valid = user?.password_hash ? await verifyPassword(user.password_hash, password) : (await spendDecoyVerification(password), false);
    if (!user || !valid || user.disabled_at !== null) {
      this.count('password', 'bad_credentials');
      // One message for every cause, so the answer does not reveal which accounts exist.
      throw new AppError('unauthorized', 'wrong e-mail or password');
    }
    this.perAccount.forget(accountKey);
    const session = await this.sessions.start(user.id, 'password');
    await this.people.markSignedIn(user.id);
    this.count('password', 'success');
    return session;
  }
}
