import { AppError } from '../shared/errors.ts';

/** A recovery step as the graph sees it: what it waits for, how long it should take, and what really happened. */
export interface StepNode {
  id: string;
  depends_on: readonly string[];
  estimate_minutes: number;
  status: StepStatus;
  started_at: string | null;
  completed_at: string | null;
}

export const STEP_STATUSES = ['pending', 'in_progress', 'done'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/**
 * Rejects duplicate ids, unknown dependencies and cycles, naming the step (and its index) at fault,
 * so an admin editing a template or a responder writing a plan knows exactly what to fix.
 * `field` is the input path of the step list, e.g. `steps`.
 */
export function assertStepGraph(steps: readonly { id: string; depends_on: readonly string[] }[], field: string): void {
  const index = new Map<string, number>();
  steps.forEach((step, i) => {
    if (index.has(step.id)) {
      throw new AppError('validation_failed', `${field}[${i}].id: step ${step.id} is listed twice`, { field: `${field}[${i}].id` });
    }
    index.set(step.id, i);
  });
  steps.forEach((step, i) => {
    step.depends_on.forEach((dep, j) => {
      if (!index.has(dep)) {
        throw new AppError('unprocessable', `${field}[${i}].depends_on[${j}]: step ${step.id} depends on unknown step ${dep}`, {
          field: `${field}[${i}].depends_on[${j}]`,
        });
      }
      if (dep === step.id) {
        throw new AppError('unprocessable', `${field}[${i}].depends_on[${j}]: step ${step.id} depends on itself`, {
          field: `${field}[${i}].depends_on[${j}]`,
        });
      }
    });
  });
  const cycle = findCycle(steps);
  if (cycle) {
    const at = index.get(cycle[0]!)!;
    throw new AppError('unprocessable', `${field}[${at}].depends_on: steps form a cycle: ${cycle.join(' → ')}`, {
      field: `${field}[${at}].depends_on`,
      cycle,
    });
  }
}

/** A dependency cycle as a closed walk (`a → b → a`), or null. Depth-first with colours; iterative, so long chains cannot overflow the stack. */
export function findCycle(steps: readonly { id: string; depends_on: readonly string[] }[]): string[] | null {
  const deps = new Map(steps.map((s) => [s.id, s.depends_on]));
  const colour = new Map<string, 'grey' | 'black'>();
  for (const root of steps) {
    if (colour.has(root.id)) continue;
    const path: string[] = [];
    const stack: { id: string; next: number }[] = [{ id: root.id, next: 0 }];
    colour.set(root.id, 'grey');
    path.push(root.id);
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const children = deps.get(frame.id) ?? [];
      if (frame.next >= children.length) {
        colour.set(frame.id, 'black');
        stack.pop();
        path.pop();
        continue;
      }
      const child = children[frame.next++]!;
      if (!deps.has(child)) continue;
      const state = colour.get(child);
      if (state === 'grey') return [...path.slice(path.indexOf(child)), child];
      if (state === undefined) {
        colour.set(child, 'grey');
        path.push(child);
        stack.push({ id: child, next: 0 });
      }
    }
  }
  return null;
}

/** Steps in an order where every step comes after its dependencies (the graph is known to be acyclic). */
export function topologicalOrder<T extends { id: string; depends_on: readonly string[] }>(steps: readonly T[]): T[] {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const done = new Set<string>();
  const order: T[] = [];
  const visit = (step: T) => {
    if (done.has(step.id)) return;
    done.add(step.id);
    for (const dep of step.depends_on) {
      const node = byId.get(dep);
      if (node) visit(node);
    }
    order.push(step);
  };
  for (const step of steps) visit(step);
  return order;
}

export interface StepProjection {
  id: string;
  projected_start_at: string;
  projected_finish_at: string;
  /** Finished steps use their real completion time; the rest are projected from estimates. */
  actual: boolean;
}

export interface Projection {
  steps: StepProjection[];
  /** When the last step is expected to finish; the real completion time once every step is done. */
  projected_completion_at: string | null;
  /** The chain of steps that determines the projected completion, first to last. */
  critical_path: string[];
}

const MINUTE_MS = 60_000;

/**
 * Projects when each step will finish from real start/completion times and estimates: a done step
 * finished when it did; a running step finishes at start + estimate (or now, if it is overrunning);
 * a pending step starts when its last dependency finishes (never before now). The critical path is
 * the chain, walked back from the latest finish through the dependency that held each step back.
 */
export function projectCompletion(steps: readonly StepNode[], now: Date): Projection {
  if (steps.length === 0) return { steps: [], projected_completion_at: null, critical_path: [] };
  const nowMs = now.getTime();
  const finish = new Map<string, number>();
  const start = new Map<string, number>();
  const heldBy = new Map<string, string | null>();
  for (const step of topologicalOrder(steps)) {
    let latestDep: string | null = null;
    let depFinish = -Infinity;
    for (const dep of step.depends_on) {
      const f = finish.get(dep);
      if (f !== undefined && f > depFinish) {
        depFinish = f;
        latestDep = dep;
      }
    }
    if (step.status === 'done' && step.completed_at) {
      const s = Date.parse(step.started_at ?? step.completed_at);
      start.set(step.id, s);
      finish.set(step.id, Date.parse(step.completed_at));
      heldBy.set(step.id, latestDep);
    } else if (step.status === 'in_progress' && step.started_at) {
      const s = Date.parse(step.started_at);
      start.set(step.id, s);
      finish.set(step.id, Math.max(nowMs, s + step.estimate_minutes * MINUTE_MS));
      heldBy.set(step.id, latestDep);
    } else {
      const s = Math.max(nowMs, depFinish);
      start.set(step.id, s);
      finish.set(step.id, s + step.estimate_minutes * MINUTE_MS);
      heldBy.set(step.id, depFinish >= nowMs ? latestDep : null);
    }
  }
  let last = steps[0]!.id;
  for (const step of steps) if (finish.get(step.id)! > finish.get(last)!) last = step.id;
  const path: string[] = [];
  for (let cursor: string | null = last; cursor !== null; cursor = heldBy.get(cursor) ?? null) path.unshift(cursor);
  return {
    steps: steps.map((s) => ({
      id: s.id,
      projected_start_at: new Date(start.get(s.id)!).toISOString(),
      projected_finish_at: new Date(finish.get(s.id)!).toISOString(),
      actual: s.status === 'done',
    })),
    projected_completion_at: new Date(finish.get(last)!).toISOString(),
    critical_path: path,
  };
}

/** The dependencies of `step` that are not done yet. */
export function openDependencies(step: { depends_on: readonly string[] }, steps: readonly { id: string; status: StepStatus }[]): string[] {
  const status = new Map(steps.map((s) => [s.id, s.status]));
  return step.depends_on.filter((dep) => status.get(dep) !== 'done');
}
