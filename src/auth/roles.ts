export const ROLES = ['viewer', 'responder', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** viewer reads; responder also writes incidents and runs plans; admin also manages tokens, services, teams and people. */
export function roleAllows(granted: Role, required: Role): boolean {
  return ROLES.indexOf(granted) >= ROLES.indexOf(required);
}

/**
 * Who made a request: a person signed in with a session, or a named API token (automation). `name`
 * is what the timeline and every `*_by` field record: the person's handle or the token's name.
 */
export type Principal =
  | { kind: 'token'; tokenId: string; name: string; role: Role }
  | {
      kind: 'person';
      name: string;
      displayName: string;
      role: Role;
      userId: string;
      sessionId: string;
      csrfToken: string;
      expiresAt: string;
    };
