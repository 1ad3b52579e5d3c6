import Mustache from 'mustache';
import { AppError } from './errors.ts';

/**
 * The one template engine for messages (plans, notifications, status updates). Mustache is logic-less:
 * a template can only read fields of the view it is given, never call code or read the environment.
 */

/** Parses a template and returns the dotted names it references, or throws naming the field that failed. */
export function parseTemplate(template: string, field: string): string[] {
  let tokens: unknown[];
  try {
    tokens = Mustache.parse(template);
  } catch (error) {
    throw new AppError('validation_failed', `${field}: template does not parse: ${(error as Error).message}`, { field });
  }
  const names = new Set<string>();
  const walk = (list: unknown[]) => {
    for (const token of list as [string, string, number, number, unknown[]?][]) {
      const [type, value, , , children] = token;
      if (type === 'name' || type === '&' || type === '#' || type === '^') names.add(value);
      if (children) walk(children);
    }
  };
  walk(tokens);
  return [...names];
}

/** Renders without HTML escaping: messages go to chat, e-mail text and webhooks, not into HTML. */
export function renderTemplate(template: string, view: Record<string, unknown>): string {
  return Mustache.render(template, view, {}, { escape: (value: unknown) => String(value) });
}

/** Renders with HTML escaping, for HTML e-mail and pages. */
export function renderHtmlTemplate(template: string, view: Record<string, unknown>): string {
  return Mustache.render(template, view);
}

/** Names a template references that the view does not provide (for dry runs and validation). */
export function unresolvedReferences(template: string, view: Record<string, unknown>, field: string): string[] {
  return parseTemplate(template, field).filter((name) => name !== '.' && lookup(view, name) === undefined);
}

function lookup(view: Record<string, unknown>, dotted: string): unknown {
  let current: unknown = view;
  for (const part of dotted.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}
