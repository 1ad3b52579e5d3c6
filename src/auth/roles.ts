export const ROLES = ['viewer', 'responder', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** viewer reads; responder also writes incidents and runs plans; admin also manages tokens, services, teams and integrations. */
export function roleAllows(granted: Role, required: Role): boolean {
  return ROLES.indexOf(granted) >= ROLES.indexOf(required);
}

export interface Principal {
  tokenId: string;
  name: string;
  role: Role;
}
