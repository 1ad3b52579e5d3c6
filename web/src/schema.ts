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

/** The body schema of an operation, e.g. `requestSchema('post', '/api/v1/incidents/{id}/page')`. */
export async function requestSchema(method: string, pathTemplate: string): Promise<JsonSchema | null> {
  const doc = await openApi();
  return doc.paths[pathTemplate]?.[method.toLowerCase()]?.requestBody?.content?.['application/json']?.schema ?? null;
}

/** `/users/0` → `users[0]`, `/impact/description` → `impact.description`: the form of the server's `field`. */
export function fieldOf(instancePath: string): string {
  return instancePath
    .split('/')
    .filter(Boolean)
    .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join('');
}

function sentence(message: string, params: Record<string, unknown>): string {
  if (typeof params.limit === 'number' && /characters/.test(message)) {
    return message.includes('more than') ? `At most ${params.limit} characters.` : params.limit === 1 ? 'Required.' : `At least ${params.limit} characters.`;
  }
  if (params.format === 'date') return 'A date, YYYY-MM-DD.';
  if (params.format === 'uri') return 'A full URL, such as https://…';
  if (params.format === 'date-time') return 'A date and time.';
  if (Array.isArray(params.allowedValues)) return `One of: ${params.allowedValues.join(', ')}.`;
  if (typeof params.requiredProperties === 'object') return 'Required.';
  return `${message.charAt(0).toUpperCase()}${message.slice(1)}.`;
}

export type FieldErrors = Record<string, string>;

/**
 * Checks a body against the operation's schema and returns one message per field (the first rule each
 * breaks). An empty result means the server's own rules pass.
 */
export async function checkBody(method: string, pathTemplate: string, body: unknown): Promise<FieldErrors> {
  const [schema, { Value }] = await Promise.all([requestSchema(method, pathTemplate), import('typebox/value')]);
  if (!schema) return {};
  const errors: FieldErrors = {};
  for (const error of Value.Errors(schema as never, body)) {
    const params = (error.params ?? {}) as Record<string, unknown>;
    const missing = Array.isArray(params.requiredProperties) ? (params.requiredProperties as string[]) : null;
    if (missing) {
      for (const name of missing) errors[fieldOf(`${error.instancePath}/${name}`)] ??= 'Required.';
      continue;
    }
    // A union reports each branch and then itself; the first, most specific message is kept.
    const field = fieldOf(error.instancePath);
    errors[field] ??= sentence(error.message, params);
  }
  return errors;
}
