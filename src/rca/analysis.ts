import { AppError } from '../shared/errors.ts';
import { FISHBONE_CATEGORIES, type Evidence, type FishboneBody, type FiveWhysBody, type Why } from './schemas.ts';
import { FIVE_WHYS_TEMPLATES } from './templates.ts';

/** Every piece of evidence in a body with the path people read, so a bad reference is reported precisely. */
export function collectEvidence(body: FiveWhysBody | FishboneBody): { path: string; evidence: Evidence }[] {
  const out: { path: string; evidence: Evidence }[] = [];
  const add = (path: string, list: Evidence[] | undefined) => list?.forEach((evidence, i) => out.push({ path: `${path}.evidence[${i}]`, evidence }));
  if ('whys' in body) {
    body.whys.forEach((why, i) => add(`whys[${i}]`, why.evidence));
    body.contributing_factors?.forEach((factor, i) => add(`contributing_factors[${i}]`, factor.evidence));
  } else {
    body.categories.forEach((category, c) =>
      category.causes.forEach((cause, i) => {
        add(`categories[${c}].causes[${i}]`, cause.evidence);
        cause.sub_causes?.forEach((sub, j) => add(`categories[${c}].causes[${i}].sub_causes[${j}]`, sub.evidence));
      }),
    );
  }
  return out;
}

function fail(field: string, message: string): never {
  throw new AppError('unprocessable', `${field}: ${message}`, { field });
}

/** Checks the branching chain: unique ids, known parents, no loops, and a chosen why that ends a branch. */
export function validateFiveWhys(body: FiveWhysBody): void {
  const index = new Map<string, number>();
  body.whys.forEach((why, i) => {
    if (index.has(why.id)) fail(`whys[${i}].id`, `${why.id} is used twice`);
    index.set(why.id, i);
  });
  body.whys.forEach((why, i) => {
    if (why.parent_id !== null && !index.has(why.parent_id)) fail(`whys[${i}].parent_id`, `no why has id ${why.parent_id}`);
    // Follow parents; more steps than whys means a loop.
    let current: Why | undefined = why;
    for (let steps = 0; current && current.parent_id !== null; steps++) {
      if (steps > body.whys.length) fail(`whys[${i}].parent_id`, `the chain through ${why.id} loops back on itself`);
      current = body.whys[index.get(current.parent_id)!];
    }
  });
  const ids = new Set<string>();
  for (const list of [body.contributing_factors ?? [], body.recommendations ?? []]) {
    list.forEach((entry) => {
      if (ids.has(entry.id)) fail('recommendations', `id ${entry.id} is used twice among factors and recommendations`);
      ids.add(entry.id);
    });
  }
  if (body.chosen_why_id) {
    const at = index.get(body.chosen_why_id);
    if (at === undefined) fail('chosen_why_id', `no why has id ${body.chosen_why_id}`);
    if (body.whys.some((w) => w.parent_id === body.chosen_why_id)) {
      fail('chosen_why_id', `${body.chosen_why_id} is answered further; choose the last why of the branch`);
    }
    if (!body.whys[at]!.answer?.trim()) fail(`whys[${at}].answer`, 'the chosen why needs an answer: it is the root cause');
  }
}

/** The chain from the first why to the chosen one: the branch the team settled on. */
export function chosenBranch(body: FiveWhysBody): Why[] {
  if (!body.chosen_why_id) return [];
  const byId = new Map(body.whys.map((w) => [w.id, w]));
  const chain: Why[] = [];
  for (let current = byId.get(body.chosen_why_id); current; current = current.parent_id ? byId.get(current.parent_id) : undefined) {
    chain.unshift(current);
  }
  return chain;
}

export function validateFishbone(body: FishboneBody): void {
  const keys = body.categories.map((c) => c.key);
  FISHBONE_CATEGORIES.forEach((key) => {
    if (!keys.includes(key)) fail('categories', `category ${key} is missing`);
  });
  const ids = new Set<string>();
  body.categories.forEach((category, c) =>
    category.causes.forEach((cause, i) => {
      const check = (id: string, path: string) => {
        if (ids.has(id)) fail(path, `${id} is used twice`);
        ids.add(id);
      };
      check(cause.id, `categories[${c}].causes[${i}].id`);
      cause.sub_causes?.forEach((sub, j) => check(sub.id, `categories[${c}].causes[${i}].sub_causes[${j}].id`));
    }),
  );
  if (body.chosen_cause_id && !ids.has(body.chosen_cause_id)) fail('chosen_cause_id', `no cause has id ${body.chosen_cause_id}`);
}

/** The root cause an analysis arrives at, or null while it has not arrived anywhere. */
export function rootCauseOf(body: FiveWhysBody | FishboneBody): string | null {
  if ('whys' in body) {
    const chain = chosenBranch(body);
    return chain.at(-1)?.answer?.trim() || null;
  }
  if (!body.chosen_cause_id) return null;
  for (const category of body.categories) {
    for (const cause of category.causes) {
      if (cause.id === body.chosen_cause_id) return `${category.name}: ${cause.text}`;
      const sub = cause.sub_causes?.find((s) => s.id === body.chosen_cause_id);
      if (sub) return `${category.name}: ${cause.text} — ${sub.text}`;
    }
  }
  return null;
}

export function emptyFiveWhys(problem: string, templateId?: string): FiveWhysBody {
  if (templateId === undefined) return { problem, whys: [], chosen_why_id: null, contributing_factors: [], recommendations: [] };
  const template = FIVE_WHYS_TEMPLATES.find((t) => t.id === templateId);
  if (!template) {
    throw new AppError('validation_failed', `template: unknown template ${templateId}; known: ${FIVE_WHYS_TEMPLATES.map((t) => t.id).join(', ')}`, {
      field: 'template',
    });
  }
  // Questions chained one under another, every answer left for people to write.
  const whys = template.questions.map((question, i) => ({
    id: `why-${i + 1}`,
    parent_id: i === 0 ? null : `why-${i}`,
    question,
    answer: null,
    evidence: [],
  }));
  return { problem, whys, chosen_why_id: null, contributing_factors: [], recommendations: [] };
}

export function emptyFishbone(problem: string): FishboneBody {
  return {
    problem,
    categories: FISHBONE_CATEGORIES.map((key) => ({ key, name: key[0]!.toUpperCase() + key.slice(1), causes: [] })),
    chosen_cause_id: null,
  };
}

/** Adds or removes `user`'s vote on a cause or sub-cause; returns the new body. */
export function toggleVote(body: FishboneBody, causeId: string, user: string): FishboneBody {
  const next = structuredClone(body);
  for (const category of next.categories) {
    for (const cause of category.causes) {
      for (const target of [cause, ...(cause.sub_causes ?? [])]) {
        if (target.id !== causeId) continue;
        const votes = new Set(target.votes ?? []);
        if (votes.has(user)) votes.delete(user);
        else votes.add(user);
        target.votes = [...votes].sort();
        return next;
      }
    }
  }
  throw new AppError('not_found', `cause ${causeId} does not exist in this fishbone`, { field: 'cause_id' });
}
