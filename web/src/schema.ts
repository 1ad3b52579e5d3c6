/**
 * Field rules come from the server: the request-body schemas of /openapi.json are the very TypeBox
 * schemas the server validates with, so a form checks a body exactly as the server will, and a rule
 * changed on the server changes in every form at once. The document and the checker load lazily, on
 * the first check, so they never delay the first screen.
 */
import { api } from './api.ts';

type JsonSchema = Record<string, unknown>;
interface OpenApiDocument {
  paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: JsonSchema }> } }>>;
}

let documentPromise: Promise<OpenApiDocument> | null = null;

function openApi(): Promise<OpenApiDocument> {
  documentPromise ??= api.get<OpenApiDocument>('/openapi.json').catch((error: unknown) => {
    documentPromise = null;
    throw error;
  });
  return documentPromise;
}

/**
 * The document is OpenAPI 3.0, which says "may be null" as `nullable: true` where the server's TypeBox
 * schema has a union with null; the checker reads JSON Schema, so the union is put back.
 */
function asJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(asJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const { nullable, ...rest } = node as JsonSchema;
  const converted = Object.fromEntries(Object.entries(rest).map(([key, value]) => [key, key === 'enum' || key === 'const' ? value : asJsonSchema(value)]));
  return nullable === true ? { anyOf: [converted, { type: 'null' }] } : converted;
}

const converted = new Map<string, JsonSchema | null>();

/** The body schema of an operation, e.g. `requestSchema('post', '/api/v1/incidents/{id}/page')`. */
export async function requestSchema(method: string, pathTemplate: string): Promise<JsonSchema | null> {
  const doc = await openApi();
  const key = `${method.toLowerCase()} ${pathTemplate}`;
  if (!converted.has(key)) {
    const schema = doc.paths[pathTemplate]?.[method.toLowerCase()]?.requestBody?.content?.['application/json']?.schema;
    converted.set(key, schema ? (asJsonSchema(schema) as JsonSchema) : null);
  }
  return converted.get(key)!;
}

/** `/users/0` → `users[0]`, `/impact/description` → `impact.description`: the form of the server's `field`. */
export function fieldOf(instancePath: string): string {
  return instancePath
    .split('/')
    .filter(Boolean)
    .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join('');
}

const SLUG_PATTERNS = ['^[a-z0-9][a-z0-9._-]{0,62}$', '^[a-z0-9][a-z0-9_-]{0,62}$'];

/** The server's rule, said as the console says things (the schema's own words are for programmers). */
function sentence(message: string, params: Record<string, unknown>): string {
  const limit = params.limit;
  if (typeof limit === 'number' && /characters/.test(message)) {
    return message.includes('more than') ? `At most ${limit} characters.` : limit === 1 ? 'Required.' : `At least ${limit} characters.`;
  }
  if (typeof limit === 'number' && /items/.test(message)) {
    return message.includes('more than') ? `At most ${limit}.` : limit === 1 ? 'Give at least one.' : `At least ${limit}.`;
  }
  if (typeof limit === 'number' && typeof params.comparison === 'string') {
    const words: Record<string, string> = { '>=': 'At least', '<=': 'At most', '>': 'More than', '<': 'Less than' };
    return `${words[params.comparison] ?? params.comparison} ${limit}.`;
  }
  if (typeof params.pattern === 'string') {
    if (SLUG_PATTERNS.includes(params.pattern)) return 'Lower-case letters, digits, dot, dash or underscore; starts with a letter or digit.';
    if (params.pattern.includes('[01][0-9]|2[0-3]')) return 'A time as HH:MM.';
    return 'Not in the expected form.';
  }
  if (params.format === 'date') return 'A date, YYYY-MM-DD.';
  if (params.format === 'uri') return 'A full URL, such as https://…';
  if (params.format === 'date-time') return 'A date and time.';
  if (params.format === 'email') return 'An e-mail address.';
  if (Array.isArray(params.allowedValues)) return `One of: ${params.allowedValues.join(', ')}.`;
  if (typeof params.requiredProperties === 'object') return 'Required.';
  if (/must be integer/.test(message)) return 'A whole number.';
  if (/must be number/.test(message)) return 'A number.';
  return `${message.charAt(0).toUpperCase()}${message.slice(1)}.`;
}

export type FieldErrors = Record<string, string>;

/**
 * Checks a body against the operation's schema and returns one message per field (the first rule each
 * breaks). An empty result means the server's own rules pass.
 */
export async function checkBody(method: string, pathTemplate: string, body: unknown): Promise<FieldErrors> {
  const [found, { Value }] = await Promise.all([requestSchema(method, pathTemplate), import('typebox/value')]);
  let schema = found;
  if (!schema) return {};
  const errors: FieldErrors = {};
  // A body that is one of several kinds (a union of objects told apart by a constant, such as a
  // channel's `kind`) is checked against the kind it says it is, so the others' rules stay out.
  const branches = schema.anyOf as JsonSchema[] | undefined;
  if (branches && body && typeof body === 'object') {
    const chosen = branches.find((branch) =>
      Object.entries((branch.properties ?? {}) as Record<string, JsonSchema>).some(([key, p]) => p.const !== undefined && (body as Record<string, unknown>)[key] === p.const),
    );
    if (chosen) schema = chosen;
  }
  const allowed: Record<string, string[]> = {};
  for (const error of Value.Errors(schema as never, body)) {
    const params = (error.params ?? {}) as Record<string, unknown>;
    const missing = Array.isArray(params.requiredProperties) ? (params.requiredProperties as string[]) : null;
    if (missing) {
      for (const name of missing) errors[fieldOf(`${error.instancePath}/${name}`)] ??= 'Required.';
      continue;
    }
    const field = fieldOf(error.instancePath);
    // A union of literals reports each constant it is not: together they are the allowed values.
    if ('allowedValue' in params) {
      (allowed[field] ??= []).push(String(params.allowedValue));
      continue;
    }
    // A union reports each branch and then itself; the first, most specific message is kept.
    errors[field] ??= allowed[field] ? `One of: ${allowed[field].join(', ')}.` : sentence(error.message, params);
  }
  for (const [field, values] of Object.entries(allowed)) errors[field] ??= `One of: ${values.join(', ')}.`;
  return errors;
}

/** The property schema a body field has (`impact.description` walks into objects), or null. */
function propertyOf(schema: JsonSchema | null, field: string): JsonSchema | null {
  let current: JsonSchema | null = schema;
  for (const part of field.split('.')) {
    // A body that is a union of objects (channel kinds, say): the first branch that has the field.
    const holders = [current, ...((current?.anyOf as JsonSchema[] | undefined) ?? [])];
    const [name, index] = part.split('[');
    const properties = holders.map((h) => h?.properties as Record<string, JsonSchema> | undefined).find((p) => p?.[name!]);
    current = properties?.[name!] ?? null;
    if (index !== undefined) current = (current?.items as JsonSchema | undefined) ?? null;
    // An optional nullable field is a union with null: look into its non-null branch.
    const branches = (current?.anyOf as JsonSchema[] | undefined)?.filter((b) => b.type !== 'null');
    if (branches?.length === 1) current = branches[0]!;
  }
  return current;
}

/**
 * The values a field may take by the server's schema (an enum, a union of literals, or a small integer
 * range), so a select offers exactly what the server accepts.
 */
export async function fieldChoices(method: string, pathTemplate: string, field: string): Promise<string[] | null> {
  const property = propertyOf(await requestSchema(method, pathTemplate), field);
  if (!property) return null;
  if (Array.isArray(property.enum)) return property.enum.map(String);
  const literals = (property.anyOf as JsonSchema[] | undefined)?.map((b) => b.const ?? (Array.isArray(b.enum) && b.enum.length === 1 ? b.enum[0] : undefined));
  if (literals?.length && literals.every((v) => v !== undefined)) return literals.map(String);
  if (property.type === 'integer' && typeof property.minimum === 'number' && typeof property.maximum === 'number' && property.maximum - property.minimum <= 20) {
    return Array.from({ length: property.maximum - property.minimum + 1 }, (_, i) => String((property.minimum as number) + i));
  }
  return null;
}
