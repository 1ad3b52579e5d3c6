import { Counter, type Registry } from 'prom-client';
import { AppError } from '../shared/errors.ts';
import type { PeopleService } from './people.ts';
import type { SessionService, StartedSession } from './sessions.ts';
import { spendDecoyVerification, verifyPassword } from './passwords.ts';

/**
 * Counts failed attempts per key in a fixed window. It lives in this process: with several servers each
 * enforces the limit on its share of the attempts, which still turns a password-guessing run from
 * thousands of guesses a minute into a handful. Only failures count, so people signing in correctly
 * (many of them behind one proxy address) never use up the allowance.
 */
export class AttemptWindow {
  private readonly windows = new Map<string, { startedMs: number; count: number }>();
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Seconds until the key may try again, or undefined when it may try now. */
  blocked(key: string, nowMs: number): number | undefined {
    const window = this.windows.get(key);
    if (!window || nowMs - window.startedMs >= this.windowMs || window.count < this.limit) return undefined;
    return Math.max(1, Math.ceil((window.startedMs + this.windowMs - nowMs) / 1000));
  }

  fail(key: string, nowMs: number): void {
    let window = this.windows.get(key);
    if (!window || nowMs - window.startedMs >= this.windowMs) {
      if (this.windows.size > 100_000) this.sweep(nowMs);
      window = { startedMs: nowMs, count: 0 };
      this.windows.set(key, window);
    }
    window.count += 1;
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
  /** Failed password attempts per client address per window, whatever the e-mail. */
  perClient: number;
  windowMs: number;
}

export const DEFAULT_SIGN_IN_LIMITS: SignInLimits = { perAccount: 5, perClient: 100, windowMs: 15 * 60_000 };

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
    const wait = this.perClient.blocked(client, nowMs) ?? this.perAccount.blocked(accountKey, nowMs);
    if (wait !== undefined) {
      this.count('password', 'rate_limited');
      throw new AppError('rate_limited', `too many failed sign-in attempts; try again in ${wait} s`, { retry_after_seconds: wait });
    }
    const user = await this.people.byEmail(email);
    const valid = user?.password_hash ? await verifyPassword(user.password_hash, password) : (await spendDecoyVerification(password), false);
    if (!user || !valid || user.disabled_at !== null) {
      this.perClient.fail(client, nowMs);
      this.perAccount.fail(accountKey, nowMs);
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
