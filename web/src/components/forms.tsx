import type { ComponentChildren } from 'preact';
import { ApiError, type Problem } from '../api.ts';

export type FieldErrors = Record<string, string>;

/**
 * Splits a failure into a message per field (the problem's `field`, when the form has that field)
 * and a message for the whole form.
 */
export function problemToErrors(error: unknown, fields: readonly string[]): { fields: FieldErrors; form: Problem | null } {
  if (!(error instanceof ApiError)) return { fields: {}, form: { title: 'Error', status: 0, code: 'client', detail: String(error) } };
  const field = error.problem.field;
  const top = field?.replace(/\[.*$/, '').split('.')[0];
  const match = field && fields.includes(field) ? field : top && fields.includes(top) ? top : null;
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

export function ProblemNotice({ problem }: { problem: Problem | null | undefined }) {
  if (!problem) return null;
  return (
    <div class="problem" role="alert">
      <strong>{problem.title}</strong>
      {problem.status ? <span class="problem-status"> ({problem.status})</span> : null}: {problem.detail}
    </div>
  );
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
