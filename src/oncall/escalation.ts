import type { EscalationLevel } from './schemas.ts';

/**
 * The escalation state machine, pure. A running escalation notifies `next_level` when its timer is due,
 * then waits that level's timeout before the following one. After the last level it starts again from
 * the first while repeats remain, and is exhausted when they are used up and the last timeout passes.
 */
export interface EscalationPosition {
  next_level: number;
  cycle: number;
  repeat: number;
  levels: readonly EscalationLevel[];
}

export type EscalationStep =
  | { kind: 'notify'; level: number; cycle: number; then: { next_level: number; cycle: number; due_in_minutes: number } }
  | { kind: 'exhausted' };

export function nextEscalationStep(position: EscalationPosition): EscalationStep {
  let level = position.next_level;
  let cycle = position.cycle;
  if (level >= position.levels.length) {
    if (cycle >= position.repeat) return { kind: 'exhausted' };
    level = 0;
    cycle += 1;
  }
  const timeout = position.levels[level]!.timeout_minutes;
  return { kind: 'notify', level, cycle, then: { next_level: level + 1, cycle, due_in_minutes: timeout } };
}
