import { AppError } from '../shared/errors.ts';
import type { CatalogService } from '../catalog/index.ts';
import type { TokenService } from '../auth/index.ts';

/**
 * People who can own a recovery step or an action item: members of a team in the catalogue, or the
 * name of an active API token (how people and automations act on Firebreak). Anything else is a typo
 * or someone who would never hear about the work.
 */
export class KnownUsers {
  constructor(
    private readonly catalog: CatalogService,
    private readonly tokens: TokenService,
  ) {}

  async all(): Promise<Set<string>> {
    const [teams, tokens] = await Promise.all([this.catalog.listTeams(), this.tokens.list()]);
    const users = new Set<string>();
    for (const team of teams) for (const member of team.members) users.add(member.user);
    for (const token of tokens) if (token.revoked_at === null) users.add(token.name);
    return users;
  }

  /** Throws `unprocessable` naming the field for each owner that is not a known user. */
  async assertKnown(owners: readonly { owner: string; field: string }[]): Promise<void> {
    if (owners.length === 0) return;
    const users = await this.all();
    for (const { owner, field } of owners) {
      if (!users.has(owner)) {
        throw new AppError(
          'unprocessable',
          `${field}: ${owner} is not a known user (not a member of any team in the catalogue, and no active API token has that name)`,
          { field },
        );
      }
    }
  }
}
