import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { fieldChoices } from '../schema.ts';
import { Field, ProblemDisplay, describedBy } from './forms.tsx';
import { PersonPicker } from './PersonPicker.tsx';
import { useSchemaForm } from './schema-form.tsx';

export type Values = Record<string, string>;
export interface Choice {
  value: string;
  label: string;
}

export interface FieldSpec {
  /** The form's name for the value; also the body field unless `bodyField` says otherwise. */
  name: string;
  label: string;
  kind?: 'text' | 'textarea' | 'select' | 'person' | 'email' | 'url' | 'date' | 'datetime-local' | 'time';
  /** A select's choices; left out, they are the values the server's schema allows for the field. */
  choices?: readonly Choice[];
  /** A first, empty choice (e.g. "choose…", "none"). */
  placeholder?: string;
  /** How a schema value reads in a select, when not the value itself. */
  choiceLabel?: (value: string) => string;
  /** The body field whose errors show here (the schema's name, when the form's differs). */
  bodyField?: string;
  hint?: string;
  rows?: number;
  inputMode?: 'numeric' | 'decimal';
  /** The element id, when it must differ from `<form id>-<name>`. */
  id?: string;
}

/** The first error of a body field or of anything inside it (`levels[0].targets`, `impact.description`). */
export function errorFor(errors: Record<string, string>, field: string): string | undefined {
  return errors[field] ?? Object.entries(errors).find(([key]) => key.startsWith(`${field}.`) || key.startsWith(`${field}[`))?.[1];
}

function SchemaSelect(props: { spec: FieldSpec; operation: { method: string; path: string }; id: string; value: string; error?: string | undefined; onChange: (value: string) => void }) {
  const { spec, operation, id, value, error, onChange } = props;
  const [fromSchema, setFromSchema] = useState<string[] | null>(null);
  useEffect(() => {
    if (spec.choices) return;
    let live = true;
    void fieldChoices(operation.method, operation.path, spec.bodyField ?? spec.name)
      .then((values) => live && setFromSchema(values))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [operation.method, operation.path, spec.name]);
  const choices = spec.choices ?? (fromSchema ?? (value ? [value] : [])).map((v) => ({ value: v, label: spec.choiceLabel?.(v) ?? v }));
  return (
    <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value)} {...describedBy(id, error)}>
      {spec.placeholder !== undefined ? <option value="">{spec.placeholder}</option> : null}
      {choices.map((c) => (
        <option key={c.value} value={c.value}>
          {c.label}
        </option>
      ))}
    </select>
  );
}

/**
 * The one create/edit form of the console. Fields are laid out from specs; the body `toBody` builds is
 * checked against the server's own TypeBox schema for the operation (from /openapi.json) before it is
 * sent, and select choices come from that schema too; a problem the server still finds is shown at its
 * field or above the button.
 */
export function SchemaForm<T>(props: {
  id: string;
  operation: { method: string; path: string };
  fields: readonly FieldSpec[];
  initial: Values;
  toBody: (values: Values) => Record<string, unknown>;
  send: (body: Record<string, unknown>, values: Values) => Promise<T>;
  onDone?: (result: T) => void;
  submitLabel: string;
  title?: string;
  /** Checks the console makes before the schema's: only for text the form itself parses (a list written one per line, say). */
  parse?: (values: Values) => Partial<Record<string, string>>;
  /** Keep what was typed after a success (an edit form) rather than start again. */
  keepValues?: boolean;
  class?: string;
  grid?: boolean;
  children?: ComponentChildren;
  after?: ComponentChildren;
}) {
  const { id, operation, fields, initial, toBody, send, onDone, submitLabel, title, parse, keepValues, grid = true } = props;
  const [values, setValues] = useState<Values>(initial);
  const [parseErrors, setParseErrors] = useState<Partial<Record<string, string>>>({});
  const form = useSchemaForm(
    operation,
    fields.map((f) => f.bodyField ?? f.name),
  );
  const set = (name: string, value: string) => setValues({ ...values, [name]: value });
  const submit = async (event: Event) => {
    event.preventDefault();
    const parsed = parse?.(values) ?? {};
    setParseErrors(parsed);
    if (Object.values(parsed).some(Boolean)) return;
    const result = await form.submit(toBody(values), (body) => send(body, values));
    if (result === null) return;
    if (!keepValues) setValues(initial);
    onDone?.(result);
  };
  const titleId = `${id}-title`;
  const inputs = fields.map((spec) => {
    const inputId = spec.id ?? `${id}-${spec.name.replace(/_/g, '-')}`;
    const error = parseErrors[spec.name] ?? errorFor(form.errors, spec.bodyField ?? spec.name);
    const value = values[spec.name] ?? '';
    const kind = spec.kind ?? 'text';
    const aria = describedBy(inputId, error);
    return (
      <Field key={spec.name} id={inputId} label={spec.label} error={error} {...(spec.hint ? { hint: spec.hint } : {})}>
        {kind === 'select' ? (
          <SchemaSelect spec={spec} operation={operation} id={inputId} value={value} error={error} onChange={(v) => set(spec.name, v)} />
        ) : kind === 'person' ? (
          <PersonPicker id={inputId} value={value} onChange={(v) => set(spec.name, v)} invalid={!!error} describedBy={error ? `${inputId}-error` : undefined} />
        ) : kind === 'textarea' ? (
          <textarea id={inputId} rows={spec.rows ?? 3} value={value} onInput={(e) => set(spec.name, e.currentTarget.value)} {...aria} />
        ) : (
          <input
            id={inputId}
            type={kind}
            value={value}
            {...(spec.inputMode ? { inputMode: spec.inputMode } : {})}
            onInput={(e) => set(spec.name, e.currentTarget.value)}
            {...aria}
          />
        )}
      </Field>
    );
  });
  return (
    <form class={props.class ?? 'card-form'} noValidate onSubmit={submit} {...(title ? { 'aria-labelledby': titleId } : { 'aria-label': submitLabel })}>
      {title ? <h3 id={titleId}>{title}</h3> : null}
      {props.children}
      {grid ? <div class="form-grid">{inputs}</div> : inputs}
      <ProblemDisplay problem={form.problem} />
      <button type="submit" class="primary" disabled={form.busy}>
        {submitLabel}
      </button>
      {props.after}
    </form>
  );
}

/** Splits a comma- (or line-) separated list, dropping blanks. */
export function listOf(text: string | undefined): string[] {
  return (text ?? '')
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Adds `key: value` to a body only when the text is not blank (the schema's optional fields). */
export function optional(key: string, text: string | undefined, convert: (t: string) => unknown = (t) => t): Record<string, unknown> {
  const trimmed = (text ?? '').trim();
  return trimmed ? { [key]: convert(trimmed) } : {};
}

/** A number typed in a text box: the number, or the text itself so the schema names the field. */
export function numberOf(text: string): number | string {
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : text;
}
