import { RE2JS } from 're2js';
import { AppError } from '../shared/errors.ts';

export type MatchOperator = '=' | '!=' | '=~' | '!~';

export interface LabelMatcher {
  label: string;
  op: MatchOperator;
  value: string;
  /**
   * Anchored like Alertmanager's: `=~"api|web"` matches the whole value. RE2 syntax and semantics, as
   * Alertmanager's Go regexp has: matching takes linear time, so no pattern can backtrack for ever (ReDoS).
   */
  regex?: RE2JS;
  text: string;
}

const MATCHER = /^\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|((?:[^"\s=!~][^"\s]*)?))\s*$/;

/** Parses one Alertmanager-style matcher (`severity="critical"`, `service=~"chat-.*"`), naming `field` on failure. */
export function parseMatcher(text: string, field: string): LabelMatcher {
  const match = MATCHER.exec(text);
  if (!match) {
    throw new AppError('validation_failed', `${field}: "${text}" is not a matcher like label="value", label!="value", label=~"regex" or label!~"regex"`, {
      field,
    });
  }
  const [, label, op, quoted, bare] = match;
  const value = quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : (bare ?? '');
  const matcher: LabelMatcher = { label: label!, op: op as MatchOperator, value, text: text.trim() };
  if (op === '=~' || op === '!~') {
    try {
      matcher.regex = RE2JS.compile(value);
    } catch (error) {
      throw new AppError('validation_failed', `${field}: invalid regular expression: ${(error as Error).message}`, { field });
    }
  }
  return matcher;
}

/** A missing label reads as the empty string, as in Alertmanager (so `team!="db"` matches alerts without `team`). */
export function matches(matcher: LabelMatcher, labels: Readonly<Record<string, string>>): boolean {
  const actual = labels[matcher.label] ?? '';
  switch (matcher.op) {
    case '=':
      return actual === matcher.value;
    case '!=':
      return actual !== matcher.value;
    case '=~':
      return matcher.regex!.matches(actual);
    case '!~':
      return !matcher.regex!.matches(actual);
  }
}

export function matchesAll(matchers: readonly LabelMatcher[], labels: Readonly<Record<string, string>>): boolean {
  return matchers.every((m) => matches(m, labels));
}
