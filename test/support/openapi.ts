/**
 * Reads a server's own `/openapi.json` so that safety tests cover every route, including routes added later,
 * and builds request bodies from the documented schemas: a minimal valid body (to reach the service code
 * behind validation) and seeded mutations of it (to probe validation itself).
 */

import { ADMIN_TOKEN, type TestServer } from './server.ts';

/** Generous: a request that has not answered by then is stuck, not slow. */
const REQUEST_TIMEOUT_MS = 15_000;

export interface Answer {
  status: number;
  contentType: string;
  text: string;
}

/** One request with a timeout; a stream answer (SSE) counts as answered once its headers arrive. */
export async function call(server: TestServer, method: string, path: string, body?: string): Promise<Answer> {
  const response = await fetch(new URL(path, server.url), {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const contentType = response.headers.get('content-type') ?? '';
  if (contentType.includes('text/event-stream')) {
    await response.body?.cancel();
    return { status: response.status, contentType, text: '' };
  }
  return { status: response.status, contentType, text: await response.text() };
}

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minItems?: number;
  default?: unknown;
  additionalProperties?: boolean | JsonSchema;
  $ref?: string;
}

export interface Operation {
  method: string;
  path: string;
  pathParams: string[];
  body: JsonSchema | undefined;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: JsonSchema }> } }>>;
}

export function operationsOf(document: unknown): Operation[] {
  const doc = document as OpenApiDocument;
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const content = operation.requestBody?.content;
      const body = content?.['application/json']?.schema ?? (content ? Object.values(content)[0]?.schema : undefined);
      operations.push({ method: method.toUpperCase(), path, pathParams: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!), body });
    }
  }
  return operations;
}

export function fillPath(path: string, values: (param: string) => string): string {
  return path.replace(/\{(\w+)\}/g, (_m, param: string) => encodeURIComponent(values(param)));
}

/** A small body (or with `everyField`, one with every optional field too) that satisfies the schema's types, enums and required fields (best effort: patterns are not solved). */
export function minimalBody(schema: JsonSchema | undefined, depth = 0, everyField = false): unknown {
  if (!schema || depth > 8) return {};
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  if (schema.default !== undefined) return schema.default;
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives?.length) return minimalBody(alternatives.find((s) => s.type !== 'null') ?? alternatives[0], depth + 1, everyField);
  if (schema.allOf?.length) return Object.assign({}, ...schema.allOf.map((s) => minimalBody(s, depth + 1, everyField)));
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const keys = everyField ? Object.keys(schema.properties ?? {}) : (schema.required ?? []);
      for (const key of keys) out[key] = minimalBody(schema.properties?.[key], depth + 1, everyField);
      return out;
    }
    case 'array':
      return Array.from({ length: Math.max(schema.minItems ?? 0, everyField ? 1 : 0) }, () => minimalBody(schema.items, depth + 1, everyField));
    case 'string':
      if (schema.format === 'date-time') return '2026-01-01T00:00:00.000Z';
      if (schema.format === 'uri') return 'http://127.0.0.1:9/x';
      if (schema.format === 'email') return 'someone@example.com';
      return 'x'.repeat(Math.max(1, schema.minLength ?? 1));
    case 'integer':
    case 'number':
      return schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : 1);
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      return {};
  }
}

const JUNK_VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  1e308,
  -0.5,
  '',
  'x',
  '\u0000',
  '../../etc/passwd',
  'a'.repeat(5000),
  '2026-13-45T99:99:99Z',
  '((((((((((((((((a',
  [],
  [null],
  {},
  JSON.parse('{"__proto__": {"polluted": true}}'),
  { constructor: { prototype: { polluted: true } } },
];

/** A seeded mutation of a valid body: a field replaced, removed or added, or the whole body replaced. */
export function mutateBody(body: unknown, random: () => number): unknown {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const roll = random();
  if (roll < 0.15) return pick(JUNK_VALUES);
  if (roll < 0.2) return nest(Math.floor(random() * 200) + 60, random() < 0.5);
  const copy = structuredClone(body);
  if (copy === null || typeof copy !== 'object') return pick(JUNK_VALUES);
  // Walk down a random path of objects and arrays, then mutate there.
  let node = copy as Record<string, unknown>;
  for (let depth = 0; depth < 4; depth++) {
    const keys = Object.keys(node).filter((k) => node[k] !== null && typeof node[k] === 'object');
    if (keys.length === 0 || random() < 0.4) break;
    node = node[pick(keys)] as Record<string, unknown>;
  }
  const keys = Object.keys(node);
  const action = random();
  if (keys.length > 0 && action < 0.6) node[pick(keys)] = pick(JUNK_VALUES);
  else if (keys.length > 0 && action < 0.8) delete node[pick(keys)];
  else if (Array.isArray(node)) node.push(pick(JUNK_VALUES));
  else node[`unknown_${Math.floor(random() * 1000)}`] = pick(JUNK_VALUES);
  return copy;
}

/** JSON text nested `depth` levels deep (arrays or objects): built as text, since JSON.stringify would recurse. */
export function nestedJson(depth: number, arrays = true): string {
  return arrays ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

function nest(depth: number, arrays: boolean): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = arrays ? [value] : { a: value };
  return value;
}
