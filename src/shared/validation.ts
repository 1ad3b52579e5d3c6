import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Static, TSchema } from 'typebox';
import { AppError } from './errors.ts';

// ajv-formats ships CommonJS whose default export TypeScript sees as the module namespace.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** Validator for non-HTTP inputs (YAML files, CLI arguments, stored config): the same TypeBox schemas the API uses. */
export function createAjv(options: { coerceTypes?: boolean } = {}): Ajv {
  const ajv = new Ajv({
    allErrors: false,
    strict: true,
    useDefaults: true,
    removeAdditional: false,
    coerceTypes: options.coerceTypes ? 'array' : false,
  });
  addFormats(ajv);
  return ajv;
}

const sharedAjv = createAjv();
const cache = new WeakMap<TSchema, ValidateFunction>();

/** Turns ajv's instancePath (`/steps/3/needs/0`) into the path people read (`steps[3].needs[0]`). */
export function humanPath(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').filter(Boolean);
  if (extra) parts.push(extra);
  let out = '';
  for (const part of parts) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(key) ? `[${key}]` : out ? `.${key}` : key;
  }
  return out;
}

export function describeAjvError(error: ErrorObject): { field: string; message: string } {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') {
    const field = humanPath(error.instancePath, String(params.additionalProperty));
    return { field, message: 'unknown field' };
  }
  if (error.keyword === 'required') {
    const field = humanPath(error.instancePath, String(params.missingProperty));
    return { field, message: 'is required' };
  }
  const field = humanPath(error.instancePath) || '(root)';
  if (error.keyword === 'enum' || error.keyword === 'const' || error.keyword === 'anyOf') {
    const allowed = collectAllowedValues(error);
    if (allowed) return { field, message: `must be one of ${allowed}` };
  }
  return { field, message: error.message ?? 'is invalid' };
}

function collectAllowedValues(error: ErrorObject): string | undefined {
  const schema = error.parentSchema as { enum?: unknown[]; anyOf?: { const?: unknown }[] } | undefined;
  const values = schema?.enum ?? schema?.anyOf?.map((s) => s.const).filter((v) => v !== undefined);
  return values && values.length > 0 ? values.map((v) => JSON.stringify(v)).join(', ') : undefined;
}

/** Validates `value` against `schema` and returns it typed, or throws a validation AppError naming the field. */
export function parseWithSchema<S extends TSchema>(schema: S, value: unknown, fieldPrefix = ''): Static<S> {
  let validate = cache.get(schema);
  if (!validate) {
    validate = sharedAjv.compile(schema);
    cache.set(schema, validate);
  }
  if (validate(value)) return value as Static<S>;
  const first = validate.errors?.[0];
  const { field, message } = first ? describeAjvError(first) : { field: '(root)', message: 'is invalid' };
  const fullField = fieldPrefix ? (field === '(root)' ? fieldPrefix : `${fieldPrefix}.${field}`) : field;
  throw new AppError('validation_failed', `${fullField}: ${message}`, { field: fullField });
}
