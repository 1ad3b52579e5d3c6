import type { Service } from './schemas.ts';

export interface TeamAssignment {
  team: string | null;
  /** Why this team (or none) was chosen, written to the timeline so the choice is never silent. */
  reason: string;
}

/**
 * The team that owns the first affected service responds. When the affected services belong to
 * several teams the choice is still the first service's owner, but the reason names the others so
 * a responder can hand over deliberately.
 */
export function chooseOwningTeam(affected: readonly string[], catalogue: ReadonlyMap<string, Service>): TeamAssignment {
  const [first] = affected;
  if (first === undefined) return { team: null, reason: 'no affected services, so no owning team' };
  const owner = catalogue.get(first)?.owner_team ?? null;
  if (owner === null) return { team: null, reason: `service ${first} has no owning team` };
  const otherOwners = [
    ...new Set(
      affected
        .slice(1)
        .map((s) => catalogue.get(s)?.owner_team)
        .filter((t): t is string => Boolean(t) && t !== owner),
    ),
  ];
  if (otherOwners.length === 0) return { team: owner, reason: `team ${owner} owns service ${first}` };
  return {
    team: owner,
    reason: `team ${owner} owns the first affected service ${first}; other affected services are owned by ${otherOwners.join(', ')}`,
  };
}
