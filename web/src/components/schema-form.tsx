import { useState } from 'preact/hooks';
import type { Problem } from '../api.ts';
import { checkBody, type FieldErrors } from '../schema.ts';
import { problemToErrors } from './forms.tsx';

/** Whether a form with these fields shows an error of `field` (itself, inside it, or its top-level field). */
export function shows(fields: readonly string[], field: string): boolean {
  const top = field.replace(/\[.*$/, '').split('.')[0]!;
  return fields.some((f) => f === field || f === top || field.startsWith(`${f}.`) || field.startsWith(`${f}[`));
}

/**
 * The one submit path of a form: the body is checked with the server's own schema for the operation,
 * then sent; a problem the server still finds is shown next to the field it names, or above the form.
 */
export function useSchemaForm(operation: { method: string; path: string }, fields: readonly string[]) {
  const [errors, setErrors] = useState<FieldErrors>({});
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async <T,>(body: Record<string, unknown>, send: (body: Record<string, unknown>) => Promise<T>): Promise<T | null> => {
    setProblem(null);
    const found = await checkBody(operation.method, operation.path, body).catch(() => ({}) as FieldErrors);
    // A field the form does not show (a version, say) is reported above the form.
    const shown = Object.fromEntries(Object.entries(found).filter(([field]) => shows(fields, field)));
    setErrors(shown);
    if (Object.keys(found).length) {
      if (Object.keys(shown).length < Object.keys(found).length) {
        const [field, message] = Object.entries(found).find(([f]) => !(f in shown))!;
        setProblem({ title: 'Not sent', status: 0, code: 'client', detail: `${field}: ${message}` });
      }
      return null;
    }
    setBusy(true);
    try {
      const result = await send(body);
      setErrors({});
      return result;
    } catch (error) {
      const split = problemToErrors(error, fields);
      setErrors(split.fields);
      setProblem(split.form);
      return null;
    } finally {
      setBusy(false);
    }
  };
  return { errors, problem, busy, submit, setErrors, setProblem };
}
