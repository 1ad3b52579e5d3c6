import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, type Problem } from '../api.ts';
import type { Async } from '../hooks.ts';

export type FieldErrors = Record<string, string>;

/**
 * Splits a failure into a message per field (the problem's `field`, when the form has that field)
 * and a message for the whole form.
 */
export function problemToErrors(error: unknown, fields: readonly string[]): { fields: FieldErrors; form: Problem | null } {
  if (!(error instanceof ApiError)) return { fields: {}, form: { title: 'Error', status: 0, code: 'client', detail: String(error) } };
  const field = error.problem.field;
  const top = field?.replace(/\[.*$/, '').split('.')[0];
  const inside = field ? fields.find((f) => field.startsWith(`${f}.`) || field.startsWith(`${f}[`)) : undefined;
  const match = field && fields.includes(field) ? field : top && fields.includes(top) ? top : field && inside ? field : null;
  if (match) return { fields: { [match]: error.problem.detail }, form: null };
  return { fields: {}, form: error.problem };
}

export function Field(props: { id: string; label: string; error?: string | undefined; hint?: string; children: ComponentChildren }) {
  const { id, label, error, hint, children } = props;
  return (
    <div class={`field${error ? ' has-error' : ''}`}>
      <label for={id}>{label}</label>
      {children}
      {hint && !error ? (
        <small class="hint" id={`${id}-hint`}>
          {hint}
        </small>
      ) : null}
      {error ? (
        <small class="field-error" id={`${id}-error`} role="alert">
          {error}
        </small>
      ) : null}
    </div>
  );
}

/** aria attributes tying an input to its error message. */
export function describedBy(id: string, error?: string | undefined) {
  return error ? { 'aria-invalid': true, 'aria-describedby': `${id}-error` } : {};
}

/**
 * The one way the console shows a problem: the server's problem (title, status, detail) from a failed
 * action, or the error of a load (`of`). Renders nothing when there is none.
 */
export function ProblemDisplay(props: { problem?: Problem | null | undefined; of?: Async<unknown> }) {
  const problem = props.problem ?? (props.of?.state === 'error' ? props.of.error.problem : null);
  if (!problem) return null;
  return (
    <div class="problem" role="alert">
      <strong>{problem.title}</strong>
      {problem.status ? <span class="problem-status"> ({problem.status})</span> : null}: {problem.detail}
    </div>
  );
}

/** A failure as a problem to show above a form or list. */
export function problemOf(error: unknown): Problem {
  return problemToErrors(error, []).form ?? { title: 'Error', status: 0, code: 'client', detail: String(error) };
}

/**
 * Row and button actions (delete, revoke, send a test, link): runs one, keeping the problem it ended
 * with for a `ProblemDisplay`. `run` answers whether the action succeeded.
 */
export function useAction() {
  const [problem, setProblem] = useState<Problem | null>(null);
  const run = async (action: () => Promise<unknown>): Promise<boolean> => {
    setProblem(null);
    try {
      await action();
      return true;
    } catch (error) {
      setProblem(problemOf(error));
      return false;
    }
  };
  return { problem, run, setProblem };
}

/** A secret the server shows only once (an API token, a routing key, a signing secret): its value, copy, dismiss. */
export function SecretShownOnce(props: { secret: string; testId?: string; onDone: () => void; children: ComponentChildren }) {
  const { secret, testId, onDone, children } = props;
  return (
    <div class="secret-once" role="status" data-testid={testId}>
      <p>{children}</p>
      <code class="secret" tabIndex={0}>
        {secret}
      </code>
      <div class="button-row">
        <button type="button" onClick={() => void navigator.clipboard?.writeText(secret)}>
          Copy
        </button>
        <button type="button" onClick={onDone}>
          Done, hide it
        </button>
      </div>
    </div>
  );
}
