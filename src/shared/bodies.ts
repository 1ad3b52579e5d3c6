import { AppError } from './errors.ts';

/**
 * Deeper bodies are refused before anything recursive (the JSON parser's prototype scan, schema
 * validation, plan and fault-tree walkers) touches them: 100,000 nested arrays would overflow the stack.
 * No document Firebreak reads nests anywhere near this deep.
 */
export const MAX_BODY_DEPTH = 64;

const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The deepest nesting of brackets and braces in JSON text, outside strings; one linear pass, no recursion. */
export function jsonTextDepth(text: string, stopAbove = Infinity): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > stopAbove) return deepest;
      }
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    }
  }
  return deepest;
}

/** The nesting depth of a parsed value (YAML documents), walked with an explicit stack. */
export function valueDepth(value: unknown, stopAbove = Infinity): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    const level = depth + 1;
    if (level > deepest) {
      deepest = level;
      if (deepest > stopAbove) return deepest;
    }
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push([child, level]);
  }
  return deepest;
}

export function tooDeep(): AppError {
  return new AppError('malformed_input', `the request body nests deeper than ${MAX_BODY_DEPTH} levels`, { field: '(root)', max_depth: MAX_BODY_DEPTH });
}

/**
 * The path of the first string (value or key) holding a NUL character, or null. PostgreSQL's text cannot store
 * NUL, so a body holding one would fail there at write time; it is refused at the edge on both databases instead.
 */
export function pathOfNulString(value: unknown): string | null {
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length > 0) {
    const [node, path] = stack.pop()!;
    if (typeof node === 'string') {
      if (node.includes('\u0000')) return path || '(root)';
      continue;
    }
    if (node === null || typeof node !== 'object') continue;
    const entries: [string, unknown][] = Array.isArray(node) ? node.map((child, i) => [String(i), child]) : Object.entries(node);
    for (const [key, child] of entries) {
      const childPath = path ? `${path}.${key}` : key;
      if (key.includes('\u0000')) return childPath;
      stack.push([child, childPath]);
    }
  }
  return null;
}

/** Every request body Firebreak reads is a JSON object (or a YAML mapping): anything else is refused by name. */
export function assertObjectBody(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw new AppError('validation_failed', `the request body must be a JSON object, not ${kind}`, { field: '(root)' });
  }
  return value as Record<string, unknown>;
}
